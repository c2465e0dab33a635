"""The shorthand language typed by a real schema (the query-qmp-schema of the QEMU under test).

``Parser(schema)`` gives every value the JSON type of the member it is given to, and
refuses what QEMU would refuse (unknown names, missing arguments, values of the wrong
type) with the column of the text at fault. Raw JSON is never altered or refused.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import FUZZ_EXAMPLES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qmpshell.errors import InputError
from qmpshell.language.schema import Schema
from qmpshell.language.shorthand import Parser, parse_line

# The session-scoped fixtures ``schema`` and ``schema_entries``: the QEMU's schema.
pytest_plugins = ["schema_fixture"]


def canonical(value: Any) -> str:
    """JSON text that tells 1 from 1.0 from true (key order aside: typed arguments come
    out in the order they are checked, the union discriminator first)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def typed(schema: Schema, line: str) -> Any:
    return Parser(schema).feed(line)


def refused(schema: Schema, line: str, parser: Parser | None = None) -> InputError:
    with pytest.raises(InputError) as info:
        (parser or Parser(schema)).feed(line)
    return info.value


def command(name: str, **arguments: Any) -> dict[str, Any]:
    return {"execute": name, "arguments": arguments}


_BOOLS = [("true", True), ("false", False), ("on", True), ("off", False), ("yes", True),
          ("no", False), ("True", True), ("FALSE", False), ("YES", True),
          ("Off", False)]  # fmt: skip
NODE = {"driver": "null-co", "node-name": "n0"}
NULL_CO = "blockdev-add driver=null-co node-name=n0"

