"""What fits at the cursor: the first layer of completion, pure and schema-driven.

:func:`suggest` reads the text before the cursor and answers with a :class:`Context`: a
command name, a meta-command, an argument name at some depth of some object type, or the
value of some member. :mod:`qmpshell.ui.completer` turns that into candidates, some of them
fetched from the running QEMU.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field

from ..errors import InputError
from .mode import Mode
from .pipe import pipe_column
from .schema import Schema
from .syntax import BAR, OOB, TRANSACTION, Tree, Value, Word, build_tree, split_words
from .watchline import is_watch, line_start


class Kind(enum.Enum):
    """What kind of thing fits at the cursor."""

    COMMAND = "command"
    META = "meta"  # a meta-command (/help)
    ACTION = "action"  # an action inside a transaction block
    ARGUMENT = "argument"
    VALUE = "value"
    TOPIC = "topic"  # after /help
    EVENT = "event"  # after /wait, /events filter
    WORDS = "words"  # a fixed set of words (/events actions)
    FILE = "file"  # a file on this machine (/save FILE, /connect SOCKET)
    TARGET = "target"  # a connection of the session (/target NAME)
    ADDRESS = "address"  # a monitor to connect to: a socket, or @NAME (/connect)
    NOTHING = "nothing"


@dataclass(frozen=True)
class Context:
    """What is being typed at the cursor.

    ``prefix`` is the part of the current word that candidates must start with; the
    completer replaces the last ``len(prefix)`` characters. For arguments, ``path`` is
    the dotted path of the object whose members fit and ``type`` that object's type; for
    values, ``path`` is the key and ``type`` the member's type.
    """

    kind: Kind
    prefix: str = ""
    command: str | None = None
    path: tuple[str, ...] = ()
    type: str | None = None
    given: frozenset[str] = frozenset()
    tree: Tree = field(default_factory=dict)
    words: tuple[str, ...] = ()


def _current_word(text: str) -> tuple[list[Word], str] | None:
    """The complete words before the cursor, and the word being typed (raw text)."""
    if not text or text[-1].isspace():
        try:
            return split_words(text), ""
        except InputError:
            return None
    try:
        words = split_words(text)
        return words[:-1], text[words[-1].start :]
    except InputError as exc:
        # An unclosed quote or bracket: the word being typed starts before it.
        column = exc.column or 0
        start = max(text.rfind(" ", 0, column), text.rfind("\t", 0, column)) + 1
        try:
            return split_words(text[:start]), text[start:]
        except InputError:
            return None


def _tolerant_tree(words: list[Word]) -> Tree:
    """The argument tree of what is typed so far, skipping words that do not fit."""
    tree: Tree = {}
    for word in words:
        try:
            merged = build_tree([word])
        except InputError:
            continue
        _merge(tree, merged)
    return tree


def _merge(into: Tree, more: Tree) -> None:
    for key, node in more.items():
        existing = into.get(key)
        if isinstance(existing, dict) and isinstance(node, dict):
            _merge(existing, node)
        elif key not in into:
            into[key] = node


def tags_of(schema: Schema, type_name: str, tree: Tree) -> dict[str, str]:
    """The union tag values typed so far at this level (to choose branches)."""
    tags: dict[str, str] = {}

    def case_of(tag: str) -> str | None:
        node = tree.get(tag)
        if not isinstance(node, Value):
            return None
        tags[tag] = node.text
        return node.text

    for _ in schema.branches(type_name, case_of):
        pass
    return tags


def object_at(
    schema: Schema, type_name: str, path: tuple[str, ...], tree: Tree
) -> tuple[str, Tree] | None:
    """The object type reached from ``type_name`` by the member names of ``path``."""
    current: str | None = schema.object_type(type_name)
    for name in path:
        if current is None:
            return None
        members = schema.object_members(current, tags_of(schema, current, tree))
        member = next((m for m in members if m.name == name), None)
        if member is None:
            return None
        child = tree.get(name)
        tree = child if isinstance(child, dict) else {}
        current = schema.object_type(member.type)
    return (current, tree) if current is not None else None


def member_type(schema: Schema, type_name: str, path: tuple[str, ...], tree: Tree) -> str | None:
    """The declared type of the member at ``path`` below the object ``type_name``."""
    parent = object_at(schema, type_name, path[:-1], tree)
    if parent is None:
        return None
    object_name, subtree = parent
    members = schema.object_members(object_name, tags_of(schema, object_name, subtree))
    return next((m.type for m in members if m.name == path[-1]), None)


_KEY_TEXT = re.compile(r"[^\s=\"']*\Z")
_EDIT = re.compile(r"\s*/edit\s+")
_ALL = re.compile(r"\s*/all\s+")


def suggest(text: str, schema: Schema | None, in_transaction: bool = False) -> Context:
    """What fits at the end of ``text`` (the line up to the cursor)."""
    if pipe_column(text, Mode.QMP) >= 0:
        return Context(Kind.NOTHING)  # LINE |! COMMAND: the shell command is the user's
    if text.lstrip().startswith("{"):
        return Context(Kind.NOTHING)
    if is_watch(text):  # /watch [-n S] [-c N] LINE: the LINE is completed as a line
        start = line_start(text)
        if start is None:
            return Context(Kind.NOTHING)
        watched = text[start:]
        head, space, rest = watched.partition(" ")
        if watched.startswith("/") and not space:
            return Context(Kind.WORDS, watched, words=("/hmp", "/qmp"))
        if head == "/qmp":
            return suggest(rest.lstrip(), schema)
        if watched.startswith("/"):
            return Context(Kind.NOTHING)  # an HMP line: the QMP completer has nothing
        return suggest(watched, schema)
    edited = _EDIT.match(text)
    if edited is not None:  # /edit LINE: the LINE is completed as a QMP line
        line = text[edited.end() :]
        return suggest(line, schema) if not line.startswith(("/", "{")) else Context(Kind.NOTHING)
    every = _ALL.match(text)
    if every is not None:  # /all LINE: the LINE as a line of its own (/hmp LINE: HMP's)
        line = text[every.end() :]
        head, space, rest = line.partition(" ")
        if line.startswith("/") and not space:
            return Context(Kind.WORDS, line, words=("/hmp", "/qmp"))
        if head == "/qmp":
            return suggest(rest.lstrip(), schema)
        return suggest(line, schema) if not line.startswith(("/", "{")) else Context(Kind.NOTHING)
    split = _current_word(text)
    if split is None:
        return Context(Kind.NOTHING)
    words, current = split
    if not words:
        if current.startswith("/"):
            return Context(Kind.META, current)
        if in_transaction:
            return Context(Kind.ACTION, current)
        return Context(Kind.COMMAND, current)
    head = words[0].text
    if head.startswith("/"):
        return _meta_argument(schema, head, words[1:], current)
    if head == OOB:
        if len(words) == 1:
            return Context(Kind.COMMAND, current, words=("oob",))
        return _arguments(schema, words[1].text, None, words[2:], current)
    if head == TRANSACTION or in_transaction:
        group = words[1:] if head == TRANSACTION else words
        while BAR in [w.text for w in group]:
            group = group[[w.text for w in group].index(BAR) + 1 :]
        if not group:
            return Context(Kind.ACTION, current) if "=" not in current else Context(Kind.NOTHING)
        action = group[0].text
        data = schema.action_data_type(action) if schema else None
        return _arguments(schema, action, data, group[1:], current)
    return _arguments(schema, head, None, words[1:], current)


def _meta_argument(schema: Schema | None, head: str, args: list[Word], current: str) -> Context:
    if head == "/help" and not args:
        return Context(Kind.TOPIC, current)
    if head == "/wait" and not args:
        return Context(Kind.EVENT, current)
    if head == "/wait" and schema is not None:
        # /wait EVENT key=value...: the keys are the event's data members.
        data = schema.event_data_type(args[0].text.upper())
        if data is None:
            return Context(Kind.NOTHING)
        return _arguments(schema, head, data, args[1:], current)
    if head == "/save" and [arg.text for arg in args] in ([], ["-f"]):
        return Context(Kind.FILE, current)
    if head == "/connect" and not args:
        return Context(Kind.ADDRESS, current)
    if head == "/target" and not args:
        return Context(Kind.TARGET, current)
    if head == "/events":
        if not args:
            return Context(Kind.WORDS, current, words=("list", "filter", "clear"))
        if args[0].text == "filter" and len(args) == 1:
            return Context(Kind.EVENT, current.rsplit(",", 1)[-1], words=("all", "none"))
    return Context(Kind.NOTHING)


def _arguments(
    schema: Schema | None, command: str, arg_type: str | None, args: list[Word], current: str
) -> Context:
    if schema is None:
        # Before the schema is known, names can still come from QEMU (QOM paths, device
        # ids, device_add's properties...) and a value be a host path: say where the
        # cursor is, untyped.
        key, eq, value = current.partition("=")
        if not _KEY_TEXT.match(key):
            return Context(Kind.NOTHING)
        tree = _tolerant_tree(args)
        if eq:
            return Context(Kind.VALUE, value, command, tuple(key.split(".")), tree=tree)
        if "." in key:
            return Context(Kind.NOTHING)
        return Context(Kind.ARGUMENT, key, command, given=frozenset(tree), tree=tree)
    if arg_type is None:
        info = schema.command(command)
        if info is None:
            return Context(Kind.NOTHING)
        arg_type = info.arg_type
    tree = _tolerant_tree(args)
    key, eq, value = current.partition("=")
    if not _KEY_TEXT.match(key):
        return Context(Kind.NOTHING)
    path = tuple(key.split("."))
    if eq:
        type_name = member_type(schema, arg_type, path, tree)
        return Context(Kind.VALUE, value, command, path, type_name, tree=tree)
    parent = object_at(schema, arg_type, path[:-1], tree)
    if parent is None:
        return Context(Kind.NOTHING)
    object_name, subtree = parent
    return Context(
        Kind.ARGUMENT,
        path[-1],
        command,
        path[:-1],
        object_name,
        frozenset(subtree),
        tree=tree,
    )
