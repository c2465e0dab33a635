"""``/help``: commands and events explained from the schema, laid out for reading.

QEMU's schema names its types opaquely (``"187"``), so the JSON of ``query-qmp-schema``
tells a person little. Here a command becomes its signature in words::

    device_del
    Arguments (* = required):
      * id  str
    Returns: nothing

Nested objects are listed under their member with dotted names (``file.driver``), the way
the shorthand takes them; a flat union lists its common members, then the extra members
of each branch (``When driver=file:``). Everything here is pure: text in, text out.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import QMPShellError
from .features import features_of
from .schema import Schema
from .spelling import close_names, did_you_mean, either

DEFAULT_WIDTH = 80

# Object members are listed this many levels deep; deeper objects are named only. QEMU's
# block layer nests options four or five levels, and the list must stay readable.
MAX_DEPTH = 3

# A member name longer than this does not widen the name column for every other line.
_NAME_COLUMN_LIMIT = 30

# An enum with more values than this is listed once; other members of its type refer to it.
_ENUM_REPEAT_LIMIT = 10

# An object whose members took more lines than this is listed once; later members of its
# type refer to it (blockdev-create would otherwise list BlockdevOptions ten times).
_OBJECT_REPEAT_LIMIT = 40

# Joins words that must not be wrapped apart; a space again once lines are made.
_NBSP = "\u00a0"


class UnknownTopic(QMPShellError):
    """``/help`` was asked about something it cannot explain; ``str()`` says what, with the
    close matches among the commands and events when there are some."""

    def __init__(self, message: str, topic: str, suggestions: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.topic = topic
        self.suggestions = list(suggestions)


# -- the help of one command or event ------------------------------------------------------


def command_help(schema: Schema, name: str, *, width: int = DEFAULT_WIDTH) -> str:
    """A command's arguments and reply, as text for a terminal ``width`` columns wide.

    Raises :class:`UnknownTopic` (naming the closest commands) when ``schema`` has no
    command ``name``, so that a caller can report it like any other refused input.
    """
    command = schema.command(name)
    if command is None:
        raise _unknown(name, "command", schema.commands)
    layout = _Layout(schema)
    layout.text(0, _title(name, command.allow_oob, command.features))
    if name == "transaction":
        # The shorthand has a syntax of its own for this one command.
        layout.text(0, _TRANSACTION_HINT)
    if _is_empty(schema, command.arg_type):
        layout.text(0, "No arguments.")
    else:
        layout.text(0, "Arguments (* = required):")
        layout.expand(command.arg_type, "", 2, 0, f"{name}'s arguments", "arguments")
    if _is_empty(schema, command.ret_type):
        layout.text(0, "Returns: nothing")
    else:
        layout.top_value("Returns", command.ret_type, f"{name}'s reply")
    return layout.render(width)


def event_help(schema: Schema, name: str, *, width: int = DEFAULT_WIDTH) -> str:
    """An event's data members, laid out as :func:`command_help` lays out arguments.

    Raises :class:`UnknownTopic` (naming the closest events) when there is no such event.
    """
    event = schema.events.get(name)
    if event is None:
        raise _unknown(name, "event", schema.events)
    layout = _Layout(schema)
    layout.text(0, _title(name, False, event.get("features", ())))
    data = event.get("arg-type")
    if data is None or _is_empty(schema, str(data)):
        layout.text(0, "No data.")
    else:
        layout.text(0, "Data (* = always present):")
        layout.expand(str(data), "", 2, 0, f"{name}'s data", "members")
    return layout.render(width)


_TRANSACTION_HINT = (
    "In the shorthand: transaction( TYPE key=value ... | TYPE key=value ... ), or one "
    "action per line between 'transaction(' and ')'; the keys are the members of the "
    "action's data."
)


def _title(name: str, allow_oob: bool, features: Iterable[Any]) -> str:
    title = name
    if allow_oob:
        title += " (out of band allowed)"
    words = features_of(name, [str(f) for f in features])
    if words:
        title += f" [{', '.join(words)}]"
    return title


def _is_empty(schema: Schema, type_name: str) -> bool:
    """Whether a type is the object without members: "no arguments", "returns nothing"."""
    return (
        schema.meta_type(type_name) == "object"
        and not schema.members(type_name)
        and schema.tag(type_name) is None
    )


# -- layout ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Row:
    """One member: ``* name  type``, the type wrapped under itself."""

    indent: int
    required: bool
    name: str
    kind: str
    group: int  # the members of one object (or one union branch) share a name column

    @property
    def head(self) -> str:
        return " " * self.indent + ("* " if self.required else "  ") + self.name


@dataclass(frozen=True)
class _Text:
    """A heading or a note, wrapped with a hanging indent."""

    indent: int
    text: str


class _Layout:
    """Collects the lines of one help text; the name column is chosen when it is rendered,
    once the longest name is known."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.items: list[_Row | _Text] = []
        # Object types being listed now, each with how to refer to where: a member of such a
        # type is recursion (BlockdevRef inside BlockdevOptions) and is not listed again.
        self.expanding: dict[str, str] = {}
        # Long enums already listed, by type, with the member that lists them: a second
        # member of the same enum refers to the first rather than repeat 50 values.
        self.enums_shown: dict[str, str] = {}
        # Likewise big objects already listed in full (BlockdevOptions in blockdev-create).
        self.objects_shown: dict[str, str] = {}
        self.group = 0
        self.groups = 0

    def new_group(self) -> int:
        """Start a new group of sibling rows; returns the one to go back to."""
        previous = self.group
        self.groups += 1
        self.group = self.groups
        return previous

    def text(self, indent: int, text: str) -> None:
        self.items.append(_Text(indent, text))

    def top_value(self, title: str, type_name: str, label: str) -> None:
        """``Returns: TYPE``, then the members of the object (or of the array's elements)."""
        kind, nested = self.kind(type_name, "", 0)
        if nested is None:
            self.text(0, f"{title}: {kind}")
            return
        self.text(0, f"{title}: {kind} (* = always present)")
        object_type, _ = nested
        self.expand(object_type, "", 2, 0, label, "members")

    def expand(
        self, type_name: str, prefix: str, indent: int, depth: int, label: str, noun: str
    ) -> None:
        """The members of object ``type_name`` (a union's common members, then its
        branches), each named ``prefix + name``."""
        self.expanding[type_name] = label
        previous = self.new_group()
        start = len(self.items)
        try:
            for name, type_, required, features in _members(self.schema, type_name):
                self.member(name, type_, required, features, prefix, indent, depth)
            tag = self.schema.tag(type_name)
            if tag is not None:
                self.branches(type_name, tag, prefix, indent, depth, label, noun)
        finally:
            del self.expanding[type_name]
            self.group = previous
        if len(self.items) - start > _OBJECT_REPEAT_LIMIT:
            self.objects_shown.setdefault(type_name, label)

    def member(
        self,
        name: str,
        type_name: str,
        required: bool,
        features: list[str],
        prefix: str,
        indent: int,
        depth: int,
    ) -> None:
        path = prefix + name
        kind, nested = self.kind(type_name, path, depth)
        if features:  # before the type: after an enum's values, they would read as the last one's
            kind = f"[{', '.join(features)}]{_NBSP}{kind}"
        self.items.append(_Row(indent, required, path, kind, self.group))
        if nested is not None:
            object_type, member_prefix = nested
            label = f"{member_prefix[:-1]} above"  # file above, server[] above
            self.expand(object_type, member_prefix, indent + 2, depth + 1, label, "members")

    def branches(
        self, union: str, tag: str, prefix: str, indent: int, depth: int, label: str, noun: str
    ) -> None:
        """A flat union's branches: the extra members for each value of the tag; branches
        that share a type are listed once, those without extra members on one line."""
        schema = self.schema
        tag_type = next((t for n, t, _, _ in _members(schema, union) if n == tag), "")
        cases = {str(v["case"]): str(v["type"]) for v in schema.entry(union).get("variants", ())}
        # A tag value without a variant is a branch with nothing extra.
        for value in schema.enum_values(tag_type):
            cases.setdefault(value, "")
        groups: dict[str, list[str]] = {}
        bare: list[str] = []
        for case, variant in cases.items():
            if not variant or _is_empty(schema, variant):
                bare.append(case)
            else:
                groups.setdefault(variant, []).append(case)
        key = prefix + tag
        for variant, group in groups.items():
            if len(group) == 1:
                self.text(indent, f"When {key}={group[0]}:")
            else:
                self.text(indent, f"When {key} is {either(group)}:")
            self.expanding[variant] = label
            previous = self.new_group()
            try:
                for name, type_, required, features in _members(schema, variant):
                    self.member(name, type_, required, features, prefix, indent + 2, depth)
                inner = schema.tag(variant)
                if inner is not None:
                    self.branches(variant, inner, prefix, indent + 2, depth, label, noun)
            finally:
                del self.expanding[variant]
                self.group = previous
        if len(bare) == 1:
            self.text(indent, f"No extra {noun} when {key}={bare[0]}.")
        elif bare:
            self.text(indent, f"No extra {noun} when {key} is one of: {', '.join(bare)}.")

    def kind(self, type_name: str, path: str, depth: int) -> tuple[str, tuple[str, str] | None]:
        """A type in words, and the object type whose members are to be listed under it
        (with the prefix their names take), if any."""
        schema = self.schema
        meta = schema.meta_type(type_name)
        if meta == "builtin":
            return type_name, None
        if meta == "enum":
            return "enum: " + self.enum_values(type_name, path), None
        if meta == "array":
            element = schema.element_type(type_name)
            kind, nested = self.kind(element, path + "[]", depth)
            if schema.meta_type(element) == "alternate":
                kind = f"({kind})"
            return "array of " + kind, nested
        if meta == "alternate":
            words: list[str] = []
            nested = None
            for alternative in schema.alternatives(type_name):
                if schema.meta_type(alternative) == "enum":
                    words.append(f"enum ({self.enum_values(alternative, path)})")
                    continue
                kind, inner = self.kind(alternative, path, depth)
                words.append(kind)
                nested = nested or inner
            return either(words), nested
        # An object: listed below its member, unless it is too deep or recursive.
        if type_name in self.expanding:
            return f"object (as {self.expanding[type_name]})", None
        if type_name in self.objects_shown:
            return f"object (as {self.objects_shown[type_name]})", None
        if _is_empty(schema, type_name):
            return "empty object", None
        if depth >= MAX_DEPTH:
            return "object (members not shown: nested too deep)", None
        return "object", (type_name, path + ".")

    def enum_values(self, type_name: str, path: str) -> str:
        """An enum's values, or for a long enum listed before, where to find them."""
        if type_name in self.enums_shown:
            return f"values as for {self.enums_shown[type_name]}"
        values = _enum_values(self.schema, type_name)
        if len(self.schema.enum_values(type_name)) > _ENUM_REPEAT_LIMIT and path:
            self.enums_shown[type_name] = path
        return values

    def render(self, width: int) -> str:
        # A name column per group, as wide as its longest name, within reason: a long
        # name then has its type further right, which continues at the column.
        limit = max(width - 36, 24)
        columns: dict[int, int] = {}
        for item in self.items:
            if isinstance(item, _Row) and len(item.head) <= limit:
                columns[item.group] = max(columns.get(item.group, 0), len(item.head) + 2)
        lines: list[str] = []
        for item in self.items:
            if isinstance(item, _Text):
                lines += _wrap(item.text, width, " " * item.indent, " " * (item.indent + 4))
            else:
                head = item.head
                column = columns.get(item.group, len(head) + 2)
                first = head.ljust(column) if len(head) + 2 <= column else head + "  "
                lines += _wrap(item.kind, width, first, " " * column)
        return "\n".join(lines)


