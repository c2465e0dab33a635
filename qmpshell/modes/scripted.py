"""Scripted mode: lines from ``-c`` or a non-terminal stdin, replies and events on stdout.

Each reply and each event is one JSON line (indented with ``--pretty``), in the order the
server sent them. The exit status tells how it went: see :class:`ExitStatus`.
"""

from __future__ import annotations

import asyncio
import os
import stat
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable
from contextlib import suppress
from typing import IO, Any

from ..errors import ConnectionLost, ExitStatus, SessionEnded
from ..language.mode import Mode
from ..language.rawjson import OpenObject, is_documented_reply, opens_object
from ..session.lines import is_skipped
from ..session.meta import Quit
from ..session.runner import LineRunner, wait_quit
from .summary import ranges, summary, unanswered

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
    with events where QEMU put them. Meta-commands wait until nothing is in flight, and
    nothing is sent behind a raw JSON line QEMU may not parse (a key twice, a surrogate)
    until its reply has come (a reply without id, QEMU's word on input it could not
    parse, can then only be that line's); a raw line whose id is in flight waits for it
    to be free. With
    ``exit_on_error`` the window is 1, so that nothing is sent after a failure.

    When the connection is lost and ``reconnect`` is given, the commands in flight are
    reported at once as unanswered (they count as failed: QEMU may or may not have run
    them), a line not yet sent is sent after ``reconnect()`` succeeds, and the script
    goes on.
    """
    return await _Script(runner, exit_on_error, window, reconnect).run(lines)


class _Script:
    def __init__(
        self,
        runner: LineRunner,
        exit_on_error: bool,
        window: int,
        reconnect: Callable[[], Awaitable[bool]] | None,
    ) -> None:
        self.runner = runner
        self.output = runner.output
        self.exit_on_error = exit_on_error
        self.window = 1 if exit_on_error else window
        self.reconnect = reconnect
        self.in_flight: deque[tuple[int, Awaitable[bool]]] = deque()  # (line, outcome)
        self.failed: list[int] = []  # the lines that failed, for the summary
        self.commands = 0  # lines run (blank lines and comments aside)
        self.unanswered: list[int] = []  # lines whose reply the lost connection took
        self.transaction_line = 0  # where the open transaction block began
        self.open_object: OpenObject | None = None  # a raw object not closed yet
        self._losses: list[int] = []
        self._reading = False  # waiting for the next line of input
        self._task: asyncio.Task[Any] | None = None
        self._lost_while_reading = False
        runner.parser.all_or_nothing = True  # a block with a refused action is not sent
        runner.catch_up = self._settle_all
        if reconnect is not None:
            runner.on_lost = self._lost

    async def run(self, lines: AsyncIterator[str]) -> ExitStatus:
        runner = self.runner
        self._task = asyncio.current_task()
        # A connection lost while the script waits for its next line (a producer that
        # thinks, `sleep 5; echo cont`) is said at once, as at the prompt: nothing else
        # would notice until the next line comes.
        watch = asyncio.ensure_future(runner.client.wait_closed())
        watch.add_done_callback(self._closed)
        try:
            async for number, line in self._entries(lines):
                if line is None:
                    continue
                await self._run_line(number, line)
                if self.failed and self.exit_on_error:
                    break
                if runner.client.quitting:  # nothing can run after it
                    await self._settle(0)
                    await wait_quit(runner.client, runner.timeout)
                    break
            else:
                self._end_of_input()
            await self._settle(0)
        except SessionEnded:
            pass  # QEMU went before its reply to quit was read: the end asked for
        except asyncio.CancelledError:
            if not self._lost_while_reading:
                raise
            reason = runner.client.disconnect_reason
            lost = await self._settle_after_loss()
            self.output.error(f"{reason}; no reply to {lost}" if lost else str(reason))
            return ExitStatus.CONNECTION
        except ConnectionLost as exc:
            lost = await self._settle_after_loss()
            self.output.error(f"{exc}; no reply to {lost}" if lost else str(exc))
            return ExitStatus.CONNECTION
        except Quit:
            pass
        except _GaveUp:
            return ExitStatus.CONNECTION
        finally:
            watch.cancel()
            runner.on_lost = None
            runner.catch_up = None
            for _, pending in self.in_flight:  # nobody will await them now
                if isinstance(pending, Coroutine):
                    pending.close()
        said = summary(self.failed, self.commands, self.exit_on_error)
        if said is not None:
            self.output.error(said)
        return ExitStatus.COMMAND_FAILED if self.failed else ExitStatus.OK

    async def _entries(self, lines: AsyncIterator[str]) -> AsyncIterator[tuple[int, str | None]]:
        """Each line with its number, a raw JSON object over several lines as one (with
        its first line's number); None for a line that only continues an object."""
        number = 0
        opened: OpenObject | None = None
        iterator = lines.__aiter__()
        while True:
            self._reading = True
            try:
                line = await iterator.__anext__()
            except StopAsyncIteration:
                break
            finally:
                self._reading = False
            number += 1
            line = line.rstrip("\n")
            if opened is not None:
                opened.add(line)
                if opened.closed:
                    self.open_object = None
                    yield opened.first_line, opened.text
                    opened = None
                else:
                    yield number, None
                continue
            if is_skipped(line):
                continue
            if self.runner.mode is Mode.QMP and not self.runner.in_transaction:
                if is_documented_reply(line):  # an example's reply: read past it
                    reply = opens_object(line[line.index("<") + 2 :])
                    while reply is not None and not reply.closed:
                        try:
                            reply.add((await iterator.__anext__()).rstrip("\n"))
                        except StopAsyncIteration:
                            break
                        number += 1
                    continue
                opened = opens_object(line)
                if opened is not None:
                    opened.first_line = number
                    self.open_object = opened
                    yield number, None
                    continue
            yield number, line

    def _closed(self, _: object) -> None:
        reason = self.runner.client.disconnect_reason
        if self.reconnect is not None or isinstance(reason, SessionEnded) or reason is None:
            return  # brought back by --reconnect, or the end asked for
        if self._reading and self._task is not None:
            self._lost_while_reading = True
            self._task.cancel()

    async def _settle_all(self) -> None:
        await self._settle(0)

    async def _run_line(self, number: int, line: str) -> None:
        runner = self.runner
        self.commands += 1
        was_open = runner.in_transaction
        while True:
            try:
                if runner.is_barrier(line):
                    await self._settle(0)
                runner.sent_alone = False
                outcome = await runner.submit(line, f"line {number}")
                if isinstance(outcome, bool):
                    if not outcome:
                        self.failed.append(number)
                else:
                    self.in_flight.append((number, outcome))
                    # Behind a raw line QEMU may not parse, nothing until its reply.
                    await self._settle(0 if runner.sent_alone else self.window - 1)
                break
            except ConnectionLost as exc:
                if self.reconnect is None or isinstance(exc, SessionEnded):
                    raise
                if runner.is_barrier(line):  # /wait ended by the loss: that line failed
                    self.output.error(f"line {number}: {exc}")
                    self.failed.append(number)
                    await self._back()
                    break
                await self._back()  # not sent: send it again once connected
        if runner.in_transaction and not was_open:
            self.transaction_line = number

    async def _back(self) -> None:
        assert self.reconnect is not None
        if not await self.reconnect():
            raise _GaveUp

    def _end_of_input(self) -> None:
        """Input ended: an object or a transaction block still open is an error, and
        nothing of it is sent."""
        opened = self.open_object
        if opened is not None:
            self.output.error(
                f"line {opened.first_line}: the JSON object that starts here is not closed "
                "at the end of input; it was not sent"
            )
            self.failed.append(opened.first_line)
            self.commands += 1
        if self.runner.in_transaction:
            drop = self.runner.parser.cancel()
            assert drop
            self.output.error(
                f"line {self.transaction_line}: the transaction( that starts here is not "
                "closed with ')' at the end of input; nothing of it was sent"
            )
            self.failed.append(self.transaction_line)

    async def _settle(self, keep: int) -> None:
        while len(self.in_flight) > keep:
            number, outcome = self.in_flight.popleft()
            try:
                succeeded = await outcome
            except SessionEnded:
                raise
            except ConnectionLost:
                if self.reconnect is None:
                    self.unanswered.append(number)
                    raise
                succeeded = False  # said the moment it happened (_lost)
            if not succeeded:
                self.failed.append(number)

    async def _settle_after_loss(self) -> str:
        """Show what came before the loss; say which lines got no reply (they count as
        failed), as "line 4" or "lines 4-9", or "" when none."""
        while self.in_flight:
            with suppress(ConnectionLost):
                await self._settle(0)
        if not self.unanswered:
            return ""
        self.failed.extend(self.unanswered)
        text = unanswered(self.unanswered)
        self.unanswered.clear()
        return text

    def _lost(self, where: str) -> None:
        """The connection took the reply of this line (``--reconnect``): said now, where
        it happened in the output, not when the script gets to it; the lines that lost
        theirs together are said together."""
        if not self._losses:
            asyncio.get_running_loop().call_soon(self._say_lost)
        self._losses.append(int(where.rpartition(" ")[2]))

    def _say_lost(self) -> None:
        numbers, self._losses = sorted(self._losses), []
        which, them = ("line", "it") if len(numbers) == 1 else ("lines", "them")
        self.output.error(
            f"{which} {ranges(numbers)}: no reply, the connection was lost "
            f"(QEMU may or may not have run {them})"
        )


class _GaveUp(Exception):
    """--reconnect gave up: the script ends with the connection's status."""


async def iterate(lines: Iterable[str]) -> AsyncIterator[str]:
    """Lines already at hand (``-c``), as an async iterator; a value with newlines in it
    (``-c "$(cat example.json)"``) gives its lines, as a file would."""
    for value in lines:
        for line in value.split("\n"):
            yield line


async def read_lines(stream: IO[str], read: bytes = b"") -> AsyncIterator[str]:
    """Lines of a pipe or file as they arrive, each without its newline, without blocking
    the event loop; ``read`` is what was read of it already (to see whether it was all
    there: modes/oneshot.py).

    Replies and events keep flowing while a slow producer (``sleep 5; echo cont``) thinks.
    A regular file never blocks, so it is simply read; so is a device that is not a
    terminal (``</dev/null``), which the event loop cannot watch. Bytes that are not text
    in the stream's encoding are kept (as surrogates), so that a raw line reaches QEMU
    byte for byte: QEMU is the one to refuse them. Memory, not a cap, limits a line.
    """
    try:
        mode = os.fstat(stream.fileno()).st_mode
        device = stat.S_ISCHR(mode) and not os.isatty(stream.fileno())
    except (OSError, ValueError, AttributeError):
        mode, device = stat.S_IFREG, False
    lines = _Lines(getattr(stream, "encoding", None) or "utf-8")
    if stat.S_ISREG(mode) or device:
        binary = getattr(stream, "buffer", None)
        if binary is None:  # a text stream of its own (no bytes beneath)
            for line in lines.feed(read):
                yield line
            for line in stream:
                yield line.rstrip("\n")
            return
        for line in lines.feed(read):
            yield line
        while chunk := binary.read1(_CHUNK):
            for line in lines.feed(chunk):
                yield line
        for line in lines.end():
            yield line
        return
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    fd = stream.fileno()
    # The transport closes what it is given, so give it a duplicate and keep stdin open.
    pipe = os.fdopen(os.dup(fd), "rb", buffering=0)
    transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), pipe)
    try:
        for line in lines.feed(read):
            yield line
        while chunk := await reader.read(_CHUNK):
            for line in lines.feed(chunk):
                yield line
        for line in lines.end():
            yield line
    finally:
        transport.close()
        # O_NONBLOCK is shared with whoever else holds this pipe; hand it back as found.
        os.set_blocking(fd, True)


_CHUNK = 1 << 18  # bytes read at a time


class _Lines:
    """Bytes in, lines of text out: each line decoded straight from the buffer, once
    whole, and its bytes dropped at once, so that a 10 MB line is held as bytes and text
    together only while it is cut out, and as its text alone after."""

    def __init__(self, encoding: str) -> None:
        self._encoding = encoding
        self._buffer = bytearray()
        self._scanned = 0  # no newline before this offset

    def feed(self, data: bytes) -> list[str]:
        """The lines ``data`` completes, in order."""
        buffer = self._buffer
        buffer += data
        lines: list[str] = []
        start = 0
        end = buffer.find(b"\n", self._scanned)
        while end >= 0:
            lines.append(self._decode(start, end))
            start = end + 1
            end = buffer.find(b"\n", start)
        del buffer[:start]
        self._scanned = len(buffer)
        return lines

    def end(self) -> list[str]:
        """The last line, when the input did not end with a newline."""
        if not self._buffer:
            return []
        line = self._decode(0, len(self._buffer))
        self._buffer.clear()
        return [line]

    def _decode(self, start: int, end: int) -> str:
        with memoryview(self._buffer) as whole, whole[start:end] as line:
            return str(line, self._encoding, "surrogateescape")
