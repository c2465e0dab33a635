"""Pure facts about messages: ids as QEMU echoes them, raw text with the shell's id,
raw objects over several lines."""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from qmpshell.language.rawjson import opens_object, parse_raw_json
from qmpshell.limits import MAX_DEPTH, nesting_exceeds
from qmpshell.protocol.message import RawMessage, dumps, id_key, json_safe

_I64 = range(-(1 << 63), 1 << 64)


def qemu_echo(value: Any) -> Any:
    """What QEMU sends back for an id: integers it holds exactly stay, others become a
    double, and a double is written with %.17g (an integral one without a point)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int) and value in _I64:
        return value
    if isinstance(value, (int, float)):
        return json.loads(f"{float(value):.17g}")
    if isinstance(value, list):
        return [qemu_echo(item) for item in value]
    return {key: qemu_echo(item) for key, item in value.items()}


scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(1 << 80), max_value=1 << 80)
    | st.floats(allow_nan=False, allow_infinity=False, width=64)
    | st.text(max_size=8)
)
ids = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)


@given(ids)
def test_an_id_and_qemus_echo_have_one_key(ident: Any) -> None:
    assert id_key(ident) == id_key(qemu_echo(ident))


def test_ids_of_different_kinds_stay_apart() -> None:
    keys = [id_key(v) for v in (1, "1", True, None, [1], {"1": 1}, 1.5)]
    assert len(set(keys)) == len(keys)
    assert id_key(1.0) == id_key(1)
    assert id_key(18446744073709551616) == id_key(1.8446744073709552e19)


@given(st.dictionaries(st.text(max_size=5), scalars, max_size=4), st.integers(1, 1 << 40))
def test_wire_is_the_text_with_the_id_added(value: dict[str, Any], ident: int) -> None:
    value.pop("id", None)
    for text in (json.dumps(value), json.dumps(value, indent=2)):
        wire = RawMessage(text, value).with_id(ident).wire
        assert json.loads(wire) == {"id": ident, **value}
        assert wire.endswith(text[1:])


@given(st.lists(st.dictionaries(st.text(max_size=6), ids, max_size=4), min_size=1, max_size=4))
def test_an_object_over_several_lines_closes_on_its_last_line(objects: list[Any]) -> None:
    for value in objects:
        lines = json.dumps({"execute": "x", **value}, indent=3).split("\n")
        opened = opens_object(lines[0])
        if len(lines) == 1:
            assert opened is None
            continue
        assert opened is not None
        for line in lines[1:-1]:
            opened.add(line)
            assert not opened.closed
        opened.add(lines[-1])
        assert opened.closed
        assert parse_raw_json(opened.text) == json.loads(opened.text)


def test_parsed_raw_says_when_it_loses_something() -> None:
    assert parse_raw_json('{"a": 1, "b": 2}').faithful
    assert not parse_raw_json('{"a": 1, "a": 2}').faithful
    assert not parse_raw_json('{"a": {"b": 1E400}}').faithful


@given(ids)
def test_dumps_is_always_json(value: Any) -> None:
    for odd in (math.inf, -math.inf, math.nan):
        text = dumps([value, odd])
        json.loads(text, parse_constant=lambda word: (_ for _ in ()).throw(ValueError(word)))
    assert json_safe(value) is value


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


@given(
    st.recursive(
        st.none() | st.integers(),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=2), inner),
    ),
    st.integers(0, 6),
)
def test_nesting_exceeds_counts_arrays_and_objects(value: Any, limit: int) -> None:
    assert nesting_exceeds(value, limit) == (_depth(value) > limit)


def test_walks_of_a_message_at_the_limit_leave_room_on_the_stack() -> None:
    """Two frames a level at most: a message MAX_DEPTH deep is walked from a stack
    already 300 frames deep (the shell's is a few dozen)."""
    value: Any = {"password": 1.0, "n": math.inf}
    for level in range(MAX_DEPTH - 1):
        value = [value, 1e400] if level % 2 else {"a": value, "id": 1.0}

    def at_depth(frames: int) -> None:
        if frames:
            return at_depth(frames - 1)
        id_key(value)
        json.loads(dumps(value))
        from qmpshell.language.redaction import redact

        redact(value)
        return None

    at_depth(300)
