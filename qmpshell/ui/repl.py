"""The interactive shell, used when stdin is a terminal and no ``-c`` is given.

One asyncio loop runs the prompt, the replies and the events: events are printed above
the prompt the moment they arrive, leaving a half-typed line intact. prompt_toolkit is
imported here only (and in the modules only this one uses), so scripted mode never pays
for it.
"""

from __future__ import annotations

import asyncio
import signal
from collections import deque
from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..collector import freeze_what_lives
from ..errors import (
    ConnectionLost,
    ExitStatus,
    QMPShellError,
    SessionEnded,
)
from ..escape import escape_text
from ..language.mode import Mode
from ..language.syntax import split_entries
from ..protocol.client import QMPClient
from ..session.events import Event
from ..session.fleet import Fleet, Member
from ..session.lines import is_skipped
from ..session.meta import Quit, drop_transaction
from ..session.reconnect import cancel_and_wait
from ..session.runner import LineRunner, wait_quit
from .output import Output
from .screen import banner, continuation, output_above_prompt
from .seat import Seat
from .typeahead import kept_for_the_prompt

if TYPE_CHECKING:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.formatted_text import StyleAndTextTuples
    from prompt_toolkit.history import History

    from ..session.live import LiveNames

# qmp-shell's prompts for QMP, and QEMU's own monitor's for HMP.
PROMPTS = {"qmp": "(QEMU) ", "transaction": "TRANS> ", "hmp": "(qemu) ", "agent": "(QGA) "}

# How long a Tab pressed while the schema loads waits for it before offering what it has.
SCHEMA_WAIT_SECONDS = 5.0


@dataclass
class Settings:
    """What the command line decided about the interactive shell."""

    keep_history: bool = True  # False: --no-history
    history_file: str | None = None  # --history-file: the QMP history's path
    complete_while_typing: bool = True


