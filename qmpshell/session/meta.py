"""Meta-commands: lines starting with ``/`` that talk to qmpshell rather than to QEMU.

They work in scripted mode too (``/wait`` above all). Each returns True on success, like
a command, so that ``-e`` and the exit status treat them alike.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import ConnectionLost, InputError
from ..language.mode import Mode
from ..language.spelling import close_names, did_you_mean
from ..language.syntax import build_tree, split_words, untyped_tree
from .events import Event, EventFilter
from .fleet import Fleet
from .jobmeta import JobWaiting, show_jobs, wait_job
from .lines import NO_HMP

if TYPE_CHECKING:
    from ..language.schema import Schema
    from ..protocol.client import QMPClient
    from .display import Display
    from .runner import LineRunner


class Quit(Exception):
    """``/quit``: end the session as if input had ended."""


HELP = {
    "/help [COMMAND|EVENT|/META]": "the syntax and these commands, or a signature",
    "/events [list [N] | filter all|none|NAME,GLOB... | clear]": (
        "list the event log, or choose which events are shown"
    ),
    "/wait EVENT [key=value ...] [TIMEOUT]": (
        "wait for an event (a glob) that arrived since the last command, or arrives"
    ),
    "/watch [-n SECONDS] [-c COUNT] LINE": (
        "run LINE (QMP, HMP, /hmp LINE) every SECONDS (2), redrawn in place with what "
        "changed highlighted, until Ctrl-C; in a script COUNT times (-c is needed there)"
    ),
    "/jobs": "the block jobs and the migration that run or ended lately, as a table",
    "/job wait ID [TIMEOUT]": (
        "wait until a job (or 'migration') ends, for ever or TIMEOUT seconds; "
        "fails if it failed or was cancelled"
    ),
    "/edit COMMAND [key=value ...]": (
        "write a command in $VISUAL or $EDITOR: JSON laid out from the schema, required "
        "arguments to fill in, optional ones commented; checked on save, then sent "
        "(Ctrl-X Ctrl-E does it for the line typed at the prompt)"
    ),
    "/hmp [LINE]": "switch to the human monitor (HMP), or run one HMP line",
    "/qmp [LINE]": "switch back to QMP, or run one QMP line from HMP mode",
    "/save [-f] FILE": (
        "write the lines this session ran to FILE as a qmpshell script (secrets left out); "
        "-f overwrites a file that exists; a path with spaces goes in quotes"
    ),
    "/connect ADDR|@NAME [NAME]": (
        "open another connection (a socket path, HOST:PORT, or a target of the config "
        "file), called NAME (by default the socket's file name), and switch to it"
    ),
    "/target NAME": "switch to another open connection (each has its own schema and mode)",
    "/targets": "list the open connections, the current one starred, with their state",
    "/all LINE": "run LINE on every open connection in turn, each reply under its name",
    "/pretty": "switch indented JSON on or off",
    "/verbose": "switch echoing the commands sent on or off",
    "/cancel": "drop the open transaction block",
    "/quit": "leave qmpshell (as Ctrl-D does)",
}


class MetaCommands:
    """The ``/`` commands of one session, acting on its runner, output and event log."""

    def __init__(self, runner: LineRunner, fleet: Fleet | None = None) -> None:
        self.runner = runner
        self.fleet = fleet  # the interactive shell's connections; None in a script
        self._rest = ""  # the text after the meta-command's name, as typed
        self._line = ""  # the whole meta-command line, as typed (but for outer spaces)
        self._at = self._where = ""  # which line runs it ("line 4"), and that as a prefix
        self.waiting: Waiting | JobWaiting | None = None  # while /wait or /job wait waits
        self.on_edited: Callable[[str], None] | None = None  # told each line /edit sends
        self._table: dict[str, Callable[[list[str]], Awaitable[bool]]] = {
            "/help": self._help,
            "/events": self._events,
            "/wait": self._wait,
            "/watch": self._watch,
            "/jobs": self._jobs,
            "/job": self._job,
            "/edit": self._edit,
            "/hmp": self._hmp,
            "/qmp": self._qmp,
            "/save": self._save,
            "/connect": self._connect,
            "/target": self._target,
            "/targets": self._targets,
            "/all": self._all,
            "/pretty": self._pretty,
            "/verbose": self._verbose,
            "/cancel": self._cancel,
            "/quit": self._quit,
        }

    @property
    def names(self) -> list[str]:
        return list(self._table)

    async def run(self, line: str, where: str = "") -> bool:
        """Run one meta-command; ``where`` (``line 4``) prefixes what it reports."""
        self._at = where
        self._where = f"{where}: " if where else ""
        words = line.split()
        handler = self._table.get(words[0])
        if handler is None:
            raise InputError(f"unknown meta-command '{words[0]}'; /help lists them", 0)
        self._rest = line[len(words[0]) :].strip()
        self._line = line
        return await handler(words[1:])

    async def _hmp(self, args: list[str]) -> bool:
        runner = self.runner
        if not await runner.hmp_available():
            runner.output.error(NO_HMP)
            return False
        if args:
            with _within(runner.output):
                return await runner.run_hmp(self._rest, self._at)
        runner.mode = Mode.HMP
        runner.output.note("HMP mode: lines go to the human monitor; /qmp goes back")
        return True

    async def _qmp(self, args: list[str]) -> bool:
        if args:
            with _within(self.runner.output):
                return await self.runner.run_qmp(self._rest, self._at)
        if self.runner.mode is Mode.QMP:
            self.runner.output.note("already in QMP mode; /hmp switches to the human monitor")
            return True
        self.runner.mode = Mode.QMP
        self.runner.output.note("QMP mode: lines go to QMP again; /hmp switches back")
        return True

    async def _help(self, args: list[str]) -> bool:
        from ..language.help import UnknownTopic, help_topic

        runner = self.runner
        if args:
            await runner.schema_load.ensure()
        try:
            text = help_topic(runner.parser.schema, " ".join(args), HELP, width=runner.output.width)
        except UnknownTopic as exc:
            runner.output.error(f"{self._where}{exc}")
            return False
        runner.output.long_text(text)
        return True

    async def _events(self, args: list[str]) -> bool:
        log = self.runner.events
        output = self.runner.output
        action = args[0] if args else "list"
        if action == "list":
            count = _count(args[1]) if len(args) > 1 else None
            if count is None:
                events = list(log.events())
            else:  # the last ``count`` only, the only ones read back from the log
                events = [event for _, event in log.since(log.total - count)] if count else []
            for event in events:
                output.event(event)
            log.unseen = 0
            output.note(f"{len(events)} of {log.total} events; showing: {log.filter}")
            return True
        if action == "filter":
            if len(args) < 2:
                output.note(f"showing: {log.filter}")
                return True
            log.filter = EventFilter(" ".join(args[1:]))
            output.note(f"showing: {log.filter}")
            await self.runner.schema_load.ensure()
            schema = self.runner.parser.schema
            for pattern in log.filter.patterns:
                if schema is not None and pattern.lower() not in ("all", "none"):
                    with contextlib.suppress(InputError):
                        check_wait(schema, pattern, {})
                        continue
                    close = close_names(pattern, schema.events, fold_case=True)
                    output.note(f"no event of this QEMU matches '{pattern}'{did_you_mean(close)}")
            return True
        if action == "clear":
            log.clear()
            return True
        raise InputError(f"unknown /events action '{action}': use list, filter or clear")

    async def _wait(self, args: list[str]) -> bool:
        if not args:
            raise InputError("/wait needs an event name (a glob such as BLOCK_JOB_*)")
        runner = self.runner
        pattern, rest = args[0], args[1:]
        timeout = runner.timeout
        if rest and "=" not in rest[-1]:
            timeout = _seconds(rest.pop())
        conditions = untyped_tree(build_tree(split_words(" ".join(rest))))
        await runner.schema_load.ensure()
        if runner.parser.schema is not None:
            check_wait(runner.parser.schema, pattern, conditions)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout if timeout else None
        started = runner.events.total  # events from here on are shown as they come
        self.waiting = Waiting(pattern, deadline)
        try:
            found = await first_of(
                runner.events.wait(pattern, runner.wait_from, conditions, timeout or None),
                runner.client,
            )
        finally:
            self.waiting = None
        if found is None:
            runner.output.error(f"{self._where}/wait {pattern}: no such event within {timeout:g}s")
            return False
        number, event = found
        runner.wait_from = number + 1
        wait: dict[str, Any] = {"event": pattern, "data": conditions}
        if timeout != runner.timeout:
            wait["timeout"] = timeout
        record_wait(runner, wait)
        shown = runner.events.filter.shows(str(event.get("event", "")))
        if runner.output.interactive and (number < started or not shown):
            runner.output.matched(event)  # came before /wait (maybe far above), or hidden
        elif not shown:
            runner.output.event(event)  # shown once, as the answer to /wait
        return True

    async def _watch(self, args: list[str]) -> bool:
        from ..language.watchline import parse_watch
        from .watch import watch

        return await watch(self.runner, parse_watch(self._line), self._at)

    async def _jobs(self, args: list[str]) -> bool:
        if args:
            raise InputError("/jobs takes no arguments; /job wait ID waits for one")
        return await show_jobs(self.runner)

    async def _job(self, args: list[str]) -> bool:
        if not args or args[0] != "wait" or len(args) not in (2, 3):
            raise InputError("usage: /job wait ID [TIMEOUT] (ID as query-jobs lists it)")
        timeout = _seconds(args[2]) if len(args) == 3 else 0.0  # jobs are long: no limit
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout if timeout else None
        self.waiting = JobWaiting(self.runner.jobs, args[1], deadline)
        try:
            ended = await wait_job(self.runner, args[1], deadline, self._at)
        finally:
            self.waiting = None
        record_wait(self.runner, {"job": args[1], "timeout": timeout})
        return ended

    async def _save(self, args: list[str]) -> bool:
        from .saving import header

        usage = "usage: /save [-f] FILE (-f overwrites a file that exists; quote spaces)"
        try:  # quoted as values are: "my file.qmp", 'it\'s.qmp'
            words = [word.text for word in split_words(self._rest)]
        except InputError as exc:
            raise InputError(f"/save: {exc}; {usage}") from None
        force = words[:1] == ["-f"]
        words = words[1:] if force else words
        if len(words) > 1:
            raise InputError(f"/save: {len(words)} words where one FILE goes; {usage}")
        path = words[0] if words else ""
        if not path or path.startswith("-"):
            raise InputError(usage)
        runner = self.runner
        client = runner.client
        script = runner.lines.save(path, header(client.greeting, client.address), force=force)
        count, left = script.lines, script.left_out
        secrets = f"; {left} with a secret left out" if left else ""
        runner.output.note(f"{count} line{'s' if count != 1 else ''} saved to {path}{secrets}")
        return True

    async def _edit(self, args: list[str]) -> bool:
        from .editing import edit_command

        column = len(self._line) - len(self._line.split(None, 1)[1]) if args else 0
        return await edit_command(self.runner, self._rest, column, self._at)

    def _fleet(self, name: str) -> Fleet:
        if self.fleet is None:
            raise InputError(f"{name} works in the interactive shell only")
        return self.fleet

    async def _connect(self, args: list[str]) -> bool:
        fleet = self._fleet("/connect")
        if len(args) not in (1, 2):
            raise InputError("usage: /connect ADDR|@NAME [NAME] (a socket path, HOST:PORT, @NAME)")
        member = await fleet.connect(*args)
        self.runner.output.note(
            f"connected to {member.name} ({member.state()}); /target switches, /targets lists"
        )
        return True

    async def _target(self, args: list[str]) -> bool:
        fleet = self._fleet("/target")
        if len(args) != 1:
            raise InputError("usage: /target NAME (/targets lists them)")
        member = fleet.find(args[0])
        if member.lost:
            again = f"/connect {member.spec} opens it again" if member.spec else "it is gone"
            raise InputError(f"the connection to {member.name} is closed; {again}")
        fleet.switch(member)
        return True

    async def _targets(self, args: list[str]) -> bool:
        fleet = self._fleet("/targets")
        if args:
            raise InputError("/targets takes no arguments")
        self.runner.output.long_text(fleet.table())
        return True

    async def _all(self, args: list[str]) -> bool:
        from .fleet import run_on_all

        with _within(self.runner.output):
            return await run_on_all(self._fleet("/all"), self._rest, self._at)

    async def _pretty(self, args: list[str]) -> bool:
        output = self.runner.output
        output.set_pretty(not output.pretty)
        output.note(f"pretty {'on' if output.pretty else 'off'}")
        return True

    async def _verbose(self, args: list[str]) -> bool:
        self.runner.verbose = not self.runner.verbose
        self.runner.output.verbose = self.runner.verbose
        self.runner.output.note(f"verbose {'on' if self.runner.verbose else 'off'}")
        return True

    async def _cancel(self, args: list[str]) -> bool:
        if not drop_transaction(self.runner, "cancelled"):
            raise InputError("no transaction block is open")
        return True

    async def _quit(self, args: list[str]) -> bool:
        raise Quit


@dataclass(frozen=True)
class Waiting:
    """What ``/wait`` is waiting for, for the toolbar: the pattern, and until when (the
    loop's clock; None: for ever)."""

    pattern: str
    deadline: float | None

    def describe(self, now: float) -> str:
        if self.deadline is None:
            return f"waiting for {self.pattern} (Ctrl-C stops)"
        left = max(self.deadline - now, 0.0)
        return f"waiting for {self.pattern}, {left:.0f}s left (Ctrl-C stops)"


def check_wait(schema: Schema, pattern: str, conditions: Mapping[str, Any]) -> None:
    """Refuse a /wait for an event this QEMU never sends, or on data it never has."""
    import fnmatch

    if not schema.events:
        return
    if any(char in pattern for char in "*?["):
        if not fnmatch.filter([name.upper() for name in schema.events], pattern.upper()):
            raise InputError(f"no event of this QEMU matches '{pattern}'", 6)
        return
    name = pattern.upper()
    if name not in schema.events:
        close = close_names(pattern, schema.events, fold_case=True)
        raise InputError(f"unknown event '{pattern}'{did_you_mean(close)}", 6)
    data = schema.event_data_type(name)
    known = {m.name for m in schema.object_members(data)} if data else set()
    for key in conditions:
        if key not in known:
            hint = did_you_mean(close_names(key, known)) or (
                f"; {name} has no data" if not known else f"; {name} has {', '.join(sorted(known))}"
            )
            raise InputError(f"{name} has no data member '{key}'{hint}")


async def first_of(
    waiting: Awaitable[tuple[int, Event] | None], client: QMPClient
) -> tuple[int, Event] | None:
    """The event ``waiting`` finds; ConnectionLost at once if the connection ends first
    (QEMU quit or died: nothing more will come)."""
    found = asyncio.ensure_future(waiting)
    closed = asyncio.ensure_future(client.wait_closed())
    try:
        await asyncio.wait({found, closed}, return_when=asyncio.FIRST_COMPLETED)
        if found.done():  # an event that came with the end still counts
            return found.result()
        reason = client.disconnect_reason
        raise ConnectionLost(f"{reason or 'connection lost'} while waiting for an event")
    finally:
        for task in (found, closed):
            task.cancel()


def record_wait(runner: LineRunner, wait: dict[str, Any]) -> None:
    """Say in the transcript (if any) where the session waited, for ``--replay``."""
    if runner.client.transcript is not None:
        runner.client.transcript.record_wait(wait)


def drop_transaction(runner: LineRunner, how: str) -> bool:
    """Leave an open transaction block, saying what was in it (nothing is sent):
    "transaction of 2 actions cancelled". False when no block was open."""
    parser = runner.parser
    count = parser.pending_actions
    if not parser.cancel():
        return False
    actions = f"{count} action{'s' if count != 1 else ''}" if count else "no actions"
    runner.output.note(f"transaction of {actions} {how}")
    return True


@contextlib.contextmanager
def _within(output: Display) -> Iterator[None]:
    """While a line given within a meta-command runs: a fault in it is pointed at on
    that line shown again, not under the line typed (whose columns are others)."""
    width, output.prompt_width = output.prompt_width, None
    try:
        yield
    finally:
        output.prompt_width = width


def _count(text: str) -> int:
    if not text.isdigit():
        raise InputError(f"expected a number of events, got '{text}'")
    return int(text)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"expected a timeout in seconds, got '{text}'") from None
    if not 0 <= value < float("inf"):
        raise InputError(f"expected a timeout in seconds, got '{text}'")
    return value
