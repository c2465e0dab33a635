"""The JSON text of a message in pieces (``dump_pieces``): the very text ``dumps`` writes,
however it is laid out and however small the pieces, and never a piece much longer than
asked, so that a 50 MB reply is never held twice over on its way out."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import FUZZ_EXAMPLES
from hypothesis import given, settings
from hypothesis import strategies as st

from qmpshell.protocol.message import dump_pieces, dumps

ENCODERS = {
    "compact": json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False),
    "indented": json.JSONEncoder(indent=2, ensure_ascii=False, allow_nan=False),
    "ascii": json.JSONEncoder(allow_nan=False),
}

_TEXT = st.text(
    alphabet=st.sampled_from([*'{}[]"\\:, \n\t', "\u2028", "\x00", "é", "😀", "\ud800", "x"]),
    max_size=30,
)
_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()  # infinities and NaN too, which dumps writes as strings
    | _TEXT,
    lambda children: st.lists(children, max_size=6) | st.dictionaries(_TEXT, children, max_size=6),
    max_leaves=40,
)


@given(value=_VALUES, layout=st.sampled_from(sorted(ENCODERS)), size=st.integers(1, 300))
@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
def test_the_pieces_are_the_text_dumps_writes(value: Any, layout: str, size: int) -> None:
    encoder = ENCODERS[layout]
    assert "".join(dump_pieces(value, encoder, size)) == dumps(value, encoder.encode)


@pytest.mark.parametrize("layout", sorted(ENCODERS))
def test_a_big_reply_comes_in_pieces_no_longer_than_asked(layout: str) -> None:
    encoder = ENCODERS[layout]
    size = 1 << 16
    reply = {
        "return": {
            "data": 'é"\\x' * (1 << 20),
            "list": [{"n": n, "name": "object"} for n in range(50_000)],
            "nested": [[["y" * (1 << 18)]]],
        },
        "id": 1,
    }
    pieces = list(dump_pieces(reply, encoder, size))
    assert "".join(pieces) == dumps(reply, encoder.encode)
    assert len(pieces) > 100
    # An escaped character is at most 6 (\u0000), and indentation adds a little.
    assert max(len(piece) for piece in pieces) <= 6 * size + 100


def test_a_small_message_is_one_piece() -> None:
    encoder = ENCODERS["compact"]
    message = {"return": {"status": "running", "running": True}, "id": 3}
    assert list(dump_pieces(message, encoder)) == [dumps(message, encoder.encode)]
