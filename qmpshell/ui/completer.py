"""Completion candidates: the second layer, from a :class:`~qmpshell.language.suggest.Context` to
names, with their type in the menu's meta column.

Everything the schema knows is answered from memory at once; names only the running QEMU
knows (nodes, devices, QOM paths...) come from :class:`~qmpshell.session.live.LiveNames` in the
asynchronous path, which prompt_toolkit runs without holding up typing.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Iterator

from prompt_toolkit.completion import CompleteEvent, Completer, Completion, PathCompleter
from prompt_toolkit.document import Document

from ..escape import escape_text
from ..language import suggest as s
from ..language.candidates import (
    Candidate,
    action_candidates,
    argument_candidates,
    command_candidates,
    event_candidates,
    value_candidates,
)
from ..language.hmp import HmpCommand, argument_kind
from ..language.hostpaths import hmp_option_host_path, host_path
from ..language.mode import Mode
from ..language.pipe import pipe_column
from ..language.schema import Schema
from ..language.suggest import Kind
from ..language.syntax import Value
from ..language.watchline import is_watch, line_start
from ..session.live import LiveNames, value_source


class ShellCompleter(Completer):
    """The prompt's completer: schema names at once, live names asynchronously."""

    def __init__(
        self,
        schema: Callable[[], Schema | None],
        in_transaction: Callable[[], bool],
        meta_names: Iterable[str],
        live: LiveNames | None = None,
        commands: Callable[[], list[tuple[str, str]]] | None = None,
        *,
        ready: Callable[[], Awaitable[None]] | None = None,
        targets: Callable[[], list[str]] | None = None,
        named: Callable[[], list[str]] | None = None,
    ) -> None:
        self._schema = schema
        self._targets = targets  # the names of the session's open connections
        self._named = named  # the config file's named targets, for /connect @NAME
        # Waits for the schema while it is being loaded (a Tab at the first keystroke).
        self._ready = ready
        self._in_transaction = in_transaction
        self._meta_names = list(meta_names)
        self._live = live
        # Command names when there is no schema (the guest agent's guest-info).
        self._commands = commands
        self._paths = PathCompleter(expanduser=True)

    def get_completions(
        self, document: Document, complete_event: CompleteEvent
    ) -> Iterator[Completion]:
        context = s.suggest(document.text_before_cursor, self._schema(), self._in_transaction())
        yield from self._from_schema(context, complete_event)

    async def get_completions_async(
        self, document: Document, complete_event: CompleteEvent
    ) -> AsyncGenerator[Completion, None]:
        context = s.suggest(document.text_before_cursor, self._schema(), self._in_transaction())
        waits = context.kind not in (Kind.META, Kind.TARGET, Kind.FILE, Kind.ADDRESS)
        if self._schema() is None and self._ready is not None and waits:
            await self._ready()
            schema = self._schema()
            context = s.suggest(document.text_before_cursor, schema, self._in_transaction())
        for completion in self._from_schema(context, complete_event):
            yield completion
        for candidate in await self._from_qemu(context):
            if candidate.text.startswith(context.prefix):
                yield _completion(candidate, context.prefix)

    def _from_schema(
        self, context: s.Context, complete_event: CompleteEvent
    ) -> Iterator[Completion]:
        for candidate in self._candidates(context):
            if candidate.text.startswith(context.prefix):
                yield _completion(candidate, context.prefix)
        if context.kind == Kind.FILE:
            yield from _host_paths(self._paths, "", context.prefix, complete_event)
        elif context.kind == Kind.ADDRESS:
            yield from _addresses(self._paths, self._named, context.prefix, complete_event)
        elif context.kind == Kind.VALUE and context.path and context.command is not None:
            entry = host_path(context.command, context.path, context.tree, self._schema())
            if entry is not None:
                yield from _host_paths(self._paths, entry.prefix, context.prefix, complete_event)

    def _candidates(self, context: s.Context) -> list[Candidate]:
        schema = self._schema()
        kind = context.kind
        if kind == Kind.META:
            return [Candidate(name, "meta-command") for name in self._meta_names]
        if kind == Kind.WORDS:
            return [Candidate(word) for word in context.words]
        if kind == Kind.TARGET:
            names = self._targets() if self._targets is not None else []
            return [Candidate(name, "connection") for name in names]
        if schema is None:
            if kind == Kind.COMMAND and self._commands is not None:
                return [Candidate(name, meta) for name, meta in self._commands()]
            return []
        if kind == Kind.COMMAND:
            oob_only = context.words == ("oob",)
            found = command_candidates(schema, oob_only)
            if not oob_only:
                found += [Candidate("transaction(", "transaction block"), Candidate("!oob", "")]
            return sorted(found, key=lambda c: c.text)
        if kind == Kind.ACTION:
            return action_candidates(schema)
        if kind == Kind.TOPIC:
            return (
                command_candidates(schema)
                + event_candidates(schema)
                + [Candidate(name, "meta-command") for name in self._meta_names]
            )
        if kind == Kind.EVENT:
            return [Candidate(word) for word in context.words] + event_candidates(schema)
        if kind == Kind.ARGUMENT:
            return argument_candidates(schema, context)
        if kind == Kind.VALUE:
            return value_candidates(schema, context.type)
        return []

    async def _from_qemu(self, context: s.Context) -> list[Candidate]:
        if self._live is None or context.command is None:
            return []
        if context.kind == Kind.ARGUMENT and context.command == "device_add" and not context.path:
            driver = context.tree.get("driver")
            if not isinstance(driver, Value):
                return []
            names = await self._live.names("device-properties", driver.text)
            return [
                Candidate(f"{n}=", f"{meta} (property)")
                for n, meta in names
                if n not in context.given
            ]
        if context.kind != Kind.VALUE:
            return []
        path_node = context.tree.get("path")
        typed_path = path_node.text if isinstance(path_node, Value) else None
        kind, argument = value_source(context.command, context.path, typed_path)
        if not kind:
            return []
        if kind == "qom-path":
            names = await self._live.qom_paths(context.prefix)
        else:
            names = await self._live.names(kind, argument)
        return [Candidate(name, meta) for name, meta in names]


