"""Raw JSON lines: one QMP message as the user wrote it, sent as written.

Pure functions over text: reading a raw line into a :class:`RawJSON`, the object with the
text it was read from (what JSON is not refused with its reason), the arrows of QEMU's documentation
(``->`` before a command, ``<-`` before a reply), and an object given over several lines
(:class:`OpenObject`).
"""

from __future__ import annotations

import json
import re

from ..errors import InputError
from ..limits import MAX_DEPTH, nesting_exceeds
from ..patterns import compiled
from .values import beyond_a_double

TYPE_CHECKING = False  # typing's, without importing typing (docs/architecture.md, start-up)
if TYPE_CHECKING:
    from typing import Any

Message = dict[str, "Any"]


class RawJSON(dict):  # type: ignore[type-arg]
    """A raw line read: the object, to read (its command, its id, its secrets), and the
    text, which is what goes to QEMU (the session sends it as a
    :class:`~qmpshell.protocol.message.RawMessage`). ``faithful`` is False when the object
    says less than the text: a key given twice, or a number beyond a double's range."""

    def __init__(self, text: str, value: Message, *, faithful: bool = True) -> None:
        super().__init__(value)
        self.text = text
        self.faithful = faithful


def parse_raw_json(line: str) -> RawJSON:
    """A raw JSON message: one JSON object, kept as written (see :class:`RawJSON`).

    What only Python's reader takes is refused here with its reason: ``NaN`` and
    ``Infinity`` (not JSON; QEMU answers them with several errors that carry no id), and
    an id QEMU could not send back (an infinite number: QEMU would write ``inf``). The
    rest, 1E400 and a key given twice included, is QEMU's to judge.
    """
    offset = _SPACE.match(line).end()  # type: ignore[union-attr]
    lossy: list[bool] = []

    def members(pairs: list[tuple[str, Any]]) -> Message:
        value = dict(pairs)
        if len(value) != len(pairs):
            lossy.append(True)  # a key given twice: the text says more than the object
        return value

    def number(text: str) -> float:
        value = float(text)
        if beyond_a_double(value):
            lossy.append(True)
        return value

    def not_json(word: str) -> Any:
        raise InputError(
            f"invalid JSON: {word} is not JSON (QEMU would refuse it)", line.find(word)
        )

    try:
        value = json.loads(
            line, object_pairs_hook=members, parse_float=number, parse_constant=not_json
        )
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc.msg}", exc.pos) from None
    except ValueError as exc:  # an integer longer than int() converts
        raise InputError(f"invalid JSON: {exc}", offset) from None
    except RecursionError:
        raise InputError("invalid JSON: nested too deeply", offset) from None
    if not isinstance(value, dict):
        raise InputError("a raw QMP message must be a JSON object", offset)
    if nesting_exceeds(value):  # the limit set QEMU's messages too (see message.py)
        raise InputError(f"invalid JSON: nested more than {MAX_DEPTH} levels deep", offset)
    if "id" in value and not _finite_throughout(value["id"]):
        raise InputError(
            "the id is an infinite number, which QEMU cannot send back (it would write "
            "'inf', which is not JSON)",
            max(line.find('"id"'), offset),
        )
    return RawJSON(line.strip(), value, faithful=not lossy)


def _finite_throughout(value: Any) -> bool:
    if isinstance(value, float):
        return not beyond_a_double(value)
    if isinstance(value, dict):
        return all(_finite_throughout(item) for item in value.values())
    if isinstance(value, list):
        return all(_finite_throughout(item) for item in value)
    return True


# QEMU's documentation marks each message of an example: '->' what is sent, '<-' what
# comes back. Pasted as they are, the commands run and the replies are recognised.
_SENT = re.compile(r"\s*->(?=\s*\{)")
_RECEIVED = re.compile(r"\s*<-(?=\s*\{)")


def as_typed(line: str) -> str:
    """``line`` without the documentation's ``->`` before a JSON object (made spaces, so
    that every column stays where it was)."""
    match = _SENT.match(line)
    if match is None:
        return line
    return f"{line[: match.end() - 2]}  {line[match.end() :]}"


def is_raw_json(line: str) -> bool:
    """Whether ``line`` is raw JSON (``{...}``, or ``-> {...}`` from QEMU's documentation)."""
    return starts_object(as_typed(line))


def starts_object(text: str) -> bool:
    """Whether ``text`` starts with ``{`` (spaces aside): looked at, never copied."""
    return _OBJECT.match(text) is not None


_SPACE = re.compile(r"\s*")
_OBJECT = re.compile(r"\s*\{")


def is_documented_reply(line: str) -> bool:
    """A ``<- {...}`` line: QEMU's reply in its documentation, nothing to send."""
    return _RECEIVED.match(line) is not None


_JSON_MARKS = r'[{}\[\]"\\]'  # compiled when first used: objects over lines are rare


class OpenObject:
    """A raw JSON object given over several lines, as QEMU's documentation prints its
    examples: lines are added until its braces close (strings respected), each line
    scanned once, so that a long object costs what its text costs."""

    def __init__(self, first_line: int) -> None:
        self.first_line = first_line  # where it starts, for what is said about it
        self._lines: list[str] = []
        self._depth = 0
        self._in_string = False
        self._escaped = False

    @property
    def closed(self) -> bool:
        return bool(self._lines) and self._depth <= 0 and not self._in_string

    @property
    def text(self) -> str:
        return "\n".join(self._lines)

    def add(self, line: str) -> None:
        self._lines.append(line)
        depth, in_string, escaped = self._depth, self._in_string, self._escaped
        last = -2
        for mark in compiled(_JSON_MARKS).finditer(line):
            char, at = mark.group(), mark.start()
            if escaped:
                escaped = False
                if at == last + 1:
                    last = at
                    continue
            last = at
            if char == "\\":
                escaped = in_string
            elif char == '"':
                in_string = not in_string
            elif not in_string:
                depth += 1 if char in "{[" else -1
                if depth <= 0:
                    break  # closed: what follows is the parser's to refuse
        self._depth, self._in_string, self._escaped = depth, in_string, False


def opens_object(line: str) -> OpenObject | None:
    """An :class:`OpenObject` when ``line`` starts a raw JSON object it does not close."""
    line = as_typed(line)
    if not starts_object(line):
        return None
    opened = OpenObject(0)
    opened.add(line)
    return None if opened.closed else opened