CASES = [
    # str members stay strings
    pytest.param("device_del id=123", command("device_del", id="123"), id="str-digits"),
    pytest.param('device_del id="123"', command("device_del", id="123"), id="str-quoted"),
    pytest.param("device_del id=true", command("device_del", id="true"), id="str-true"),
    pytest.param("device_del id=[1]", command("device_del", id="[1]"), id="str-bracket"),
    pytest.param("qom-list path=/machine", command("qom-list", path="/machine"), id="str-path"),
    pytest.param(
        "object-add qom-type=secret id=sec0 data=456",
        command("object-add", **{"qom-type": "secret", "id": "sec0", "data": "456"}),
        id="str-in-union-branch",
    ),
    pytest.param("query-status", {"execute": "query-status"}, id="no-arguments"),
    # int members: decimal and 0x hex
    pytest.param(
        f"{NULL_CO} size=1048576", command("blockdev-add", **NODE, size=1048576), id="int"
    ),
    pytest.param(f"{NULL_CO} size=0x10", command("blockdev-add", **NODE, size=16), id="int-hex"),
    pytest.param(
        f"{NULL_CO} size=0X1f", command("blockdev-add", **NODE, size=31), id="int-hex-upper"
    ),
    pytest.param(f'{NULL_CO} size="42"', command("blockdev-add", **NODE, size=42), id="int-quoted"),
    pytest.param(
        "migrate-set-parameters max-bandwidth=-1",
        command("migrate-set-parameters", **{"max-bandwidth": -1}),
        id="int-negative",
    ),
    # bool members
    *(
        pytest.param(
            f"{NULL_CO} read-only={text}",
            command("blockdev-add", **NODE, **{"read-only": value}),
            id=f"bool-{text}",
        )
        for text, value in _BOOLS
    ),
    # enum members
    pytest.param(
        f"{NULL_CO} discard=unmap", command("blockdev-add", **NODE, discard="unmap"), id="enum"
    ),
    pytest.param(
        f'{NULL_CO} discard="ignore"',
        command("blockdev-add", **NODE, discard="ignore"),
        id="enum-quoted",
    ),
    # array members
    pytest.param(
        'block-dirty-bitmap-merge node=n target=t bitmaps=["b0", {"node": "n1", "name": "b1"}]',
        command(
            "block-dirty-bitmap-merge",
            node="n",
            target="t",
            bitmaps=["b0", {"node": "n1", "name": "b1"}],
        ),
        id="array-json",
    ),
    pytest.param(
        "block-dirty-bitmap-merge node=n target=t bitmaps=['b0', {'node': 'n1', 'name': 'b1'},]",
        command(
            "block-dirty-bitmap-merge",
            node="n",
            target="t",
            bitmaps=["b0", {"node": "n1", "name": "b1"}],
        ),
        id="array-python",
    ),
    pytest.param(
        "block-dirty-bitmap-merge node=n target=t bitmaps=[]",
        command("block-dirty-bitmap-merge", node="n", target="t", bitmaps=[]),
        id="array-empty",
    ),
    # object members: dotted keys or a literal
    pytest.param(
        f"{NULL_CO} cache.direct=on cache.no-flush=off",
        command("blockdev-add", **NODE, cache={"direct": True, "no-flush": False}),
        id="object-dotted",
    ),
    pytest.param(
        f'{NULL_CO} cache={{"direct": true}}',
        command("blockdev-add", **NODE, cache={"direct": True}),
        id="object-literal",
    ),
    # alternates: whichever branch fits
    pytest.param(
        "blockdev-add driver=raw node-name=n1 file=node0",
        command("blockdev-add", driver="raw", **{"node-name": "n1"}, file="node0"),
        id="alternate-str",
    ),
    pytest.param(
        "blockdev-add driver=raw node-name=n1 file=123",
        command("blockdev-add", driver="raw", **{"node-name": "n1"}, file="123"),
        id="alternate-str-digits",
    ),
    pytest.param(
        "blockdev-add driver=raw node-name=n1 file.driver=null-co file.size=0x100",
        command(
            "blockdev-add",
            driver="raw",
            **{"node-name": "n1"},
            file={"driver": "null-co", "size": 256},
        ),
        id="alternate-dotted-object",
    ),
    pytest.param(
        'blockdev-add driver=raw node-name=n1 file={"driver": "null-co"}',
        command("blockdev-add", driver="raw", **{"node-name": "n1"}, file={"driver": "null-co"}),
        id="alternate-object-literal",
    ),
    pytest.param(
        "x-blockdev-set-iothread node-name=n iothread=null",
        command("x-blockdev-set-iothread", **{"node-name": "n", "iothread": None}),
        id="alternate-null",
    ),
    pytest.param(
        "x-blockdev-set-iothread node-name=n iothread=None",
        command("x-blockdev-set-iothread", **{"node-name": "n", "iothread": None}),
        id="alternate-python-none",
    ),
    pytest.param(
        "x-blockdev-set-iothread node-name=n iothread=io0",
        command("x-blockdev-set-iothread", **{"node-name": "n", "iothread": "io0"}),
        id="alternate-str-or-null-str",
    ),
    pytest.param(
        'x-blockdev-set-iothread node-name=n iothread="null"',
        command("x-blockdev-set-iothread", **{"node-name": "n", "iothread": "null"}),
        id="alternate-quoted-null-is-str",
    ),
    pytest.param(
        "migrate-set-parameters tls-creds=null tls-hostname=h",
        command("migrate-set-parameters", **{"tls-creds": None, "tls-hostname": "h"}),
        id="alternate-str-or-null-optional",
    ),
    pytest.param(
        "blockdev-add driver=qcow2 node-name=n file=f backing=null overlap-check=all",
        command(
            "blockdev-add",
            driver="qcow2",
            **{"node-name": "n"},
            file="f",
            backing=None,
            **{"overlap-check": "all"},
        ),
        id="alternate-null-and-enum",
    ),
    pytest.param(
        "blockdev-add driver=qcow2 node-name=n file=f"
        " overlap-check.template=cached overlap-check.main-header=on",
        command(
            "blockdev-add",
            driver="qcow2",
            **{"node-name": "n"},
            file="f",
            **{"overlap-check": {"template": "cached", "main-header": True}},
        ),
        id="alternate-enum-or-object-as-object",
    ),
    # any members: the untyped rules
    pytest.param(
        "qom-set path=/machine property=p value=1",
        command("qom-set", path="/machine", property="p", value=1),
        id="any-number",
    ),
    pytest.param(
        'qom-set path=/machine property=p value="1"',
        command("qom-set", path="/machine", property="p", value="1"),
        id="any-quoted",
    ),
    pytest.param(
        "qom-set path=/machine property=p value=on",
        command("qom-set", path="/machine", property="p", value="on"),
        id="any-word",
    ),
    pytest.param(
        "qom-set path=/machine property=p value=[1, 2.5, None]",
        command("qom-set", path="/machine", property="p", value=[1, 2.5, None]),
        id="any-literal",
    ),
    pytest.param(
        "qom-set path=/machine property=p value.a=1 value.b.c=x",
        command("qom-set", path="/machine", property="p", value={"a": 1, "b": {"c": "x"}}),
        id="any-dotted",
    ),
    # flat unions: the branch follows the discriminator, wherever it is
    pytest.param(
        "blockdev-add file.driver=null-co driver=raw node-name=n0",
        command("blockdev-add", driver="raw", file={"driver": "null-co"}, **{"node-name": "n0"}),
        id="union-discriminator-last",
    ),
    pytest.param(
        "blockdev-add driver=raw node-name=n0 file.driver=file file.filename=/x",
        command(
            "blockdev-add",
            driver="raw",
            **{"node-name": "n0"},
            file={"driver": "file", "filename": "/x"},
        ),
        id="union-nested",
    ),
    # device_add takes properties its schema does not declare, untyped
    pytest.param(
        "device_add driver=virtio-net-pci id=123 addr=0x5 x-foo=1 bar.baz=true",
        command(
            "device_add",
            driver="virtio-net-pci",
            id="123",
            addr="0x5",
            **{"x-foo": 1},
            bar={"baz": True},
        ),
        id="device-add-open",
    ),
    # raw JSON: never altered, never refused
    pytest.param(
        '{"execute": "device_del", "arguments": {"id": 123}}',
        {"execute": "device_del", "arguments": {"id": 123}},
        id="raw-json-wrong-type",
    ),
    pytest.param(
        '{"execute": "nonexistent", "id": "x", "arguments": {"nod-name": 1}}',
        {"execute": "nonexistent", "id": "x", "arguments": {"nod-name": 1}},
        id="raw-json-unknown",
    ),
    # transactions: actions typed against the schema
    pytest.param(
        "transaction( block-dirty-bitmap-add node=n0 name=b1"
        " | block-dirty-bitmap-clear node=n0 name=b0 )",
        {
            "execute": "transaction",
            "arguments": {
                "actions": [
                    {"type": "block-dirty-bitmap-add", "data": {"node": "n0", "name": "b1"}},
                    {"type": "block-dirty-bitmap-clear", "data": {"node": "n0", "name": "b0"}},
                ]
            },
        },
        id="transaction",
    ),
    pytest.param(
        "transaction( block-dirty-bitmap-add node=n0 name=123 persistent=off | abort )",
        {
            "execute": "transaction",
            "arguments": {
                "actions": [
                    {
                        "type": "block-dirty-bitmap-add",
                        "data": {"node": "n0", "name": "123", "persistent": False},
                    },
                    {"type": "abort", "data": {}},
                ]
            },
        },
        id="transaction-typed-values",
    ),
    # out of band
    pytest.param("!oob migrate-pause", {"exec-oob": "migrate-pause"}, id="oob"),
]