def _addresses(
    paths: PathCompleter,
    named: Callable[[], list[str]] | None,
    typed: str,
    complete_event: CompleteEvent,
) -> Iterator[Completion]:
    """What /connect takes: ``@NAME`` of the config file, or a socket's path."""
    if typed.startswith("@"):
        for name in named() if named is not None else []:
            if ("@" + name).startswith(typed):
                yield Completion("@" + name, -len(typed), display_meta="named target")
        return
    yield from _host_paths(paths, "", typed, complete_event)


def _host_paths(
    paths: PathCompleter, lead: str, typed: str, complete_event: CompleteEvent
) -> Iterator[Completion]:
    """File names on this machine for ``typed``, the value so far; ``lead`` is what comes
    before the path in such a value (``file:``), offered until it is typed."""
    if not typed.startswith(lead):
        if lead.startswith(typed):
            yield Completion(lead, -len(typed), display_meta="then a file on this machine")
        return
    path = typed[len(lead) :]
    yield from paths.get_completions(Document(path, len(path)), complete_event)


# The menu's style for a deprecated or unstable name (its meta text says which).
MARKED = "class:marked"


def _completion(candidate: Candidate, prefix: str) -> Completion:
    return Completion(
        candidate.text,
        start_position=-len(prefix),
        display_meta=candidate.meta or None,
        style=MARKED if candidate.marks else "",
    )


