"""One-shot scripts: a few plain lines, known whole at the start, run without asyncio.

``qmpshell -c query-status`` and ``echo query-status | qmpshell ADDR`` spend most of
their life starting up, and importing asyncio alone takes longer than the whole exchange
with QEMU. When a script is at hand whole (``-c``; a stdin that is a file, or a pipe whose
writer has already written everything and closed it) and holds only lines that need
nothing but a request and its reply (no meta-command, no multi-line object or
transaction block, no raw line QEMU may not parse, HMP's ``cpu`` aside), it is run here,
one line at a time, with the blocking client (:mod:`qmpshell.protocol.blocking`).

Everything a line means comes from the same places as in scripted mode: its message,
how its reply is shown and judged and what is said without one
(:mod:`qmpshell.session.lines`), the schema and its cache
(:func:`~qmpshell.session.introspection.schema_dialogue`), the events and their filter
(:class:`~qmpshell.session.events.EventLog`), the output, the summary at the end
(:mod:`qmpshell.modes.summary`). Anything else is left to scripted mode, before anything
is sent: :func:`run_oneshot` then returns None.
"""

from __future__ import annotations

import os
import select
import signal
import stat
from collections import deque
from collections.abc import Callable, Iterator

from ..errors import (
    CommandError,
    ConnectError,
    ConnectionLost,
    ExitStatus,
    InputError,
    ReplyTimeout,
    SessionEnded,
)
from ..language.mode import Mode
from ..language.pipe import PIPE
from ..language.rawjson import is_documented_reply, is_raw_json, opens_object, parse_raw_json
from ..language.shorthand import Parser, commands_named
from ..language.syntax import OOB, TRANSACTION
from ..protocol.address import Address, TcpAddress, UnixAddress
from ..protocol.blocking import BlockingClient, Sent, Unusual
from ..protocol.message import RawMessage
from ..protocol.transcript import Transcript
from ..session.events import EventLog
from ..session.introspection import late_note, schema_dialogue, unusable_note, usable
from ..session.lines import (
    NO_HMP,
    has_hmp,
    hmp_message,
    hmp_succeeded,
    is_cpu_line,
    is_skipped,
    new_warnings,
    qmp_display,
    qmp_message,
    qmp_succeeded,
    show_hmp,
    timed_out,
    without_own_id,
)
from .summary import ended_by, summary, unanswered

TYPE_CHECKING = False  # typing's, without importing typing (docs/architecture.md, start-up)
if TYPE_CHECKING:
    from typing import IO, Any

    from ..session.display import Display

# A stdin larger than this is left to scripted mode, which reads it as it goes.
MAX_INPUT = 1 << 20
# Commands kept in flight, as in scripted mode (modes/scripted.py).
PIPELINE = 64
# A script of more different lines than this reads all of a cached schema: finding the
# command of a line takes some 15 us, and reading all of it only some 6 ms more.
NEEDS_FROM = 256

Message = dict[str, "Any"]


def script_at_hand(commands: list[str] | None, stdin: IO[str]) -> tuple[list[str] | None, bytes]:
    """The lines of the script when it is at hand whole, and the bytes of stdin read to
    find out (for scripted mode to read first, when the script is not at hand)."""
    if commands:
        return [line for value in commands for line in value.split("\n")], b""
    try:
        fd = stdin.fileno()
        mode = os.fstat(fd).st_mode
    except (OSError, ValueError, AttributeError):
        return None, b""
    encoding = getattr(stdin, "encoding", None) or "utf-8"
    if stat.S_ISREG(mode) or (stat.S_ISCHR(mode) and not os.isatty(fd)):
        if stat.S_ISREG(mode) and os.fstat(fd).st_size - _position(fd) > MAX_INPUT:
            return None, b""
        data = _read_all(fd)
    elif stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
        data, whole = _read_ready(fd)
        if not whole:
            return None, data
    else:
        return None, b""
    if len(data) > MAX_INPUT:
        return None, data
    lines = data.decode(encoding, "surrogateescape").split("\n")  # as scripted mode cuts them
    if lines[-1] == "":
        lines.pop()  # after the last newline
    return lines, b""


def _position(fd: int) -> int:
    try:
        return os.lseek(fd, 0, os.SEEK_CUR)
    except OSError:
        return 0


def _read_all(fd: int) -> bytes:
    chunks: list[bytes] = []
    while True:
        chunk = os.read(fd, MAX_INPUT + 1)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        if sum(map(len, chunks)) > MAX_INPUT:
            return b"".join(chunks)