@pytest.mark.parametrize(("line", "expected"), CASES)
def test_typed_line(schema: Schema, line: str, expected: dict[str, Any]) -> None:
    message = typed(schema, line)
    assert message == expected
    assert canonical(message) == canonical(expected)
    assert canonical(parse_line(line, schema)) == canonical(expected)


def test_raw_json_keeps_its_key_order(schema: Schema) -> None:
    line = '{"id": 1, "arguments": {"b": "2", "a": 1}, "execute": "x"}'
    assert json.dumps(typed(schema, line)) == json.dumps(json.loads(line))


def test_discriminator_comes_first(schema: Schema) -> None:
    message = typed(schema, "blockdev-add node-name=n0 file.driver=null-co driver=raw")
    assert list(message["arguments"]) == ["driver", "node-name", "file"]


_DRIVERS = (
    "blkdebug, blklogwrites, blkreplay, blkverify, bochs, cloop, compress, copy-before-write, "
    "copy-on-read, dmg, file, snapshot-access, ftp, ftps, gluster, host_cdrom, host_device, "
    "http, https, iscsi, luks, nbd, nfs, null-aio, null-co, nvme, parallels, preallocate, qcow, "
    "qcow2, qed, quorum, raw, rbd, replication, ssh, throttle, vdi, vhdx, vmdk, vpc, vvfat"
)

