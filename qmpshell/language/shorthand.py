"""The shorthand language: what a typed line means, as QMP messages.

    command [key=value ...]        query-block; device_del id=nic0
    key.sub=value                  dotted keys build nested objects
    key="quoted value"             quotes are removed; \\" \\\\ \\n \\t \\uXXXX inside
    key=[1, 2] key={"a": 1}        JSON or Python-style literals, spaces allowed inside
    {"execute": ...}               raw JSON, sent exactly as written
    transaction( ... )             a transaction: actions on the lines between, or on one
                                   line separated by '|'
    !oob command ...               execute out of band (needs the oob capability)

With a schema (:mod:`qmpshell.language.typecheck`) values are typed by their declared member type;
without one, the untyped rules of :mod:`qmpshell.language.values` apply. Everything here is pure:
no socket, no terminal.
"""

from __future__ import annotations

import json
import re
from typing import Any, NamedTuple, Union

from ..errors import InputError
from .rawjson import as_typed, is_documented_reply, parse_raw_json
from .schema import Schema
from .values import untyped_value

Message = dict[str, Any]

_ESCAPES = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "b": "\b",
    "f": "\f",
    "0": "\0",
    "/": "/",
    "\\": "\\",
    '"': '"',
    "'": "'",
}
_HEX4 = re.compile(r"[0-9A-Fa-f]{4}")


class Word(NamedTuple):
    """A whitespace-separated word, quotes removed; ``key``/``value`` when it is k=v."""

    text: str
    start: int
    end: int
    key: str | None = None
    value: str = ""
    value_start: int = 0
    value_quoted: bool = False


class Value(NamedTuple):
    """A value as typed, before it is given a type."""

    text: str
    quoted: bool
    column: int
    key_column: int = 0


# An argument tree: nested dicts from dotted keys, with typed-in values at the leaves.
Tree = dict[str, Union["Tree", Value]]


def _read_quoted(line: str, start: int) -> tuple[str, int]:
    quote = line[start]
    out: list[str] = []
    i = start + 1
    n = len(line)
    while i < n:
        char = line[i]
        if char == quote:
            return "".join(out), i + 1
        if char == "\\" and i + 1 < n:
            nxt = line[i + 1]
            if nxt == "u" and _HEX4.match(line, i + 2):
                out.append(chr(int(line[i + 2 : i + 6], 16)))
                i += 6
                continue
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
            else:
                out.append(char + nxt)  # unknown escapes stay as typed
            i += 2
            continue
        out.append(char)
        i += 1
    raise InputError(f"unclosed {quote}", start, incomplete=True)


def _skip_balanced(line: str, start: int) -> int:
    """The end of the bracketed literal at ``start``, quotes inside respected."""
    depth = 0
    i = start
    n = len(line)
    while i < n:
        char = line[i]
        if char in "\"'":
            _, i = _read_quoted(line, i)
            continue
        if char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise InputError(f"unclosed '{line[start]}'", start, incomplete=True)


def split_words(line: str) -> list[Word]:
    """Split a line into words on whitespace outside quotes and bracketed values."""
    words: list[Word] = []
    i = 0
    n = len(line)
    while i < n:
        if line[i].isspace():
            i += 1
            continue
        start = i
        parts: list[str] = []
        length = 0
        eq = -1
        value_start = 0
        value_quoted = False
        while i < n and not line[i].isspace():
            char = line[i]
            if char in "\"'":
                text, i = _read_quoted(line, i)
                value_quoted = value_quoted or eq >= 0
            elif char == "=" and eq < 0:
                eq, value_start, text = length, i + 1, "="
                i += 1
                if i < n and line[i] in "{[":
                    end = _skip_balanced(line, i)
                    text, i = "=" + line[i:end], end
            else:
                text = char
                i += 1
            parts.append(text)
            length += len(text)
        whole = "".join(parts)
        if eq >= 0:
            words.append(
                Word(whole, start, i, whole[:eq], whole[eq + 1 :], value_start, value_quoted)
            )
        else:
            words.append(Word(whole, start, i))
    return words


