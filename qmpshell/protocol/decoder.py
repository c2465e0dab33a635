"""Framing of the QMP byte stream into JSON objects.

QMP sends one JSON object after another. A compact monitor ends each with CRLF, but a
monitor started with ``pretty=on`` spreads every object over many lines, a read may hold
several objects or a fraction of one, and a misbehaving peer may send anything. So the
decoder does not look for line ends: it tracks bracket depth outside of strings, and cuts
an object out of the stream when its outer brace closes. The common case, one whole
compact object in one read, is handed straight to :func:`json.loads`.

A long string (a 50 MB ``guest-file-read``) is not kept as bytes until its message is
whole: once it passes :data:`LONG` bytes without an escape, it is decoded as it arrives
into one growing text and its bytes dropped, and a mark stands for it in what
:func:`json.loads` parses; so a 50 MB reply is held about once while it is decoded, not
as its bytes, its text and its value.

A reply's ``return`` array that grows past :data:`LONG` bytes of elements is kept as
their text, a run of :data:`~qmpshell.protocol.packed.RUN` bytes at a time, each run
checked as it is cut: the message then holds a
:class:`~qmpshell.protocol.packed.PackedList` there, so a 50 MB list of small objects is
held about once, as text, not as a million dicts.

A message nested deeper than :data:`~qmpshell.protocol.message.MAX_DEPTH` levels is refused as a
protocol error, as garbage is: everything that walks a message (the JSON encoder, the
redaction, the renderer) may then recurse safely.
"""

from __future__ import annotations

import json
import os
import re

from ..errors import ProtocolError
from ..limits import MAX_DEPTH, nesting_exceeds
from ..patterns import compiled
from .longstring import LongString, put_back
from .packed import RUN, PackedList

TYPE_CHECKING = False  # typing's, without importing typing (docs/architecture.md, start-up)
if TYPE_CHECKING:
    from typing import Any

# A whole string, or a bracket, or the opening quote of a string not yet complete.
# (It, _STRING_REST and _STRING_STOP are compiled when first used: most messages need
# none of them.)
_TOKEN = rb'"[^"\\]*(?:\\[\s\S][^"\\]*)*"|[{}\[\]"]'
# The rest of a string that was cut by a read: everything up to an unescaped quote.
_STRING_REST = rb'[^"\\]*(?:\\[\s\S][^"\\]*)*'
_SPACE = re.compile(rb"[ \t\r\n]*")
# The guest agent puts a 0xFF byte before the reply to guest-sync-delimited.
_SPACE_OR_SYNC = re.compile(rb"[ \t\r\n\xff]*")
SYNC_BYTE = 0xFF

_OPEN = frozenset(b"{[")
# A message this big leaves the buffer before it is parsed (see _drain); a string this
# long is decoded as it arrives (see LongString).
LONG = 1 << 20
# What ends a string streamed as it arrives, or makes it one json.loads must read.
_STRING_STOP = rb'["\\\x00-\x1f]'
_QUOTE = ord('"')
_BRACKET = ord("[")
# What comes before a reply's ``return`` array, the one array packed.
_RETURN_KEY = rb'"return"[ \t\r\n]*:[ \t\r\n]*\Z'
# What stands between the elements of an array.
_SEPARATOR = rb"[ \t\r\n]*,[ \t\r\n]*"


def _may_nest_deep(line: bytes) -> bool:
    """Whether a line has brackets enough to nest too deep (counted at C speed, so that
    only such lines pay for the walk over the parsed value)."""
    return line.count(b"[") + line.count(b"{") > MAX_DEPTH


def describe_bytes(data: bytes | bytearray | memoryview, limit: int = 40) -> str:
    """Show the start of some bytes from a peer safely in one line of an error message."""
    text = bytes(data[:limit]).decode("utf-8", "backslashreplace")  # bad bytes as \xNN
    shown = "".join(_show_char(c) for c in text)
    return f"'{shown}'" + ("..." if len(data) > limit else "")


def _show_char(char: str) -> str:
    if char == "'":
        return "\\'"
    if char.isascii() and char.isprintable():
        return char
    return char.encode("unicode_escape").decode("ascii")