ERRORS = [
    # values of the wrong type
    pytest.param(
        f"{NULL_CO} size=lots", 46, "'size' expects an integer, got 'lots'", id="int-word"
    ),
    pytest.param(f"{NULL_CO} size=1.5", 46, "'size' expects an integer, got '1.5'", id="int-float"),
    pytest.param(f"{NULL_CO} size=0x", 46, "'size' expects an integer, got '0x'", id="int-bare-0x"),
    pytest.param(f"{NULL_CO} size=", 46, "'size' expects an integer, got ''", id="int-empty"),
    pytest.param(
        "migrate-set-parameters max-bandwidth=[5]",
        37,
        "'max-bandwidth' expects an integer, got '[5]'",
        id="int-array",
    ),
    pytest.param(
        f"{NULL_CO} read-only=maybe",
        51,
        "'read-only' expects a boolean, got 'maybe'",
        id="bool-word",
    ),
    pytest.param(
        f"{NULL_CO} read-only=1", 51, "'read-only' expects a boolean, got '1'", id="bool-number"
    ),
    pytest.param(
        f"{NULL_CO} discard=unmapp",
        49,
        "invalid value 'unmapp' for 'discard'; expected one of: ignore, unmap;"
        " did you mean 'unmap'?",
        id="enum-suggestion",
    ),
    pytest.param(
        f"{NULL_CO} discard=UNMAP",
        49,
        "invalid value 'UNMAP' for 'discard'; expected one of: ignore, unmap",
        id="enum-case-sensitive",
    ),
    pytest.param(
        "blockdev-add driver=rwa node-name=n0",
        20,
        f"invalid value 'rwa' for 'driver'; expected one of: {_DRIVERS}; did you mean 'raw'?",
        id="enum-discriminator",
    ),
    pytest.param(
        "block-dirty-bitmap-merge node=n target=t bitmaps=b0",
        49,
        "'bitmaps' is an array of str or object: give it as [...], not 'b0'",
        id="array-not-bracketed",
    ),
    pytest.param(
        "block-dirty-bitmap-merge node=n target=t bitmaps=[b0]",
        50,
        "'b0' is not a value (quote strings)",
        id="array-bad-literal",
    ),
    pytest.param(
        f"{NULL_CO} cache=x",
        47,
        "'cache' is an object: give it as {...} or dotted keys, not 'x'",
        id="object-not-braced",
    ),
    pytest.param(
        f"{NULL_CO} cache.direct.x=on",
        41,
        "'cache.direct' is a bool, not an object; give it as cache.direct=VALUE",
        id="scalar-given-dotted",
    ),
    pytest.param(
        "blockdev-add driver=qcow2 node-name=n file=f overlap-check=bogus",
        59,
        "invalid value 'bogus' for 'overlap-check'; expected one of: none, constant, cached, all",
        id="alternate-enum-or-object",
    ),
    pytest.param(
        "qom-set path=/machine property=p value=[1+1]",
        40,
        "only JSON or Python literals are allowed",
        id="any-not-code",
    ),
    pytest.param(
        "blockdev-add driver=raw file.driver=null-co file.size=lots",
        54,
        "'file.size' expects an integer, got 'lots'",
        id="union-branch-member-type",
    ),
    # unknown names: the column of the key, the closest names suggested
    pytest.param(
        "blockdev-add driver=null-co nod-name=n0",
        28,
        "unknown argument 'nod-name' for blockdev-add; did you mean 'node-name'?",
        id="unknown-argument",
    ),
    pytest.param(
        "device_del idd=1",
        11,
        "unknown argument 'idd' for device_del; did you mean 'id'?",
        id="unknown-short",
    ),
    pytest.param(
        "device_del id=1 foo=2",
        16,
        "unknown argument 'foo' for device_del",
        id="unknown-no-suggestion",
    ),
    pytest.param(
        f"{NULL_CO} cache.dirct=on",
        41,
        "unknown argument 'cache.dirct' in 'cache'; did you mean 'cache.direct'?",
        id="unknown-nested",
    ),
    pytest.param(
        "blockdev-add driver=null-co node-name=n0 filename=/x",
        41,
        "unknown argument 'filename' for blockdev-add",
        id="unknown-in-this-branch",
    ),
    pytest.param(
        "query-status a=1",
        13,
        "unknown argument 'a': query-status takes no arguments",
        id="takes-none",
    ),
    pytest.param(
        "query-status x.y=1",
        13,
        "unknown argument 'x': query-status takes no arguments",
        id="takes-none-dotted",
    ),
    pytest.param(
        "query-statsu",
        0,
        "unknown command 'query-statsu'; did you mean 'query-stats', 'query-status'",
        id="unknown-command",
    ),
    pytest.param(
        "  frobnicate x=1", 2, "unknown command 'frobnicate'", id="unknown-command-no-suggestion"
    ),
    # missing arguments: named, the union discriminator first
    pytest.param("device_del", 0, "missing required argument 'id' for device_del", id="missing"),
    pytest.param(
        "  block-dirty-bitmap-add",
        2,
        "missing required arguments 'node', 'name' for block-dirty-bitmap-add",
        id="missing-two",
    ),
    pytest.param(
        "blockdev-add node-name=n0",
        0,
        "missing required argument 'driver' for blockdev-add",
        id="missing-discriminator",
    ),
    pytest.param(
        "object-add",
        0,
        "missing required argument 'qom-type' for object-add",
        id="missing-discriminator-only",
    ),
    pytest.param(
        "object-add qom-type=secret",
        0,
        "missing required argument 'id' for object-add",
        id="missing-base",
    ),
    pytest.param(
        "blockdev-add driver=raw node-name=n0",
        0,
        "missing required argument 'file' for blockdev-add",
        id="missing-in-branch",
    ),
    pytest.param(
        "blockdev-add driver=raw node-name=n file.filename=/x",
        36,
        "missing required argument 'file.driver' in 'file'",
        id="missing-nested-discriminator",
    ),
    pytest.param(
        "device_add id=x",
        0,
        "missing required argument 'driver' for device_add",
        id="device-add-needs-driver",
    ),
    # transactions
    pytest.param(
        "transaction( block-dirty-bitmap-ad node=n0 name=b1 )",
        13,
        "unknown transaction action 'block-dirty-bitmap-ad'; expected one of: abort, "
        "block-dirty-bitmap-add, block-dirty-bitmap-remove, block-dirty-bitmap-clear, "
        "block-dirty-bitmap-enable, block-dirty-bitmap-disable, block-dirty-bitmap-merge, "
        "blockdev-backup, blockdev-snapshot, blockdev-snapshot-internal-sync, "
        "blockdev-snapshot-sync, drive-backup; did you mean 'block-dirty-bitmap-add'",
        id="transaction-unknown-action",
    ),
    pytest.param(
        "transaction( abort | block-dirty-bitmap-add node=n0 )",
        21,
        "missing required argument 'name' for action block-dirty-bitmap-add",
        id="transaction-missing",
    ),
    pytest.param(
        "transaction( block-dirty-bitmap-add node=n0 name=b1 persistent=maybe )",
        63,
        "'persistent' expects a boolean, got 'maybe'",
        id="transaction-bad-value",
    ),
    pytest.param(
        "transaction( block-dirty-bitmap-add node=n0 name=b1 nam=b2 )",
        52,
        "unknown argument 'nam' for action block-dirty-bitmap-add; did you mean 'name'?",
        id="transaction-unknown-argument",
    ),
    # out of band
    pytest.param(
        "!oob device_del id=1", 5, "device_del cannot run out of band", id="oob-not-allowed"
    ),
    pytest.param("!oob nosuch", 5, "unknown command 'nosuch'", id="oob-unknown"),
    pytest.param("!oob", 4, "!oob needs a command after it", id="oob-alone"),
    # the untyped rules' errors still apply
    pytest.param("device_del id=1 id=2", 16, "'id' is given twice", id="key-twice"),
    pytest.param('device_del id="x', 14, 'unclosed "', id="unclosed-quote"),
]