def _read_ready(fd: int) -> tuple[bytes, bool]:
    """What a pipe holds now, without waiting for more; and whether its end was reached."""
    chunks: list[bytes] = []
    size = 0
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    while size <= MAX_INPUT and poller.poll(0):
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return b"".join(chunks), True
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks), False


def plain(lines: list[str], mode: Mode) -> bool:
    """Whether every line of a script is one a one-shot run does as scripted mode does."""
    for line in lines:
        if is_skipped(line):
            continue
        text = line.strip()
        if text.startswith("/"):
            return False  # a meta-command
        if text.startswith(OOB):
            return False  # out of band: its reply may pass the replies before it
        if PIPE in text:
            return False  # through a shell command (maybe: |! may be in a string)
        if mode is Mode.HMP:
            if is_cpu_line(text):
                return False  # asks QEMU for its CPUs first
            continue
        if is_documented_reply(line) or text.startswith(TRANSACTION):
            return False
        if is_raw_json(text):
            if opens_object(line) is not None:
                return False  # its lines follow
            try:
                raw = parse_raw_json(line)
            except InputError:
                continue  # refused here as in scripted mode
            if "exec-oob" in raw:
                return False
            if not RawMessage(raw.text, raw, faithful=raw.faithful).clean:
                return False  # sent alone, and QEMU's replies without id counted
    return True


def simple_target(address: Address | None) -> bool:
    return isinstance(address, (UnixAddress, TcpAddress))


class _Signalled(Exception):
    def __init__(self, signum: int) -> None:
        self.signum = signum


def _stop(signum: int, _frame: object) -> None:
    raise _Signalled(signum)