def _wrap(text: str, width: int, first: str, rest: str) -> list[str]:
    # Hyphens are part of names (block-dirty-bitmap-add): never break on them; and a value
    # stays on the line of its features (_NBSP binds them).
    lines = textwrap.wrap(
        text,
        max(width, len(first) + 10, len(rest) + 10),
        initial_indent=first,
        subsequent_indent=rest,
        break_on_hyphens=False,
        break_long_words=False,
    ) or [first.rstrip()]
    return [line.replace(_NBSP, " ") for line in lines]


def _members(schema: Schema, type_name: str) -> list[tuple[str, str, bool, list[str]]]:
    """An object's members: name, type, whether required, features (deprecated...)."""
    return [
        (m.name, m.type, not m.optional, list(features_of(m.name, m.features)))
        for m in schema.members(type_name)
    ]


def _enum_values(schema: Schema, type_name: str) -> str:
    """An enum's values, each followed by its features: ``x-colo [unstable]``."""
    features = schema.value_features(type_name)
    shown = [
        (value, features_of(value, features.get(value, ())))
        for value in schema.enum_values(type_name)
    ]
    return ", ".join(
        f"{value}{_NBSP}[{', '.join(words)}]" if words else value for value, words in shown
    )


# -- general help and dispatch -----------------------------------------------------------

