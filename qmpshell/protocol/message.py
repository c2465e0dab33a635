"""Facts about single QMP messages that the client goes by: pure functions."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

Message = dict[str, Any]

# QEMU keeps an integer id exactly from -2**63 to 2**64-1; beyond that it holds (and echoes)
# the nearest double, and a double with an integral value comes back written as an integer.
_EXACT = range(-(1 << 63), 1 << 64)


def id_key(ident: Any) -> Any:
    """A hashable key for a JSON id, equal for an id and QEMU's echo of it: 1 and "1"
    apart, 1.0 and 1 together (QEMU sends ``1.0`` back as ``1``), big numbers as the
    double QEMU makes of them."""
    kind = type(ident)
    if kind is str:
        return (str, ident)
    if kind is not int or ident not in _EXACT:
        ident = _as_qemu_holds(ident)
        kind = type(ident)
    if kind is int:
        return (int, ident)
    return ("json", json.dumps(ident, sort_keys=True))


def _as_qemu_holds(value: Any) -> Any:
    kind = type(value)
    if kind is int and value not in _EXACT:
        value = float(value)
        kind = float
    if kind is float and math.isfinite(value) and value.is_integer() and int(value) in _EXACT:
        return int(value)
    # Loops, not comprehensions: one frame a level (see MAX_DEPTH).
    if kind is dict:
        held = {}
        for key, item in value.items():
            held[key] = _as_qemu_holds(item)
        return held
    if kind is list:
        listed = []
        for item in value:
            listed.append(_as_qemu_holds(item))
        return listed
    return value


# What QEMU's JSON parser refuses although Python reads it: a lone surrogate (as a \u
# escape, or a byte that was not UTF-8, kept as a surrogate), and texts near its limits
# of 64 MiB a token and 2 million tokens.
_SURROGATE = re.compile(r"[\ud800-\udfff]|\\u[dD][89abAB]")
_HUGE = 1 << 20


class RawMessage(dict):  # type: ignore[type-arg]
    """A message as the user wrote it (raw JSON): the parsed object, to read (the
    command's name, its id, secrets), and the text, which is what goes to QEMU, so that
    QEMU judges what the user wrote (numbers, key order, duplicate keys).

    ``faithful`` is False when the parsed object says less than the text: a key given
    twice (Python keeps the last) or a number beyond a double's range (read as
    infinity). ``clean`` says QEMU's parser will surely read it as one object with its
    id (faithful, no surrogate, not huge), so that no reply without id can come of it.
    The client adds its own id with :meth:`with_id`, to the text as well.
    """

    def __init__(self, text: str, value: Message, *, faithful: bool = True) -> None:
        super().__init__(value)
        self.text = text
        self.faithful = faithful
        self.clean = faithful and len(text) < _HUGE and _SURROGATE.search(text) is None
        self.added_id: int | None = None

    def with_id(self, ident: int) -> RawMessage:
        message = RawMessage(self.text, {**self, "id": ident}, faithful=self.faithful)
        message.added_id = ident
        return message

    @property
    def wire(self) -> str:
        """The text to send: as written, with the client's id (if it added one) first."""
        if self.added_id is None:
            return self.text
        body = self.text[1:]
        separator = "" if body.lstrip().startswith("}") else ","
        return f'{{"id": {self.added_id}{separator}{body}'


def asks_to_quit(message: Message) -> bool:
    """Whether a command tells QEMU to quit: QMP's ``quit``, HMP's ``quit`` or ``q``."""
    name = message.get("execute")
    if name == "quit":
        return True
    arguments = message.get("arguments")
    if name != "human-monitor-command" or not isinstance(arguments, dict):
        return False
    line = arguments.get("command-line")
    return isinstance(line, str) and line.split() in (["quit"], ["q"])  # HMP: no arguments


def json_safe(value: Any) -> Any:
    """``value`` with every non-finite number (which JSON cannot write: a peer's 1e999
    read as infinity) as a string, "Infinity", "-Infinity" or "NaN"; the very same object
    when it holds none."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
    # Loops, not comprehensions: one frame a level (see MAX_DEPTH).
    if isinstance(value, dict):
        items = {}
        same = True
        for key, item in value.items():
            items[key] = safe = json_safe(item)
            same = same and safe is item
        return value if same else items
    if isinstance(value, list):
        listed = []
        same = True
        for item in value:
            listed.append(safe := json_safe(item))
            same = same and safe is item
        return value if same else listed
    return value


def dumps(value: Any, encode: Callable[[Any], str] | None = None) -> str:
    """JSON text of ``value``, valid JSON always (see :func:`json_safe`); ``encode``, a
    :meth:`json.JSONEncoder.encode` made with ``allow_nan=False``, lays it out."""
    encode = encode or _STRICT.encode
    try:
        return encode(value)
    except ValueError:  # a non-finite number: rare, so only then the walk
        return encode(json_safe(value))


_STRICT = json.JSONEncoder(allow_nan=False)


def encode_line(message: Message) -> bytes:
    """The bytes that send ``message``: a line of JSON (ASCII, with \\u escapes), or a
    raw line as the user wrote it."""
    if isinstance(message, RawMessage):
        return wire_bytes(message.wire) + b"\n"
    return json.dumps(message).encode() + b"\n"


def wire_bytes(text: str) -> bytes:
    """A raw line's bytes as they were read: bytes that were not UTF-8 went through as
    surrogates (``surrogateescape``) and go back to what they were."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # another lone surrogate: QEMU will say what it thinks
        return text.encode("utf-8", "surrogatepass")
