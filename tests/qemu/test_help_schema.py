"""``/help`` text made from a real schema (the query-qmp-schema of the QEMU under test).

The help of a command is its signature laid out for reading: arguments with their types
in words, ``*`` for the required ones, nested objects under dotted names, union branches
as ``When driver=raw:``, and what the command returns. These tests pin the layout on real
commands and make sure every command and event of the schema renders, quickly.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from conftest import qemu_version

from qmpshell.errors import QMPShellError
from qmpshell.language.help import (
    UnknownTopic,
    command_help,
    event_help,
    general_help,
    help_topic,
)
from qmpshell.language.schema import Schema
from qmpshell.session.meta import HELP

# The session-scoped fixtures ``schema`` and ``schema_entries``: the QEMU's schema.
pytest_plugins = ["schema_fixture"]


def block(text: str, heading: str) -> list[str]:
    """The lines under ``heading`` (a line of ``text``), up to the next line indented no
    deeper than the heading."""
    lines = text.splitlines()
    start = lines.index(heading)
    depth = len(heading) - len(heading.lstrip())
    body = []
    for line in lines[start + 1 :]:
        if len(line) - len(line.lstrip()) <= depth:
            break
        body.append(line)
    return body


def row(text: str, name: str) -> str:
    """The line of member ``name`` (a dotted name), marker included."""
    found = [line for line in text.splitlines() if line.lstrip("* ").split("  ")[0] == name]
    assert found, f"no member {name!r} in:\n{text}"
    return found[0]


def type_of(text: str, name: str) -> str:
    """The type column of member ``name``'s (first) line."""
    return re.split(r"\s{2,}", row(text, name).strip())[-1]


def is_required(line: str) -> bool:
    return line.lstrip().startswith("* ")


# -- commands --------------------------------------------------------------------------


def test_device_del_one_required_string(schema: Schema) -> None:
    assert command_help(schema, "device_del") == (
        "device_del\nArguments (* = required):\n  * id  str\nReturns: nothing"
    )


def test_query_status_returns_an_object(schema: Schema) -> None:
    text = command_help(schema, "query-status")
    lines = text.splitlines()
    assert lines[:3] == [
        "query-status",
        "No arguments.",
        "Returns: object (* = always present)",
    ]
    assert row(text, "running").split() == ["*", "running", "bool"]
    if qemu_version() < (9, 0):
        assert row(text, "singlestep").split() == ["*", "singlestep", "bool"]
    else:  # removed in 9.0 (deprecated since 8.1): the reply no longer has it
        assert "singlestep" not in text
    status = row(text, "status")
    assert is_required(status)
    # The enum's values are listed, wrapped under the type column.
    assert "enum: debug, inmigrate," in status
    assert "running," in text and "guest-panicked" in text
    column = status.index("enum:")
    for line in lines[lines.index(status) + 1 :]:
        assert line[:column].isspace() and line[column] != " "


def test_migrate_recover_is_allowed_out_of_band(schema: Schema) -> None:
    text = command_help(schema, "migrate-recover")
    assert text.splitlines()[0] == "migrate-recover (out of band allowed)"
    assert row(text, "uri").split() == ["*", "uri", "str"]
    assert command_help(schema, "query-status").splitlines()[0] == "query-status"


def test_features_follow_the_name(schema: Schema) -> None:
    assert command_help(schema, "drive-backup").splitlines()[0] == "drive-backup [deprecated]"
    assert command_help(schema, "x-query-jit").splitlines()[0] == "x-query-jit [unstable]"
    # Features of members and of enum values too.
    assert row(command_help(schema, "blockdev-add"), "x-check-cache-dropped").endswith(
        "x-check-cache-dropped  [unstable] bool"
    )
    # A member's before its type, so that an enum's values' are not taken for them.
    assert row(command_help(schema, "block-commit"), "top").split() == [
        "top",
        "[deprecated]",
        "str",
    ]
    assert "drive-backup [deprecated]" in command_help(schema, "transaction")


def test_qom_set_value_is_any(schema: Schema) -> None:
    text = command_help(schema, "qom-set")
    assert [row(text, name).split() for name in ("path", "property", "value")] == [
        ["*", "path", "str"],
        ["*", "property", "str"],
        ["*", "value", "any"],
    ]