_SYNTAX = (
    ("command key=value ...", "run a command: device_del id=nic0"),
    ("key.sub=value", "dotted keys nest objects: file.driver=file"),
    ("key=\"a b\" key='a b'", 'quotes keep spaces; \\" \\n \\t \\uXXXX inside'),
    ("key=[1, 2] key={'a': True}", "JSON or Python-style list and dict literals"),
    ('{"execute": ...}', "raw JSON (a line starting with {), sent as is"),
    ("transaction(", "start a transaction: one action per line..."),
    (")", "...until ) sends them all (/cancel drops them)"),
    ("transaction( A ... | B ... )", "a whole transaction on one line"),
    ("!oob command ...", "run out of band, if the command allows it"),
    ("LINE |! COMMAND", "the reply's return value (JSON; HMP: text) to a /bin/sh command"),
)

_HINTS = (
    "/help COMMAND shows a command's arguments and reply, /help EVENT an event's data, "
    "/help /META a meta-command. Tab completes commands, arguments and values."
)


def general_help(meta: Mapping[str, str], *, width: int = DEFAULT_WIDTH) -> str:
    """What ``/help`` alone shows: the meta-commands (``meta`` maps each usage line to what
    it does) and a summary of the input syntax, so that a newcomer can get going."""
    lines = ["Meta-commands:"]
    lines += _table(meta.items(), width)
    lines += ["", "Input:"]
    lines += _table(_SYNTAX, width)
    lines += [""]
    lines += _wrap(_HINTS, width, "", "")
    return "\n".join(lines)


