"""The interactive shell, used when stdin is a terminal and no ``-c`` is given.

One asyncio loop runs the prompt, the replies and the events: events are printed above
the prompt the moment they arrive, leaving a half-typed line intact. prompt_toolkit is
imported here only, so scripted mode never pays for it.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from .client import QMPClient
from .errors import ConnectionLost
from .runner import LineRunner, is_skipped
from .scripted import ExitStatus
from .shorthand import is_incomplete_json

if TYPE_CHECKING:
    from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent


def banner(client: QMPClient) -> str:
    version = client.greeting.version_text if client.greeting else "unknown version"
    return (
        f"Connected to {client.address} (QEMU {version}).\n"
        "Type a QMP command (e.g. query-status) or raw JSON; Ctrl-D quits."
    )


def _key_bindings() -> KeyBindings:
    """Enter inside a raw JSON object whose braces are still open starts a new line."""
    from prompt_toolkit.application.current import get_app
    from prompt_toolkit.filters import Condition
    from prompt_toolkit.key_binding import KeyBindings

    bindings = KeyBindings()

    @Condition
    def json_open() -> bool:
        return is_incomplete_json(get_app().current_buffer.text)

    @bindings.add("enter", filter=json_open)
    def _(event: KeyPressEvent) -> None:
        event.current_buffer.insert_text("\n")

    return bindings


def _continuation(width: int, line_number: int, wrap_count: int) -> str:
    return "." * (width - 1) + " "


async def run_interactive(runner: LineRunner, client: QMPClient) -> ExitStatus:
    """Read, run and show lines until Ctrl-D or the connection ends."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.patch_stdout import patch_stdout

    session: PromptSession[str] = PromptSession(
        key_bindings=_key_bindings(), prompt_continuation=_continuation
    )
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
                    # Ctrl-C clears the line; on an empty line it leaves a transaction block.
                    if not session.default_buffer.text and runner.parser.cancel():
                        runner.output.note("transaction cancelled")
                    continue
                except EOFError:
                    return ExitStatus.OK
                except ConnectionLost as exc:
                    runner.output.error(str(exc))
                    return ExitStatus.CONNECTION
    finally:
        watcher.cancel()
