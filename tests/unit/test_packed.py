"""A reply's big ``return`` array kept as its text (qmpshell.protocol.packed): the decoder
gives what it would have given parsed, whatever the cuts; whatever writes or walks a
message (its JSON pieces, the redaction, the renderer, a library's ``execute``) sees the
same list; and it is held about once, as text."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Iterable
from typing import Any

import pytest
from conftest import FUZZ_EXAMPLES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qmpshell.errors import ProtocolError
from qmpshell.language.redaction import REDACTED, has_secret, redact
from qmpshell.protocol.decoder import MessageDecoder
from qmpshell.protocol.message import dump_pieces, dumps
from qmpshell.protocol.packed import PackedList, as_list, plain, unpacked

_CHARS = st.sampled_from([*'{}[]"\\/:, \r\n\t', "\u2028", "\x00", "é", "😀", "x"])
_TEXT = st.text(alphabet=_CHARS | st.characters(exclude_categories=["Cs"]), max_size=10)
_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _TEXT,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_TEXT, children, max_size=3),
    max_leaves=8,
)
_REPLIES = st.builds(
    lambda items, ident, extra: {"return": items, **extra, "id": ident},
    st.lists(_VALUES, max_size=12),
    st.integers(0, 99),
    st.dictionaries(st.sampled_from(["x", "y"]), _VALUES, max_size=1),
)
_MESSAGES = _REPLIES | st.dictionaries(_TEXT, _VALUES, max_size=3)


def _encode(message: Any, layout: str) -> bytes:
    separators = (",", ":") if layout == "tight" else None
    indent = 2 if layout == "pretty" else None
    text = json.dumps(message, ensure_ascii=False, separators=separators, indent=indent)
    return text.encode() + b"\r\n"


def _cut(data: bytes, points: Iterable[int]) -> list[bytes]:
    edges = [0, *sorted(set(points)), len(data)]
    return [data[a:b] for a, b in zip(edges, edges[1:])]


def _kind(error: ProtocolError) -> str:
    """What an error says was wrong, without where (a run is checked on its own)."""
    return str(error).split(" (")[0].split(":")[0].split(", got")[0]


def _outcome(decoder: MessageDecoder, chunks: list[bytes]) -> tuple[list[Any], str | None]:
    messages: list[Any] = []
    try:
        for chunk in chunks:
            messages.extend(decoder.feed(chunk))
    except ProtocolError as exc:
        return messages, _kind(exc)
    return messages, None


@given(
    messages=st.lists(_MESSAGES, min_size=1, max_size=4),
    layout=st.sampled_from(["compact", "tight", "pretty"]),
    sizes=st.tuples(st.integers(1, 40), st.integers(1, 40)),
    garbage=st.sampled_from([b"", b"\xff", b'"\\', b"\x00", b"x", b"]", b"}", b","]),
    data=st.data(),
)
@settings(
    max_examples=max(10, FUZZ_EXAMPLES // 2),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
def test_a_packing_decoder_gives_what_a_parsing_one_gives(
    messages: list[Any], layout: str, sizes: tuple[int, int], garbage: bytes, data: st.DataObject
) -> None:
    """Arrays packed past a few bytes: the same messages (a PackedList equal to the list)
    and the same error; or, when the stream is bad, the same error sooner (a run is
    checked as it is cut; the other may trip over another fault of it first, or never
    see the bad message end), after no message the other decoder did not give."""
    stream = b"".join(_encode(message, layout) for message in messages)
    at = data.draw(st.integers(0, len(stream)), label="garbage at")
    stream = stream[:at] + garbage + stream[at:]
    points = data.draw(st.lists(st.integers(0, len(stream)), max_size=30), label="cuts")
    chunks = _cut(stream, points)
    limit = data.draw(st.none() | st.integers(0, 400), label="max_message_size")
    long, run = sizes
    packing = _outcome(MessageDecoder(limit, long=long, run=run), chunks)
    whole = MessageDecoder(limit, long=1 << 30, run=1 << 30)
    parsing = _outcome(whole, chunks)
    if packing == parsing:
        return
    given_, error = packing
    assert error in ("invalid JSON from peer", "invalid UTF-8 from peer"), (packing, parsing)
    assert parsing[0][: len(given_)] == given_
    assert parsing[1] is not None or whole.pending > 0  # it failed too, or never got there


def _reply(count: int) -> dict[str, Any]:
    return {
        "return": [{"name": f"dev{i}", "type": "child<virtio-blk-pci>"} for i in range(count)],
        "id": 7,
    }


def _decoded(message: Any, read: int = 1 << 16) -> dict[str, Any]:
    data = _encode(message, "compact")
    decoder = MessageDecoder()
    got = [m for i in range(0, len(data), read) for m in decoder.feed(data[i : i + read])]
    assert decoder.pending == 0
    (only,) = got
    return only


def test_a_big_return_array_is_kept_as_text_and_reads_as_the_list() -> None:
    message = _reply(60_000)  # 3.6 MB
    got = _decoded(message)
    items = got["return"]
    assert isinstance(items, PackedList)
    assert items == message["return"] and len(items) == 60_000
    assert items[0] == message["return"][0] and items[-1] == message["return"][-1]
    assert items[31_234] == message["return"][31_234]
    assert items[10:13] == message["return"][10:13]
    with pytest.raises(IndexError):
        items[60_000]
    assert got["id"] == 7
    assert plain(items) == message["return"] and type(plain(items)) is list
    assert unpacked(got) == message and type(unpacked(got)["return"]) is list


def test_a_reply_smaller_than_a_mebibyte_is_parsed_as_ever() -> None:
    message = _reply(10_000)  # 0.6 MB: the schema's size, say
    assert type(_decoded(message, read=4096)["return"]) is list


def test_other_arrays_and_events_are_not_packed() -> None:
    items = _reply(30_000)["return"]
    for message in ({"event": "X", "data": {"items": items}}, {"return": {"a": items}}):
        got = _decoded(message)
        assert got == message and "PackedList" not in repr(got)


@pytest.mark.parametrize("indent", [None, 2])
def test_the_pieces_of_a_packed_reply_are_the_text_of_the_list(indent: int | None) -> None:
    message = _reply(40_000)
    got = _decoded(message)
    encoder = json.JSONEncoder(indent=indent, ensure_ascii=False)
    assert "".join(dump_pieces(got, encoder)) == encoder.encode(message)
    assert dumps(got) == json.dumps(message)  # the plain encoders take it too
    assert json.dumps(got["return"], default=as_list) == json.dumps(message["return"])


def test_a_secret_in_a_packed_reply_is_found_and_redacted() -> None:
    message = _reply(30_000)
    message["return"][20_000] = {"name": "s", "password": "hunter2"}
    got = _decoded(message)
    assert isinstance(got["return"], PackedList)
    assert has_secret(got)
    redacted = redact(got)
    assert redacted["return"][20_000] == {"name": "s", "password": REDACTED}
    assert not has_secret(_decoded(_reply(30_000)))


def test_a_bad_element_late_in_a_big_array_is_an_error() -> None:
    data = _encode(_reply(40_000), "compact").replace(b'"dev30000"', b'"dev30000" 1', 1)
    decoder = MessageDecoder()
    with pytest.raises(ProtocolError, match="invalid JSON from peer"):
        for i in range(0, len(data), 1 << 16):
            decoder.feed(data[i : i + (1 << 16)])


def test_a_big_array_is_held_about_once_while_decoded() -> None:
    """3.3 MB of small objects: the decoder's peak is the text and a few MiB more (the
    buffer of the message's first MiB, a run as it is checked), where the parsed list
    would take about six times the text."""
    data = _encode(_reply(60_000), "compact")
    decoder = MessageDecoder()
    tracemalloc.start()
    try:
        for i in range(0, len(data), 1 << 16):
            decoder.feed(data[i : i + (1 << 16)])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < len(data) + (3 << 20)


@pytest.mark.parametrize("color", [True, False])
def test_the_terminal_shows_a_packed_reply_as_the_list(color: bool) -> None:
    from qmpshell.ui.render import Renderer

    message = _reply(40_000)
    got = _decoded(message)
    assert isinstance(got["return"], PackedList)
    renderer = Renderer(color=color)
    assert renderer.reply(got) == renderer.reply(message)
    assert renderer.json(got["return"]) == renderer.json(message["return"])
