"""The schema check's quick paths (language/schemacheck.py): they pass an entry, or an
index, only where the full check finds nothing wrong, whatever it holds."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qmpshell.language.schemacheck import (
    META_TYPES,
    SchemaInvalid,
    _check_entry,
    _plainly_fine,
    kinds_of,
)

KINDS = {"int": "builtin", "str": "builtin", "0": "object", "q_obj": "object", "Kind": "enum"}
NAMES = st.sampled_from([*KINDS, "missing", ""]) | st.none() | st.integers() | st.lists(st.text())
VALUES: Any = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=4) | NAMES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=6,
)
MEMBER = st.fixed_dictionaries(
    {},
    optional={
        "name": NAMES | VALUES,
        "type": NAMES | VALUES,
        "features": st.lists(st.text(max_size=3) | VALUES, max_size=2) | VALUES,
    },
)
VARIANT = st.fixed_dictionaries({}, optional={"case": NAMES | VALUES, "type": NAMES | VALUES})
OBJECT = st.fixed_dictionaries(
    {"name": st.just("q_obj"), "meta-type": st.just("object")},
    optional={
        "members": st.lists(MEMBER | VALUES, max_size=3) | VALUES,
        "tag": NAMES | VALUES,
        "variants": st.lists(VARIANT | VALUES, max_size=3) | VALUES,
        "features": st.lists(st.text(max_size=3) | VALUES, max_size=2) | VALUES,
    },
)
COMMAND = st.fixed_dictionaries(
    {"name": st.just("do-it"), "meta-type": st.just("command")},
    optional={
        "arg-type": NAMES | VALUES,
        "ret-type": NAMES | VALUES,
        "allow-oob": st.booleans() | VALUES,
        "features": st.lists(st.text(max_size=3), max_size=2) | VALUES,
    },
)

ENUM = st.fixed_dictionaries(
    {"name": st.just("Kind"), "meta-type": st.just("enum")},
    optional={
        "values": st.lists(st.text(max_size=3) | VALUES, max_size=3) | VALUES,
        "members": st.lists(MEMBER | VALUES, max_size=3) | VALUES,
        "features": st.lists(st.text(max_size=3), max_size=2) | VALUES,
    },
)


@given(entry=OBJECT | COMMAND | ENUM)
def test_the_quick_path_passes_only_what_the_full_check_passes(entry: dict[str, Any]) -> None:
    if _plainly_fine(entry, KINDS):
        _check_entry(entry, KINDS)  # nothing here may raise


def test_the_quick_path_takes_the_common_entries() -> None:
    member = {"name": "a", "type": "int"}
    assert _plainly_fine({"name": "q_obj", "meta-type": "object", "members": [member]}, KINDS)
    command = {"name": "x", "meta-type": "command", "arg-type": "0", "ret-type": "q_obj"}
    assert _plainly_fine(command, KINDS)
    enum = {"name": "Kind", "meta-type": "enum", "values": ["a"], "members": [{"name": "a"}]}
    assert _plainly_fine(enum, KINDS)
    # Features, deprecated ones included, as QEMU gives them.
    marked = {"name": "a", "type": "int", "features": ["deprecated"]}
    assert _plainly_fine({"name": "q_obj", "meta-type": "object", "members": [marked]}, KINDS)
    enum["members"] = [{"name": "a", "features": ["unstable"]}]
    assert _plainly_fine(enum, KINDS)


INDEX_NAMES = st.sampled_from(["a", "b", "query-status", ""]) | st.none() | st.integers()
INDEX_METAS = st.sampled_from([*sorted(META_TYPES), "nonsense"]) | st.none() | st.lists(st.text())


@given(st.lists(st.tuples(INDEX_NAMES | st.lists(st.text()), INDEX_METAS), max_size=5))
def test_an_index_is_taken_only_when_it_is_one(rows: list[tuple[Any, Any]]) -> None:
    names, metas = [n for n, _ in rows], [m for _, m in rows]
    fine = (
        all(isinstance(n, str) and n for n in names)
        and len(set(map(str, names))) == len(names)
        and all(isinstance(m, str) and m in META_TYPES for m in metas)
    )
    if fine:
        assert kinds_of(names, metas) == dict(zip(names, metas))
    else:
        with pytest.raises(SchemaInvalid):
            kinds_of(names, metas)