def test_blockdev_add_lists_base_members_then_branches(schema: Schema) -> None:
    text = command_help(schema, "blockdev-add")
    lines = text.splitlines()
    assert lines[:2] == ["blockdev-add", "Arguments (* = required):"]
    assert lines[-1] == "Returns: nothing"
    # The discriminator first, required, with every driver; the other base members optional.
    driver = row(text, "driver")
    assert is_required(driver) and "enum: blkdebug, blklogwrites," in driver
    assert "qcow2" in text.split("When ")[0]
    assert not is_required(row(text, "node-name"))
    assert row(text, "node-name").split() == ["node-name", "str"]
    assert row(text, "discard").split() == ["discard", "enum:", "ignore,", "unmap"]
    # A nested object: its members indented under it, with the dotted names to type.
    cache = lines.index(row(text, "cache"))
    assert lines[cache + 1 : cache + 3] == [
        "      cache.direct    bool",
        "      cache.no-flush  bool",
    ]
    # A branch of its own.
    raw = block(text, "  When driver=raw:")
    assert raw[0].split()[:3] == ["*", "file", "object"]
    assert [line.split() for line in raw[1:]] == [["offset", "int"], ["size", "int"]]
    # Drivers that share a branch type share the branch.
    files = block(text, "  When driver is file, host_cdrom or host_device:")
    assert files[0].split() == ["*", "filename", "str"]
    assert any(line.split()[:2] == ["aio", "enum:"] for line in files)
    assert "  When driver is null-aio or null-co:" in lines
    assert "When driver=file:" not in text


def test_blockdev_add_nested_union_branches(schema: Schema) -> None:
    text = command_help(schema, "blockdev-add")
    nbd = block(text, "  When driver=nbd:")
    assert nbd[0].split() == ["*", "server", "object"]
    assert nbd[1].split() == ["*", "server.type", "enum:", "inet,", "unix,", "vsock,", "fd"]
    inet = block("\n".join(nbd), "      When server.type=inet:")
    assert inet[0].split() == ["*", "server.host", "str"]
    ssh = block(text, "  When driver=ssh:")
    assert "      No extra members when host-key-check.mode is one of: none, known_hosts." in ssh


def test_blockdev_add_recursion_is_named_not_expanded(schema: Schema) -> None:
    """BlockdevRef (``file``) is BlockdevOptions or a node name: the object it may be is
    blockdev-add's own arguments, which are referred to rather than listed again."""
    text = command_help(schema, "blockdev-add")
    assert type_of(text, "file") == "object (as blockdev-add's arguments) or str"
    assert type_of(text, "backing") == "object (as blockdev-add's arguments), str or null"
    assert type_of(text, "children") == "array of (object (as blockdev-add's arguments) or str)"
    assert "file.driver" not in text
    lines = text.splitlines()
    assert len(lines) < 2000
    assert max(len(line) for line in lines) <= 80


def test_blockdev_create_lists_a_big_object_once(schema: Schema) -> None:
    """blockdev-create has a BlockdevRef in many branches: BlockdevOptions is listed the
    first time and named after that, or the text would run to thousands of lines."""
    text = command_help(schema, "blockdev-create")
    assert "options.file.driver" in text
    assert "object (as options.file above) or str" in text
    assert text.count("When options.file.driver=raw:") == 1
    assert len(text.splitlines()) < 1000


def test_transaction_actions_are_an_array_of_a_union(schema: Schema) -> None:
    text = command_help(schema, "transaction")
    assert "transaction(" in text.splitlines()[1]  # how to type it in the shorthand
    assert row(text, "actions").split() == ["*", "actions", "array", "of", "object"]
    action_type = row(text, "actions[].type")
    assert is_required(action_type) and "enum: abort, block-dirty-bitmap-add," in action_type
    add = block(text, "    When actions[].type=block-dirty-bitmap-add:")
    assert [line.split()[:3] for line in add[:3]] == [
        ["*", "actions[].data", "object"],
        ["*", "actions[].data.node", "str"],
        ["*", "actions[].data.name", "str"],
    ]
    joined = " ".join(text.split())  # the grouped heading is wrapped
    assert (
        "When actions[].type is block-dirty-bitmap-remove, block-dirty-bitmap-clear, "
        "block-dirty-bitmap-enable or block-dirty-bitmap-disable:"
    ) in joined
    assert type_of(text, "actions[].data") == "empty object"  # abort's data
    assert not is_required(row(text, "properties"))


def test_unions_group_branches_without_extra_members(schema: Schema) -> None:
    text = command_help(schema, "object-add")
    assert (
        "  No extra arguments when qom-type is one of: can-bus, pef-guest, s390-pv-guest."
        in text.splitlines()
    )
    assert "  No extra arguments when type=none." in command_help(schema, "netdev_add")


def test_array_of_objects_returned(schema: Schema) -> None:
    text = command_help(schema, "query-cpus-fast")
    assert "Returns: array of object (* = always present)" in text.splitlines()
    assert row(text, "qom-path").split() == ["*", "qom-path", "str"]
    assert row(text, "props.core-id").split() == ["props.core-id", "int"]
    assert command_help(schema, "qom-get").splitlines()[-1] == "Returns: any"
    assert command_help(schema, "query-commands").splitlines()[-2:] == [
        "Returns: array of object (* = always present)",
        "  * name  str",
    ]


def test_width_is_honoured(schema: Schema) -> None:
    for width in (60, 100):
        text = command_help(schema, "query-status", width=width)
        assert max(len(line) for line in text.splitlines()) <= width
    assert len(command_help(schema, "query-status", width=60).splitlines()) > len(
        command_help(schema, "query-status", width=100).splitlines()
    )


