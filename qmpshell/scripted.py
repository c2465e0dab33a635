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
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable
from contextlib import suppress
from typing import IO

from .client import QMPClient
from .errors import ConnectionLost, SessionEnded
from .meta import Quit
from .runner import LineRunner, is_skipped

_LINE_LIMIT = 1 << 30  # a pasted blob may be big; memory, not an arbitrary cap, is the limit


class ExitStatus(enum.IntEnum):
    OK = 0  # every command succeeded
    COMMAND_FAILED = 1  # a command got an error reply, timed out, or could not be parsed
    USAGE = 2  # bad command line
    CONNECTION = 3  # the connection could not be made, or was lost
    HANGUP = 129  # SIGHUP (the terminal went away): cleaned up, then exited
    INTERRUPTED = 130  # Ctrl-C / SIGINT
    TERMINATED = 143  # SIGTERM: cleaned up, then exited


# Commands kept in flight in scripted mode. QEMU answers in order and stops reading its
# socket when its own queue is full, so this only bounds the shell's memory.
PIPELINE = 64


async def run_script(
    runner: LineRunner,
    lines: AsyncIterator[str],
    *,
    exit_on_error: bool = False,
    window: int = PIPELINE,
    reconnect: Callable[[], Awaitable[bool]] | None = None,
) -> ExitStatus:
    """Run every line; stop at the first failure when ``exit_on_error``.

    Up to ``window`` commands are sent before their replies have come, so a script runs
    at QEMU's pace rather than a round trip per line; replies are still shown in order,
    with events where QEMU put them. Meta-commands wait until nothing is in flight. With
    ``exit_on_error`` the window is 1, so that nothing is sent after a failure.

    When the connection is lost and ``reconnect`` is given, the commands in flight are
    reported as unanswered (they count as failed: QEMU may or may not have run them), a
    line not yet sent is sent after ``reconnect()`` succeeds, and the script goes on.
    """
    if exit_on_error:
        window = 1
    in_flight: deque[tuple[int, Awaitable[bool]]] = deque()  # (line number, outcome)
    unanswered: list[int] = []  # lines sent whose reply the lost connection took
    failed = False

    async def settle(keep: int) -> None:
        nonlocal failed
        while len(in_flight) > keep:
            number, outcome = in_flight.popleft()
            try:
                if not await outcome:
                    failed = True
            except ConnectionLost:
                unanswered.append(number)
                raise

    async def settle_after_loss() -> str:
        """Show what came before the loss; say which lines got no reply (they count as
        failed), as "line 4" or "lines 4-9", or "" when none."""
        nonlocal failed
        while in_flight:
            with suppress(ConnectionLost):
                await settle(0)
        if not unanswered:
            return ""
        failed = True
        which = "line" if len(unanswered) == 1 else "lines"
        text = f"{which} {_ranges(unanswered)}"
        unanswered.clear()
        return text

    number = 0
    try:
        async for line in lines:
            number += 1
            if is_skipped(line):
                continue
            while True:
                sent = False
                try:
                    if runner.is_barrier(line):
                        await settle(0)
                    outcome = await runner.submit(line, f"line {number}")
                    sent = True
                    if isinstance(outcome, bool):
                        failed = failed or not outcome
                    else:
                        in_flight.append((number, outcome))
                        await settle(window - 1)
                    break
                except ConnectionLost as exc:
                    if reconnect is None or isinstance(exc, SessionEnded):
                        raise
                    lost = await settle_after_loss()
                    if lost:
                        runner.output.error(f"{lost}: no reply, the connection was lost")
                    if not await reconnect():
                        return ExitStatus.CONNECTION
                    if sent:
                        break
            if failed and exit_on_error:
                break
            if runner.client.quitting:  # nothing can run after it
                await settle(0)
                await wait_quit(runner.client, runner.timeout)
                break
        await settle(0)
    except SessionEnded:
        pass  # QEMU went before its reply to quit was read: the end asked for
    except ConnectionLost as exc:
        lost = await settle_after_loss()
        runner.output.error(f"{exc}; no reply to {lost}" if lost else str(exc))
        return ExitStatus.CONNECTION
    except Quit:
        pass
    finally:
        for _, pending in in_flight:  # nobody will await them now
            if isinstance(pending, Coroutine):
                pending.close()
    return ExitStatus.COMMAND_FAILED if failed else ExitStatus.OK


async def wait_quit(client: QMPClient, timeout: float | None) -> None:
    """After QEMU accepted ``quit``: wait until it has closed the connection, so that
    what it says last (``SHUTDOWN``, on some versions after the reply) is shown."""
    with suppress(asyncio.TimeoutError):
        await asyncio.wait_for(client.wait_closed(), timeout)


def _ranges(numbers: list[int]) -> str:
    """1, 2, 3, 5 as '1-3, 5'."""
    spans: list[list[int]] = []
    for number in numbers:
        if spans and number == spans[-1][1] + 1:
            spans[-1][1] = number
        else:
            spans.append([number, number])
    return ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in spans)


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