class HmpCompleter(Completer):
    """Completion in HMP mode, from QEMU's own ``help`` and ``info`` listings: command
    names (aliases too), ``info`` subcommands, ``help`` topics, and the arguments
    qmpshell can know: device ids, block devices, snapshots, device types, file paths."""

    def __init__(
        self,
        live: LiveNames,
        meta_names: Iterable[str],
        targets: Callable[[], list[str]] | None = None,
        named: Callable[[], list[str]] | None = None,
    ) -> None:
        self._live = live
        self._meta_names = list(meta_names)
        self._targets = targets  # the names of the session's open connections
        self._named = named  # the config file's named targets, for /connect @NAME
        self._paths = PathCompleter(expanduser=True)

    def get_completions(
        self, document: Document, complete_event: CompleteEvent
    ) -> Iterator[Completion]:
        text = document.text_before_cursor
        if text.startswith("/") and " " not in text:
            for name in self._meta_names:
                if name.startswith(text):
                    yield Completion(name, -len(text), display_meta="meta-command")
        head, space, rest = text.partition(" ")
        if head == "/target" and space and " " not in rest and self._targets is not None:
            for name in self._targets():
                if name.startswith(rest):
                    yield Completion(name, -len(rest), display_meta="connection")
        if head == "/connect" and space and " " not in rest:
            yield from _addresses(self._paths, self._named, rest, complete_event)

    async def get_completions_async(
        self, document: Document, complete_event: CompleteEvent
    ) -> AsyncGenerator[Completion, None]:
        text = document.text_before_cursor
        if is_watch(text):  # /watch [-n S] [-c N] LINE: the LINE is completed as a line
            start = line_start(text)
            if start is None or text[start:].startswith("/"):
                return
            text = text[start:]
        elif text.startswith("/"):
            for completion in self.get_completions(document, complete_event):
                yield completion
            return
        if pipe_column(text, Mode.HMP) >= 0:
            return  # LINE |! COMMAND: the shell command is the user's
        words = text.split()
        current = "" if not text or text[-1].isspace() else words.pop()
        commands, infos = await self._live.hmp_catalogue()
        candidates = await self._candidates(words, current, commands, infos, complete_event)
        for candidate in candidates:
            if isinstance(candidate, Completion):
                yield candidate
            elif candidate.text.startswith(current):
                yield _completion(candidate, current)

    async def _candidates(
        self,
        words: list[str],
        current: str,
        commands: dict[str, HmpCommand],
        infos: dict[str, HmpCommand],
        complete_event: CompleteEvent,
    ) -> list[Candidate | Completion]:
        if not words or (words[0] in ("help", "?") and len(words) == 1):
            return _hmp_names(commands)
        if (words[0] in ("help", "?") and words[1:] == ["info"]) or words == ["info"]:
            return _hmp_names(infos)
        if words[0] == "info":
            command, info, args = infos.get(words[1]), words[1], words[2:]
        else:
            command, info, args = commands.get(words[0]), None, words[1:]
        if command is None:
            return []
        positional = [w for w in args if not w.startswith("-")]
        names = command.arguments
        if len(positional) >= len(names):
            return []
        if command.name in ("device_add", "drive_add") and ("," in current or "=" in current):
            return await self._options(command.name, positional, current, complete_event)
        kind = argument_kind(command.name, info, len(positional), names[len(positional)])
        if kind == "file":
            prefix = Document(current, len(current))
            return list(self._paths.get_completions(prefix, complete_event))
        if kind == "qom-path":
            return [Candidate(n, meta) for n, meta in await self._live.qom_paths(current)]
        if kind == "qom-properties":
            kind_argument = positional[0]
        elif kind:
            kind_argument = ""
        else:
            return []
        return [Candidate(n, meta) for n, meta in await self._live.names(kind, kind_argument)]

    async def _options(
        self, command: str, positional: list[str], current: str, complete_event: CompleteEvent
    ) -> list[Candidate | Completion]:
        """The part after the last comma of an options word: ``device_add DRIVER,`` takes
        that driver's properties (``prop=``) and their live values (``drive=``), drive_add
        a host path after ``file=``."""
        head, _, part = current.rpartition(",")
        key, eq, value = part.partition("=")
        if eq:
            if hmp_option_host_path(command, key):
                document = Document(value, len(value))
                return list(self._paths.get_completions(document, complete_event))
            if command != "device_add" or not head:
                return []
            kind, argument = value_source("device_add", (key,), None)
            found = await self._live.names(kind, argument) if kind else []
            return [_part(name, meta, value) for name, meta in found if name.startswith(value)]
        if command != "device_add" or positional or not head:
            return []
        driver, *given = head.split(",")
        given_keys = {g.partition("=")[0] for g in given}
        # id and bus are device_add's own, not properties of the driver: first.
        own = [("id", "the new device's id"), ("bus", "the bus to plug it into")]
        properties = own + await self._live.names("device-properties", driver)
        return [
            _part(f"{name}=", meta if (name, meta) in own else f"{meta} (property)", part)
            for name, meta in properties
            if name.startswith(part) and name not in given_keys
        ]


def _part(text: str, meta: str, typed: str) -> Completion:
    """A completion of the last part of an options word (``typed``, after the comma)."""
    return Completion(text, -len(typed), display=text, display_meta=meta or None)


def _hmp_names(catalogue: dict[str, HmpCommand]) -> list[Candidate | Completion]:
    found: list[Candidate | Completion] = []
    for name, command in sorted(catalogue.items()):
        meta = command.text if name == command.name else f"= {command.name}"
        found.append(Candidate(name, meta[:40]))
    return found


class EscapedCompleter(Completer):
    """Another completer's completions with what the menu shows escaped (names from QEMU's
    schema, from the running QEMU, file names): prompt_toolkit draws C0 and C1 controls
    harmlessly, but not bidi overrides or a lone surrogate. What is inserted stays as it
    is: it is the name the command needs."""

    def __init__(self, completer: Completer) -> None:
        self.completer = completer

    def get_completions(
        self, document: Document, complete_event: CompleteEvent
    ) -> Iterator[Completion]:
        for completion in self.completer.get_completions(document, complete_event):
            yield escaped_completion(completion)

    async def get_completions_async(
        self, document: Document, complete_event: CompleteEvent
    ) -> AsyncGenerator[Completion, None]:
        async for completion in self.completer.get_completions_async(document, complete_event):
            yield escaped_completion(completion)


def escaped_completion(completion: Completion) -> Completion:
    """``completion`` with its display and meta text escaped (:func:`escape_text`)."""
    return Completion(
        completion.text,
        completion.start_position,
        display=[(style, escape_text(text)) for style, text, *_ in completion.display],
        display_meta=[(style, escape_text(text)) for style, text, *_ in completion.display_meta]
        or None,
        style=completion.style,
        selected_style=completion.selected_style,
    )
