"""The shorthand language against a real QEMU: typed by its schema, and accepted by it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import QemuProcess

NODE = "blockdev-add driver=raw node-name=n0 file.driver=null-co file.size=1048576"


def bitmaps(qemu: QemuProcess) -> set[str]:
    other = qemu.other_client()
    try:
        nodes = other.cmd("query-named-block-nodes")["return"]
    finally:
        other.close()
    return {b["name"] for n in nodes if n["node-name"] == "n0" for b in n.get("dirty-bitmaps", [])}


@pytest.mark.parametrize(
    ("typed", "naive"),
    [
        # A str member given digits: the schema says string, a naive shell sends a number.
        (
            "object-add qom-type=secret id=sec0 data=456",
            {"qom-type": "secret", "id": "sec0", "data": 456},
        ),
        (
            "block-dirty-bitmap-add node=n0 name=123",
            {"node": "n0", "name": 123},
        ),
        # A bool member given 'off': the schema says boolean, a naive shell sends a string.
        (
            "block-dirty-bitmap-add node=n0 name=b9 persistent=off",
            {"node": "n0", "name": "b9", "persistent": "off"},
        ),
    ],
)
def test_schema_typing_is_what_qemu_accepts(
    run_shell: Any, qemu: QemuProcess, typed: str, naive: dict[str, Any]
) -> None:
    command = typed.split()[0]
    raw = json.dumps({"execute": command, "arguments": naive})
    result = run_shell("-c", NODE, "-c", raw, "-c", typed, qemu.qmp)
    node, rejected, accepted = result.messages()
    assert node == {"return": {}}
    assert "Invalid parameter type" in rejected["error"]["desc"]
    assert accepted == {"return": {}}, result.stderr


def test_quotes_are_removed(run_shell: Any, qemu: QemuProcess) -> None:
    result = run_shell(
        "-c", "object-add qom-type=secret id=sec0 data='two words \\'quoted\\''",
        "-c", "qom-get path=/objects/sec0 property=data",
        qemu.qmp,
    )  # fmt: skip
    assert result.messages()[1] == {"return": "two words 'quoted'"}, result.stderr


def test_flat_union_with_dotted_keys_creates_a_node(run_shell: Any, qemu: QemuProcess) -> None:
    # The discriminator comes after the members it selects.
    result = run_shell(
        "-c", "blockdev-add file.size=4096 file.driver=null-co node-name=n1 driver=raw",
        "-c", "query-named-block-nodes",
        qemu.qmp,
    )  # fmt: skip
    assert result.status == 0, result.stderr
    created, nodes = result.messages()
    assert created == {"return": {}}
    node = next(n for n in nodes["return"] if n["node-name"] == "n1")
    assert node["drv"] == "raw" and node["image"]["virtual-size"] == 4096


def test_one_line_transaction(run_shell: Any, qemu: QemuProcess) -> None:
    result = run_shell(
        "-c", NODE,
        "-c", "block-dirty-bitmap-add node=n0 name=b0",
        "-c", "transaction( block-dirty-bitmap-add node=n0 name=b1"
        " | block-dirty-bitmap-clear node=n0 name=b0 )",
        qemu.qmp,
    )  # fmt: skip
    assert result.status == 0, result.stderr
    assert result.messages() == [{"return": {}}] * 3
    assert bitmaps(qemu) == {"b0", "b1"}


def test_transaction_block_with_a_bad_line_is_not_sent(run_shell: Any, qemu: QemuProcess) -> None:
    """In a script a transaction is all or nothing: a refused action keeps the block from
    being sent (at the prompt it is only left out, to be typed again)."""
    script = "\n".join(
        [
            NODE,
            "transaction(",
            "block-dirty-bitmap-add node=n0 name=b2",
            "block-dirty-bitmap-add nod=n0 name=b3",  # refused; the block stays open
            "block-dirty-bitmap-add node=n0 name=b4 )",
        ]
    )
    result = run_shell(qemu.qmp, stdin=script + "\n")
    assert result.status == 1
    assert result.messages() == [{"return": {}}]
    assert "line 4, column 24: unknown argument 'nod' for action block-dirty-bitmap-add" in (
        result.stderr
    )
    assert "line 5, column 1: the transaction is not sent: an action in it was refused" in (
        result.stderr
    )
    assert bitmaps(qemu) == set()


def test_transaction_block_cancelled(run_shell: Any, qemu: QemuProcess) -> None:
    script = f"{NODE}\ntransaction(\nblock-dirty-bitmap-add node=n0 name=b5\n/cancel\nquery-name\n"
    result = run_shell(qemu.qmp, stdin=script)
    assert result.status == 0, result.stderr
    assert result.messages() == [{"return": {}}] * 2
    assert "transaction of 1 action cancelled" in result.stderr
    assert bitmaps(qemu) == set()


def test_out_of_band(run_shell: Any, qemu: QemuProcess, tmp_path: Path) -> None:
    log = tmp_path / "oob.jsonl"
    result = run_shell(
        "-l", str(log),
        "-c", "!oob migrate-recover uri=tcp:127.0.0.1:1",
        "-c", "!oob query-status",
        qemu.qmp,
    )  # fmt: skip
    assert result.status == 1
    (reply,) = result.messages()
    assert "postcopy" in reply["error"]["desc"]  # QEMU ran it, out of band
    assert "line 2, column 6: query-status cannot run out of band" in result.stderr
    sent = [json.loads(line)["msg"] for line in log.read_text().splitlines()]
    assert sent[1]["arguments"] == {"enable": ["oob"]}
    oob = next(m for m in sent if "exec-oob" in m)
    assert oob["exec-oob"] == "migrate-recover" and "id" in oob


def test_out_of_band_needs_negotiation(run_shell: Any, qemu: QemuProcess) -> None:
    result = run_shell("-N", "-c", "qmp_capabilities", "-c", "!oob migrate-pause", qemu.qmp)
    assert result.status == 1
    assert "oob capability" in result.stderr


def test_refused_before_sending(run_shell: Any, qemu: QemuProcess, tmp_path: Path) -> None:
    log = tmp_path / "refused.jsonl"
    result = run_shell(
        "-l", str(log),
        "-c", "blockdev-add driver=raw nod-name=n0 file=x",
        "-c", "blockdev-add node-name=n0",
        "-c", "blockdev-add driver=rawx node-name=n0 file=x",
        "-c", "query-status x=1",
        qemu.qmp,
    )  # fmt: skip
    assert result.status == 1
    assert result.messages() == []
    lines = result.stderr.splitlines()
    assert lines == [
        "qmpshell: line 1, column 25: unknown argument 'nod-name' for blockdev-add; "
        "did you mean 'node-name'?",
        "qmpshell: line 2, column 1: missing required argument 'driver' for blockdev-add",
        lines[2],
        "qmpshell: line 4, column 14: unknown argument 'x': query-status takes no arguments",
        "qmpshell: 4 of 4 failed: lines 1-4",
    ]
    assert lines[2].startswith("qmpshell: line 3, column 21: invalid value 'rawx' for 'driver';")
    assert "null-co" in lines[2] and "did you mean 'raw'?" in lines[2]
    sent = [json.loads(line)["msg"].get("execute") for line in log.read_text().splitlines()]
    assert "blockdev-add" not in sent and "query-status" not in sent


def test_raw_json_bypasses_the_checks(run_shell: Any, qemu: QemuProcess) -> None:
    result = run_shell("-c", '{"execute": "query-status", "arguments": {"x": 1}}', qemu.qmp)
    assert result.status == 1
    assert "x" in result.messages()[0]["error"]["desc"]  # QEMU's own refusal


def test_storage_daemon_schema(run_shell: Any, qemu_factory: Any) -> None:
    daemon = qemu_factory.start_storage_daemon()
    result = run_shell("-c", NODE, "-c", "query-named-block-nodes flat=yes", daemon.qmp)
    assert result.status == 0, result.stderr
    assert "n0" in {node["node-name"] for node in result.messages()[1]["return"]}


def test_schema_read_after_negotiating_by_hand(run_shell: Any, qemu: QemuProcess) -> None:
    result = run_shell("-N", "-c", "qmp_capabilities", "-c", "query-status x=1", qemu.qmp)
    assert result.status == 1
    assert "query-status takes no arguments" in result.stderr