def test_unknown_command(schema: Schema) -> None:
    with pytest.raises(UnknownTopic) as info:
        command_help(schema, "device-del")
    assert "device_del" in info.value.suggestions
    assert str(info.value).startswith("unknown command 'device-del'; did you mean ")
    assert isinstance(info.value, QMPShellError)


# -- events ----------------------------------------------------------------------------


def test_event_data(schema: Schema) -> None:
    assert event_help(schema, "DEVICE_DELETED") == (
        "DEVICE_DELETED\nData (* = always present):\n    device  str\n  * path    str"
    )
    text = event_help(schema, "BLOCK_JOB_COMPLETED")
    assert row(text, "type").split()[:3] == ["*", "type", "enum:"]
    assert row(text, "error").split() == ["error", "str"]
    assert event_help(schema, "STOP") == "STOP\nNo data."
    if qemu_version() < (9, 1):
        assert event_help(schema, "MEM_UNPLUG_ERROR").splitlines()[0] == (
            "MEM_UNPLUG_ERROR [deprecated]"
        )
    else:  # removed in 9.1; the name leads to its replacement
        with pytest.raises(UnknownTopic) as info:
            event_help(schema, "MEM_UNPLUG_ERROR")
        assert "DEVICE_UNPLUG_GUEST_ERROR" in info.value.suggestions


def test_unknown_event(schema: Schema) -> None:
    with pytest.raises(UnknownTopic) as info:
        event_help(schema, "DEVICE_DELETE")
    assert info.value.suggestions[0] == "DEVICE_DELETED"


# -- general help and dispatch ---------------------------------------------------------


def test_help_topic_dispatch(schema: Schema) -> None:
    assert help_topic(schema, "", HELP) == general_help(HELP)
    assert help_topic(schema, "  ", HELP) == general_help(HELP)
    assert help_topic(schema, "device_del", HELP) == command_help(schema, "device_del")
    assert help_topic(schema, "DEVICE_DELETED", HELP) == event_help(schema, "DEVICE_DELETED")
    assert help_topic(schema, "device_deleted", HELP) == event_help(schema, "DEVICE_DELETED")
    assert help_topic(schema, "/wait", HELP).splitlines() == [
        "/wait EVENT [key=value ...] [TIMEOUT]",
        "    wait for an event (a glob) that arrived since the last command, or arrives",
    ]
    assert help_topic(schema, "/quit", HELP).startswith("/quit\n    leave qmpshell")


@pytest.mark.parametrize(
    ("topic", "suggested"),
    [
        ("query-stat", "query-status"),
        ("block_job_completed_", "BLOCK_JOB_COMPLETED"),
        ("wait", "/wait"),
    ],
)
def test_help_topic_unknown_suggests(schema: Schema, topic: str, suggested: str) -> None:
    with pytest.raises(UnknownTopic) as info:
        help_topic(schema, topic, HELP)
    assert suggested in info.value.suggestions
    message = str(info.value)
    assert message.startswith(f"unknown command or event '{topic}'; did you mean ")
    assert repr(suggested) in message
    assert info.value.topic == topic


def test_help_topic_unknown_without_suggestions(schema: Schema) -> None:
    with pytest.raises(UnknownTopic) as info:
        help_topic(schema, "zzzzzz", HELP)
    assert str(info.value) == "unknown command or event 'zzzzzz'"
    with pytest.raises(UnknownTopic) as info:
        help_topic(schema, "/wiat", HELP)
    assert str(info.value).startswith("unknown meta-command '/wiat'; did you mean '/wait'")
    assert info.value.suggestions[0] == "/wait"
    with pytest.raises(UnknownTopic) as info:
        help_topic(schema, "/zzzzzz", HELP)
    assert str(info.value) == "unknown meta-command '/zzzzzz'; /help lists them"


# -- the guards, on made-up schemas ----------------------------------------------------


# -- every command and event -----------------------------------------------------------


def test_every_command_and_event_renders_quickly(
    schema: Schema, schema_entries: list[dict[str, Any]]
) -> None:
    enum_values = {str(value) for entry in schema_entries for value in entry.get("values", ())}
    started = time.perf_counter()
    texts = {name: command_help(schema, name) for name in schema.commands}
    texts.update({name: event_help(schema, name) for name in schema.events})
    elapsed = time.perf_counter() - started
    assert len(texts) == len(schema.commands) + len(schema.events) > 250
    assert elapsed / len(texts) < 0.050, f"{elapsed / len(texts) * 1000:.1f} ms per topic"
    for name, text in texts.items():
        lines = text.splitlines()
        assert lines[0].split()[0] == name
        assert len(lines) < 2000, name
        assert all(line == line.rstrip() for line in lines), name
        # No opaque type names ("187") leak into the text (send-key's keys "1"... may).
        numbers = {word.strip(",()") for word in text.split()} - enum_values
        assert not any(word.isdigit() for word in numbers), name
