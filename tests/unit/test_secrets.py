"""One rule for secrets in QMP and HMP, for each form a secret takes: kept out of history,
redacted in the transcript. (With a real QEMU: tests/qemu/test_secrets_qemu.py,
tests/terminal/test_secrets_terminal.py.)"""

from __future__ import annotations

import json
from typing import Any

import pytest

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


# -- a real QEMU, interactively: the history file ---------------------------------------
