"""The document ``/edit`` and Ctrl-X Ctrl-E open in the user's editor, read back.

The document is one QMP command as indented JSON, with two liberties so that it can be
edited freely: a line whose first characters (after spaces) are ``//`` is a comment,
and a comma may stand before a closing ``}`` or ``]`` (so that uncommenting the last
optional argument, or deleting the one after it, leaves good JSON). A string value
written ``"<...>"`` is a placeholder the skeleton put there (:mod:`.skeleton`): the
document is refused while one is left.

:func:`check_document` reads the saved text and says what is wrong with the number of
the line it stands on (comments are blanked, not removed, so that numbers stay the
file's); :func:`reopened` puts that error on top of the text for the next round — pure.
"""

from __future__ import annotations

import json

from ..limits import MAX_DEPTH, nesting_exceeds
from ..patterns import compiled
from .jsoncheck import Path, ValueFault, check_arguments, dotted
from .schema import Schema
from .values import OUT_OF_RANGE, beyond_a_double

TYPE_CHECKING = False  # typing's, without importing typing (docs/architecture.md, start-up)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

Message = dict[str, "Any"]

COMMENT = "//"
ERROR_MARK = "// error: "  # the first lines of a document reopened after a refusal
MAX_DOCUMENT = 1 << 20  # characters read back from the editor's file

_PLACEHOLDER = r"\A<[^<>\n]+>\Z"
_STRING = r'"(?:[^"\\]|\\.)*"'  # a JSON string (the text is JSON already when scanned)
_KEYS = ("execute", "arguments", "id")


class DocumentError(Exception):
    """What is wrong with a saved document (``str()``: ``line 5: ...``) and its line."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


def placeholder(description: str) -> str:
    """The placeholder of a value to be given: ``<str>``, ``<ignore|unmap>``."""
    return f"<{description.replace('<', '(').replace('>', ')')}>"


def is_placeholder(value: object) -> bool:
    return isinstance(value, str) and compiled(_PLACEHOLDER).match(value) is not None


def is_comment(line: str) -> bool:
    return line.lstrip(" \t").startswith(COMMENT)


def uncommented(text: str) -> str:
    """``text`` with its comment lines blanked (each line keeps its number). A line
    inside a JSON string cannot be one: JSON strings do not hold a newline."""
    return "\n".join("" if is_comment(line) else line for line in text.split("\n"))


def without_trailing_commas(text: str) -> str:
    """``text`` with each comma that stands (after white space) before ``}`` or ``]``
    made a space, strings left alone."""
    out = []
    i, n = 0, len(text)
    start = 0
    while i < n:
        char = text[i]
        if char == '"':
            i = _string_end(text, i)
            continue
        if char == ",":
            j = i + 1
            while j < n and text[j] in " \t\r\n":
                j += 1
            if j < n and text[j] in "}]":
                out.append(text[start:i])
                out.append(" ")
                start = i + 1
        i += 1
    out.append(text[start:])
    return "".join(out)


def is_empty(text: str) -> bool:
    """A document with nothing but comments and white space: the user cancelled."""
    return not uncommented(text).strip()


def check_document(schema: Schema | None, text: str) -> Message:
    """The command a saved document holds, checked against ``schema`` (when known):
    :class:`DocumentError` with the line at fault otherwise."""
    if len(text) > MAX_DOCUMENT:
        raise DocumentError(1, f"the file is over {MAX_DOCUMENT // 1024} KiB")
    cleaned = without_trailing_commas(uncommented(text))
    value = _parse(cleaned)
    lines = key_lines(cleaned)
    unwritable = _first(value, (), lambda item: isinstance(item, _Unwritable))
    if unwritable is not None:
        path, item = unwritable
        raise DocumentError(line_of(lines, path), item.reason)
    if not isinstance(value, dict):
        raise DocumentError(_first_line(cleaned), "the file must hold one JSON object, the command")
    for key in value:
        if key not in _KEYS:
            raise DocumentError(
                lines.get((key,), 1), f"unknown key '{key}': a command has execute, arguments, id"
            )
    name = value.get("execute")
    if not isinstance(name, str) or not name or is_placeholder(name):
        raise DocumentError(lines.get(("execute",), 1), "'execute' must name the command")
    found = first_placeholder(value.get("arguments"), ("arguments",))
    if found is not None:
        path, text_held = found
        raise DocumentError(
            line_of(lines, path),
            f"'{dotted(path[1:])}' still holds its placeholder \"{text_held}\": give it a value",
        )
    arguments = value.get("arguments")
    try:
        if schema is not None:
            check_arguments(schema, name, arguments, ("arguments",))
        elif arguments is not None and not isinstance(arguments, dict):
            raise ValueFault("arguments expects an object", ("arguments",))
    except ValueFault as fault:
        raise DocumentError(line_of(lines, fault.path), str(fault)) from None
    return value


class _Unwritable:
    """What the document holds in place of a value JSON cannot write back (``NaN``,
    ``1e999``, which reads as infinity): refused with its line once the text is read."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _parse(text: str) -> Any:
    def not_json(word: str) -> Any:
        return _Unwritable(f"{word} is not JSON")

    def number(text: str) -> Any:
        value = float(text)
        return _Unwritable(f"{OUT_OF_RANGE}: {text}") if beyond_a_double(value) else value

    try:
        value = json.loads(text, parse_constant=not_json, parse_float=number)
    except json.JSONDecodeError as exc:
        raise DocumentError(exc.lineno, f"not JSON: {exc.msg} (column {exc.colno})") from None
    except ValueError as exc:
        raise DocumentError(1, str(exc)) from None
    except RecursionError:
        raise DocumentError(1, f"nested more than {MAX_DEPTH} levels deep") from None
    if nesting_exceeds(value):
        raise DocumentError(1, f"nested more than {MAX_DEPTH} levels deep")
    return value


