"""One line of input, start to finish: parse it, send it, wait, show the reply.

Scripted mode and the interactive shell both run lines through :class:`LineRunner`, so a
line means the same thing wherever it was typed. The runner owns the parser (and with it
an open transaction block), the meta-commands, and the point in the event log that
``/wait`` looks from; it loads the schema the first time a line needs typing.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import TYPE_CHECKING, Any, Protocol, Union

from ..errors import (
    CommandError,
    ConnectionLost,
    DuplicateId,
    InputError,
    ReplyTimeout,
    SessionEnded,
)
from ..language.mode import Mode
from ..language.pipe import PIPE, split_pipe
from ..language.rawjson import is_raw_json
from ..language.shorthand import Parser
from ..protocol.client import QMPClient
from ..protocol.message import RawMessage
from .display import Display
from .events import EventLog
from .jobpoll import JobWatch
from .lines import (
    has_hmp,
    hint,
    hmp_message,
    hmp_succeeded,
    is_cpu_line,
    new_warnings,
    qmp_display,
    qmp_message,
    qmp_succeeded,
    show_hmp,
    strays,
    timed_out,
    without_own_id,
)
from .saving import SessionLines
from .schemaload import SchemaLoad

if TYPE_CHECKING:
    from ..protocol.agent import GuestAgent

Message = dict[str, Any]
Outcome = Union[bool, Awaitable[bool]]  # done now, or when the reply has been shown


# A meta-command's slash, and HMP's cpu, at the start of a line (matched: a line may be huge).
_META = re.compile(r"\s*/")


class MetaCommands(Protocol):
    """The meta-commands (``/wait``, ``/hmp``...), as the runner sees them: the session
    builds them for a runner (:class:`qmpshell.session.meta.MetaCommands`)."""

    @property
    def names(self) -> list[str]:
        """Each meta-command with its slash, for completion."""

    @property
    def waiting(self) -> Waiting | None:
        """What a running ``/wait`` waits for, for the toolbar."""

    # Told each line ``/edit`` sends (the interactive shell keeps it in its history).
    on_edited: Callable[[str], None] | None

    async def run(self, line: str, where: str = "") -> bool:
        """Run meta-command line ``line``; False when it failed."""


class Waiting(Protocol):
    def describe(self, now: float) -> str:
        """What is awaited, and for how long still, in a few words."""


class LineRunner:
    """Runs lines against a connected client and shows what comes back."""

    def __init__(
        self,
        client: QMPClient,
        output: Display,
        events: EventLog,
        *,
        verbose: bool = False,
        timeout: float | None = None,
        use_schema: bool = True,
        schema_cache: bool = True,
        agent: GuestAgent | None = None,
        meta: Callable[[LineRunner], MetaCommands],
    ) -> None:
        self.client = client
        self.agent = agent
        self.output = output
        self.events = events
        self.verbose = verbose
        self.timeout = timeout
        self.parser = Parser()
        self.meta = meta(self)
        # /wait looks at events numbered from here: set when a command is sent, moved
        # past each event a /wait consumes.
        self.wait_from = 0
        self.schema_load = SchemaLoad(
            client, self.parser, output, timeout=timeout, wanted=use_schema, cache=schema_cache
        )
        self.jobs = JobWatch(client, output, timeout=timeout)  # block jobs and migration
        client.add_event_handler(self.jobs.on_event)
        self.mode = Mode.QMP  # which monitor lines go to
        self.cpu_index: int | None = None  # chosen with HMP's "cpu N"
        # Told ``where`` of each line whose reply the lost connection took, the moment
        # it happens (scripts with --reconnect); None: the loss propagates to the awaiter.
        self.on_lost: Callable[[str], None] | None = None
        # Scripts: awaits the replies to the lines before, so that a complaint comes after
        # them (2>&1 keeps the order of the lines), and a raw line whose id is in flight
        # waits for it to be free.
        self.catch_up: Callable[[], Awaitable[None]] | None = None
        self.sent_alone = False  # the last line sent must be answered before the next
        # The deprecated and unstable names the session was warned of: each said once.
        self.warned: set[str] = set()
        self.lines = SessionLines()  # the lines that ran, for /save
        self.refusals = 0  # lines refused before anything was sent
        self.piping = False  # the line's reply went to its pipe's command (``|!``)

    @property
    def in_transaction(self) -> bool:
        return self.parser.in_transaction

    async def reconnected(self) -> None:
        """The client has connected again (``--reconnect``), maybe to another QEMU build:
        read the schema afresh (or resync the agent), ask which jobs still run; forget
        the chosen CPU."""
        if self.agent is not None:
            await self.agent.sync(self.timeout)
            await self.agent.load_info(self.timeout)
        elif self.schema_load.wanted_at_all:
            self.schema_load.forget()  # it was the old connection's
            if self.client.negotiated:
                await self.schema_load.ensure()
        if self.agent is None:
            await self.jobs.reconnected()
        if self.cpu_index is not None:
            self.cpu_index = None
            self.output.note("the CPU chosen with 'cpu' is forgotten on a new connection")

    async def run_line(self, line: str, where: str = "") -> bool:
        """Run one line in the current mode and wait for its reply; True when it
        succeeded (or was taken into an open transaction block).

        Input errors, error replies and reply timeouts are shown and return False.
        :class:`~qmpshell.errors.ConnectionLost` propagates: the session cannot go on,
        and so does :class:`~qmpshell.session.meta.Quit`.
        """
        try:
            outcome = await self.submit(line, where)
            return await settled(outcome)
        finally:
            await self.output.settle()  # a tall reply or /help paged before the next line

    async def submit(self, line: str, where: str = "") -> Outcome:
        """Prepare a line and send what it says, without waiting for the reply.

        Returns True or False when the line is already done (a meta-command, a refused
        line, an action taken into a block), else an awaitable of the outcome. The reply
        is shown the moment it arrives, in stream order with events, whoever awaits it
        and when: scripted mode keeps several commands in flight this way.
        """
        self.piping = False
        mode, refusals = self.mode, self.refusals
        if PIPE in line:
            try:
                piped = split_pipe(line, self.mode)
            except InputError as exc:
                await self.refuse(line, exc, where)
                return False
            if piped is not None:
                from .pipedline import run_piped

                succeeded = await run_piped(self, piped, where)
                if self.refusals == refusals:  # it ran (its pipe too, or not): /save keeps it
                    self.lines.ran(line, mode)
                return succeeded
        text = line.strip()
        if text.startswith("/"):
            try:
                outcome: Outcome = await self.meta.run(text, where)
            except InputError as exc:
                await self.refuse(line, exc, where)
                return False
        elif self.mode is Mode.HMP:
            outcome = await self._submit_hmp(line, where)
        else:
            outcome = await self._submit_qmp(line, where)
        if self.refusals == refusals:  # it ran: /save writes it
            self.lines.ran(line, mode)
        return outcome

    def is_barrier(self, line: str) -> bool:
        """Whether a line must wait until no command is in flight: meta-commands (/wait
        looks at what came back), HMP's cpu, which asks QEMU itself, and a line through a
        pipe (``|!``: its output comes after its reply, and before the next line's)."""
        return (
            _META.match(line) is not None
            or (self.mode is Mode.HMP and is_cpu_line(line))
            or PIPE in line
        )

    async def run_qmp(self, line: str, where: str = "") -> bool:
        """Run one QMP line (shorthand or raw JSON), also from HMP mode (/qmp LINE)."""
        outcome = await self._submit_qmp(line, where)
        return await settled(outcome)

    async def _submit_qmp(self, line: str, where: str) -> Outcome:
        if self.parser.in_transaction or not is_raw_json(line.strip()):
            await self.schema_load.ensure()
        try:
            message = qmp_message(self.parser, line, oob_enabled=self.client.oob_enabled)
        except InputError as exc:
            await self.refuse(line, exc, where)
            return False
        if message is None:
            return True  # an action taken into the open transaction block
        await self.warn(message, where)
        # A raw line QEMU may not parse is sent alone: nothing goes behind it until its
        # reply has come, so that a reply without id is surely its own.
        self.sent_alone = isinstance(message, RawMessage) and not message.clean
        if (
            "id" in message
            and self.catch_up is not None
            and self.client.id_in_flight(message["id"])
        ):
            await self.catch_up()  # one of the shell's own, answered soon
        show = qmp_display(self.output, message, where)
        if self.agent is not None and message.get("execute") == "guest-exec-status":
            show = self.output.exec_status  # with the program's output decoded
        outcome = self.send(message, where, show, self.qmp_judge)
        if message.get("execute") == "qmp_capabilities" and not isinstance(outcome, bool):
            return await outcome  # done before the next line: it changes what lines mean
        return outcome

    async def warn(self, message: Message, where: str) -> None:
        """Say what of the deprecated and unstable ``message`` uses the session has not
        been told yet (after what came before it, in scripts)."""
        warnings = new_warnings(self.warned, self.parser.schema, message, where)
        if warnings and self.catch_up is not None:
            await self.catch_up()
        for text in warnings:
            self.output.note(text)

    async def refuse(self, line: str, error: InputError, where: str) -> None:
        """Say why ``line`` is not sent (after what came before it, in scripts)."""
        self.refusals += 1
        if self.catch_up is not None:
            await self.catch_up()
        self.output.input_error(line, error, where)

    def check(self, line: str) -> InputError | None:
        """What running ``line`` in QMP mode would refuse, said as :meth:`run_line`
        would say it, without sending anything (the input mark while typing)."""
        try:
            piped = split_pipe(line, Mode.QMP)
        except InputError as exc:
            return None if exc.incomplete else exc
        if piped is not None:
            if piped.mode is Mode.HMP or line.lstrip().startswith("/"):
                return None  # /qmp LINE and /hmp LINE are not marked
            line = piped.line
        error = self.parser.check(line)
        return None if error is None else hint(self.parser, line.strip(), error)

    def qmp_judge(self, message: Message, reply: Message) -> bool:
        """Whether ``reply`` to ``message`` is a success (a negotiation noted)."""
        if message.get("execute") == "qmp_capabilities" and "return" in reply:
            self.schema_load.negotiated()
        return qmp_succeeded(reply)

    def send(
        self,
        message: Message,
        where: str,
        show: Callable[[Message], None],
        judge: Callable[[Message, Message], bool],
        *,
        replayed: bool = True,
    ) -> Outcome:
        """Send ``message``; ``show`` its reply when it arrives (without the id the client
        added); ``judge`` says whether the reply is a success. ``replayed``: the
        transcript marks it as a line's command, which ``--replay`` sends again (not
        ``/watch``'s runs, which only look)."""
        name = str(message.get("execute", ""))
        if self.agent is not None and self.agent.sends_no_reply(name):
            if self.verbose:
                self.output.message(message)
            self.client.send_nowait(message)
            self.output.note(f"{name} sent; the guest agent does not reply to it on success")
            return True
        if self.verbose:
            self.output.message(message)
        self.wait_from = self.events.total
        own_id = "id" not in message

        def on_reply(reply: Message) -> None:
            show(without_own_id(reply, own_id))
            self.jobs.replied(message, reply)

        prefix = f"{where}: " if where else ""

        def on_stray(count: int) -> None:
            self.output.error(strays(where, count))

        try:
            future = self.client.send_request(
                message, timeout=self.timeout, on_reply=on_reply, on_stray=on_stray, user=replayed
            )
        except DuplicateId as exc:
            self.output.error(f"{prefix}{exc}")
            return False

        def report_timeout(done: asyncio.Future[Message]) -> None:
            # Said when it happens, even if nobody awaits this reply yet (scripts).
            if done.cancelled():
                return
            error = done.exception()
            if isinstance(error, ReplyTimeout):
                self.output.error(timed_out(where, message, error))
            elif (
                isinstance(error, ConnectionLost)
                and not isinstance(error, SessionEnded)
                and self.on_lost is not None
            ):
                self.on_lost(where)

        future.add_done_callback(report_timeout)
        return self._outcome(future, message, judge)

    async def _outcome(
        self,
        future: asyncio.Future[Message],
        message: Message,
        judge: Callable[[Message, Message], bool],
    ) -> bool:
        try:
            reply = await future
        except ReplyTimeout:  # already reported, the moment it happened
            if self.agent is not None:
                await self._resync()
            return False
        return judge(message, reply)

    async def _resync(self) -> None:
        """After a guest agent timeout, a late reply may still come: step past it."""
        assert self.agent is not None
        try:
            await self.agent.sync(self.timeout)
        except ReplyTimeout:
            self.output.error("the guest agent does not answer a resync either")

    # -- the human monitor --------------------------------------------------------------

    async def hmp_available(self) -> bool:
        """Whether the server has a human monitor (qemu-storage-daemon has none)."""
        if self.agent is not None:
            return False
        await self.schema_load.ensure()
        return has_hmp(self.parser.schema)

    async def run_hmp(self, line: str, where: str = "") -> bool:
        """Run one HMP line through ``human-monitor-command``, also from QMP mode."""
        outcome = await self._submit_hmp(line, where)
        return await settled(outcome)

    async def _submit_hmp(self, line: str, where: str) -> Outcome:
        text = line.strip()
        if not text:
            return True
        try:
            if text == "cpu" or text.startswith(("cpu ", "cpu\t")):
                return await self._select_cpu(text)
        except InputError as exc:
            await self.refuse(line, exc, where)
            return False
        message = hmp_message(text, self.cpu_index)
        return self.send(
            message,
            where,
            lambda reply: show_hmp(self.output, self.parser.schema, text, reply),
            hmp_succeeded,
        )

    async def _select_cpu(self, text: str) -> bool:
        """``cpu N``, as in QEMU's monitor: later commands act on that CPU. Checked here,
        since each ``human-monitor-command`` runs in a monitor of its own."""
        words = text.split()
        if len(words) != 2 or not words[1].isdigit():
            raise InputError("usage: cpu INDEX", 0)
        try:
            cpus = await self.client.execute("query-cpus-fast", timeout=self.timeout)
        except CommandError as exc:
            self.output.error(f"cpu: {exc}")
            return False
        listed = cpus if isinstance(cpus, list) else []
        indexes = sorted(
            cpu["cpu-index"]
            for cpu in listed
            if isinstance(cpu, dict) and type(cpu.get("cpu-index")) is int
        )
        if not indexes:
            raise InputError("this machine has no CPUs", 0)
        wanted = int(words[1])
        if wanted not in indexes:
            raise InputError(
                f"no CPU {wanted}; this machine has CPU {', '.join(map(str, indexes))}", 4
            )
        self.cpu_index = wanted
        self.output.note(f"CPU {wanted} selected")
        return True


async def settled(outcome: Outcome) -> bool:
    """The outcome of a submitted line, once its reply (if any) has been shown."""
    return outcome if isinstance(outcome, bool) else await outcome


async def wait_quit(client: QMPClient, timeout: float | None) -> None:
    """After QEMU accepted ``quit``: wait until it has closed the connection, so that
    what it says last (``SHUTDOWN``, on some versions after the reply) is shown."""
    with suppress(asyncio.TimeoutError):
        await asyncio.wait_for(client.wait_closed(), timeout)