@pytest.mark.parametrize(("line", "column", "message"), ERRORS)
def test_typed_refused(schema: Schema, line: str, column: int, message: str) -> None:
    error = refused(schema, line)
    assert error.column == column
    assert message in str(error)
    assert "column" not in str(error)


def test_discriminator_given_dotted_keys(schema: Schema) -> None:
    error = refused(schema, "blockdev-add driver.x=raw node-name=n0")
    assert "'driver' must be a value, not an object" in str(error)
    assert error.column == 13


def test_enum_error_lists_every_value(schema: Schema) -> None:
    error = refused(schema, "object-add qom-type=secrte id=s0")
    values = schema.enum_values(
        next(
            m.type
            for m in schema.members(schema.commands["object-add"].arg_type)
            if m.name == "qom-type"
        )
    )
    assert len(values) > 40
    assert f"expected one of: {', '.join(values)}; did you mean 'secret'?" in str(error)


def test_typed_transaction_block(schema: Schema) -> None:
    parser = Parser(schema)
    assert parser.feed("transaction(") is None
    assert parser.feed("block-dirty-bitmap-add node=n0 name=1") is None
    # A refused action leaves the block and the earlier actions.
    assert refused(schema, "block-dirty-bitmap-ad node=n0 name=b1", parser).column == 0
    assert refused(schema, "block-dirty-bitmap-clear node=n0", parser).column == 0
    assert parser.in_transaction
    message = parser.feed("block-dirty-bitmap-clear node=n0 name=2 )")
    assert canonical(message) == canonical(
        {
            "execute": "transaction",
            "arguments": {
                "actions": [
                    {"type": "block-dirty-bitmap-add", "data": {"node": "n0", "name": "1"}},
                    {"type": "block-dirty-bitmap-clear", "data": {"node": "n0", "name": "2"}},
                ]
            },
        }
    )
    assert not parser.in_transaction


