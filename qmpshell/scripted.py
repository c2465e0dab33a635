"""Scripted mode: lines from ``-c`` or a non-terminal stdin, replies and events on stdout.

Each reply and each event is one JSON line (indented with ``--pretty``), in the order the
server sent them. The exit status tells how it went: see :class:`ExitStatus`.
"""

from __future__ import annotations

import asyncio
import enum
import os
import stat
import sys
from collections.abc import AsyncIterator, Iterable
from typing import IO

from .errors import ConnectionLost
from .meta import Quit
from .runner import LineRunner, is_skipped

_LINE_LIMIT = 1 << 30  # a pasted blob may be big; memory, not an arbitrary cap, is the limit


class ExitStatus(enum.IntEnum):
    OK = 0  # every command succeeded
    COMMAND_FAILED = 1  # a command got an error reply, timed out, or could not be parsed
    USAGE = 2  # bad command line
    CONNECTION = 3  # the connection could not be made, or was lost
    INTERRUPTED = 130  # Ctrl-C / SIGINT


async def run_script(
    runner: LineRunner, lines: AsyncIterator[str], *, exit_on_error: bool = False
) -> ExitStatus:
    """Run every line; stop at the first failure when ``exit_on_error``."""
    failed = False
    number = 0
    async for line in lines:
        number += 1
        if is_skipped(line):
            continue
        try:
            ok = await runner.run_line(line, f"line {number}")
        except ConnectionLost as exc:
            runner.output.error(str(exc))
            return ExitStatus.CONNECTION
        except Quit:
            break
        if not ok:
            failed = True
            if exit_on_error:
                break
    return ExitStatus.COMMAND_FAILED if failed else ExitStatus.OK


async def iterate(lines: Iterable[str]) -> AsyncIterator[str]:
    """Lines already at hand (``-c``), as an async iterator."""
    for line in lines:
        yield line


async def read_lines(stream: IO[str]) -> AsyncIterator[str]:
    """Lines of a pipe or file as they arrive, without blocking the event loop.

    Replies and events keep flowing while a slow producer (``sleep 5; echo cont``) thinks.
    A regular file never blocks, so it is simply read.
    """
    try:
        mode = os.fstat(stream.fileno()).st_mode
    except (OSError, ValueError, AttributeError):
        mode = stat.S_IFREG
    if stat.S_ISREG(mode):
        for line in stream:
            yield line
        return
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=_LINE_LIMIT)
    fd = stream.fileno()
    # The transport closes what it is given, so give it a duplicate and keep stdin open.
    pipe = os.fdopen(os.dup(fd), "rb", buffering=0)
    transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), pipe)
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        while True:
            raw = await reader.readline()
            if not raw:
                return
            yield raw.decode(encoding, "replace")
    finally:
        transport.close()
        # O_NONBLOCK is shared with whoever else holds this pipe; hand it back as found.
        os.set_blocking(fd, True)


def stdin_is_terminal() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False