def build_tree(words: list[Word]) -> Tree:
    """Nest ``key.sub=value`` words into a tree; a key given twice, or used both as a
    value and as a parent, is an error."""
    tree: Tree = {}
    for word in words:
        if word.key is None:
            raise InputError(f"expected key=value, got '{word.text}'", word.start)
        path = word.key.split(".")
        if not all(path):
            raise InputError(f"empty name in key '{word.key}'", word.start)
        node = tree
        for depth, name in enumerate(path[:-1]):
            child = node.setdefault(name, {})
            if isinstance(child, Value):
                prefix = ".".join(path[: depth + 1])
                raise InputError(
                    f"'{prefix}' is given a value and also used as a parent of '{word.key}'",
                    word.start,
                )
            node = child
        leaf = path[-1]
        if leaf in node:
            what = "given twice" if isinstance(node[leaf], Value) else "also a parent key"
            raise InputError(f"'{word.key}' is {what}", word.start)
        node[leaf] = Value(word.value, word.value_quoted, word.value_start, word.start)
    return tree


def untyped_tree(tree: Tree) -> Message:
    """The JSON object of a tree by the untyped rules."""
    return {
        name: untyped_tree(node)
        if isinstance(node, dict)
        else untyped_value(node.text, node.quoted, node.column)
        for name, node in tree.items()
    }


def is_incomplete_json(text: str) -> bool:
    """True when ``text`` starts a JSON object whose braces are not yet closed, so an
    interactive shell should read another line before parsing."""
    stripped = as_typed(text).lstrip()
    if not stripped.startswith("{"):
        return False
    try:
        _skip_balanced(stripped, 0)
    except InputError:
        return True
    return False


def split_entries(text: str) -> tuple[list[str], str]:
    """``text`` cut into what is complete — each line, or a raw JSON object over as many
    lines as its braces take — and the unfinished rest (no newline yet, or an object
    still open). Blank lines are left out. Pasted text and a script read the same way."""
    lines = text.split("\n")
    rest = lines.pop()
    entries: list[str] = []
    pending: str | None = None
    for line in lines:
        if pending is not None:
            pending += "\n" + line
            if not is_incomplete_json(pending):
                entries.append(pending)
                pending = None
        elif is_incomplete_json(line):
            pending = line
        elif line.strip():
            entries.append(line)
    if pending is not None:
        rest = pending + "\n" + rest
    return entries, rest