def _first_line(text: str) -> int:
    stripped = text.lstrip()
    return text.count("\n", 0, len(text) - len(stripped)) + 1


def first_placeholder(value: Any, path: Path) -> tuple[Path, str] | None:
    """The first placeholder left in ``value`` (in document order): its path and text."""
    return _first(value, path, is_placeholder)


def _first(value: Any, path: Path, wanted: Callable[[Any], bool]) -> tuple[Path, Any] | None:
    """The first item of ``value`` (itself included, in document order) that is
    ``wanted``: its path and the item."""
    stack: list[tuple[Path, Any]] = [(path, value)]
    while stack:
        where, item = stack.pop()
        if wanted(item):
            return where, item
        if isinstance(item, dict):
            stack.extend(((*where, key), child) for key, child in reversed(item.items()))
        elif isinstance(item, list):
            indexed = list(enumerate(item))
            stack.extend(((*where, index), child) for index, child in reversed(indexed))
    return None


def key_lines(text: str) -> dict[Path, int]:
    """For JSON ``text``: the line (1-based) where each path's key stands (an array
    element's: where it starts); the whole value's at ``()``. A path given twice keeps
    its first line. One pass over the text."""
    lines: dict[Path, int] = {}
    # One frame per open container: [is an object, the key or index, a key comes next].
    stack: list[list[Any]] = []
    line, i, n = 1, 0, len(text)

    def value_starts() -> None:
        if not stack:
            lines.setdefault((), line)
        elif not stack[-1][0]:
            lines.setdefault(tuple(frame[1] for frame in stack), line)

    while i < n:
        char = text[i]
        if char == "\n":
            line += 1
        elif char == '"':
            end = _string_end(text, i)
            if stack and stack[-1][0] and stack[-1][2]:
                stack[-1][1], stack[-1][2] = json.loads(text[i:end]), False
                lines.setdefault(tuple(frame[1] for frame in stack), line)
            else:
                value_starts()
            i = end
            continue
        elif char in "{[":
            value_starts()
            stack.append([char == "{", 0, char == "{"])
        elif char in "}]":
            if stack:
                stack.pop()
        elif char == ",":
            if stack and stack[-1][0]:
                stack[-1][2] = True
            elif stack:
                stack[-1][1] += 1
        elif char not in " \t\r:":
            value_starts()  # a number, true, false or null
            while i + 1 < n and text[i + 1] not in ' \t\r\n,:]}"':
                i += 1
        i += 1
    return lines


def line_of(lines: dict[Path, int], path: Path) -> int:
    """The line of ``path``, or of the nearest enclosing value the text shows."""
    while path not in lines and path:
        path = path[:-1]
    return lines.get(path, 1)


def _string_end(text: str, start: int) -> int:
    """Where the string starting at ``start`` ends (after its quote); the text's end
    for one never closed."""
    match = compiled(_STRING).match(text, start)
    return match.end() if match is not None else len(text)


def reopened(text: str, error: DocumentError) -> str:
    """The document for the next round: the error (its line counted in the reopened
    file) as a comment line on top, in place of the previous round's."""
    body = without_error(text)
    message = error.message.replace("\r", "\\r").replace("\n", "\\n")  # one line, a key's newline
    return f"{ERROR_MARK}line {error.line + 1}: {message}\n{body}"


def without_error(text: str) -> str:
    """``text`` without the error lines a previous round put on top."""
    lines = text.split("\n")
    while lines and lines[0].startswith(ERROR_MARK):
        lines.pop(0)
    return "\n".join(lines)


def compact(message: Message) -> str:
    """A command as one line of compact JSON, the way it is sent and kept in history."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
