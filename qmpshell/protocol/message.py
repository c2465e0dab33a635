"""Facts about single QMP messages that the client goes by, and their JSON text: pure
functions."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator

from ..patterns import compiled
from .packed import PackedList, as_list

TYPE_CHECKING = False  # typing's, without importing typing (docs/architecture.md, start-up)
if TYPE_CHECKING:
    from typing import Any

Message = dict[str, "Any"]

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
_SURROGATE = r"[\ud800-\udfff]|\\u[dD][89abAB]"  # compiled when first used
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
        self.clean = faithful and len(text) < _HUGE and compiled(_SURROGATE).search(text) is None
        self.added_id: int | None = None

    def with_id(self, ident: int) -> RawMessage:
        message = RawMessage(self.text, {**self, "id": ident}, faithful=self.faithful)
        message.added_id = ident
        return message

    @property
    def wire(self) -> str:
        """The text to send: as written, with the client's id (if it added one) first."""
        head, start = self.wire_parts()
        return head + self.text[start:] if head else self.text

    def wire_parts(self) -> tuple[str, int]:
        """:attr:`wire` as ``(head, start)``: ``head + text[start:]``, for whoever would
        not copy a huge text to put an id in front of it."""
        if self.added_id is None:
            return "", 0
        closing = compiled(_CLOSING).match(self.text, 1) is not None
        return f'{{"id": {self.added_id}{"" if closing else ","}', 1


_CLOSING = r"\s*\}"  # an empty object's end, right after its brace (compiled when used)


def asks_to_quit(message: Message) -> bool:
    """Whether a command tells QEMU to quit: QMP's ``quit``, HMP's ``quit`` or ``q``."""
    name = message.get("execute")
    if name == "quit":
        return True
    arguments = message.get("arguments")
    if name != "human-monitor-command" or not isinstance(arguments, dict):
        return False
    line = arguments.get("command-line")
    return isinstance(line, str) and compiled(_HMP_QUIT).fullmatch(line) is not None


# HMP's quit without arguments: matched, not split into words (a line may be huge).
_HMP_QUIT = r"\s*(?:quit|q)\s*"  # compiled when first used


def json_safe(value: Any) -> Any:
    """``value`` with every non-finite number (which JSON cannot write: a peer's 1e999
    read as infinity) as a string, "Infinity", "-Infinity" or "NaN"; the very same object
    when it holds none."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, PackedList):
        return json_safe(list(value))
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


_STRICT = json.JSONEncoder(allow_nan=False, default=as_list)


def encode_line(message: Message) -> bytes:
    """The bytes that send ``message``: a line of JSON (ASCII, with \\u escapes), or a
    raw line as the user wrote it."""
    if isinstance(message, RawMessage):
        return wire_bytes(message.wire) + b"\n"
    return json.dumps(message).encode() + b"\n"


def wire_bytes(text: str) -> bytes:
    """A raw line's bytes as they were read (:func:`raw_errors`)."""
    return text.encode("utf-8", raw_errors(text))


def raw_errors(text: str) -> str:
    """How a raw line's text goes back to bytes: bytes that were not UTF-8 went through
    as surrogates (``surrogateescape``) and go back to what they were; a line with
    another lone surrogate is written with every surrogate as it is (``surrogatepass``):
    QEMU will say what it thinks."""
    return "surrogatepass" if compiled(_UNESCAPED).search(text) else "surrogateescape"


# A surrogate that surrogateescape did not make of a byte (U+DC80..U+DCFF are its own).
_UNESCAPED = "[\ud800-\udc7f\udd00-\udfff]"  # compiled when first used


# Characters of JSON text per piece of dump_pieces: a message larger than this is
# written a piece at a time.
PIECE = 1 << 18


def dump_pieces(value: Any, encoder: json.JSONEncoder, size: int = PIECE) -> Iterator[str]:
    """The text :func:`dumps` writes of ``value`` with ``encoder.encode``, in pieces of
    about ``size`` characters (one piece for a small value), so that the text of a 50 MB
    reply is never held whole beside the reply: its long strings are cut, its long lists
    encoded a run of items at a time, by ``encoder`` (indented or not) all the same."""
    if _size(value, size) <= size:
        yield dumps(value, encoder.encode)
    else:
        yield from _Pieces(encoder, size).of(value, 0)