class Parser:
    """Turns lines into QMP messages, keeping the state of an open transaction block.

    ``schema`` (when set) types and checks every shorthand argument; raw JSON is never
    altered. :meth:`feed` returns the message a line completes, or None while a
    transaction block stays open. A line that fails changes nothing.
    """

    def __init__(self, schema: Schema | None = None) -> None:
        self.schema = schema
        # Scripts: a block with a refused action is not sent at all (at a prompt the
        # refused action is only left out, and can be typed again).
        self.all_or_nothing = False
        self._spoiled = False
        self._actions: list[Message] | None = None
        self._recent: dict[str, tuple[Schema | None, Message]] = {}

    @property
    def in_transaction(self) -> bool:
        return self._actions is not None

    @property
    def pending_actions(self) -> int:
        """How many actions the open transaction block holds (0 when none is open)."""
        return len(self._actions) if self._actions is not None else 0

    def cancel(self) -> bool:
        """Drop an open transaction block; True if there was one."""
        was_open = self._actions is not None
        self._actions = None
        self._spoiled = False
        return was_open

    def check(self, line: str) -> InputError | None:
        """What :meth:`feed` would refuse in ``line``, without changing any state."""
        saved = self._actions, self._spoiled
        try:
            self.feed(line)
        except InputError as exc:
            return exc
        finally:
            self._actions, self._spoiled = saved
        return None

    def feed(self, line: str) -> Message | None:
        """The message ``line`` completes, or None while a transaction block is open."""
        if self._actions is None:
            line = as_typed(line)
            if line.lstrip().startswith("{"):
                return parse_raw_json(line)  # a RawMessage: its text is what is sent
            if is_documented_reply(line):
                raise InputError(
                    "a line starting with '<-' is QEMU's reply in its documentation, not a "
                    "command; the '->' lines are the commands",
                    line.index("<"),
                )
        if self._actions is None:
            # Scripts repeat lines (polling query-status, query-jobs...): a line outside a
            # block means the same every time for the same schema.
            cached = self._recent.get(line)
            if cached is not None and cached[0] is self.schema:
                return copy_message(cached[1])
        message = self._feed(line)
        if message is not None and not self.in_transaction:
            if len(self._recent) >= _RECENT_LINES:
                self._recent.pop(next(iter(self._recent)))
            self._recent[line] = (self.schema, copy_message(message))
        return message

    def _feed(self, line: str) -> Message | None:
        if not line.strip():
            raise InputError("empty command", 0)
        words = split_words(line)
        if self._actions is not None:
            return self._transaction_lines(words, self._actions)
        first = words[0]
        if first.text == "transaction(":
            return self._transaction_lines(words[1:], [])
        if first.text == "!oob":
            if len(words) < 2:
                raise InputError("!oob needs a command after it", first.end, incomplete=True)
            message = self._command(words[1], words[2:])
            command = self.schema.command(words[1].text) if self.schema else None
            if command is not None and not command.allow_oob:
                raise InputError(f"{command.name} cannot run out of band", words[1].start)
            return {"exec-oob": message.pop("execute"), **message}
        return self._command(first, words[1:])

    def _transaction_lines(self, words: list[Word], actions: list[Message]) -> Message | None:
        closing = bool(words) and words[-1].text == ")" and words[-1].key is None
        if closing:
            words = words[:-1]
        try:
            stray = next((w for w in words if w.text == ")" and w.key is None), None)
            if stray is not None:
                raise InputError("')' must end the line", stray.start)
            new_actions = [self._action(group) for group in _split_on_bars(words) if group]
        except InputError:
            if self.all_or_nothing:  # the block is open (or stays so), and is not sent
                self._actions, self._spoiled = (None, False) if closing else (actions, True)
            raise
        actions = actions + new_actions
        if closing:
            spoiled, self._actions, self._spoiled = self._spoiled, None, False
            if spoiled:
                raise InputError("the transaction is not sent: an action in it was refused", 0)
            return {"execute": "transaction", "arguments": {"actions": actions}}
        self._actions = actions
        return None

    def _action(self, words: list[Word]) -> Message:
        head = words[0]
        if head.key is not None:
            raise InputError(
                f"expected an action name, got '{head.text}'",
                head.start,
            )
        tree = build_tree(words[1:])
        if self.schema is None or self.schema.command("transaction") is None:
            return {"type": head.text, "data": untyped_tree(tree)}
        from .typecheck import Typer

        return Typer(self.schema).action(head.text, head.start, tree)

    def _command(self, head: Word, words: list[Word]) -> Message:
        if head.key is not None or head.text in ("|", ")"):
            raise InputError(
                f"expected a command name, got '{head.text}'",
                head.start,
            )
        tree = build_tree(words)
        if self.schema is None:
            arguments = untyped_tree(tree)
        else:
            from .typecheck import Typer

            arguments = Typer(self.schema).command(head.text, head.start, tree)
        message: Message = {"execute": head.text}
        if arguments:
            message["arguments"] = arguments
        return message


_RECENT_LINES = 256


def copy_message(message: Message) -> Message:
    """A copy deep enough that the caller may change what it gets (JSON values only)."""
    return {k: copy_message(v) if isinstance(v, dict) else v for k, v in message.items()}


def _split_on_bars(words: list[Word]) -> list[list[Word]]:
    groups: list[list[Word]] = [[]]
    for word in words:
        if word.text == "|" and word.key is None:
            groups.append([])
        else:
            groups[-1].append(word)
    return groups


def parse_line(line: str, schema: Schema | None = None) -> Message:
    """One complete line to one message (a one-line transaction included)."""
    message = Parser(schema).feed(line)
    if message is None:
        raise InputError("the transaction is not closed: end it with ')'", len(line), True)
    return message


# -- the way back: arguments as shorthand ----------------------------------------------

_PLAIN = re.compile(r"[^\s\"'=\[\]{}|()\\]+\Z")
_KEY = re.compile(r"[A-Za-z0-9_+-][A-Za-z0-9_+-]*\Z")


def render_arguments(arguments: Message) -> str:
    """Arguments as shorthand words that :class:`Parser` (untyped) reads back as the same
    object. Keys must be QAPI-style names."""
    return " ".join(_render(arguments, ""))


def _render(node: Message, prefix: str) -> list[str]:
    words: list[str] = []
    for key, value in node.items():
        if not _KEY.match(key):
            raise ValueError(f"key {key!r} cannot be written as shorthand")
        if isinstance(value, dict) and value and all(_KEY.match(name) for name in value):
            words.extend(_render(value, f"{prefix}{key}."))
        else:
            words.append(f"{prefix}{key}={render_value(value)}")
    return words


def render_value(value: Any) -> str:
    """One value as it would be typed, so that the untyped rules read it back."""
    if isinstance(value, str) and _PLAIN.match(value) and untyped_value(value) == value:
        return value
    return json.dumps(value, ensure_ascii=False)
