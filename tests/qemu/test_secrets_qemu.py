"""Secrets against a real QEMU, scripted: redacted in the transcript unless --log-secrets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import QemuProcess

from qmpshell.language.redaction import REDACTED


def _hmc(line: str) -> dict[str, Any]:
    return {"execute": "human-monitor-command", "arguments": {"command-line": line}}


SECRET = "Hunter2Zz"


def _run_logged(run_shell: Any, tmp_path: Path, *args: str) -> str:
    log = tmp_path / "log.jsonl"
    run_shell("-l", str(log), *args)
    text = log.read_text()
    for line in text.splitlines():
        json.loads(line)
    return text


@pytest.mark.parametrize(
    "line",
    [
        f"object-add qom-type=secret id=s9 data={SECRET}",
        f"change-vnc-password password={SECRET}",
        f'human-monitor-command command-line="set_password vnc {SECRET}"',
        json.dumps(_hmc(f"set_password vnc {SECRET} keep")),
        json.dumps(_hmc(f"object_add secret,id=s9,data={SECRET}")),
        f"/hmp set_password vnc {SECRET}",
        f"/hmp change vnc password {SECRET}",
        f"/hmp object_add secret,id=s9,data={SECRET}",
        f"qom-set path=/objects/s0 property=data value={SECRET}",
        json.dumps(
            {
                "execute": "qom-set",
                "arguments": {"path": "/objects/s0", "property": "data", "value": SECRET},
            }
        ),
    ],
)
def test_qmp_mode_transcript_redacted(
    run_shell: Any, qemu: QemuProcess, tmp_path: Path, line: str
) -> None:
    first = "object-add qom-type=secret id=s0 data=FirstSecret0"
    text = _run_logged(run_shell, tmp_path, "-c", first, "-c", line, qemu.qmp)
    assert SECRET not in text and "FirstSecret0" not in text
    assert REDACTED in text
    sent = [json.loads(entry) for entry in text.splitlines()]
    assert sum(1 for e in sent if e["dir"] == "send" and REDACTED in json.dumps(e)) == 2


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        (f"set_password vnc {SECRET} keep", "set_password vnc <redacted> keep"),
        (f"change vnc password {SECRET}", "change vnc password <redacted>"),
        (f"object_add secret,id=s9,data={SECRET}", "object_add secret,id=s9,data=<redacted>"),
        (f"qom-set /objects/s9 data {SECRET}", "qom-set /objects/s9 data <redacted>"),
    ],
)
def test_hmp_mode_transcript_redacted(
    run_shell: Any, qemu: QemuProcess, tmp_path: Path, line: str, shown: str
) -> None:
    text = _run_logged(run_shell, tmp_path, "-H", "-c", line, qemu.qmp)
    assert SECRET not in text
    lines = [
        e["msg"]["arguments"]["command-line"]
        for e in map(json.loads, text.splitlines())
        if e["dir"] == "send" and e["msg"].get("execute") == "human-monitor-command"
    ]
    assert shown in lines


def test_log_secrets_writes_them(run_shell: Any, qemu: QemuProcess, tmp_path: Path) -> None:
    line = f"/hmp set_password vnc {SECRET}"
    text = _run_logged(run_shell, tmp_path, "--log-secrets", "-c", line, qemu.qmp)
    assert f"set_password vnc {SECRET}" in text
