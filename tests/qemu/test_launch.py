"""Launch mode: qmpshell starts QEMU itself, and stops it at the end."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from waiting import stop

MACHINE_NONE = ["qemu-system-x86_64", "-machine", "none", "-nodefaults", "-display", "none"]


@pytest.fixture
def private_tmp(shell_env: dict[str, str], tmp_path: Path) -> Path:
    """Launch directories go here, so a test can see them made and removed."""
    directory = tmp_path / "tmp"
    directory.mkdir()
    shell_env["TMPDIR"] = str(directory)
    return directory


def test_launch_default_machine(run_shell: Any, private_tmp: Path, tmp_path: Path) -> None:
    log = tmp_path / "t.jsonl"
    result = run_shell(
        "--launch", "-l", str(log),
        "-c", "query-status",
        "-c", "qom-get path=/machine property=type",
        "-c", "query-pci",
    )  # fmt: skip
    assert result.status == 0, result.stderr
    status, machine, pci = result.messages()  # the SHUTDOWN of the final quit is not shown
    assert status["return"]["status"] == "prelaunch"  # paused
    assert machine["return"].startswith("pc-q35")
    devices = [d["qdev_id"] or d["class_info"].get("desc") for d in pci["return"][0]["devices"]]
    assert not any("net" in str(d).lower() for d in devices)  # no network card
    assert list(private_tmp.iterdir()) == []  # the private directory is gone
    messages = [json.loads(line)["msg"] for line in log.read_text().splitlines()]
    assert messages[-3]["execute"] == "quit"  # asked to quit, and it did:
    assert messages[-2]["data"]["reason"] == "host-qmp-quit"
    assert "return" in messages[-1]


def test_launch_given_command(run_shell: Any, private_tmp: Path) -> None:
    result = run_shell("-c", "query-name", "--", *MACHINE_NONE, "-name", "launched7")
    assert result.status == 0, result.stderr
    assert result.messages() == [{"return": {"name": "launched7"}}]
    assert list(private_tmp.iterdir()) == []


def test_qemu_messages_reach_the_user(run_shell: Any, private_tmp: Path) -> None:
    result = run_shell("-c", "query-name", "--", *MACHINE_NONE, "-netdev", "user,id=lonely")
    assert result.status == 0
    assert "netdev lonely has no peer" in result.stderr
    assert "waiting for connection" not in result.stderr


def test_qemu_failing_at_start_up(run_shell: Any, private_tmp: Path) -> None:
    result = run_shell("-c", "query-name", "--", "qemu-system-x86_64", "-machine", "bogus")
    assert result.status == 3
    lines = result.stderr.splitlines()
    assert "unsupported machine type" in result.stderr
    assert lines[-1] == "qmpshell: qemu-system-x86_64 exited at start-up with status 1"
    assert list(private_tmp.iterdir()) == []


def test_qemu_binary_missing(run_shell: Any, shell_env: dict[str, str]) -> None:
    result = run_shell("-c", "query-name", "--", "/nonexistent/qemu-system-x86_64")
    assert result.status == 3
    assert (
        result.stderr
        == "qmpshell: cannot run /nonexistent/qemu-system-x86_64: No such file or directory\n"
    )
    shell_env["PATH"] = "/nonexistent"
    result = run_shell("--launch", "-c", "query-name")
    assert result.status == 3
    assert result.stderr == (
        "qmpshell: qemu-system-x86_64 is not installed: install the qemu-system-x86 package\n"
    )


def test_launch_usage_errors(run_shell: Any) -> None:
    assert run_shell("/some.sock", "--", "qemu-system-x86_64").status == 2
    assert run_shell("--").status == 2


def test_qemu_that_will_not_quit_is_killed(shell_env: dict[str, str], private_tmp: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "qmpshell", "--timeout", "1", "--", *MACHINE_NONE],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=shell_env,
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(b"query-name\n")
    proc.stdin.flush()
    assert json.loads(proc.stdout.readline()) == {"return": {}}
    (directory,) = private_tmp.iterdir()
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    qemu_pid = int(subprocess.run(
        ["pgrep", "-f", str(directory)], capture_output=True, text=True, check=True
    ).stdout.split()[0])  # fmt: skip
    stop(qemu_pid)  # it cannot answer quit now
    try:
        _, err = proc.communicate(b"", timeout=20)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(qemu_pid, signal.SIGKILL)
    assert b"did not quit; killing it" in err
    assert (
        not os.path.exists(f"/proc/{qemu_pid}/status")
        or b"zombie" in Path(f"/proc/{qemu_pid}/status").read_bytes()
    )
    assert list(private_tmp.iterdir()) == []