# -- a schema for what QEMU 7.2 does not reach from a command ---------------------------

_EXTRA = [
    {"name": "x-test", "meta-type": "command", "arg-type": "x-test-args", "ret-type": "0"},
    {
        "name": "x-test-args",
        "meta-type": "object",
        "members": [
            {"name": "ratio", "type": "number", "default": None},
            {"name": "nothing", "type": "null", "default": None},
            {"name": "choice", "type": "x-test-alternate", "default": None},
        ],
    },
    {
        "name": "x-test-alternate",
        "meta-type": "alternate",
        "members": [{"type": "int"}, {"type": "bool"}, {"type": "[int]"}],
    },
]


@pytest.fixture(scope="module")
def extended(schema_entries: list[dict[str, Any]]) -> Schema:
    """The real schema plus one command with number, null and int|bool|[int] members."""
    return Schema(schema_entries + _EXTRA)


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        pytest.param("ratio=1", {"ratio": 1}, id="number-int"),
        pytest.param("ratio=-7", {"ratio": -7}, id="number-negative-int"),
        pytest.param("ratio=0x10", {"ratio": 16}, id="number-hex"),
        pytest.param("ratio=1.5", {"ratio": 1.5}, id="number-float"),
        pytest.param("ratio=-0.25", {"ratio": -0.25}, id="number-negative-float"),
        pytest.param("ratio=1e3", {"ratio": 1000.0}, id="number-exponent"),
        pytest.param("ratio=.5", {"ratio": 0.5}, id="number-leading-dot"),
        pytest.param("nothing=null", {"nothing": None}, id="null"),
        pytest.param("nothing=None", {"nothing": None}, id="null-python"),
        pytest.param("choice=5", {"choice": 5}, id="alternate-int"),
        pytest.param("choice=0x10", {"choice": 16}, id="alternate-hex"),
        pytest.param("choice=on", {"choice": True}, id="alternate-bool"),
        pytest.param("choice=[1, 2]", {"choice": [1, 2]}, id="alternate-array"),
        pytest.param("", {}, id="nothing-given"),
    ],
)
def test_number_null_and_scalar_alternates(
    extended: Schema, arguments: str, expected: dict[str, Any]
) -> None:
    message = Parser(extended).feed(f"x-test {arguments}")
    wanted = {"execute": "x-test", "arguments": expected} if expected else {"execute": "x-test"}
    assert canonical(message) == canonical(wanted)


