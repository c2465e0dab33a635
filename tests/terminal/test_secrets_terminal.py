"""Secrets in the interactive shell (a pty) against a real QEMU: kept out of the history
file in QMP and HMP mode."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pexpect
from conftest import QemuProcess


def _hmc(line: str) -> dict[str, Any]:
    return {"execute": "human-monitor-command", "arguments": {"command-line": line}}


SECRET = "Hunter2Zz"


def _spawn(env: dict[str, str], *args: str) -> pexpect.spawn:
    return pexpect.spawn(
        sys.executable,
        ["-m", "qmpshell", "--color", "never", *args],
        env=env,
        encoding="utf-8",
        timeout=10,
        dimensions=(40, 200),
    )


def _echoed(text: str) -> str:
    return r"(?:\x1b\[[0-9;?]*[A-Za-z])*".join(re.escape(char) for char in text)


def _session(env: dict[str, str], args: list[str], prompt: str, lines: list[str]) -> None:
    """Type each line at the prompt, then /quit (a line: typed ahead, it waits its turn)."""
    child = _spawn(env, *args)
    try:
        for line in [*lines, "/quit"]:
            child.expect(prompt)
            child.send(line)
            child.expect(_echoed(line))
            child.send("\r")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0


def test_hmp_mode_history_keeps_secrets_out(
    shell_env: dict[str, str], qemu: QemuProcess, home: Path
) -> None:
    lines = [
        "info version",
        f"set_password vnc {SECRET}",
        f"change vnc password {SECRET}",
        f"object_add secret,id=s1,data={SECRET}",
        f"qom-set /objects/s1 data {SECRET}",
        f"/qmp object-add qom-type=secret id=s2 data={SECRET}",
        "info status",
    ]
    _session(shell_env, ["-H", qemu.qmp], r"\(qemu\)", lines)
    text = (home / "state" / "qmpshell" / "history-hmp").read_text()
    assert "info version" in text and "info status" in text
    assert SECRET not in text


def test_qmp_mode_history_keeps_secrets_out(
    shell_env: dict[str, str], qemu: QemuProcess, home: Path
) -> None:
    lines = [
        "query-name",
        f'human-monitor-command command-line="set_password vnc {SECRET}"',
        json.dumps(_hmc(f"change vnc password {SECRET}")),
        f"/hmp object_add secret,id=s1,data={SECRET}",
        f"qom-set path=/objects/s1 property=data value={SECRET}",
        'human-monitor-command command-line="info status"',
    ]
    _session(shell_env, [qemu.qmp], r"\(QEMU\)", lines)
    text = (home / "state" / "qmpshell" / "history").read_text()
    assert "query-name" in text and "info status" in text
    assert SECRET not in text
