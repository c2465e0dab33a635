"""One rule for secrets in QMP and HMP: kept out of history, redacted in the transcript.

Unit tests of the rule for each form, then the real shell against a real QEMU: scripted
(the transcript) and interactive in a pty (the history file).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pexpect
import pytest
from conftest import QemuProcess

from qmpshell.language.mode import Mode
from qmpshell.language.rawjson import parse_raw_json
from qmpshell.language.redaction import REDACTED, has_secret, line_has_secret, redact, redact_hmp

# -- HMP lines ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("set_password vnc hunter2", "set_password vnc <redacted>"),
        ("set_password vnc hunter2 keep", "set_password vnc <redacted> keep"),
        ('set_password spice "a b" -d x fail', "set_password spice <redacted> -d x fail"),
        ("change vnc password hunter2", "change vnc password <redacted>"),
        ("change vnc passwd hunter2", "change vnc passwd <redacted>"),
        ("block_passwd ide0-hd0 hunter2", "block_passwd ide0-hd0 <redacted>"),
        ("object_add secret,id=s0,data=hunter2", "object_add secret,id=s0,data=<redacted>"),
        (
            "object_add qom-type=secret,id=s0,data=hun,,ter2,format=raw",
            "object_add qom-type=secret,id=s0,data=<redacted>,format=raw",
        ),
        (
            'object_add {"qom-type": "secret", "id": "s0", "data": "hunter2"}',
            "object_add <redacted>",
        ),
        (
            "drive_add -n 0 if=none,id=d,file.password-secret=sec0",
            "drive_add -n 0 if=none,id=d,file.password-secret=<redacted>",
        ),
        ("netdev_add user,id=n,password=x", "netdev_add user,id=n,password=<redacted>"),
        ("device_add x,passphrase=x", "device_add x,passphrase=<redacted>"),
        ("chardev-add socket,id=c,secret=x", "chardev-add socket,id=c,secret=<redacted>"),
        ("chardev-change c0 null,password=x", "chardev-change c0 null,password=<redacted>"),
        ("qom-set /objects/s0 data hunter2", "qom-set /objects/s0 data <redacted>"),
        ('qom-set -j /objects/v password "a b"', "qom-set -j /objects/v password <redacted>"),
    ],
)
def test_hmp_secret_redacted(line: str, expected: str) -> None:
    assert redact_hmp(line) == expected
    assert line_has_secret(line, Mode.HMP)
    assert line_has_secret(f"/hmp {line}", Mode.QMP)  # /hmp LINE at the QMP prompt
    assert line_has_secret(line, Mode.QMP)  # HMP typed at the QMP prompt by habit
    assert line_has_secret(line, Mode.HMP)


@pytest.mark.parametrize(
    "line",
    [
        "info status",
        "change ide1-cd0 /tmp/x.iso",
        "change vnc localhost:1",
        "object_add memory-backend-ram,id=m0,size=1M",
        "object_add memory-backend-file,id=m0,size=1M,mem-path=/x,data=1",
        "netdev_add user,id=n0",
        "qom-set /machine/peripheral/x type y",
        "expire_password vnc never",
        "set_password",
        "",
    ],
)
def test_ordinary_hmp_lines_kept(line: str) -> None:
    assert redact_hmp(line) == line
    assert not line_has_secret(line, Mode.HMP)


def test_qmp_line_in_hmp_mode_judged_as_qmp() -> None:
    assert line_has_secret("/qmp object-add qom-type=secret id=s data=x", Mode.HMP)
    assert not line_has_secret("/qmp query-status", Mode.HMP)


# -- QMP messages and lines -----------------------------------------------------------


def _hmc(line: str) -> dict[str, Any]:
    return {"execute": "human-monitor-command", "arguments": {"command-line": line}}


def test_human_monitor_command_line_redacted_by_the_hmp_rule() -> None:
    message = _hmc("set_password vnc hunter2")
    assert has_secret(message)
    assert redact(message) == _hmc("set_password vnc <redacted>")
    plain = _hmc("info status")
    assert not has_secret(plain) and redact(plain) is plain


def test_qom_set_secret_property_redacted() -> None:
    args = {"path": "/objects/s0", "property": "data", "value": "hunter2"}
    message = {"execute": "qom-set", "arguments": args}
    assert redact(message)["arguments"] == {**args, "value": REDACTED}
    named = {"execute": "qom-set", "arguments": {**args, "property": "passphrase"}}
    assert redact(named)["arguments"]["value"] == REDACTED
    plain = {"execute": "qom-set", "arguments": {**args, "property": "type"}}
    assert redact(plain) is plain


def test_raw_json_human_monitor_command_redacted() -> None:
    text = json.dumps(_hmc("change vnc password hunter2"))
    raw = parse_raw_json(text)
    assert has_secret(raw)
    assert redact(raw) == _hmc("change vnc password <redacted>")


@pytest.mark.parametrize(
    "line",
    [
        'human-monitor-command command-line="set_password vnc hunter2"',
        "human-monitor-command command-line='object_add secret,id=s,data=hunter2'",
        json.dumps(_hmc("set_password vnc hunter2")),
        "-> " + json.dumps(_hmc("set_password vnc hunter2")),
        "qom-set path=/objects/s0 property=data value=hunter2",
        "qom-set path=/objects/s0 property=password value=hunter2",
        '{"execute": "qom-set", "arguments": {"path": "/o", "property": "data", "value": 1}}',
        "object-add qom-type=secret id=s0 data=hunter2",
    ],
)
def test_qmp_lines_with_secrets(line: str) -> None:
    assert line_has_secret(line, Mode.QMP)


@pytest.mark.parametrize(
    "line",
    [
        'human-monitor-command command-line="info status"',
        json.dumps(_hmc("info status")),
        "qom-set path=/machine property=type value=x",
        "query-status",
    ],
)
def test_qmp_lines_without_secrets(line: str) -> None:
    assert not line_has_secret(line, Mode.QMP)


# -- a real QEMU: the transcript --------------------------------------------------------

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


# -- a real QEMU, interactively: the history file ---------------------------------------


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