@pytest.mark.parametrize(
    ("arguments", "column", "message"),
    [
        pytest.param("ratio=lots", 13, "'ratio' expects a number, got 'lots'", id="number-word"),
        pytest.param(
            "ratio=1.5.1", 13, "'ratio' expects a number, got '1.5.1'", id="number-two-dots"
        ),
        pytest.param("nothing=x", 15, "'nothing' expects null, got 'x'", id="null-word"),
        pytest.param(
            "choice=x",
            14,
            "'choice' expects int or bool or array of int, got 'x'",
            id="alternate-none-fits",
        ),
    ],
)
def test_number_null_and_scalar_alternates_refused(
    extended: Schema, arguments: str, column: int, message: str
) -> None:
    error = refused(extended, f"x-test {arguments}")
    assert error.column == column
    assert message in str(error)


def test_number_member_is_finite(extended: Schema) -> None:
    try:
        message = Parser(extended).feed("x-test ratio=1e999")
    except InputError:
        return
    json.dumps(message, allow_nan=False)


def test_schema_without_transaction_leaves_actions_untyped(
    schema_entries: list[dict[str, Any]],
) -> None:
    entries = [e for e in schema_entries if e["name"] != "transaction"]
    message = Parser(Schema(entries)).feed("transaction( anything x=1 y=on )")
    assert canonical(message) == canonical(
        {
            "execute": "transaction",
            "arguments": {"actions": [{"type": "anything", "data": {"x": 1, "y": "on"}}]},
        }
    )


def test_long_integers_are_input_errors_not_crashes(schema: Schema) -> None:
    digits = "9" * 5000
    for line in [
        f"{NULL_CO} size={digits}",
        f"qom-set path=/ property=p value={digits}",
        f'{{"execute": "x", "arguments": {{"a": {digits}}}}}',
    ]:
        try:
            Parser(schema).feed(line)
        except InputError as exc:
            assert exc.column is not None and 0 <= exc.column < len(line)


# -- properties -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def vocabulary(schema: Schema, schema_entries: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """Every command name, and every member name of every object type."""
    names = {
        member.name
        for entry in schema_entries
        if entry.get("meta-type") == "object"
        for member in schema.members(str(entry["name"]))
    }
    return sorted(schema.commands), sorted(names)


_VALUES = st.one_of(
    st.sampled_from(
        ["1", "0x10", "-1", "1.5", "on", "off", "null", "None", "true", "x", '"q w"', "'a'",
         "[1]", "[]", "{}", '{"a": 1}', "[x]", "{'driver': 'null-co'}", "raw", "null-co",
         "qcow2", "file", "n0", "", "0x", "[1+1]", '"unclosed', "1e3"]
    ),
    st.text(max_size=8),
)  # fmt: skip


def _feed(parser: Parser, line: str) -> Any:
    try:
        message = parser.feed(line)
    except InputError as exc:
        assert exc.column is None or 0 <= exc.column <= len(line)
        return exc
    assert message is None or isinstance(message, dict)
    return message


@given(data=st.data())
@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_schema_shaped_lines_give_a_message_or_input_error(
    schema: Schema, vocabulary: tuple[list[str], list[str]], data: st.DataObject
) -> None:
    commands, names = vocabulary
    head = data.draw(
        st.sampled_from([*commands, "transaction(", "!oob migrate-pause", "device_add"])
    )
    keys = st.lists(st.sampled_from(names), min_size=1, max_size=3).map(".".join)
    pairs = data.draw(st.lists(st.tuples(keys, _VALUES), max_size=6))
    tail = data.draw(st.sampled_from(["", " )", " | abort )"]))
    line = head + "".join(f" {key}={value}" for key, value in pairs) + tail
    _feed(Parser(schema), line)


_LINES = st.one_of(
    st.text(),
    st.text().map(lambda text: "{" + text),
    st.text().map(lambda text: "blockdev-add " + text),
    st.lists(
        st.sampled_from(
            [*" ={}[]()|\"'.,:-0x1", "driver", "file", "node-name", "raw", "null-co", "size",
             "transaction(", "abort", "blockdev-add", "device_del", "id", "qom-set", "value"]
        ),
        max_size=30,
    ).map("".join),
)  # fmt: skip


@given(st.lists(_LINES, min_size=1, max_size=4))
@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_any_text_gives_a_message_none_or_input_error(schema: Schema, lines: list[str]) -> None:
    everything, accepted_only = Parser(schema), Parser(schema)
    for line in lines:
        result = _feed(everything, line)
        if not isinstance(result, InputError):
            # A refused line changed nothing.
            assert _feed(accepted_only, line) == result
