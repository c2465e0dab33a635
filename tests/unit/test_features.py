"""Deprecated and unstable names (language/features.py): what the schema marks, and what a
message about to be sent uses of it, on the schema of the real QEMU under test (7.2 or
10.0: the names used here are marked alike in both) and on made-up ones; and the
warnings a session says once each (session/lines.py)."""

from __future__ import annotations

from typing import Any

from conftest import FUZZ_EXAMPLES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qmpshell.language.candidates import command_candidates, event_candidates
from qmpshell.language.features import Use, features_of, marks, uses, warning
from qmpshell.language.help import command_help, event_help
from qmpshell.language.rawjson import parse_raw_json
from qmpshell.language.schema import Schema
from qmpshell.language.shorthand import parse_line
from qmpshell.session.lines import new_warnings

pytest_plugins = ["schema_fixture"]


def said(schema: Schema, line: str) -> list[str]:
    return [warning(use) for use in uses(schema, parse_line(line, schema))]


def test_what_counts_as_marked() -> None:
    assert marks("a", ["json-cli", "deprecated"]) == ("deprecated",)
    assert marks("a", ["unstable", "deprecated"]) == ("deprecated", "unstable")
    assert marks("a", ["allow-write-only-overlay"]) == ()
    # An x- name is unstable by its prefix, as QEMU's names were before the feature.
    assert marks("x-perf", []) == ("unstable",)
    assert marks("x-perf", ["unstable"]) == ("unstable",)
    assert features_of("x-a", ["json-cli"]) == ("json-cli", "unstable")
    assert features_of("a-x-", []) == ()


def test_the_schema_holds_the_features(schema: Schema) -> None:
    assert "deprecated" in schema.commands["nbd-server-add"].features
    block_commit = schema.commands["block-commit"].arg_type
    top = next(m for m in schema.members(block_commit) if m.name == "top")
    assert top.features == ("deprecated",)
    assert schema.value_features(schema.action_type()) == {"drive-backup": ("deprecated",)}
    assert schema.value_features(block_commit) == {}  # not an enum


def test_a_deprecated_or_unstable_command(schema: Schema) -> None:
    assert said(schema, "nbd-server-add device=n0") == ["warning: 'nbd-server-add' is deprecated"]
    assert said(schema, "x-query-roms") == ["warning: 'x-query-roms' is unstable"]
    assert said(schema, "query-status") == []


def test_arguments_and_values_wherever_they_are(schema: Schema) -> None:
    assert said(schema, "block-commit device=d top=t base=b") == [
        "warning: argument 'top' of 'block-commit' is deprecated",
        "warning: argument 'base' of 'block-commit' is deprecated",
    ]
    assert said(schema, "block-commit device=d top-node=t") == []
    # A value of an enum inside an array of objects.
    line = (
        "migrate-set-capabilities capabilities=[{'capability': 'x-ignore-shared', 'state': false}]"
    )
    assert said(schema, line) == [
        "warning: value 'x-ignore-shared' of 'capabilities[].capability' of "
        "'migrate-set-capabilities' is unstable"
    ]
    # A flat union's branch: only the branch the tag chooses has the member.
    assert said(
        schema, "blockdev-add driver=file node-name=f filename=/x x-check-cache-dropped=on"
    ) == ["warning: argument 'x-check-cache-dropped' of 'blockdev-add' is unstable"]
    # Inside an alternate's object branch (BlockdevRef), and a union's tag value.
    line = (
        "blockdev-add driver=raw node-name=r "
        "file.driver=file file.filename=/x file.x-check-cache-dropped=on"
    )
    assert said(schema, line) == [
        "warning: argument 'file.x-check-cache-dropped' of 'blockdev-add' is unstable"
    ]
    assert said(schema, "object-add qom-type=rng-random id=r opened=false") == [
        "warning: argument 'opened' of 'object-add' is deprecated"
    ]


def test_a_transaction_says_each_once(schema: Schema) -> None:
    action = "drive-backup device=d target=/t sync=full x-perf={}"
    assert said(schema, f"transaction( {action} | {action} )") == [
        "warning: value 'drive-backup' of 'actions[].type' of 'transaction' is deprecated",
        "warning: argument 'actions[].data.x-perf' of 'transaction' is unstable",
    ]