class Shell:
    """One interactive session: the prompt, its toolbar, and the command being run, for
    each of the session's connections (the fleet's members)."""

    def __init__(self, fleet: Fleet, output: Output, settings: Settings) -> None:
        self.fleet = fleet
        self.output = output  # the runners', seen as the UI's own
        self.settings = settings
        self._running: asyncio.Future[bool] | None = None
        self._interrupted = False
        self._seats: dict[int, Seat] = {}  # by id() of the member
        # Lines pasted (or typed while a line ran) that are still to run, in order, and
        # the unfinished rest, for the next prompt to start with.
        self._pending: deque[str] = deque()
        self._typeahead = ""
        self._histories: dict[str, History] = {}  # by kind: shared by every connection
        self._started = False  # run() has begun: new members' watchers start at once
        for member in fleet.members:
            self._joined(member)
        fleet.on_join.append(self._joined)

    # -- the current connection ---------------------------------------------------------

    @property
    def _seat(self) -> Seat:
        assert self.fleet.current is not None
        return self._seats[id(self.fleet.current)]

    @property
    def member(self) -> Member:
        return self._seat.member

    @property
    def runner(self) -> LineRunner:
        return self._seat.member.runner

    @property
    def client(self) -> QMPClient:
        return self._seat.member.client

    @property
    def _live(self) -> LiveNames:
        return self._seat.live

    @property
    def session(self) -> PromptSession[str]:
        seat = self._seat
        mode = self.runner.mode
        if mode not in seat.sessions:
            seat.sessions[mode] = self._make_session(seat, mode)
        return seat.sessions[mode]

    def _joined(self, member: Member) -> None:
        """A connection joins the session: its events shown with its name (once there
        are several), watched for loss, its run state read."""
        seat = self._seats[id(member)] = Seat(member)
        fleet, output = self.fleet, self.output
        member.runner.events.show = lambda event: output.event(event, fleet.label(member))
        member.client.add_event_handler(self.on_event)
        member.runner.jobs.listeners.append(self._redraw)  # each poll moves the bars
        member.runner.meta.on_edited = self._keep_edited
        reconnect = member.reconnect
        if reconnect is not None:
            reconnect.steps.append(member.read_run_state)  # before the prompt is back
            reconnect.on_attempt = self._redraw
        if self._started:
            self._watch(seat)

    def _watch(self, seat: Seat) -> None:
        seat.watcher = asyncio.ensure_future(self._watch_connection(seat))

    # -- prompt_toolkit pieces ----------------------------------------------------------

    def _history(self, mode: Mode, agent: bool) -> History:
        """The history of ``mode`` (the guest agent's its own), one for all connections."""
        from prompt_toolkit.history import InMemoryHistory

        from .history import history_path, make_history

        kind = "hmp" if mode is Mode.HMP else "qga" if agent else "qmp"
        if kind not in self._histories:
            settings = self.settings
            if settings.keep_history:
                path = history_path(kind, settings.history_file)
                self._histories[kind] = make_history(path, mode, self.output.error)
            else:
                self._histories[kind] = InMemoryHistory()
        return self._histories[kind]

    def _make_session(self, seat: Seat, mode: Mode) -> PromptSession[str]:
        from .promptsession import fault_span, make_prompt_session

        runner = seat.member.runner
        return make_prompt_session(
            runner,
            seat.live,
            self.output,
            mode,
            self._history(mode, runner.agent is not None),
            toolbar=self._toolbar,
            queue=self._queue,
            fault=lambda text: fault_span(runner, text),
            schema_ready=self._schema_ready,
            targets=lambda: [member.name for member in self.fleet.live()],
            named=lambda: self.fleet.named,
            complete_while_typing=self.settings.complete_while_typing,
        )

    def _keep_edited(self, line: str) -> None:
        """A command ``/edit`` sent, kept in the QMP history as if typed."""
        history = self._histories.get("qga" if self.runner.agent else "qmp")
        if history is not None:
            history.append_string(line)

    def _toolbar(self) -> StyleAndTextTuples:
        from .toolbar import job_rows, signature_row, status_row

        text = self.session.default_buffer.document.text_before_cursor
        width = self.session.app.output.get_size().columns
        rows = [*signature_row(self.runner, text), *job_rows(self.runner, width)]
        members = self.fleet.members
        lost = len(members) - len(self.fleet.live())
        return [*rows, *status_row(self.member, width, len(members), lost)]

    # -- what completion needs, loaded in the background --------------------------------

    def _preload(self) -> None:
        """Start loading the schema (and in HMP mode QEMU's command catalogue) without
        holding up the prompt, so that completion, the input mark and the toolbar work
        from the first keystroke. Called at start, after each line (``/hmp`` may have
        switched modes, ``/connect`` opened a connection) and after a reconnection."""
        seat = self._seat
        runner = seat.member.runner
        load = runner.schema_load.preload()
        if load is not None and load is not seat.watched_load:
            seat.watched_load = load
            load.add_done_callback(lambda done: self._schema_loaded(seat, done))
        if runner.mode is Mode.HMP and seat.catalogue is None:
            seat.catalogue = asyncio.ensure_future(seat.live.hmp_catalogue())
            seat.catalogue.add_done_callback(lambda _: self._redraw())

    def _schema_loaded(self, seat: Seat, load: asyncio.Future[None]) -> None:
        if load.cancelled():
            return
        error = load.exception()
        if error is not None and not isinstance(error, ConnectionLost):
            label = self.fleet.label(seat.member)
            self.output.error(
                f"{label + ': ' if label else ''}the schema could not be read ({error}): "
                "lines are sent untyped, and completion knows only the meta-commands"
            )
        session = seat.sessions.get(Mode.QMP)
        if session is not None and session.lexer is not None:
            from .lexer import input_lexer
            from .promptsession import fault_span

            # prompt_toolkit keeps a line's marks until the text or the lexer object
            # changes: a new lexer marks the line typed while the schema was loading.
            runner = seat.member.runner
            session.lexer = input_lexer(lambda text: fault_span(runner, text))
        freeze_what_lives()
        self._redraw()

    async def _schema_ready(self) -> None:
        """For a Tab pressed while the schema loads: wait for it (briefly), never fail."""
        load = self.runner.schema_load.preload()
        if load is None or load.done():
            return
        with suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(asyncio.shield(load), SCHEMA_WAIT_SECONDS)

    def _redraw(self) -> None:
        session = self._seat.sessions.get(self.runner.mode)
        if session is not None and session.app.is_running:
            session.app.invalidate()

    # -- events -------------------------------------------------------------------------

    def on_event(self, event: Event) -> None:
        """After the event log (and the member) has taken an event: redraw."""
        self._redraw()

    # -- Ctrl-C -------------------------------------------------------------------------

    def _on_sigint(self) -> None:
        """Ctrl-C while a command runs (the terminal is not in raw mode then): cancel it,
        unless it was meant for the pager."""
        if self.output.paging:
            return
        if self._running is not None and not self._running.done():
            self._interrupted = True
            self._running.cancel()

    # -- the loop -----------------------------------------------------------------------

    async def run(self) -> ExitStatus:
        self.output.text(banner(self.runner))
        self._preload()
        self._started = True
        for seat in self._seats.values():
            self._watch(seat)
        try:
            with output_above_prompt(), kept_for_the_prompt():
                await self.member.refresh_run_state()
                return await self._loop()
        finally:
            for seat in self._seats.values():  # with the reconnection each may be making
                if seat.watcher is not None:
                    await cancel_and_wait(seat.watcher)

    def _queue(self, lines: list[str], rest: str) -> None:
        """Lines to run after the one being accepted (a paste of several), in order, and
        the text the prompt after them starts with."""
        self._pending.extend(lines)
        self._typeahead = rest + self._typeahead

    def _take_typeahead(self, typed: str) -> None:
        """What was typed while a line ran: complete lines run next, the rest is kept."""
        lines, rest = split_entries(self._typeahead + typed)
        self._pending.extend(lines)
        self._typeahead = rest

    def _next_pending(self, prompt: str) -> str:
        """The next queued line, shown after its prompt as if typed, and kept in history."""
        line = self._pending.popleft()
        rows = line.split("\n")
        shown = [prompt + rows[0], *(continuation(len(prompt), 0, 0) + row for row in rows[1:])]
        self.output.text("\n".join(shown))
        self.session.history.append_string(line)
        return line

    def _drop_pending(self) -> None:
        if self._pending:
            count = len(self._pending)
            self._pending.clear()
            self.output.note(f"{count} more line{'s' if count != 1 else ''} not run")

    async def _loop(self) -> ExitStatus:
        output = self.output
        while True:
            seat = self._seat
            if seat.gave_up is not None and not self._go_on(seat.gave_up, told=True):
                return ExitStatus.CONNECTION
            lost = self.client.disconnect_reason
            if lost is not None and seat.member.reconnect is None:
                if not self._go_on(lost):  # lost as the last command ended
                    return self._ended(lost)
                continue
            prompt = self._prompt()
            output.prompt_width = len(prompt)
            session = self.session
            try:
                if self._pending:
                    line = self._next_pending(prompt)
                else:
                    default, self._typeahead = self._typeahead, ""
                    line = await session.prompt_async(prompt, default=default)
            except KeyboardInterrupt:
                # Ctrl-C clears the line; on an empty line it leaves a transaction block.
                if not session.default_buffer.text:
                    drop_transaction(self.runner, "cancelled")
                continue
            except EOFError:
                drop_transaction(self.runner, "dropped")
                return ExitStatus.OK
            except ConnectionLost as exc:
                if not self._go_on(exc, told=exc is seat.gave_up):
                    return self._ended(exc)
                typed = session.default_buffer.text
                if typed.strip():  # meant for the one lost: never sent to another
                    session.history.append_string(typed)
                    output.note(f"the line being typed was for {seat.member.name}; Up recalls it")
                continue
            if is_skipped(line):
                continue
            status = await self._run(line)
            if status is not None:
                return status
            self._preload()

    def _prompt(self) -> str:
        runner = self.runner
        if runner.mode is Mode.HMP:
            kind = "hmp"
        elif runner.in_transaction:
            kind = "transaction"
        else:
            kind = "agent" if runner.agent is not None else "qmp"
        label = self.fleet.label(self.member)
        return f"[{escape_text(label)}] {PROMPTS[kind]}" if label else PROMPTS[kind]

    def _go_on(self, reason: QMPShellError, *, told: bool = False) -> bool:
        """The current connection is gone: go on with another one if any is open (the
        loss said, as a note when QEMU quit as asked); False when it was the last."""
        following = self.fleet.next_live(but=self.member)
        if following is None:
            return False
        name = self.member.name
        if not told:
            self._say_lost(name, reason)
        self._drop_pending()
        self.fleet.switch(following)
        self.output.note(f"now on {following.name} (/targets lists the connections)")
        self._preload()
        return True

    async def _run(self, line: str) -> ExitStatus | None:
        """Run one line as a task Ctrl-C can cancel; an exit status ends the session."""
        output = self.output
        member = self.member  # /connect and /target change the current one
        self._interrupted = False
        self._running = asyncio.ensure_future(member.runner.run_line(line))
        words = line.split()  # /wait, /job wait and /watch show how they go while they run
        waits = words[:1] == ["/wait"] or words[:2] == ["/job", "wait"]
        watches = words[:1] == ["/watch"]
        # prompt_toolkit handles SIGINT only while it prompts, and removes its handler
        # afterwards; while a command runs, the terminal is not raw and Ctrl-C is a signal.
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGINT, self._on_sigint)
        try:
            if waits:
                await self._status_while(self._running)
            elif watches:
                from .watchscreen import show_watch

                await show_watch(self._running, self.output, self._on_sigint)
            await self._running
            if member.client.quitting:  # QEMU accepted quit: show what it says last, end
                await wait_quit(member.client, member.runner.timeout)
                reason = member.client.disconnect_reason
                return self._lost(reason or SessionEnded("QEMU quit; session ended"))
        except asyncio.CancelledError:
            if not self._interrupted:
                raise
            self._drop_pending()
            if waits or watches:
                output.note("stopped waiting" if waits else "stopped watching")
            elif member.runner.piping:
                output.note("pipe stopped (its processes killed)")
            elif words[:1] == ["/connect"]:
                output.note("stopped connecting")
            else:
                output.note("cancelled (a late reply will be ignored)")
        except Quit:
            return ExitStatus.OK
        except ConnectionLost as exc:
            if member.reconnect is None or isinstance(exc, SessionEnded):
                return self._lost(exc)
            # The watcher says what happened and brings the connection back; the line
            # stays in the history, to be run again with Up, Enter.
            if waits or watches:
                output.error(str(exc))
            elif not member.reconnecting:
                output.error("no reply: the connection was lost; the command may have run or not")
            else:
                output.error("not connected (waiting for the monitor to come back); not sent")
        except QMPShellError as exc:
            output.error(str(exc))
        finally:
            loop.remove_signal_handler(signal.SIGINT)
            self._running = None
        return None

    def _say_lost(self, name: str, reason: QMPShellError) -> None:
        """One connection of several is gone: QEMU quit as asked (a note), or lost."""
        if isinstance(reason, SessionEnded):
            self.output.note(f"{name}: QEMU quit; its connection is closed")
        else:
            self.output.error(f"{name}: {reason}")

    def _lost(self, reason: QMPShellError) -> ExitStatus | None:
        """The current connection ended with its line: go on with another, or end."""
        return None if self._go_on(reason) else self._ended(reason)

    async def _status_while(self, task: asyncio.Future[bool]) -> None:
        """A status line in the toolbar's place while ``task`` (a /wait) runs."""
        from .busy import show_while

        loop = asyncio.get_running_loop()

        def describe() -> str:
            waiting = self.runner.meta.waiting
            return waiting.describe(loop.time()) if waiting is not None else "waiting"

        typed = await show_while(task, describe, self._on_sigint, self.session.app.style)
        self._take_typeahead(typed)

    def _ended(self, reason: QMPShellError) -> ExitStatus:
        """The last connection is gone: QEMU quit as asked (0), or it was lost (3)."""
        if isinstance(reason, SessionEnded):
            self.output.note(str(reason))
            return ExitStatus.OK
        if reason is not self._seat.gave_up:  # that one has been told already
            self.output.error(str(reason))
        return ExitStatus.CONNECTION

    async def _watch_connection(self, seat: Seat) -> None:
        """QEMU may go away while the user is typing; say so then, not at the next Enter.
        With ``--reconnect``, bring the connection back under the half-typed line."""
        member = seat.member
        reconnect = member.reconnect
        while True:
            await member.client.wait_closed()
            error = member.client.disconnect_reason or ConnectionLost("closed")
            if reconnect is not None and not isinstance(error, SessionEnded):
                member.reconnecting = True
                self._redraw()
                try:
                    back = await reconnect.back()
                finally:
                    member.reconnecting = False
                if back:
                    seat.live.forget()
                    seat.catalogue = None
                    if member is self.fleet.current:
                        self._preload()
                    self._redraw()
                    continue
                seat.gave_up = error = ConnectionLost("gave up reconnecting")
            if member is self.fleet.current:
                app = self.session.app
                if app.is_running:  # the loop goes on with another, or ends
                    app.exit(exception=error)
            elif seat.gave_up is None:  # one of the others: said, and the toolbar counts
                self._say_lost(member.name, error)
                self._redraw()
            return


async def run_interactive(fleet: Fleet, output: Output, settings: Settings) -> ExitStatus:
    """Read, run and show lines until Ctrl-D, ``/quit`` or the last connection ends;
    ``output`` is the runners' display."""
    return await Shell(fleet, output, settings).run()