def _size(value: Any, limit: int) -> int:
    """About how many characters ``value``'s JSON takes, counted no further than past
    ``limit`` (so that a small value costs a walk of itself, a big one of ``limit``)."""
    total = 0
    stack = [value]
    while stack and total <= limit:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item) + 2
        elif isinstance(item, dict):
            total += 2 + 2 * len(item)
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            total += 2 + len(item)
            stack.extend(item)
        elif isinstance(item, PackedList):
            total += item.size
        else:
            total += 8
    return total


class _Pieces:
    """The walk of :func:`dump_pieces` over a value too big for one piece: it goes down
    into what is big, and has ``encoder`` encode what is not (indented to its level)."""

    def __init__(self, encoder: json.JSONEncoder, size: int) -> None:
        self.encode = encoder.encode
        self.size = size
        indent = encoder.indent
        self.pad = None if indent is None else " " * indent if isinstance(indent, int) else indent
        self.comma = encoder.item_separator
        self.colon = encoder.key_separator

    def newline(self, level: int) -> str:
        return "" if self.pad is None else "\n" + self.pad * level

    def whole(self, value: Any, level: int) -> str:
        """``value`` encoded in one piece, indented as at ``level``."""
        text = dumps(value, self.encode)
        if self.pad is None or level == 0:
            return text
        return text.replace("\n", self.newline(level))  # JSON strings hold no raw newline

    def of(self, value: Any, level: int) -> Iterator[str]:
        if isinstance(value, str):
            # JSON escapes a string character by character: it may be cut anywhere.
            yield '"'
            for start in range(0, len(value), self.size):
                yield self.encode(value[start : start + self.size])[1:-1]
            yield '"'
        elif isinstance(value, dict) and value and all(type(key) is str for key in value):
            yield from self.members(value, level)
        elif isinstance(value, (list, tuple)) and value:
            yield from self.items(value, level)
        elif isinstance(value, PackedList) and value:
            yield from self.packed(value, level)
        else:
            yield self.whole(value, level)

    def members(self, value: dict[str, Any], level: int) -> Iterator[str]:
        inner = self.newline(level + 1)
        separator = "{" + inner
        for key, item in value.items():
            yield separator + self.encode(key) + self.colon
            separator = self.comma + inner
            if _size(item, self.size) <= self.size:
                yield self.whole(item, level + 1)
            else:
                yield from self.of(item, level + 1)
        yield self.newline(level) + "}"

    def items(self, value: list[Any] | tuple[Any, ...], level: int) -> Iterator[str]:
        """A list: big items on their own, runs of small ones encoded together."""
        inner = self.newline(level + 1)
        separator = "[" + inner
        run: list[Any] = []
        held = 0
        for item in value:
            size = _size(item, self.size)
            if run and (size > self.size or held + size > self.size):
                yield separator + self.run(run, level)
                separator = self.comma + inner
                run, held = [], 0
            if size > self.size:
                yield separator
                separator = self.comma + inner
                yield from self.of(item, level + 1)
            else:
                run.append(item)
                held += size
        if run:
            yield separator + self.run(run, level)
        yield self.newline(level) + "]"

    def packed(self, value: PackedList, level: int) -> Iterator[str]:
        """A big array kept as text: a run of it parsed and written at a time (a run is
        about a piece: the decoder cut it at that size)."""
        inner = self.newline(level + 1)
        separator = "[" + inner
        for run in value.runs():
            yield separator + self.run(run, level)
            separator = self.comma + inner
        yield self.newline(level) + "]"

    def run(self, items: list[Any], level: int) -> str:
        """Consecutive items of a list at ``level``, as they stand between its brackets."""
        text = self.whole(items, level)
        # Between the brackets of the run's own list (and their newlines when indented).
        start = 1 + len(self.newline(level + 1))
        return text[start : len(text) - 1 - len(self.newline(level))]
