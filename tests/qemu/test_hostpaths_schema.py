"""The host-path table of hostpaths.py checked against the schema of the real QEMU under
test: every entry exists, and what it names is a path."""

from __future__ import annotations

from typing import Any

import pytest

from qmpshell.language import suggest as s
from qmpshell.language.hostpaths import QMP_HOST_PATHS, HostPath, host_path
from qmpshell.language.schema import Schema

pytest_plugins = ["schema_fixture"]


def at(schema: Schema | None, line: str) -> HostPath | None:
    """The host-path entry for the value being typed at the end of ``line``."""
    context = s.suggest(line, schema)
    assert context.kind == s.Kind.VALUE and context.command is not None, line
    return host_path(context.command, context.path, context.tree, schema)


@pytest.mark.parametrize(
    "line",
    [
        "blockdev-add driver=file filename=",
        "blockdev-add node-name=n driver=host_device filename=",
        "blockdev-add driver=raw file.driver=file file.filename=",
        "blockdev-add driver=qcow2 file.driver=raw file.file.driver=file file.file.filename=",
        "blockdev-create job-id=j options.driver=file options.filename=",
        "blockdev-add driver=nbd server.type=unix server.path=",
        "nbd-server-start addr.type=unix addr.data.path=",
        "chardev-add id=c backend.type=file backend.data.out=",
        "object-add qom-type=memory-backend-file id=m size=1M mem-path=",
        "memsave val=0 size=1 filename=",
        "pmemsave val=0 size=1 filename=",
        "screendump filename=",
        "blockdev-change-medium id=cd filename=",
        "drive-backup device=d sync=full target=",
        "dump-guest-memory paging=false protocol=",
        "transaction( blockdev-snapshot-sync device=d snapshot-file=",
    ],
)
def test_host_paths(schema: Schema, line: str) -> None:
    assert at(schema, line) is not None


@pytest.mark.parametrize(
    "line",
    [
        "qom-list path=",  # a QOM path
        "qom-get path=",
        "qom-set path=",
        "blockdev-add driver=ssh path=",  # a file on the SSH server
        "blockdev-add driver=nbd server.type=inet server.host=",
        "blockdev-add driver=raw file.filename=",  # no driver chosen for file yet
        "blockdev-add driver=gluster path=",
        "device_add driver=virtio-blk-pci drive=",
        "chardev-add id=c backend.type=socket backend.data.addr.type=inet "
        "backend.data.addr.data.host=",
        "migrate uri=",  # exec: takes a shell command, tcp: a host, not a file
        "block-commit device=d base=",
        "device_del id=",
    ],
)
def test_not_host_paths(schema: Schema, line: str) -> None:
    assert at(schema, line) is None


def test_the_discriminator_must_really_be_one(schema: Schema) -> None:
    # query-named-block-nodes has no union with a 'driver' tag: driver=file there is no
    # branch, whatever the tree says.
    context = s.suggest("blockdev-add driver=file filename=", schema)
    assert host_path("query-block", context.path, context.tree, schema) is None
    # Without a schema (not loaded yet) the tree alone decides.
    assert at(None, "blockdev-add driver=file filename=") is not None
    assert at(None, "memsave val=0 size=1 filename=") is not None
    assert at(None, "qom-list path=") is None


def _object_members(entries: dict[str, Any], name: str) -> dict[str, str]:
    return {m["name"]: m["type"] for m in entries.get(name, {}).get("members", [])}


def _member_exists(entries: dict[str, Any], object_name: str, member: list[str]) -> bool:
    members = _object_members(entries, object_name)
    if member[0] not in members:
        return False
    return len(member) == 1 or _member_exists(entries, members[member[0]], member[1:])


def test_every_table_entry_exists_in_the_schema(
    schema: Schema, schema_entries: list[dict[str, Any]]
) -> None:
    """The table names real places of this QEMU's schema (commands for other targets or
    builds, e.g. s390's dump-skeys or xen-*, may be absent)."""
    entries = {e["name"]: e for e in schema_entries}
    optional = {"dump-skeys", "xen-save-devices-state", "xen-load-devices-state"}
    optional |= {"qom-type=tls-creds-anon", "qom-type=filter-dump", "driver=vvfat"}
    for entry in QMP_HOST_PATHS:
        member = entry.member.split(".")
        tag, eq, value = entry.where.partition("=")
        if not eq:
            command = schema.command(entry.where)
            if command is None:
                assert entry.where in optional, entry
                continue
            assert _member_exists(entries, command.arg_type, member), entry
            continue
        branches = [
            variant["type"]
            for e in schema_entries
            if e.get("meta-type") == "object" and e.get("tag") == tag
            for variant in e.get("variants", [])
            if variant["case"] == value
        ]
        found = any(_member_exists(entries, branch, member) for branch in branches)
        assert found or entry.where in optional, entry


# -- the order of live names ----------------------------------------------------------
