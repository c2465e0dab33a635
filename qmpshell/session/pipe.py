"""``LINE |! COMMAND``: the reply of a QMP or HMP line through the user's shell command.

The line is sent as it would be alone; an error reply (or HMP's failure text) is shown as
usual, the command is not run and the line fails. Otherwise the reply's ``return`` value,
as one line of compact JSON (HMP: the text QEMU printed), is written to the command's
stdin, and what it writes comes back escaped: stdout through the display, stderr to
stderr. The command is the user's own text, run by ``/bin/sh -c``; nothing of QEMU's
ever becomes a part of it, only its stdin (docs/security.md).

The command runs in a process group of its own, without the terminal: stopping the line
(Ctrl-C, the session's end) kills the group. A status other than 0 fails the line.
"""

from __future__ import annotations

import asyncio
import codecs
import json
import os
import signal
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from ..language.mode import Mode
from ..protocol.message import dump_pieces
from ..protocol.packed import as_list

if TYPE_CHECKING:
    from collections.abc import Iterator

    from .display import Display

Message = dict[str, Any]

SHELL = "/bin/sh"
READ = 1 << 16
# What the interactive shell gathers of the output to show (or page) at the end; past
# it, the pipe is stopped: a command that writes for ever (`yes`) must not fill memory.
SHOWN_AT_MOST = 16 << 20

_ENCODER = json.JSONEncoder(
    separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=as_list
)


def stdin_bytes(reply: Message, mode: Mode) -> Iterator[bytes]:
    """What a successful reply gives a pipe's command: the ``return`` value as one line
    of compact JSON, or (HMP) the text QEMU printed, its CRLF made newlines as shown."""
    if mode is Mode.HMP:
        text = str(reply.get("return")).replace("\r\n", "\n")
        return iter((text.encode("utf-8", "replace"),))
    return _json_bytes(reply.get("return"))


def _json_bytes(value: Any) -> Iterator[bytes]:
    """``value`` as one line of compact JSON, encoded a piece at a time (a big reply is
    never held whole as text); a lone surrogate from QEMU written as its JSON escape."""
    for piece in dump_pieces(value, _ENCODER):
        yield piece.encode("utf-8", "backslashreplace")
    yield b"\n"


async def run_command(command: str, data: Iterator[bytes], output: Display) -> int | None:
    """Run ``command`` with ``data`` on its stdin, its output shown as it comes (in the
    interactive shell: gathered, then shown or paged); its exit status (negative: the
    signal that killed it), or None when it was stopped for writing too much (said)."""
    try:
        process = await _started(command)
    except OSError as exc:  # no /bin/sh, no more processes or descriptors
        output.error(f"the pipe's command cannot start: {exc.strerror or exc}")
        return None
    assert process.stdin and process.stdout and process.stderr
    shown = _Shown(output)
    tasks = [
        asyncio.ensure_future(_feed(process.stdin, data)),
        asyncio.ensure_future(_read(process.stdout, shown.add)),
        asyncio.ensure_future(_read(process.stderr, output.relay)),
    ]
    try:
        await asyncio.gather(*tasks)
        return await process.wait()
    except _TooMuch:
        for task in tasks:
            task.cancel()
        await _reap(process)
        output.error(
            f"the pipe's output passed {SHOWN_AT_MOST >> 20} MiB: the pipe was stopped, "
            "and only the start is shown"
        )
        return None
    finally:
        for task in tasks:
            task.cancel()
        if process.returncode is None:  # stopped (Ctrl-C, the session's end)
            with suppress(asyncio.CancelledError):
                await asyncio.shield(_reap(process))
        shown.done()


async def _started(command: str) -> asyncio.subprocess.Process:
    """The command's process, started. Ctrl-C while asyncio connects its pipes must not
    cancel that (asyncio then waits for a process it has not killed, and the shell
    hangs): the start is let finish, the whole group killed, and the cancellation goes on."""
    starting = asyncio.ensure_future(
        asyncio.create_subprocess_exec(
            SHELL,
            "-c",
            command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,  # its own group, killed whole; no terminal to take
        )
    )
    try:
        return await asyncio.shield(starting)
    except asyncio.CancelledError:
        with suppress(Exception):
            await _reap(await starting)
        raise


async def _reap(process: asyncio.subprocess.Process) -> None:
    """Kill the command's group and wait for its end. What it wrote and nobody read
    is read and dropped: a pipe left full would keep asyncio from seeing its end, and
    ``wait()`` from returning. A process that left the group and keeps the pipe open
    is not waited for past a second."""
    _kill(process)

    async def drop(stream: asyncio.StreamReader | None) -> None:
        while stream is not None and await stream.read(READ):
            pass

    with suppress(asyncio.TimeoutError):
        await asyncio.wait_for(
            asyncio.gather(drop(process.stdout), drop(process.stderr), process.wait()), 1.0
        )


async def _feed(stdin: asyncio.StreamWriter, data: Iterator[bytes]) -> None:
    """Write ``data`` as the command reads it; a command that stops reading early
    (``head -1``, ``true``) is no failure."""
    try:
        for piece in data:
            stdin.write(piece)
            await stdin.drain()
        stdin.close()
        # Shielded: cancelled, wait_closed() cancels asyncio's own future, which then
        # fails with InvalidStateError (a traceback on the terminal) as the pipe closes.
        await asyncio.shield(stdin.wait_closed())
    except (BrokenPipeError, ConnectionResetError):
        pass


async def _read(stream: asyncio.StreamReader, show: Any) -> None:
    """Hand on what ``stream`` brings, decoded (UTF-8, what is not written as U+FFFD),
    as it comes."""
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    while True:
        chunk = await stream.read(READ)
        text = decoder.decode(chunk, final=not chunk)
        if text:
            show(text)
        if not chunk:
            return


class _TooMuch(Exception):
    """The interactive shell gathered :data:`SHOWN_AT_MOST` of output."""


class _Shown:
    """The command's stdout on its way to the display: as it comes in a script, all of it
    at the end in the interactive shell (where text taller than the screen is paged, as
    a tall reply is)."""

    def __init__(self, output: Display) -> None:
        self.output = output
        self.parts: list[str] = []  # gathered (interactive)
        self.size = 0
        self.open_line = False  # a script's output so far does not end with a newline

    def add(self, text: str) -> None:
        if not self.output.interactive:
            self.output.piped(text)
            self.open_line = not text.endswith("\n")
            return
        self.parts.append(text)
        self.size += len(text)
        if self.size > SHOWN_AT_MOST:
            raise _TooMuch

    def done(self) -> None:
        """The command has ended: its output ends with a newline; at the prompt, it is
        shown now."""
        if self.open_line:
            self.open_line = False
            self.output.piped("\n")
        text = "".join(self.parts)
        self.parts = []
        if text:
            self.output.long_text(text[:-1] if text.endswith("\n") else text)


def _kill(process: asyncio.subprocess.Process) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def ending(status: int) -> str:
    """How the command ended, when not with status 0."""
    if status < 0:
        try:
            name = signal.Signals(-status).name
        except ValueError:
            name = f"signal {-status}"
        return f"pipe killed by {name}"
    return f"pipe exited with status {status}"
