"""Deprecated and unstable names sent to a real QEMU (7.2, or 10.0 with ``scripts/test
--qemu10``: the names used here are marked alike in both): a one-line warning the first
time a script uses each, whichever way the script runs; and QEMU's own word on them when
``-compat deprecated-input=reject`` (and ``unstable-input=reject``) makes it refuse them,
after qmpshell's warning."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import QemuProcess

WAYS = ["one-shot", "asyncio session"]
REJECT = ("-machine", "none", "-compat", "deprecated-input=reject,unstable-input=reject")


def nbd_script(tmp_path: Path) -> list[str]:
    """A block node exported twice by the deprecated nbd-server-add (removed between)."""
    return [
        "blockdev-add driver=null-co node-name=n0",
        f"nbd-server-start addr.type=unix addr.data.path={tmp_path}/nbd.sock",
        "nbd-server-add device=n0",
        "nbd-server-remove name=n0",
        "nbd-server-add device=n0",
    ]


def run(run_shell: Any, qemu: QemuProcess, way: str, lines: list[str]) -> Any:
    if way != "one-shot":
        lines = [*lines, "/events filter none"]  # a meta-command: the asyncio session
    args = [arg for line in lines for arg in ("-c", line)]
    return run_shell("--events", "none", *args, qemu.qmp)


@pytest.mark.parametrize("way", WAYS)
def test_a_deprecated_command_warns_once_and_works(
    run_shell: Any, qemu: QemuProcess, tmp_path: Path, way: str
) -> None:
    result = run(run_shell, qemu, way, nbd_script(tmp_path))
    assert result.status == 0, result.stderr
    assert result.messages()[:5] == [{"return": {}}] * 5
    assert result.stderr.splitlines()[:2] == [
        "qmpshell: line 3: warning: 'nbd-server-add' is deprecated",
        "qmpshell: line 4: warning: 'nbd-server-remove' is deprecated",
    ]
    assert result.stderr.count("warning") == 2  # line 5 sends it again: no more said


@pytest.mark.parametrize("way", WAYS)
def test_qemu_refuses_what_it_is_told_to_after_the_warning(
    run_shell: Any, qemu_factory: Any, tmp_path: Path, way: str
) -> None:
    qemu = qemu_factory.start(REJECT)
    lines = [
        *nbd_script(tmp_path),
        "block-commit device=n0 top=t",
        '{"execute": "block-commit", "arguments": {"device": "n0", "top": "u"}}',
        "migrate-set-capabilities capabilities=[{'capability': 'x-ignore-shared', 'state': false}]",
        "x-query-roms",
    ]
    result = run(run_shell, qemu, way, lines)
    assert result.status == 1
    refusals = [m["error"]["desc"] for m in result.messages() if "error" in m]
    assert refusals == [
        "Deprecated command nbd-server-add disabled by policy",
        "Deprecated command nbd-server-remove disabled by policy",
        "Deprecated command nbd-server-add disabled by policy",
        "Deprecated parameter top disabled by policy",
        "Deprecated parameter top disabled by policy",
        "Unstable value x-ignore-shared disabled by policy",
        "Unstable command x-query-roms disabled by policy",
    ]
    assert [line for line in result.stderr.splitlines() if "warning" in line] == [
        "qmpshell: line 3: warning: 'nbd-server-add' is deprecated",
        "qmpshell: line 4: warning: 'nbd-server-remove' is deprecated",
        "qmpshell: line 6: warning: argument 'top' of 'block-commit' is deprecated",
        "qmpshell: line 8: warning: value 'x-ignore-shared' of 'capabilities[].capability' "
        "of 'migrate-set-capabilities' is unstable",
        "qmpshell: line 9: warning: 'x-query-roms' is unstable",
    ]


def test_a_watched_line_warns_once(run_shell: Any, qemu: QemuProcess) -> None:
    result = run_shell("-c", "/watch -n 0.1 -c 3 x-query-roms", "-c", "x-query-roms", qemu.qmp)
    assert result.status == 0, result.stderr
    assert len(result.messages()) == 4
    assert result.stderr == "qmpshell: line 1: warning: 'x-query-roms' is unstable\n"