def run_oneshot(
    address: UnixAddress | TcpAddress,
    lines: list[str],
    output: Display,
    events: EventLog,
    *,
    transcript: Transcript | None,
    mode: Mode,
    timeout: float | None,
    exit_on_error: bool,
    verbose: bool,
    schema_cache: bool,
    output_failure: Callable[[], OSError | None] = lambda: None,
    flush: Callable[[], None] | None = None,
) -> ExitStatus | None:
    """Run a plain script (:func:`plain`) on ``address``; its exit status, or None when
    scripted mode is to run it (found before anything was sent). ``output_failure()``
    is the error that stopped the output (the reader went away): it ends the script;
    ``flush()`` writes what was shown, before each wait for QEMU."""
    client = BlockingClient(address, on_event=events, before_waiting=flush)
    previous = {s: signal.signal(s, _stop) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        try:
            client.connect(timeout)
            client.negotiate(True, timeout)
        except Unusual:
            return None
        except ConnectError as exc:
            output.error(str(exc))
            return ExitStatus.CONNECTION
        client.attach(transcript)
        run = _Run(client, output, mode, timeout, exit_on_error, verbose, schema_cache)
        run.output_failure = output_failure
        return run.script(lines)
    except _Signalled as stop:
        return ended_by(stop.signum, output)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        client.close()


class _Pending:
    """A line sent: its number, what it sent, and whether its reply says it succeeded."""

    __slots__ = ("judge", "message", "number", "sent")

    def __init__(
        self, number: int, message: Message, sent: Sent, judge: Callable[[Message], bool]
    ) -> None:
        self.number = number
        self.message = message
        self.sent = sent
        self.judge = judge


class _Run:
    def __init__(
        self,
        client: BlockingClient,
        output: Display,
        mode: Mode,
        timeout: float | None,
        exit_on_error: bool,
        verbose: bool,
        schema_cache: bool,
    ) -> None:
        self.client = client
        self.output = output
        self.mode = mode
        self.timeout = timeout
        self.exit_on_error = exit_on_error
        self.verbose = verbose
        self.schema_cache = schema_cache
        self.parser = Parser()
        self.parser.all_or_nothing = True
        self._schema_wanted = True
        self.output_failure: Callable[[], OSError | None] = lambda: None
        # As in scripted mode: echoes (-v) read best next to their replies, and with -e
        # nothing is sent after a failure.
        self.window = 1 if exit_on_error or verbose else PIPELINE
        self.in_flight: deque[_Pending] = deque()
        self.failed: list[int] = []
        self.needed: set[str] | None = None  # what the lines' commands need of a schema
        self.warned: set[str] = set()  # the deprecated and unstable names said, once each

    def script(self, lines: list[str]) -> ExitStatus:
        commands = 0
        different = set(lines)
        if len(different) <= NEEDS_FROM:
            self.needed = {name for line in different for name in commands_named(line)}
        try:
            if self.mode is Mode.HMP:
                self._ensure_schema()
                if not has_hmp(self.parser.schema):
                    self.output.error(NO_HMP)
                    self.mode = Mode.QMP
            for number, line in _numbered(lines):
                commands += 1
                self._line(number, line)
                if self.failed and self.exit_on_error:
                    break
                if self.client.quitting:  # nothing can run after it
                    self._settle(0)
                    self.client.wait_closed(self.timeout)
                    break
            self._settle(0)
        except SessionEnded:
            pass  # QEMU went before its reply to quit was read: the end asked for
        except ConnectionLost as exc:
            lost = [pending.number for pending in self.in_flight]
            self.output.error(f"{exc}; no reply to {unanswered(lost)}" if lost else str(exc))
            return ExitStatus.CONNECTION
        said = summary(self.failed, commands, self.exit_on_error)
        if said is not None:
            self.output.error(said)
        return ExitStatus.COMMAND_FAILED if self.failed else ExitStatus.OK

    def _line(self, number: int, line: str) -> None:
        where = f"line {number}"
        judge: Callable[[Message], bool] = qmp_succeeded
        if self.mode is Mode.HMP:
            text = line.strip()
            message = hmp_message(text, None)
            schema = self.parser.schema
            show: Callable[[Message], None] = lambda reply: show_hmp(  # noqa: E731
                self.output, schema, text, reply
            )
            judge = lambda reply: hmp_succeeded(message, reply)  # noqa: E731
        else:
            if not is_raw_json(line.strip()):
                self._ensure_schema()
            try:
                built = qmp_message(self.parser, line, oob_enabled=self.client.oob_enabled)
            except InputError as exc:
                self._settle(0)  # said after the replies to the lines before it
                self.output.input_error(line, exc, where)
                self.failed.append(number)
                return
            if built is None:
                return  # an action taken into a block (none is opened here)
            message = built
            warnings = new_warnings(self.warned, self.parser.schema, message, where)
            if warnings:
                self._settle(0)  # said after the replies to the lines before it
            for text in warnings:
                self.output.note(text)
            show = qmp_display(self.output, message, where)
            if "id" in message and self.client.in_flight(message["id"]):
                self._settle(0)  # one of the shell's own, answered soon
        if self.verbose:
            self.output.message(message)
        own_id = "id" not in message
        sent = self.client.send(
            message, lambda reply: show(without_own_id(reply, own_id)), user=True
        )
        self.in_flight.append(_Pending(number, message, sent, judge))
        if message.get("execute") == "qmp_capabilities":
            self._settle(0)  # it changes what the next lines mean: done before them
        elif len(self.in_flight) >= self.window:
            # Refilled half a window at a time, so that the lines go out together, in
            # one write, rather than one per reply.
            self._settle(self.window // 2)

    def _settle(self, keep: int) -> None:
        """Wait for the replies of the oldest lines until ``keep`` are in flight."""
        while len(self.in_flight) > keep:
            pending = self.in_flight[0]
            try:
                reply = self.client.wait(pending.sent, self.timeout)
            except ReplyTimeout as exc:
                self.in_flight.popleft()
                self.output.error(timed_out(f"line {pending.number}", pending.message, exc))
                self.failed.append(pending.number)
                continue
            self.in_flight.popleft()
            if not pending.judge(reply):
                self.failed.append(pending.number)
            failure = self.output_failure()
            if failure is not None:
                raise failure

    def _ensure_schema(self) -> None:
        """Load the schema once, when a line first needs it, as scripted mode does."""
        if not self._schema_wanted:
            return
        self._schema_wanted = False
        greeting = self.client.greeting.raw.get("QMP") if self.client.greeting else None
        dialogue = schema_dialogue(greeting, cache=self.schema_cache, needed=self.needed)
        try:
            command = next(dialogue)
            while True:
                answer: Any
                try:
                    answer = self.client.execute(command, self.timeout)
                except CommandError as exc:
                    answer = exc
                except ReplyTimeout:
                    self.output.note(late_note(self.timeout))
                    return
                command = dialogue.send(answer)
        except StopIteration as end:
            try:
                self.parser.schema = usable(end.value)
            except ValueError as exc:
                self.output.note(unusable_note(exc))
        except (TypeError, ValueError, AttributeError) as exc:  # SchemaInvalid too
            self.output.note(unusable_note(exc))


def _numbered(lines: list[str]) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(lines, 1):
        if not is_skipped(line):
            yield number, line
