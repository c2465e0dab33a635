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
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..collector import freeze_what_lives
from ..errors import (
    CommandError,
    ConnectionLost,
    ExitStatus,
    QMPShellError,
    ReplyTimeout,
    SessionEnded,
)
from ..escape import escape_text
from ..language.mode import Mode
from ..language.syntax import split_entries
from ..protocol.client import QMPClient
from ..session.events import Event, run_state_after
from ..session.lines import is_skipped
from ..session.meta import Quit, drop_transaction
from ..session.reconnect import Reconnector, cancel_and_wait
from ..session.runner import LineRunner, wait_quit
from .output import Output
from .screen import banner, continuation, output_above_prompt, status_line
from .typeahead import kept_for_the_prompt

if TYPE_CHECKING:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.formatted_text import StyleAndTextTuples

# qmp-shell's prompts for QMP, and QEMU's own monitor's for HMP.
PROMPTS = {"qmp": "(QEMU) ", "transaction": "TRANS> ", "hmp": "(qemu) ", "agent": "(QGA) "}

# How long a Tab pressed while the schema loads waits for it before offering what it has.
SCHEMA_WAIT_SECONDS = 5.0


@dataclass
class Settings:
    """What the command line decided about the interactive shell."""

    history: Path | None  # the QMP history file; None: do not keep history
    complete_while_typing: bool = True
    hmp_history: Path | None = None
    target: str | None = None  # how the toolbar names what it talks to (default: address)
    reconnect: Reconnector | None = None  # --reconnect; None: a lost connection ends it


