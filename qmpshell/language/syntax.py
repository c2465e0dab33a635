"""The shorthand's grammar: words, ``key=value`` pairs and the tree they build, and the way
back from arguments to shorthand.

    command [key=value ...]        query-block; device_del id=nic0
    key.sub=value                  dotted keys build nested objects
    key="quoted value"             quotes are removed; \\" \\\\ \\n \\t \\uXXXX inside
    key=[1, 2] key={"a": 1}        JSON or Python-style literals, spaces allowed inside

What the words mean, as a QMP message typed by the schema, is :mod:`.shorthand`'s. Pure:
no socket, no terminal.
"""

from __future__ import annotations

import json
import re

from ..errors import InputError
from ..patterns import compiled
from ..records import Record
from .rawjson import as_typed
from .values import untyped_value

TYPE_CHECKING = False  # typing's, without importing typing (docs/architecture.md, start-up)
if TYPE_CHECKING:
    from typing import Any

Message = dict[str, "Any"]

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
_HEX4 = r"[0-9A-Fa-f]{4}"  # compiled when first used, as are the quoted runs

# The words that are the language's own, when they stand alone (not as a key or value).
OOB = "!oob"  # before a command: execute it out of band
TRANSACTION = "transaction("  # opens a transaction block
BAR = "|"  # between the actions of a transaction on one line
CLOSE = ")"  # closes the transaction block


class Word(Record):
    """A whitespace-separated word, quotes removed; ``key``/``value`` when it is k=v."""

    text: str
    start: int
    end: int
    key: str | None = None
    value: str = ""
    value_start: int = 0
    value_quoted: bool = False


class Value(Record):
    """A value as typed, before it is given a type."""

    text: str
    quoted: bool
    column: int
    key_column: int = 0


# An argument tree: nested dicts from dotted keys, with typed-in values at the leaves.
# (The value's type all in a string: typing.Union would compile the name "Tree", and a
# process's first compile() costs CPython's AST classes, 3 ms of a one-shot script.)
Tree = dict[str, "Tree | Value"]


# Runs taken whole, not a character at a time (a value may be megabytes long): what a
# quoted run holds up to its quote or a backslash, and a word's characters up to a space,
# a quote or an equals sign.
_QUOTED_RUN = {'"': r'[^"\\]+', "'": r"[^'\\]+"}
_WORD_RUN = re.compile(r"""[^\s"'=]+""")


def _read_quoted(line: str, start: int, tolerant: bool = False) -> tuple[str, int]:
    """The text of the quoted run at ``start`` (escapes read) and where it ends; an
    unclosed quote is an error, or (``tolerant``) runs to the end of the line."""
    quote = line[start]
    run = compiled(_QUOTED_RUN[quote]).match
    out: list[str] = []
    i = start + 1
    n = len(line)
    while i < n:
        plain = run(line, i)
        if plain is not None:
            out.append(plain.group())
            i = plain.end()
            continue
        char = line[i]
        if char == quote:
            return "".join(out), i + 1  # one run: the run itself, not a copy
        if char == "\\" and i + 1 < n:
            nxt = line[i + 1]
            if nxt == "u" and compiled(_HEX4).match(line, i + 2):
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
    if tolerant:
        return "".join(out), n
    raise InputError(f"unclosed {quote}", start, incomplete=True)


def quoted_end(line: str, start: int) -> int:
    """Where the quoted run at ``start`` ends (the end of the line when it is unclosed)."""
    return _read_quoted(line, start, tolerant=True)[1]


def _skip_balanced(line: str, start: int, tolerant: bool = False) -> int:
    """The end of the bracketed literal at ``start``, quotes inside respected; an
    unclosed one is an error, or (``tolerant``) runs to the end of the line."""
    depth = 0
    i = start
    n = len(line)
    while i < n:
        char = line[i]
        if char in "\"'":
            _, i = _read_quoted(line, i, tolerant)
            continue
        if char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    if tolerant:
        return n
    raise InputError(f"unclosed '{line[start]}'", start, incomplete=True)


def literal_end(line: str, start: int) -> int:
    """Where the bracketed literal at ``start`` closes (the end of the line when it is
    unclosed)."""
    return _skip_balanced(line, start, tolerant=True)


def split_words(line: str, *, tolerant: bool = False) -> list[Word]:
    """Split a line into words on whitespace outside quotes and bracketed values. An
    unclosed quote or bracket is an error, or (``tolerant``, for highlighting what is
    still being typed) runs to the end of the line."""
    words: list[Word] = []
    i = 0
    n = len(line)
    while i < n:
        if line[i].isspace():
            i += 1
            continue
        start = i
        parts: list[str] = []
        eq = -1  # the index in parts of the first "="
        value_start = 0
        value_quoted = False
        while i < n and not line[i].isspace():
            char = line[i]
            plain = _WORD_RUN.match(line, i)
            if plain is not None:
                text, i = plain.group(), plain.end()
            elif char in "\"'":
                text, i = _read_quoted(line, i, tolerant)
                value_quoted = value_quoted or eq >= 0
            elif char == "=" and eq < 0:
                eq, value_start, text = len(parts), i + 1, "="
                i += 1
                if i < n and line[i] in "{[":
                    end = _skip_balanced(line, i, tolerant)
                    parts.append(text)
                    text, i = line[i:end], end
            else:
                text = char
                i += 1
            parts.append(text)
        # Joined, not sliced, so that a long value is held once in the key=value text
        # and once as itself, never as parts besides.
        whole = "".join(parts)
        if eq >= 0:
            key, value = "".join(parts[:eq]), "".join(parts[eq + 1 :])
            words.append(Word(whole, start, i, key, value, value_start, value_quoted))
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


# -- the way back: arguments as shorthand ----------------------------------------------

# The way back, compiled when first used.
_PLAIN = r"[^\s\"'=\[\]{}|()\\]+\Z"
_KEY = r"[A-Za-z0-9_+-][A-Za-z0-9_+-]*\Z"


def render_arguments(arguments: Message) -> str:
    """Arguments as shorthand words that :class:`Parser` (untyped) reads back as the same
    object. Keys must be QAPI-style names."""
    return " ".join(_render(arguments, ""))


def _render(node: Message, prefix: str) -> list[str]:
    words: list[str] = []
    for key, value in node.items():
        if not compiled(_KEY).match(key):
            raise ValueError(f"key {key!r} cannot be written as shorthand")
        if isinstance(value, dict) and value and all(compiled(_KEY).match(name) for name in value):
            words.extend(_render(value, f"{prefix}{key}."))
        else:
            words.append(f"{prefix}{key}={render_value(value)}")
    return words


def render_value(value: Any) -> str:
    """One value as it would be typed, so that the untyped rules read it back."""
    if isinstance(value, str) and compiled(_PLAIN).match(value) and untyped_value(value) == value:
        return value
    return json.dumps(value, ensure_ascii=False)
