"""``/help`` without the QEMU schema: general help, topics before a schema is loaded, and
the layout of small hand-made schemas (a recursive type, deep nesting).

The layout of command and event help, on the schema of the real QEMU under test, is in
tests/qemu/test_help_schema.py."""

from __future__ import annotations

import re
from typing import Any

import pytest

from qmpshell.language.help import (
    UnknownTopic,
    command_help,
    general_help,
    help_topic,
)
from qmpshell.language.schema import Schema
from qmpshell.session.meta import HELP


# The session-scoped fixtures ``schema`` and ``schema_entries``: the QEMU's schema.
def row(text: str, name: str) -> str:
    """The line of member ``name`` (a dotted name), marker included."""
    found = [line for line in text.splitlines() if line.lstrip("* ").split("  ")[0] == name]
    assert found, f"no member {name!r} in:\n{text}"
    return found[0]


def type_of(text: str, name: str) -> str:
    """The type column of member ``name``'s (first) line."""
    return re.split(r"\s{2,}", row(text, name).strip())[-1]


# -- general help and dispatch ---------------------------------------------------------


def test_general_help_lists_every_meta_command_and_the_syntax() -> None:
    text = general_help(HELP)
    flat = " ".join(text.split())
    for usage, description in HELP.items():
        assert usage in text
        assert description in flat
    for syntax in (
        "command key=value",
        "key.sub=value",
        'key="a b"',
        "key=[1, 2]",
        '{"execute": ...}',
        "transaction(",
        "| B",
        "!oob",
        "/help COMMAND",
        "/help EVENT",
        "Tab",
    ):
        assert syntax in text, syntax
    assert max(len(line) for line in text.splitlines()) <= 80
    # The table is the caller's: whatever meta-commands it has are listed.
    assert "/frob X" in general_help({"/frob X": "frobs X"})
    assert "/quit" not in general_help({"/frob X": "frobs X"})


def test_help_topic_without_schema() -> None:
    """The guest agent or -N: no schema, so no help on commands; the rest still works."""
    assert help_topic(None, "", HELP) == general_help(HELP)
    assert help_topic(None, "/events", HELP).startswith("/events [list")
    with pytest.raises(UnknownTopic) as info:
        help_topic(None, "query-status", HELP)
    assert "needs the QMP schema" in str(info.value)
    assert info.value.suggestions == []


# -- the guards, on made-up schemas ----------------------------------------------------


def test_recursive_type_is_named_once() -> None:
    schema = Schema(
        [
            {"name": "tree", "meta-type": "command", "arg-type": "Node", "ret-type": "Node"},
            {
                "name": "Node",
                "meta-type": "object",
                "members": [
                    {"name": "label", "type": "str"},
                    {"name": "left", "type": "Node", "default": None},
                    {"name": "kids", "type": "[Node]", "default": None},
                ],
            },
            {"name": "[Node]", "meta-type": "array", "element-type": "Node"},
            {"name": "str", "meta-type": "builtin", "json-type": "string"},
        ]
    )
    assert command_help(schema, "tree") == "\n".join(
        [
            "tree",
            "Arguments (* = required):",
            "  * label  str",
            "    left   object (as tree's arguments)",
            "    kids   array of object (as tree's arguments)",
            "Returns: object (* = always present)",
            "  * label  str",
            "    left   object (as tree's reply)",
            "    kids   array of object (as tree's reply)",
        ]
    )


def test_deep_nesting_is_cut() -> None:
    entries: list[dict[str, Any]] = [
        {"name": "deep", "meta-type": "command", "arg-type": "L0", "ret-type": "empty"},
        {"name": "empty", "meta-type": "object", "members": []},
        {"name": "int", "meta-type": "builtin", "json-type": "int"},
    ]
    for level in range(8):
        entries.append(
            {
                "name": f"L{level}",
                "meta-type": "object",
                "members": [{"name": "n", "type": "int"}, {"name": "a", "type": f"L{level + 1}"}],
            }
        )
    text = command_help(Schema(entries), "deep")
    names = [line.split()[1] for line in text.splitlines() if line.lstrip().startswith("*")]
    assert names == ["n", "a", "a.n", "a.a", "a.a.n", "a.a.a", "a.a.a.n", "a.a.a.a"]
    assert type_of(text, "a.a.a.a") == "object (members not shown: nested too deep)"