class Shell:
    """One interactive session: the prompt, its toolbar, and the command being run."""

    def __init__(
        self, runner: LineRunner, client: QMPClient, output: Output, settings: Settings
    ) -> None:
        self.runner = runner
        self.output = output  # the runner's, seen as the UI's own
        self.client = client
        self.settings = settings
        self.run_state: str | None = None
        self._running: asyncio.Future[bool] | None = None
        self._interrupted = False
        self._reconnecting = False
        self._gave_up: ConnectionLost | None = None  # --reconnect waited in vain
        from ..session.live import LiveNames

        self._live = LiveNames(client)
        self._catalogue: asyncio.Future[Any] | None = None  # HMP's, loading or loaded
        self._watched_load: asyncio.Future[None] | None = None  # the schema load we report
        # Lines pasted (or typed while a line ran) that are still to run, in order, and
        # the unfinished rest, for the next prompt to start with.
        self._pending: deque[str] = deque()
        self._typeahead = ""
        # One prompt per mode, each with its own history, completion and highlighting.
        self._sessions: dict[Mode, PromptSession[str]] = {}

    @property
    def session(self) -> PromptSession[str]:
        mode = self.runner.mode
        if mode not in self._sessions:
            self._sessions[mode] = self._make_session(mode)
        return self._sessions[mode]

    # -- prompt_toolkit pieces ----------------------------------------------------------

    def _make_session(self, mode: Mode) -> PromptSession[str]:
        from prompt_toolkit.completion import Completer
        from prompt_toolkit.history import History, InMemoryHistory
        from prompt_toolkit.lexers import Lexer
        from prompt_toolkit.styles import Style

        from .completer import MARKED, EscapedCompleter, HmpCompleter, ShellCompleter
        from .editline import editing
        from .history import make_history
        from .key_bindings import key_bindings
        from .lexer import INPUT_ERROR, INPUT_STYLE, input_lexer
        from .screen import escaping_processor, fitting_session

        path = self.settings.history if mode is Mode.QMP else self.settings.hmp_history
        history: History = (
            make_history(path, mode, self.output.error) if path else InMemoryHistory()
        )
        completer: Completer
        lexer: Lexer | None
        if mode is Mode.HMP:
            completer = HmpCompleter(self._live, self.runner.meta.names)
            lexer = None
        else:
            agent = self.runner.agent
            completer = ShellCompleter(
                lambda: self.runner.parser.schema,
                lambda: self.runner.in_transaction,
                self.runner.meta.names,
                None if agent else self._live,
                agent.completions if agent else None,
                ready=self._schema_ready,
            )
            lexer = input_lexer(self._fault)
        if self.output.color:
            style = dict(INPUT_STYLE)
            style["bottom-toolbar"] = "noreverse bg:#303030 fg:#d0d0d0"
        else:  # no colour at all, but the mark on a line that will not parse stays
            style = {INPUT_ERROR: "underline"}
        style[MARKED.removeprefix("class:")] = "italic"  # deprecated, unstable: no colour
        return fitting_session()(
            history=history,
            lexer=lexer,
            style=Style.from_dict(style),
            bottom_toolbar=self._toolbar,
            key_bindings=key_bindings(self._queue, editing(self.runner, self.output)),
            prompt_continuation=continuation,
            include_default_pygments_style=False,
            completer=EscapedCompleter(completer),
            input_processors=[escaping_processor()],
            complete_while_typing=self.settings.complete_while_typing,
            complete_in_thread=False,
        )

    def _keep_edited(self, line: str) -> None:
        """A command ``/edit`` sent, kept in the QMP history as if typed."""
        session = self._sessions.get(Mode.QMP)
        if session is not None:
            session.history.append_string(line)

    def _fault(self, text: str) -> tuple[int, int] | None:
        """The span of ``text`` the parser would refuse, for the input highlighter."""
        if not text.strip() or text.lstrip()[:1] in ("/", "#"):
            return None
        error = self.runner.check(text)
        if error is None or error.incomplete or error.column is None:
            return None
        start = min(error.column, max(len(text) - 1, 0))
        end = start
        while end < len(text) and not text[end].isspace():
            end += 1
        return start, max(end, start + 1)

    def _toolbar(self) -> StyleAndTextTuples:
        from .toolbar import job_rows, signature_row

        text = self.session.default_buffer.document.text_before_cursor
        width = self.session.app.output.get_size().columns
        return [*signature_row(self.runner, text), *job_rows(self.runner, width), *self._status()]

    def _status(self) -> StyleAndTextTuples:
        greeting = self.client.greeting
        target = self.settings.target or str(self.client.address)
        parts = []
        if self.runner.agent is not None:
            parts.append("guest agent " + self.runner.agent.version)
        elif greeting:
            parts.append("QEMU " + ".".join(str(n) for n in greeting.version))
        reconnect = self.settings.reconnect
        if self._reconnecting and reconnect is not None and reconnect.attempt:
            parts.append(f"disconnected, reconnecting (attempt {reconnect.attempt})")
        elif self._reconnecting:
            parts.append("disconnected, reconnecting")
        elif self.run_state:
            parts.append(self.run_state)
        if self.runner.mode is Mode.HMP:
            parts.append(
                "HMP" if self.runner.cpu_index is None else f"HMP, CPU {self.runner.cpu_index}"
            )
        else:
            parts.append("QMP transaction" if self.runner.in_transaction else "QMP")
        log = self.runner.events
        if log.unseen:
            parts.append(f"{log.unseen} event{'s' if log.unseen != 1 else ''} hidden")
        width = self.session.app.output.get_size().columns
        shown = status_line(escape_text(target), [escape_text(part) for part in parts], width)
        return [("class:bottom-toolbar", shown)]

    # -- what completion needs, loaded in the background --------------------------------

    def _preload(self) -> None:
        """Start loading the schema (and in HMP mode QEMU's command catalogue) without
        holding up the prompt, so that completion, the input mark and the toolbar work
        from the first keystroke. Called at start, after each line (``/hmp`` may have
        switched modes) and after a reconnection."""
        load = self.runner.schema_load.preload()
        if load is not None and load is not self._watched_load:
            self._watched_load = load
            load.add_done_callback(self._schema_loaded)
        if self.runner.mode is Mode.HMP and self._catalogue is None:
            self._catalogue = asyncio.ensure_future(self._live.hmp_catalogue())
            self._catalogue.add_done_callback(lambda _: self._redraw())

    def _schema_loaded(self, load: asyncio.Future[None]) -> None:
        if load.cancelled():
            return
        error = load.exception()
        if error is not None and not isinstance(error, ConnectionLost):
            self.output.error(
                f"the schema could not be read ({error}): lines are sent untyped, "
                "and completion knows only the meta-commands"
            )
        session = self._sessions.get(Mode.QMP)
        if session is not None and session.lexer is not None:
            from .lexer import input_lexer

            # prompt_toolkit keeps a line's marks until the text or the lexer object
            # changes: a new lexer marks the line typed while the schema was loading.
            session.lexer = input_lexer(self._fault)
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
        session = self._sessions.get(self.runner.mode)
        if session is not None and session.app.is_running:
            session.app.invalidate()

    # -- events -------------------------------------------------------------------------

    def on_event(self, event: Event) -> None:
        """After the event log has taken an event: follow the run state, redraw."""
        self.run_state = run_state_after(self.run_state, event)
        app = self.session.app
        if app.is_running:
            app.invalidate()

    async def read_run_state(self) -> None:
        """The run state for the toolbar (none from a storage daemon or a slow QEMU)."""
        with suppress(ReplyTimeout):
            await self._read_run_state()

    async def _read_run_state(self) -> None:
        """The run state, as a step of a reconnection: a timeout, like a lost connection,
        fails the attempt (:mod:`qmpshell.session.reconnect`)."""
        if self.runner.agent is not None:
            return
        try:
            status = await self.client.execute("query-status", timeout=self.runner.timeout)
        except CommandError:
            return  # qemu-storage-daemon has no run state
        except ConnectionLost:
            return  # said by the loop, which sees the connection gone
        if isinstance(status, dict):
            self.run_state = str(status.get("status", "")) or None

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
        reconnect = self.settings.reconnect
        if reconnect is not None:
            reconnect.steps.append(self._read_run_state)  # read before the prompt is back
            reconnect.on_attempt = self._redraw
        self.output.text(banner(self.runner))
        self.runner.jobs.listeners.append(self._redraw)  # each poll moves the bars
        self.runner.meta.on_edited = self._keep_edited
        self._preload()
        watcher = asyncio.ensure_future(self._watch_connection())
        try:
            with output_above_prompt(), kept_for_the_prompt():
                await self.read_run_state()
                return await self._loop()
        finally:
            await cancel_and_wait(watcher)  # with the reconnection it may be making

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
            if self._gave_up is not None:
                return ExitStatus.CONNECTION
            lost = self.client.disconnect_reason
            if lost is not None and self.settings.reconnect is None:
                return self._ended(lost)  # lost as the last command ended
            prompt = PROMPTS[self._prompt_kind()]
            output.prompt_width = len(prompt)
            try:
                if self._pending:
                    line = self._next_pending(prompt)
                else:
                    default, self._typeahead = self._typeahead, ""
                    line = await self.session.prompt_async(prompt, default=default)
            except KeyboardInterrupt:
                # Ctrl-C clears the line; on an empty line it leaves a transaction block.
                if not self.session.default_buffer.text:
                    drop_transaction(self.runner, "cancelled")
                continue
            except EOFError:
                drop_transaction(self.runner, "dropped")
                return ExitStatus.OK
            except ConnectionLost as exc:
                return self._ended(exc)
            if is_skipped(line):
                continue
            status = await self._run(line)
            if status is not None:
                return status
            self._preload()

    def _prompt_kind(self) -> str:
        if self.runner.mode is Mode.HMP:
            return "hmp"
        if self.runner.in_transaction:
            return "transaction"
        return "agent" if self.runner.agent is not None else "qmp"

    async def _run(self, line: str) -> ExitStatus | None:
        """Run one line as a task Ctrl-C can cancel; an exit status ends the session."""
        output = self.output
        self._interrupted = False
        self._running = asyncio.ensure_future(self.runner.run_line(line))
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
            if self.client.quitting:  # QEMU accepted quit: show what it says last, end
                await wait_quit(self.client, self.runner.timeout)
                reason = self.client.disconnect_reason
                return self._ended(reason or SessionEnded("QEMU quit; session ended"))
        except asyncio.CancelledError:
            if not self._interrupted:
                raise
            self._drop_pending()
            if waits or watches:
                output.note("stopped waiting" if waits else "stopped watching")
            elif self.runner.piping:
                output.note("pipe stopped (its processes killed)")
            else:
                output.note("cancelled (a late reply will be ignored)")
        except Quit:
            return ExitStatus.OK
        except ConnectionLost as exc:
            if self.settings.reconnect is None or isinstance(exc, SessionEnded):
                return self._ended(exc)
            # The watcher says what happened and brings the connection back; the line
            # stays in the history, to be run again with Up, Enter.
            if waits or watches:
                output.error(str(exc))
            elif not self._reconnecting:
                output.error("no reply: the connection was lost; the command may have run or not")
            else:
                output.error("not connected (waiting for the monitor to come back); not sent")
        except QMPShellError as exc:
            output.error(str(exc))
        finally:
            loop.remove_signal_handler(signal.SIGINT)
            self._running = None
        return None

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
        """The connection is gone: QEMU quit as asked (0), or it was lost (3)."""
        if isinstance(reason, SessionEnded):
            self.output.note(str(reason))
            return ExitStatus.OK
        if reason is not self._gave_up:  # that one has been told already
            self.output.error(str(reason))
        return ExitStatus.CONNECTION

    async def _watch_connection(self) -> None:
        """QEMU may go away while the user is typing; say so then, not at the next Enter.
        With ``--reconnect``, bring the connection back under the half-typed line."""
        reconnect = self.settings.reconnect
        while True:
            await self.client.wait_closed()
            app = self.session.app
            error = self.client.disconnect_reason or ConnectionLost("closed")
            if reconnect is not None and not isinstance(error, SessionEnded):
                self._reconnecting = True
                app.invalidate()
                try:
                    back = await reconnect.back()
                finally:
                    self._reconnecting = False
                if back:
                    self._live.forget()
                    self._catalogue = None
                    self._preload()
                    app.invalidate()
                    continue
                self._gave_up = ConnectionLost("gave up reconnecting")
                error = self._gave_up
            if app.is_running:
                app.exit(exception=error)
            return


async def run_interactive(
    runner: LineRunner, client: QMPClient, output: Output, settings: Settings
) -> ExitStatus:
    """Read, run and show lines until Ctrl-D, ``/quit`` or the connection ends; ``output``
    is the runner's display."""
    shell = Shell(runner, client, output, settings)
    client.add_event_handler(shell.on_event)
    return await shell.run()
