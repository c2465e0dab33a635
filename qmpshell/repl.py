"""The interactive shell, used when stdin is a terminal and no ``-c`` is given.

One asyncio loop runs the prompt, the replies and the events: events are printed above
the prompt the moment they arrive, leaving a half-typed line intact. prompt_toolkit is
imported here only, so scripted mode never pays for it.
"""

from __future__ import annotations

import asyncio

from .client import QMPClient
from .errors import ConnectionLost
from .runner import LineRunner, is_skipped
from .scripted import ExitStatus


def banner(client: QMPClient) -> str:
    version = client.greeting.version_text if client.greeting else "unknown version"
    return (
        f"Connected to {client.address} (QEMU {version}).\n"
        "Type a QMP command (e.g. query-status) or raw JSON; Ctrl-D quits."
    )


async def run_interactive(runner: LineRunner, client: QMPClient) -> ExitStatus:
    """Read, run and show lines until Ctrl-D or the connection ends."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.patch_stdout import patch_stdout

    session: PromptSession[str] = PromptSession()
    runner.output.text(banner(client))

    async def end_prompt_when_disconnected() -> None:
        # QEMU may go away while the user is typing; say so then, not at the next Enter.
        await client.wait_closed()
        if session.app.is_running:
            session.app.exit(exception=client.disconnect_reason or ConnectionLost("closed"))

    watcher = asyncio.ensure_future(end_prompt_when_disconnected())
    try:
        with patch_stdout(raw=True):
            while True:
                try:
                    prompt = "TRANS> " if runner.in_transaction else "(QEMU) "
                    runner.output.prompt_width = len(prompt)
                    line = await session.prompt_async(prompt)
                    if not is_skipped(line):
                        await runner.run_line(line)
                except KeyboardInterrupt:
                    continue  # Ctrl-C clears the line
                except EOFError:
                    return ExitStatus.OK
                except ConnectionLost as exc:
                    runner.output.error(str(exc))
                    return ExitStatus.CONNECTION
    finally:
        watcher.cancel()