class MessageDecoder:
    """Turns the bytes of a QMP stream, however they are cut, into JSON objects.

    Feed every chunk read from the socket to :meth:`feed`; it returns the objects the
    stream has completed, in order, and keeps the rest. Anything that is not a JSON object
    raises :class:`ProtocolError`, after which the decoder should not be used again.
    """

    def __init__(
        self,
        max_message_size: int | None = None,
        sync_bytes: bool = False,
        long: int = LONG,
        run: int = RUN,
    ) -> None:
        self._buf = bytearray()
        self._max = max_message_size
        self._long = long
        # Guest agent streams: 0xFF may stand between messages, and after a resync the
        # bytes up to the next 0xFF are stale and thrown away.
        self._space = _SPACE_OR_SYNC if sync_bytes else _SPACE
        self._discarding = False
        # State of the object being scanned: it starts at offset 0 of _buf once begun.
        self._begun = False
        self._scan = 0
        self._depth = 0
        self._in_string = False
        self._string_start = 0  # where the string being scanned opens, when in one
        self._may_stream = False  # that string may yet be decoded as it arrives
        # Long strings of the object being scanned: the one arriving, the ones done (by
        # the mark that stands for each in _buf), and how many more bytes the object has
        # than _buf holds of it.
        self._streaming: LongString | None = None
        self._strings: dict[str, str] = {}
        self._streamed = 0
        self._mark = f"qmpshell-long-{os.urandom(12).hex()}-"  # no peer can guess it
        # The ``return`` array being scanned: where its elements not yet cut
        # into runs begin in _buf, where the last whole one ends, and its PackedList (once
        # a run is cut; its mark stands first in the array in _buf). -1: in none.
        self._run = run
        self._array_at = -1
        self._element_end = -1
        self._packing: PackedList | None = None
        self._packs: dict[str, PackedList] = {}
        # Element ends a run apart since _run_from, where the next cut makes runs.
        self._run_from = -1
        self._bounds: list[int] = []

    @property
    def pending(self) -> int:
        """How many bytes are buffered for an object not yet complete."""
        return len(self._buf) + self._streamed

    def discard_until_sync(self) -> None:
        """Drop everything buffered and every byte up to the next 0xFF (guest agent
        resynchronisation: what comes before the agent's 0xFF is stale)."""
        self._buf.clear()
        self._begun = False
        self._in_string = False
        self._forget_strings()
        self._discarding = True

    def _forget_strings(self) -> None:
        self._streaming = None
        self._strings = {}
        self._streamed = 0
        self._array_at = -1
        self._packing = None
        self._packs = {}

    def feed(self, data: bytes) -> list[dict[str, Any]]:
        """Take the next chunk of the stream; return the objects it completes."""
        if self._discarding:
            mark = data.find(SYNC_BYTE)
            if mark < 0:
                return []
            data = data[mark + 1 :]
            self._discarding = False
        messages: list[dict[str, Any]] = []
        if self._streaming is not None:
            data = self._stream(data)
        if not self._buf:
            data = self._whole_lines(data, messages)
        if data:
            self._buf += data
            messages += self._drain()
        return messages

    def _whole_lines(self, data: bytes, messages: list[dict[str, Any]]) -> bytes:
        """The fast path: a compact monitor writes one object per line, and a read often
        holds a run of them. Each whole line that is one JSON object is taken at C speed;
        what is left (a pretty-printed object, part of one, garbage) is returned for the
        scanner."""
        start = 0
        end = data.find(b"\n")
        while end >= 0:
            line = data[start : end + 1]
            if self._too_big(len(line)) or not line.lstrip().startswith(b"{"):
                break
            try:
                value = json.loads(line.decode())
            except (ValueError, RecursionError):
                break  # part of a bigger object, or not JSON: the scanner decides
            if not isinstance(value, dict) or (_may_nest_deep(line) and nesting_exceeds(value)):
                break  # the scanner refuses it, saying why
            messages.append(value)
            start = end + 1
            end = data.find(b"\n", start)
        return data[start:]

    def _drain(self) -> list[dict[str, Any]]:
        buf = self._buf
        messages: list[dict[str, Any]] = []
        start = 0
        while True:
            if not self._begun:
                start = self._space.match(buf, start).end()  # type: ignore[union-attr]
                if start == len(buf):
                    break
                if buf[start] != ord("{"):
                    raise ProtocolError(
                        f"expected a JSON object, got {describe_bytes(buf[start:])}"
                    )
                self._begun = True
                self._scan = start
                self._depth = 0
                self._array_at = -1
            end = self._scan_object(buf)
            if end < 0:
                break
            if self._too_big(end - start + self._streamed):
                raise ProtocolError(f"a message is larger than {self._max} bytes")
            text = _text(buf, start, end)
            self._begun = False
            if end - start >= self._long:
                # Its bytes go before it is parsed: of a big message, no more than its
                # bytes and its text, then its text and its value, are held at once.
                del buf[:end]
                end = 0
            parse = self._parse_with_strings if self._strings else self._parse
            message = parse(text)
            if self._packs:
                message = self._put_packs(message)
            messages.append(message)
            start = end
        if start:
            del buf[:start]
            if self._begun:
                self._scan -= start
                self._string_start -= start
                self._array_at -= start
                self._element_end -= start
                self._run_from -= start
                self._bounds = [bound - start for bound in self._bounds]
        if self._array_at >= 0 and self._element_end - self._array_at >= (
            self._run if self._packing is not None else self._long
        ):  # the first run once the message is big: a smaller one is never packed
            self._cut_run()
        if self._too_big(len(buf) + self._streamed):
            raise ProtocolError(f"a message is larger than {self._max} bytes")
        if self._in_string and self._may_stream and len(buf) - self._string_start > self._long:
            self._stream_from_buffer()
        return messages

    # -- long strings ---------------------------------------------------------------------

    def _parse_with_strings(self, text: str) -> dict[str, Any]:
        """The message whose long strings are marks in ``text``, with them put back. Not
        JSON after all: said of the text as it came (the strings held no escape), so that
        the error is the one the whole would have given."""
        strings, self._strings = self._strings, {}
        self._streamed = 0
        try:
            return put_back(self._parse(text), strings)  # type: ignore[no-any-return]
        except ProtocolError:
            for mark, string in strings.items():
                text = text.replace(f'"{mark}"', f'"{string}"')
            return self._parse(text)

    def _unstream(self, data: bytes) -> bytes:
        """Back to bytes: the string arriving holds what json.loads must read (an escape,
        a control character, bytes that are not UTF-8) once its message is whole."""
        streaming = self._streaming
        assert streaming is not None
        self._streaming = None
        self._may_stream = False
        taken = streaming.bytes_so_far()
        self._buf += b'"' + taken
        self._streamed -= len(taken) + 1
        self._scan = len(self._buf)
        return data

    def _stream_from_buffer(self) -> None:
        """The string being scanned has grown long: from now on it is decoded as it
        arrives, unless it holds what only json.loads may read (an escape, a control
        character)."""
        buf = self._buf
        start = self._string_start + 1
        if compiled(_STRING_STOP).search(buf, start) is not None:
            self._may_stream = False  # an escape, maybe cut: json.loads reads the whole
            return
        streaming = LongString()
        try:
            with memoryview(buf) as whole, whole[start:] as rest:
                streaming.add(rest)
        except UnicodeDecodeError:  # refused once the message is whole, as any
            self._may_stream = False
            return
        self._streamed += len(buf) - start + 1
        del buf[start - 1 :]  # the opening quote too: the mark brings its own
        self._streaming = streaming

    def _stream(self, data: bytes) -> bytes:
        """Take what ``data`` holds of the long string arriving; the rest, for the
        scanner, once the string has closed (or must be read by json.loads after all)."""
        streaming = self._streaming
        assert streaming is not None
        stop = compiled(_STRING_STOP).search(data)
        try:
            if stop is None:
                streaming.add(data)
                self._streamed += len(data)
                if self._too_big(len(self._buf) + self._streamed):
                    raise ProtocolError(f"a message is larger than {self._max} bytes")
                return b""
            at = stop.start()
            if data[at] != _QUOTE:  # an escape or a control character
                return self._unstream(data)
            with memoryview(data) as whole, whole[:at] as part:
                text = streaming.end(part)
        except UnicodeDecodeError:  # refused once the message is whole, as any
            return self._unstream(data)
        self._streaming = None
        mark = f"{self._mark}{len(self._strings)}"
        self._strings[mark] = text
        self._buf += b'"' + mark.encode() + b'"'
        self._streamed += at - len(mark) - 1  # the stream's size, as it came, counted
        self._in_string = False
        self._scan = len(self._buf)
        return data[at + 1 :]

    # -- big arrays ----------------------------------------------------------------------

    def _cut_run(self) -> None:
        """Take the whole elements gathered of the array being scanned out of ``_buf``
        as runs of its PackedList (cut where the scanner marked a run's worth), each
        checked JSON; the first run leaves a mark in their place. Not when a long string
        was streamed: its mark would be in the run."""
        if self._strings or self._streaming is not None:
            return
        buf = self._buf
        begin, end = self._array_at, self._element_end
        if self._packing is None:
            self._packing = PackedList()
            mark = f"{self._mark}p{len(self._packs)}"
            self._packs[mark] = self._packing
            placed = b'"' + mark.encode() + b'"'
            at = begin
        else:  # after the mark: the separator before the run
            placed = b""
            at = self._separated(begin)
        for bound in [*(b for b in self._bounds if at < b < end), end]:
            self._add_run(at, bound)
            if bound < end:
                at = self._separated(bound)
        self._bounds = []
        buf[begin:end] = placed
        shift = len(placed) - (end - begin)
        self._streamed -= shift
        self._array_at = self._element_end = self._run_from = begin + len(placed)
        self._scan += shift
        if self._in_string:
            self._string_start += shift

    def _separated(self, at: int) -> int:
        """Where the element after the one ending at ``at`` begins."""
        separator = compiled(_SEPARATOR).match(self._buf, at)
        if separator is None:
            shown = describe_bytes(self._buf[at : at + 41])
            raise ProtocolError(f"invalid JSON from peer (no ',' between elements): {shown}")
        return separator.end()

    def _add_run(self, at: int, end: int) -> None:
        assert self._packing is not None
        text = _text(self._buf, at, end)
        try:
            count = len(json.loads("[" + text + "]"))
        except (ValueError, RecursionError) as exc:
            raise ProtocolError(f"invalid JSON from peer ({exc}): {_start_of(text)}") from None
        with memoryview(self._buf) as whole, whole[at:end] as part:
            self._packing.add_run(bytes(part), count)

    def _put_packs(self, message: dict[str, Any]) -> dict[str, Any]:
        """The message with each array whose first element is a run's mark as its
        PackedList, the elements parsed after the runs as its tail."""
        packs, self._packs = self._packs, {}
        self._packing = None
        self._streamed = 0
        for key, value in message.items():
            if type(value) is list and value and type(value[0]) is str and value[0] in packs:
                packed = packs[value[0]]
                packed.tail = value[1:]
                message[key] = packed
        return message

    def _element_ends(self, at: int) -> None:
        self._element_end = at
        if at - self._run_from >= self._run:
            self._bounds.append(at)
            self._run_from = at

    def _scan_object(self, buf: bytearray) -> int:
        """Advance over the object begun in ``buf``; its end offset, or -1 if incomplete."""
        pos = self._scan
        if self._in_string:
            pos = compiled(_STRING_REST).match(buf, pos).end()  # type: ignore[union-attr]
            if pos >= len(buf) or buf[pos] != _QUOTE:
                self._scan = pos  # still inside the string (or after a lone backslash)
                return -1
            self._in_string = False
            pos += 1
            if self._depth == 2 and self._array_at >= 0:
                self._element_ends(pos)
        depth = self._depth
        for match in compiled(_TOKEN).finditer(buf, pos):
            first = buf[match.start()]
            if first == _QUOTE:
                if match.end() - match.start() == 1:  # a string the read cut short
                    self._in_string = True
                    self._string_start = match.start()
                    self._may_stream = True
                    self._depth = depth
                    self._scan = match.end()
                    return self._scan_object(buf)
                if depth == 2 and self._array_at >= 0:
                    self._element_ends(match.end())  # a string of the array's
                continue
            if first in _OPEN:
                depth += 1
                if depth > MAX_DEPTH:
                    raise ProtocolError(f"a message from peer nested more than {MAX_DEPTH} deep")
                if depth == 2 and first == _BRACKET and _returns(buf, match.start()):
                    self._array_at = self._element_end = self._run_from = match.end()
                    self._bounds = []
                    self._packing = None
            else:
                depth -= 1
                if depth == 2:
                    if self._array_at >= 0:
                        self._element_ends(match.end())  # an object or array of the array's
                elif depth == 1:
                    self._array_at = -1
                elif depth == 0:
                    self._depth = 0
                    return match.end()
        self._depth = depth
        self._scan = len(buf)
        return -1

    def _too_big(self, size: int) -> bool:
        return self._max is not None and size > self._max

    @staticmethod
    def _parse(text: str) -> dict[str, Any]:
        try:
            value = json.loads(text)
        except RecursionError:
            raise ProtocolError(f"JSON nested too deeply from peer: {_start_of(text)}") from None
        except ValueError as exc:
            raise ProtocolError(f"invalid JSON from peer ({exc}): {_start_of(text)}") from exc
        if not isinstance(value, dict):
            raise ProtocolError(f"expected a JSON object, got {_start_of(text)}")
        return value


def _returns(buf: bytearray, at: int) -> bool:
    """Whether the array opening at ``at`` is the value of a ``return`` member."""
    with memoryview(buf) as whole, whole[max(0, at - 32) : at] as before:
        return compiled(_RETURN_KEY).search(before) is not None


def _text(buf: bytearray, start: int, end: int) -> str:
    """``buf[start:end]`` decoded, without a copy of the bytes on the way. Decoded
    first: ``json.loads(bytes)`` would also guess UTF-16/32 and pass surrogates."""
    with memoryview(buf) as whole, whole[start:end] as part:
        try:
            return str(part, "utf-8")
        except UnicodeDecodeError as exc:
            shown = describe_bytes(part[:41])
            raise ProtocolError(f"invalid UTF-8 from peer: {shown}") from exc


def _start_of(text: str) -> str:
    """What :func:`describe_bytes` shows of the bytes ``text`` was decoded from."""
    return describe_bytes(text[:41].encode())