def _table(rows: Iterable[tuple[str, str]], width: int) -> list[str]:
    """Two columns, the second wrapped; a first cell too wide for its column gets a line
    of its own, so the second column stays readable."""
    rows = list(rows)
    fitting = [len(left) for left, _ in rows if len(left) <= _NAME_COLUMN_LIMIT]
    column = max(fitting or [0]) + 4
    lines: list[str] = []
    for left, right in rows:
        head = "  " + left
        if len(head) + 2 > column:
            lines.append(head)
            head = ""
        lines += _wrap(right, width, head.ljust(column), " " * column)
    return lines


def help_topic(
    schema: Schema | None, topic: str, meta: Mapping[str, str], *, width: int = DEFAULT_WIDTH
) -> str:
    """The text of ``/help TOPIC``: general help for no topic, the usage of a meta-command
    (``/wait``), the help of a command or of an event (named in any case: ``device_deleted``).

    Raises :class:`UnknownTopic` for anything else, with close matches; and also when a
    command or event is asked about without a schema (the guest agent, ``-N``), since
    without one qmpshell cannot tell what the command is.
    """
    topic = topic.strip()
    if not topic:
        return general_help(meta, width=width)
    usages = {usage.split()[0]: usage for usage in meta}
    if topic.startswith("/"):
        if topic not in usages:
            close = close_names(topic, usages)
            raise UnknownTopic(
                f"unknown meta-command '{topic}'{did_you_mean(close) or '; /help lists them'}",
                topic,
                close,
            )
        usage = usages[topic]
        return "\n".join([usage, *_wrap(meta[usage], width, "    ", "    ")])
    if schema is None:
        raise UnknownTopic(
            f"no help on '{topic}': help on commands and events needs the QMP schema, "
            "which this session does not have; /help lists the meta-commands",
            topic,
        )
    if topic in schema.commands:
        return command_help(schema, topic, width=width)
    if topic.upper() in schema.events:
        return event_help(schema, topic.upper(), width=width)
    meta_name = [f"/{topic}"] if f"/{topic}" in usages else []  # "/help wait"
    raise _unknown(topic, "command or event", [*schema.commands, *schema.events], meta_name)


def _unknown(topic: str, what: str, names: Iterable[str], also: Sequence[str] = ()) -> UnknownTopic:
    close = [*close_names(topic, names, fold_case=True), *also]
    return UnknownTopic(f"unknown {what} '{topic}'{did_you_mean(close)}", topic, close)