def test_raw_json_is_looked_at_as_shorthand_is(schema: Schema) -> None:
    for line, raw in [
        ("block-commit device=d top=t",
         '{"execute": "block-commit", "arguments": {"device": "d", "top": "t"}}'),
        ("nbd-server-remove name=n",
         '{"exec-oob": "nbd-server-remove", "arguments": {"name": "n"}}'),
    ]:  # fmt: skip
        assert uses(schema, parse_raw_json(raw)) == uses(schema, parse_line(line, schema))
    # Raw JSON is not typed: what does not fit the schema is passed over, QEMU judges it.
    odd = {"execute": "block-commit", "arguments": {"top": [1], "bogus": {"top": 1}}}
    assert [use.name for use in uses(schema, odd)] == ["top"]
    assert uses(schema, {"execute": "nbd-server-add", "arguments": [1]}) == [
        Use("nbd-server-add", "command", "nbd-server-add", "", ("deprecated",))
    ]
    assert uses(schema, {"execute": "bogus", "arguments": {"top": 1}}) == []
    assert uses(schema, {"execute": 5}) == []


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=FUZZ_EXAMPLES, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_raw_message_is_walked_without_fault(schema: Schema, data: Any) -> None:
    """Whatever a raw line holds, the walk ends quietly, and every argument it names is
    one the message gives (its first part a key of the arguments)."""
    command = data.draw(st.sampled_from(sorted(schema.commands)))
    members = [m.name for m in schema.members(schema.commands[command].arg_type)]
    names = st.sampled_from(members) if members else st.text(max_size=4)
    arguments = data.draw(st.dictionaries(names | st.text(max_size=4), JSON, max_size=4))
    for use in uses(schema, {"execute": command, "arguments": arguments}):
        assert use.command == command and use.marks
        if use.kind == "argument":
            assert use.name.split(".")[0].removesuffix("[]") in arguments


def test_made_up_names_with_x_and_without_members_features() -> None:
    """An older schema: enum values without members, x- names without the feature."""
    schema = Schema([
        {"name": "x-thing", "meta-type": "command", "arg-type": "0", "ret-type": "0"},
        {"name": "0", "meta-type": "object",
         "members": [{"name": "x-opt", "type": "E", "default": None}]},
        {"name": "E", "meta-type": "enum", "values": ["x-val", "val"]},
    ])  # fmt: skip
    assert [
        warning(u) for u in uses(schema, {"execute": "x-thing", "arguments": {"x-opt": "x-val"}})
    ] == [
        "warning: 'x-thing' is unstable",
        "warning: argument 'x-opt' of 'x-thing' is unstable",
        "warning: value 'x-val' of 'x-opt' of 'x-thing' is unstable",
    ]


def test_a_session_says_each_warning_once(schema: Schema) -> None:
    warned: set[str] = set()
    message = parse_line("block-commit device=d top=t", schema)
    assert new_warnings(warned, schema, message, "line 2") == [
        "line 2: warning: argument 'top' of 'block-commit' is deprecated"
    ]
    assert new_warnings(warned, schema, message, "line 3") == []
    both = parse_line("block-commit device=d top=t base=b", schema)
    assert new_warnings(warned, schema, both, "") == [
        "warning: argument 'base' of 'block-commit' is deprecated"
    ]
    assert new_warnings(set(), None, message, "") == []  # no schema, nothing known


def test_the_menu_and_help_mark_what_the_schema_marks() -> None:
    """Events too, and x- names the feature does not mark (an older QEMU's)."""
    schema = Schema([
        {"name": "x-thing", "meta-type": "command", "arg-type": "0", "ret-type": "0"},
        {"name": "0", "meta-type": "object",
         "members": [{"name": "x-opt", "type": "E", "default": None},
                     {"name": "old", "type": "E", "default": None, "features": ["deprecated"]}]},
        {"name": "E", "meta-type": "enum", "values": ["x-val", "val", "gone"],
         "members": [{"name": "x-val"}, {"name": "val"},
                     {"name": "gone", "features": ["deprecated"]}]},
        {"name": "OLD_EVENT", "meta-type": "event", "arg-type": "0", "features": ["deprecated"]},
    ])  # fmt: skip
    assert [(c.text, c.meta) for c in event_candidates(schema)] == [
        ("OLD_EVENT", "event, deprecated")
    ]
    assert [(c.text, c.meta) for c in command_candidates(schema)] == [
        ("x-thing", "command, unstable")
    ]
    assert command_help(schema, "x-thing").splitlines()[:4] == [
        "x-thing [unstable]",
        "Arguments (* = required):",
        "    x-opt  [unstable] enum: x-val [unstable], val, gone [deprecated]",
        "    old    [deprecated] enum: x-val [unstable], val, gone [deprecated]",
    ]
    assert event_help(schema, "OLD_EVENT").splitlines()[0] == "OLD_EVENT [deprecated]"
