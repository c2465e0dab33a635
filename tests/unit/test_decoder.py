"""Unit tests for qmpshell.protocol.decoder: framing a QMP byte stream into JSON objects.

Pure tests, no sockets: bytes go into :class:`MessageDecoder` cut in every way a socket
might cut them, and exactly the objects that were encoded must come out.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import pytest
from conftest import FUZZ_EXAMPLES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qmpshell.errors import ProtocolError, QMPShellError
from qmpshell.limits import MAX_DEPTH
from qmpshell.protocol.decoder import MessageDecoder, describe_bytes

# Generating nested JSON is slower than generating bytes: the round-trip properties
# run a fraction of the fuzz budget, still scaled by QMPSHELL_FUZZ_EXAMPLES.
ROUND_TRIP_EXAMPLES = max(10, FUZZ_EXAMPLES // 2)

GREETING = {
    "QMP": {
        "version": {"qemu": {"micro": 0, "minor": 2, "major": 8}, "package": ""},
        "capabilities": ["oob"],
    }
}
RETURN = {"return": {}, "id": 1}
EVENT = {
    "timestamp": {"seconds": 1700000000, "microseconds": 123456},
    "event": "STOP",
}
TRICKY = {
    "return": {
        "braces": "{}}{{ ]][[ }",
        "quotes": 'say "hi" \\"there\\"',
        "backslashes": "C:\\dir\\ \\\\ end\\",
        "unicode": "é € 😀 \u2028 ✓",
        "nested": [{"a": [1, 2, {"b": "}"}]}, [], {}],
    },
    "id": "x{y}",
}


def compact(obj: Any) -> bytes:
    """One message as a compact QMP monitor sends it."""
    return json.dumps(obj, ensure_ascii=False).encode() + b"\r\n"


def pretty(obj: Any) -> bytes:
    """One message as a ``pretty=on`` QMP monitor lays it out."""
    return json.dumps(obj, indent=4, ensure_ascii=False).replace("\n", "\r\n").encode() + b"\r\n"


def feed_all(chunks: Iterable[bytes], decoder: MessageDecoder | None = None) -> list[Any]:
    decoder = decoder or MessageDecoder()
    messages: list[Any] = []
    for chunk in chunks:
        messages.extend(decoder.feed(chunk))
    return messages


def cut(data: bytes, points: Iterable[int]) -> list[bytes]:
    """``data`` cut at the given offsets (in any order, duplicates allowed)."""
    edges = [0, *sorted(set(points)), len(data)]
    return [data[a:b] for a, b in zip(edges, edges[1:])]


def chunked(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


# -- well-formed streams -------------------------------------------------------------


def test_one_compact_message_per_read() -> None:
    decoder = MessageDecoder()
    for obj in (GREETING, RETURN, EVENT, TRICKY):
        assert decoder.feed(compact(obj)) == [obj]
        assert decoder.pending == 0


def test_compact_message_without_crlf_is_complete_when_brace_closes() -> None:
    decoder = MessageDecoder()
    assert decoder.feed(b'{"return": {}}') == [{"return": {}}]
    assert decoder.pending == 0


def test_several_messages_in_one_read() -> None:
    data = compact(GREETING) + compact(EVENT) + compact(RETURN)
    assert MessageDecoder().feed(data) == [GREETING, EVENT, RETURN]


def test_several_messages_without_separators() -> None:
    assert MessageDecoder().feed(b'{"a":1}{"b":2}{}') == [{"a": 1}, {"b": 2}, {}]


def test_read_with_messages_and_start_of_next() -> None:
    decoder = MessageDecoder()
    second = compact(EVENT)
    assert decoder.feed(compact(RETURN) + second[:10]) == [RETURN]
    assert decoder.pending == 10
    assert decoder.feed(second[10:]) == [EVENT]
    assert decoder.pending == 0


@pytest.mark.parametrize("obj", [RETURN, GREETING, TRICKY], ids=["return", "greeting", "tricky"])
def test_one_message_split_at_every_offset(obj: Any) -> None:
    data = compact(obj)
    for offset in range(len(data) + 1):
        decoder = MessageDecoder()
        first = decoder.feed(data[:offset])
        second = decoder.feed(data[offset:])
        assert first + second == [obj], offset
        # The object is complete exactly when its closing brace has arrived.
        complete_at = len(data) - 2  # before the CRLF
        assert first == ([obj] if offset >= complete_at else []), offset
        assert decoder.pending == 0, offset


def test_one_message_byte_by_byte() -> None:
    data = compact(TRICKY)
    decoder = MessageDecoder()
    messages: list[Any] = []
    for i in range(len(data)):
        messages += decoder.feed(data[i : i + 1])
        if not messages:
            assert decoder.pending == i + 1
    assert messages == [TRICKY]
    assert decoder.pending == 0


def test_two_messages_split_at_every_offset() -> None:
    data = compact(TRICKY) + compact(EVENT)
    for offset in range(len(data) + 1):
        assert feed_all([data[:offset], data[offset:]]) == [TRICKY, EVENT], offset


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 16])
def test_pretty_messages_in_small_chunks(size: int) -> None:
    objs = [GREETING, RETURN, EVENT, TRICKY, {"return": []}, {"return": {"a": {"b": {}}}}]
    data = b"".join(pretty(obj) for obj in objs)
    assert b"\r\n    " in data  # really the multi-line layout
    decoder = MessageDecoder()
    assert feed_all(chunked(data, size), decoder) == objs
    assert decoder.pending == 0


def test_pretty_message_in_one_read() -> None:
    assert MessageDecoder().feed(pretty(TRICKY)) == [TRICKY]


def test_pretty_messages_each_line_a_read() -> None:
    data = pretty(GREETING) + pretty(TRICKY)
    lines = data.splitlines(keepends=True)
    assert len(lines) > 10
    assert feed_all(lines) == [GREETING, TRICKY]


@pytest.mark.parametrize(
    "value",
    [
        "{",
        "}",
        "[",
        "]",
        "{}[]",
        '"',
        '{"',
        '"}',
        "\\",
        "\\\\",
        '\\"',
        '\\"}',
        "\\\\}",
        "\\u007d",
        "a\\",
    ],
)
def test_strings_with_brackets_quotes_and_backslashes(value: str) -> None:
    obj = {"s": value, "t": [value, {value: value}]}
    data = compact(obj)
    for offset in range(len(data) + 1):
        assert feed_all([data[:offset], data[offset:]]) == [obj], offset
    assert feed_all(chunked(data, 1)) == [obj]


def test_split_right_after_a_backslash() -> None:
    obj = {"s": 'a\\"}b\\\\{"\\'}
    data = compact(obj)
    offsets = [i + 1 for i, byte in enumerate(data) if byte == ord("\\")]
    assert len(offsets) >= 4
    for offset in offsets:
        decoder = MessageDecoder()
        assert decoder.feed(data[:offset]) == []
        assert decoder.pending == offset
        assert decoder.feed(data[offset:]) == [obj], offset


def test_split_after_a_backslash_then_one_byte_at_a_time() -> None:
    obj = {"s": '\\"\\"\\\\'}
    data = compact(obj)
    offset = data.index(b"\\") + 1
    assert feed_all([data[:offset], *chunked(data[offset:], 1)]) == [obj]


def test_split_inside_multibyte_utf8_character() -> None:
    obj = {"s": "x😀y€z"}
    data = compact(obj)
    emoji = "😀".encode()
    assert len(emoji) == 4
    start = data.index(emoji)
    for offset in range(start + 1, start + len(emoji)):
        decoder = MessageDecoder()
        assert decoder.feed(data[:offset]) == []
        assert decoder.feed(data[offset:]) == [obj], offset
    euro = data.index("€".encode())
    assert feed_all([data[: euro + 1], data[euro + 1 : euro + 2], data[euro + 2 :]]) == [obj]


def test_split_inside_multibyte_character_with_complete_message_before() -> None:
    first = compact(RETURN)
    second = compact({"s": "é"})
    offset = second.index("é".encode()) + 1
    decoder = MessageDecoder()
    assert decoder.feed(first + second[:offset]) == [RETURN]
    assert decoder.feed(second[offset:]) == [{"s": "é"}]


@pytest.mark.parametrize("space", [b" ", b"\r\n", b"\n", b"\t", b" \r\n\t\n  ", b"\r\n" * 50])
def test_whitespace_between_and_around_messages(space: bytes) -> None:
    data = space + b'{"a": 1}' + space + b'{"b": 2}' + space
    assert MessageDecoder().feed(data) == [{"a": 1}, {"b": 2}]
    decoder = MessageDecoder()
    assert feed_all(chunked(data, 1), decoder) == [{"a": 1}, {"b": 2}]
    assert decoder.pending == 0


def test_whitespace_only_reads() -> None:
    decoder = MessageDecoder()
    for data in (b"", b"\r\n", b"   ", b"\n", b"\t\r\n"):
        assert decoder.feed(data) == []
        assert decoder.pending == 0
    assert decoder.feed(b'{"a": 1}\r\n') == [{"a": 1}]


def test_pending_counts_incomplete_message_and_returns_to_zero() -> None:
    decoder = MessageDecoder()
    assert decoder.pending == 0
    assert decoder.feed(b'{"return"') == []
    assert decoder.pending == len(b'{"return"')
    assert decoder.feed(b": {}") == []
    assert decoder.pending == len(b'{"return": {}')
    assert decoder.feed(b"}\r\n") == [{"return": {}}]
    assert decoder.pending == 0
    assert decoder.feed(b"\r\n  {") == []
    assert decoder.pending == 1  # the whitespace before the object is not kept
    assert decoder.feed(b"}") == [{}]
    assert decoder.pending == 0


def test_decoder_reusable_after_many_messages() -> None:
    decoder = MessageDecoder()
    for i in range(200):
        data = compact({"id": i, "return": {"s": "{" * (i % 7)}})
        cut_at = i % len(data)
        assert feed_all([data[:cut_at], data[cut_at:]], decoder) == [
            {"id": i, "return": {"s": "{" * (i % 7)}}
        ]
        assert decoder.pending == 0


def test_json_extensions_treated_alike_by_both_paths() -> None:
    # Python's json module accepts NaN and Infinity; QEMU never sends them. Accepting or
    # rejecting them are both fine, but the one-read fast path and the scanning path
    # must agree, and nothing but ProtocolError may escape.
    for literal in (b"NaN", b"Infinity", b"-Infinity"):
        outcomes = []
        for data in (b'{"a": ' + literal + b"}\r\n", b'{"a": ' + literal + b"}"):
            try:
                (message,) = MessageDecoder().feed(data)
            except ProtocolError:
                outcomes.append("error")
            else:
                outcomes.append(json.dumps(message))
        assert outcomes[0] == outcomes[1], literal


# -- errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"[1, 2]\r\n",
        b"[1, 2]",
        b'[{"a": 1}]\r\n',
        b'"a string"\r\n',
        b'"a string"',
        b"42\r\n",
        b"42",
        b"-1.5\r\n",
        b"null\r\n",
        b"true\r\n",
        b"}\r\n",
        b"]",
    ],
)
def test_non_object_at_top_level_is_an_error(data: bytes) -> None:
    with pytest.raises(ProtocolError, match="expected a JSON object"):
        MessageDecoder().feed(data)


def test_non_object_after_a_message_is_an_error() -> None:
    with pytest.raises(ProtocolError):
        MessageDecoder().feed(compact(RETURN) + b"[1]\r\n")
    decoder = MessageDecoder()
    assert decoder.feed(compact(RETURN)) == [RETURN]
    with pytest.raises(ProtocolError):
        decoder.feed(b'"str"\r\n')


def test_non_object_split_across_reads_is_an_error() -> None:
    decoder = MessageDecoder()
    with pytest.raises(ProtocolError):
        decoder.feed(b"[")


def test_http_response_is_an_error() -> None:
    data = b"HTTP/1.1 400 Bad Request\r\n"
    with pytest.raises(ProtocolError) as info:
        MessageDecoder().feed(data)
    assert "HTTP/1.1 400" in str(info.value)
    with pytest.raises(ProtocolError):
        feed_all(chunked(data, 3))


@pytest.mark.parametrize(
    "data",
    [
        b'{"a": tru}',
        b'{"a": tru}\r\n',
        b'{"a" 1}\r\n',
        b'{"a": 1,}\r\n',
        b"{'a': 1}\r\n",
        b"{a: 1}\r\n",
        b'{"a": [1, 2}\r\n]}',
        b'{"a": 1]',
        b"{]",
    ],
)
def test_invalid_json_inside_braces_is_an_error(data: bytes) -> None:
    with pytest.raises(ProtocolError, match="invalid JSON"):
        MessageDecoder().feed(data)
    with pytest.raises(ProtocolError, match="invalid JSON"):
        feed_all(chunked(data, 2))


@pytest.mark.parametrize(
    "data",
    [
        b'{"a": "\xff"}\r\n',
        b'{"a": "\xff"}',
        b'{"a": "\xc3"}\r\n',  # truncated two-byte sequence
        b'{"\xfe": 1}\r\n',
    ],
)
def test_invalid_utf8_inside_string_is_an_error(data: bytes) -> None:
    with pytest.raises(ProtocolError, match="UTF-8"):
        MessageDecoder().feed(data)
    with pytest.raises(ProtocolError, match="UTF-8"):
        feed_all(chunked(data, 3))


@pytest.mark.parametrize(
    "data",
    [
        b'{"a": "\xed\xa0\x80"}\r\n',  # U+D800 encoded as if it were a character
        b'{"a": "\xed\xa0\x80"}',
        b'{"a": "\xed\xbf\xbf"}\r\n',  # U+DFFF
    ],
    ids=["fast-path", "scanning-path", "low-surrogate"],
)
def test_utf8_encoded_surrogate_is_an_error(data: bytes) -> None:
    with pytest.raises(ProtocolError, match="UTF-8"):
        MessageDecoder().feed(data)


def test_protocol_error_is_a_qmpshell_error() -> None:
    assert issubclass(ProtocolError, QMPShellError)


@pytest.mark.parametrize(
    "data",
    [
        b"\xef\xbb\xbf{}\r\n",  # UTF-8 byte order mark
        "{}\r\n".encode("utf-16-be"),
        "{}\r\n".encode("utf-32-be"),
        "{}\n".encode("utf-16-be"),
    ],
    ids=["utf-8-bom", "utf-16-be-crlf", "utf-32-be", "utf-16-be-lf"],
)
def test_non_utf8_encodings_rejected_whatever_the_cut(data: bytes) -> None:
    with pytest.raises(ProtocolError):
        feed_all([data[:1], data[1:]])  # the slow path rejects it...
    with pytest.raises(ProtocolError):
        MessageDecoder().feed(data)  # ...so must the fast path


@pytest.mark.parametrize("newline", [b"\r\n", b""], ids=["fast-path", "scanning-path"])
def test_deeply_nested_message_raises_protocol_error(newline: bytes) -> None:
    depth = 100_000
    data = b'{"a": ' + b"[" * depth + b"]" * depth + b"}" + newline
    with pytest.raises(ProtocolError):
        MessageDecoder().feed(data)


def _nested(depth: int, lists: bool) -> bytes:
    """A message ``depth`` levels deep, its own object included."""
    inner = depth - 1
    if lists:
        return b'{"return": ' + b"[" * inner + b"]" * inner + b"}"
    return b'{"return": ' + b'{"a": ' * (inner - 1) + b"{}" + b"}" * (inner - 1) + b"}"


@pytest.mark.parametrize("newline", [b"\r\n", b""], ids=["fast-path", "scanning-path"])
@pytest.mark.parametrize("lists", [True, False], ids=["lists", "objects"])
def test_nesting_to_the_limit_is_taken_and_past_it_refused(newline: bytes, lists: bool) -> None:
    at = _nested(MAX_DEPTH, lists)
    assert MessageDecoder().feed(at + newline) == [json.loads(at)]
    assert feed_all([at[:300], at[300:] + newline]) == [json.loads(at)]
    past = _nested(MAX_DEPTH + 1, lists) + newline
    for chunks in ([past], [past[:300], past[300:]]):
        with pytest.raises(ProtocolError, match=f"nested more than {MAX_DEPTH} deep"):
            feed_all(chunks)


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    message = {"return": "[" * 1000 + "{" * 1000, "id": ["[{"] * 300}
    data = json.dumps(message).encode() + b"\r\n"
    assert MessageDecoder().feed(data) == [message]  # counted, then walked: shallow
    assert feed_all([data[:1500], data[1500:]]) == [message]


# -- max_message_size -----------------------------------------------------------------


def test_no_limit_by_default() -> None:
    big = {"return": "x" * 1_000_000}
    data = compact(big)
    assert feed_all(chunked(data, 65536)) == [big]


def test_incomplete_message_over_limit_is_an_error() -> None:
    decoder = MessageDecoder(max_message_size=100)
    assert decoder.feed(b'{"a": "' + b"x" * 50) == []
    with pytest.raises(ProtocolError, match="larger than 100 bytes"):
        decoder.feed(b"x" * 60)


def test_message_at_the_limit_is_accepted_in_any_cut() -> None:
    data = b'{"a": "' + b"x" * 91 + b'"}'
    assert len(data) == 100
    for offset in range(len(data) + 1):
        decoder = MessageDecoder(max_message_size=100)
        assert feed_all([data[:offset], data[offset:], b"\r\n"], decoder) == [{"a": "x" * 91}], (
            offset
        )


def test_limit_counts_only_the_incomplete_message() -> None:
    # Many small complete messages in one read do not add up to the limit.
    decoder = MessageDecoder(max_message_size=50)
    data = compact({"return": {}}) * 100
    assert len(decoder.feed(data)) == 100
    assert decoder.pending == 0
    second = compact({"return": "y" * 30})
    assert decoder.feed(data + second[:40]) == [{"return": {}}] * 100
    assert decoder.pending == 40


def test_limit_applies_while_inside_a_string() -> None:
    decoder = MessageDecoder(max_message_size=1000)
    decoder.feed(b'{"a": "')
    with pytest.raises(ProtocolError):
        for _ in range(100):
            decoder.feed(b"{[\\\\" * 10)


@pytest.mark.parametrize("newline", [b"\r\n", b""], ids=["fast-path", "scanning-path"])
def test_message_over_limit_rejected_whatever_the_cut(newline: bytes) -> None:
    data = b'{"a": "' + b"x" * 200 + b'"}' + newline
    with pytest.raises(ProtocolError):
        feed_all([data[:150], data[150:]], MessageDecoder(max_message_size=100))
    with pytest.raises(ProtocolError):
        MessageDecoder(max_message_size=100).feed(data)


# -- describe_bytes ------------------------------------------------------------------


def test_describe_bytes_short() -> None:
    assert describe_bytes(b"HTTP/1.1 400") == "'HTTP/1.1 400'"


def test_describe_bytes_truncates_after_limit() -> None:
    data = b"a" * 41
    assert describe_bytes(data) == "'" + "a" * 40 + "'..."
    assert describe_bytes(data[:40]) == "'" + "a" * 40 + "'"
    assert describe_bytes(b"abcdef", limit=3) == "'abc'..."


def test_describe_bytes_escapes_control_quotes_and_invalid_utf8() -> None:
    shown = describe_bytes(b"a'b\r\n\x00\xff")
    assert "\n" not in shown and "\r" not in shown
    assert shown.isascii()
    assert shown.startswith("'") and shown.endswith("'")
    assert "\\'" in shown
    assert "\\r\\n" in shown
    assert "xff" in shown


def test_describe_bytes_accepts_bytearray() -> None:
    assert describe_bytes(bytearray(b"{}")) == "'{}'"


@given(st.binary(max_size=200), st.integers(min_value=0, max_value=100))
@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
def test_describe_bytes_is_one_printable_ascii_line(data: bytes, limit: int) -> None:
    shown = describe_bytes(data, limit)
    assert shown.isascii()
    assert shown.isprintable()
    assert shown.startswith("'")
    assert shown.endswith("'...") == (len(data) > limit)


# -- properties ----------------------------------------------------------------------

# Text that is heavy in the characters the scanner cares about, plus arbitrary unicode.
_TRICKY_CHARS = st.sampled_from([*'{}[]"\\/:, \r\n\t', "\u2028", "\x00", "é", "😀"])
# Lone surrogates are left out: they cannot be encoded as UTF-8 at all.
_TEXT = st.text(
    alphabet=st.one_of(_TRICKY_CHARS, st.characters(exclude_categories=["Cs"])), max_size=12
)

_JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | _TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_TEXT, children, max_size=4),
    max_leaves=12,
)
_JSON_OBJECTS = st.dictionaries(_TEXT, _JSON_VALUES, max_size=5)


def _encode(obj: Any, layout: str, ensure_ascii: bool) -> bytes:
    if layout == "compact":
        text = json.dumps(obj, ensure_ascii=ensure_ascii)
    elif layout == "tight":
        text = json.dumps(obj, ensure_ascii=ensure_ascii, separators=(",", ":"))
    else:
        text = json.dumps(obj, ensure_ascii=ensure_ascii, indent=4).replace("\n", "\r\n")
    return text.encode() + b"\r\n"


@given(
    objs=st.lists(_JSON_OBJECTS, max_size=5),
    layout=st.sampled_from(["compact", "tight", "pretty"]),
    ensure_ascii=st.booleans(),
    data=st.data(),
)
@settings(
    max_examples=ROUND_TRIP_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
def test_any_stream_cut_anywhere_decodes_to_the_original(
    objs: list[dict[str, Any]], layout: str, ensure_ascii: bool, data: st.DataObject
) -> None:
    stream = b"".join(_encode(obj, layout, ensure_ascii) for obj in objs)
    points = data.draw(
        st.lists(st.integers(min_value=0, max_value=len(stream)), max_size=20), label="cuts"
    )
    decoder = MessageDecoder()
    assert feed_all(cut(stream, points), decoder) == objs
    assert decoder.pending == 0


@given(
    objs=st.lists(_JSON_OBJECTS, min_size=1, max_size=4),
    layouts=st.lists(st.sampled_from(["compact", "tight", "pretty"]), min_size=4, max_size=4),
    data=st.data(),
)
@settings(
    max_examples=max(10, FUZZ_EXAMPLES // 4),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
def test_mixed_layouts_cut_anywhere_decode_to_the_original(
    objs: list[dict[str, Any]], layouts: list[str], data: st.DataObject
) -> None:
    stream = b"".join(
        _encode(obj, layout, ensure_ascii=False) for obj, layout in zip(objs, layouts)
    )
    points = data.draw(
        st.lists(st.integers(min_value=0, max_value=len(stream)), max_size=30), label="cuts"
    )
    assert feed_all(cut(stream, points)) == objs


def _check_feed_result(result: Sequence[Any]) -> None:
    assert isinstance(result, list)
    assert all(isinstance(message, dict) for message in result)


@given(chunks=st.lists(st.binary(max_size=64), max_size=8))
@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
def test_arbitrary_bytes_give_dicts_or_protocol_error(chunks: list[bytes]) -> None:
    decoder = MessageDecoder(max_message_size=128)
    for chunk in chunks:
        try:
            result = decoder.feed(chunk)
        except ProtocolError:
            return
        _check_feed_result(result)


# Bytes built from JSON-ish fragments reach much deeper into the scanner than uniform
# random bytes, which almost never start with "{".
_FRAGMENTS = st.sampled_from(
    [
        b"{",
        b"}",
        b"[",
        b"]",
        b'"',
        b"\\",
        b'\\"',
        b":",
        b",",
        b" ",
        b"\r\n",
        b"\n",
        b"1",
        b"-",
        b"true",
        b"null",
        b'"a"',
        b'{"a":',
        b"\xc3",
        b"\xa9",
        b"\xff",
        b"\xef\xbb\xbf",
        b"\x00",
        b"NaN",
        b"e5",
        b".",
    ]
)


@given(
    fragments=st.lists(_FRAGMENTS | st.binary(max_size=4), max_size=40),
    data=st.data(),
)
@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
def test_json_like_garbage_gives_dicts_or_protocol_error(
    fragments: list[bytes], data: st.DataObject
) -> None:
    stream = b"".join(fragments)
    points = data.draw(
        st.lists(st.integers(min_value=0, max_value=len(stream)), max_size=6), label="cuts"
    )
    decoder = MessageDecoder(max_message_size=data.draw(st.none() | st.integers(0, 64)))
    for chunk in cut(stream, points):
        try:
            result = decoder.feed(chunk)
        except ProtocolError:
            return
        _check_feed_result(result)


# -- big messages --------------------------------------------------------------------

# More than the decoder keeps in its buffer while it parses (its bytes go first).
BIG = {"return": {"data": 'x{é}\\"' * 400_000}, "id": 7}


@pytest.mark.parametrize("size", [1 << 16, 1 << 18, 3 << 20])
def test_a_big_message_between_small_ones_decodes_whole(size: int) -> None:
    """A message of megabytes, pretty or compact, between two small ones and cut as a
    socket cuts it: each arrives whole, and nothing is left in the buffer."""
    stream = compact(RETURN) + compact(BIG) + pretty(BIG) + compact(EVENT)
    decoder = MessageDecoder()
    assert feed_all(chunked(stream, size), decoder) == [RETURN, BIG, BIG, EVENT]
    assert decoder.pending == 0


def test_a_big_message_cut_short_is_pending() -> None:
    data = compact(BIG)
    decoder = MessageDecoder()
    assert feed_all(chunked(data[:-10], 1 << 18), decoder) == []
    assert decoder.pending == len(data) - 10
    assert decoder.feed(data[-10:]) == [BIG]
    assert decoder.pending == 0


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b'{"a": "' + b"x" * (2 << 20) + b'\xff"}', 'invalid UTF-8 from peer: \'{"a": "xxx'),
        (b'{"a": ' + b"1" * (2 << 20) + b"x}", 'invalid JSON from peer .*: \'{"a": 111'),
    ],
    ids=["utf-8", "json"],
)
def test_a_big_message_that_is_not_json_is_an_error(data: bytes, error: str) -> None:
    with pytest.raises(ProtocolError, match=error):
        feed_all(chunked(data + b"\r\n", 1 << 18))


# -- long strings, decoded as they arrive ---------------------------------------------


def _outcome(decoder: MessageDecoder, chunks: Iterable[bytes]) -> tuple[list[Any], str | None]:
    """The messages a decoder gives for ``chunks``, and what the error that stopped it
    says was wrong (not the message's start it shows: an error seen as the string
    arrives shows what had come of it)."""
    messages: list[Any] = []
    try:
        for chunk in chunks:
            messages.extend(decoder.feed(chunk))
    except ProtocolError as exc:
        return messages, str(exc).partition(": '")[0]
    return messages, None


_LONG_TEXT = st.text(
    alphabet=st.one_of(_TRICKY_CHARS, st.sampled_from("xyz€"), st.characters()), max_size=40
)


@given(
    objs=st.lists(st.dictionaries(_TEXT | _LONG_TEXT, _JSON_VALUES | _LONG_TEXT), max_size=4),
    layout=st.sampled_from(["compact", "tight", "pretty"]),
    long=st.integers(1, 12),
    garbage=st.sampled_from([b"", b"\xff", b'"\\', b"\x00", b"x"]),
    data=st.data(),
)
@settings(
    max_examples=ROUND_TRIP_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
def test_strings_decoded_as_they_arrive_give_what_the_whole_gives(
    objs: list[dict[str, Any]], layout: str, long: int, garbage: bytes, data: st.DataObject
) -> None:
    """Whatever the stream and its cuts: a decoder that takes strings longer than
    ``long`` as they arrive gives the same messages, and the same error, as one that
    never does. (Lone surrogates included: they make invalid UTF-8; every third message
    without its backslashes, so that strings go unescaped to their end.)"""
    stream = b"".join(
        _encode_any(obj, layout).replace(b"\\", b"") if n % 3 == 2 else _encode_any(obj, layout)
        for n, obj in enumerate(objs)
    )
    at = data.draw(st.integers(0, len(stream)), label="garbage at")
    stream = stream[:at] + garbage + stream[at:]
    points = data.draw(
        st.lists(st.integers(min_value=0, max_value=len(stream)), max_size=20), label="cuts"
    )
    chunks = cut(stream, points)
    limit = data.draw(st.none() | st.integers(0, 300), label="max_message_size")
    streaming = MessageDecoder(limit, long=long)
    assert _outcome(streaming, chunks) == _outcome(MessageDecoder(limit), chunks)


def _encode_any(obj: Any, layout: str) -> bytes:
    """As :func:`_encode`, lone surrogates written as bytes that are not UTF-8."""
    text = json.dumps(obj, ensure_ascii=False, indent=4 if layout == "pretty" else None)
    return text.encode("utf-8", "surrogatepass") + b"\r\n"


LONG_DATA = "QUJD" * 5_000_000  # a guest-file-read's base64: 20 MB without an escape


@pytest.mark.parametrize("size", [1 << 12, 1 << 18, 3 << 20])
def test_a_long_string_is_taken_as_it_arrives(size: int) -> None:
    """20 MB strings (a value and a key) between small messages, cut as a socket cuts
    them: whole; ``pending`` counts what was taken of the one arriving."""
    message = {"return": {"buf-b64": LONG_DATA, LONG_DATA[: 3 << 20]: "é€😀", "n": 1}, "id": 2}
    stream = compact(RETURN) + compact(message) + pretty(message) + compact(EVENT)
    cut_short = len(stream) - len(compact(EVENT)) - 100  # inside the second message
    decoder = MessageDecoder()
    assert feed_all(chunked(stream[:cut_short], size), decoder) == [RETURN, message]
    assert decoder.pending > 20_000_000
    assert decoder.feed(stream[cut_short:]) == [message, EVENT]
    assert decoder.pending == 0


def test_a_long_string_counts_towards_the_size_limit() -> None:
    decoder = MessageDecoder(max_message_size=10 << 20)
    with pytest.raises(ProtocolError, match="larger than 10485760 bytes"):
        feed_all(chunked(compact({"return": LONG_DATA}), 1 << 16), decoder)


@pytest.mark.parametrize(
    ("tail", "error"),
    [
        (b'\xff"}\r\n', 'invalid UTF-8 from peer: \'{"return": "QUJD'),
        (b'\x01"}\r\n', "invalid JSON"),
    ],
)
def test_a_long_string_with_bad_bytes_late_in_it_is_an_error(tail: bytes, error: str) -> None:
    data = b'{"return": "' + LONG_DATA.encode() + tail
    with pytest.raises(ProtocolError, match=error):
        feed_all(chunked(data, 1 << 16))


def test_a_long_string_with_an_escape_late_in_it_is_read_whole() -> None:
    message = {"return": LONG_DATA[: 3 << 20] + '\\"\n' + LONG_DATA[:1000], "id": 1}
    assert feed_all(chunked(compact(message), 1 << 16)) == [message]
