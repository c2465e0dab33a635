"""Where a key of a TOML document is defined: its line, for an error that names it.

tomllib says where a document is not TOML, but not where a key it parsed came from; the
config file's errors about a key or its value (an unknown key, a wrong type) still name
the line. :func:`definition_line` scans the text as TOML lays it out: table headers, keys
(bare, quoted, dotted) at the start of a line, and what a line leaves open for the next
(a multi-line string, an array or inline table over several lines), so that a line inside
a string or an array is never taken for a key. Pure; it reads a document tomllib
accepted, and says None rather than guess where it cannot tell.
"""

from __future__ import annotations

import json

from ..patterns import compiled

TYPE_CHECKING = False  # typing's, without importing typing (docs/architecture.md, start-up)
if TYPE_CHECKING:
    from collections.abc import Sequence

# One part of a key: bare, a basic string, or a literal string.
_PART = r"""(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*')"""
_DOTTED = rf"{_PART}(?:[ \t]*\.[ \t]*{_PART})*"
_KEY = rf"[ \t]*({_DOTTED})[ \t]*="
_HEADER = rf"[ \t]*\[\[?[ \t]*({_DOTTED})[ \t]*\]"
_PARTS = _PART

# What opens or closes at a character, outside strings and comments.
_OPEN = {"[": 1, "{": 1, "]": -1, "}": -1}


class _Scan:
    """The state a line leaves for the next: inside a multi-line string (its closing
    delimiter), and how deep inside arrays and inline tables."""

    def __init__(self) -> None:
        self.closing: str | None = None
        self.depth = 0

    def line(self, text: str) -> None:
        """Move the state past one line of the document."""
        at = 0
        if self.closing is not None:
            at = _end_of_string(text, 0, self.closing)
            if at < 0:
                return
            self.closing = None
        while at < len(text):
            char = text[at]
            if char == "#":
                return
            if text.startswith(('"""', "'''"), at):
                delimiter = text[at : at + 3]
                at = _end_of_string(text, at + 3, delimiter)
                if at < 0:
                    self.closing = delimiter
                    return
            elif char in "\"'":
                at = _end_of_string(text, at + 1, char)
                if at < 0:  # not TOML: a one-line string left open
                    return
            else:
                self.depth += _OPEN.get(char, 0)
                at += 1


def _end_of_string(text: str, at: int, delimiter: str) -> int:
    """Where the string whose contents start at ``at`` ends (just past ``delimiter``),
    or -1 when it goes on past this line. A basic string's backslash escapes the next
    character; a literal's does not."""
    escapes = delimiter[0] == '"'
    while at < len(text):
        if escapes and text[at] == "\\":
            at += 2
            continue
        if text.startswith(delimiter, at):
            end = at + len(delimiter)
            # A multi-line string may end in one or two quotes of its own: """a"""""
            while len(delimiter) == 3 and end < len(text) and text[end] == delimiter[0]:
                end += 1
                if end - at == 5:
                    break
            return end
        at += 1
    return -1


def key_parts(dotted: str) -> tuple[str, ...]:
    """The parts of a dotted key as TOML reads them (``a."b.c"`` is ``a``, ``b.c``)."""
    return tuple(_unquoted(part) for part in compiled(_PARTS).findall(dotted))


def _unquoted(part: str) -> str:
    if part.startswith("'"):
        return part[1:-1]
    if part.startswith('"'):
        try:
            return str(json.loads(part))  # TOML's basic escapes are JSON's, but for a few
        except ValueError:
            return part[1:-1]
    return part


def definition_line(text: str, path: Sequence[str]) -> int | None:
    """The line (from 1) where the key ``path`` (``("targets", "web1")``) or a table of
    that name is first defined in the TOML ``text``; None when it is not to be found."""
    wanted = tuple(path)
    table: tuple[str, ...] = ()
    scan = _Scan()
    for number, line in enumerate(text.split("\n"), 1):
        if scan.closing is None and scan.depth == 0:
            header = compiled(_HEADER).match(line)
            key = None if header else compiled(_KEY).match(line)
            if header:
                table = key_parts(header.group(1))
                if table[: len(wanted)] == wanted:
                    return number
            elif key:
                defined = table + key_parts(key.group(1))
                if defined[: len(wanted)] == wanted:
                    return number
        scan.line(line)
    return None
