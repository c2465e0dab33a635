"""The transcript is opened safely and never holds half a line, and a QEMU the shell
launches never outlives it. (The history file: tests/prompt/test_history_files.py.)"""

from __future__ import annotations

import json
import os
import resource
import signal
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import _wait_for
from private_files import NOBODY, as_root, target_and_link, unchanged

MACHINE_NONE = ["qemu-system-x86_64", "-machine", "none", "-nodefaults", "-display", "none"]


def test_transcript_symlink_refused(run_shell: Any, qemu: Any, tmp_path: Path) -> None:
    target, link = target_and_link(tmp_path)
    result = run_shell("-l", str(link), "-c", "query-name", qemu.qmp)
    assert result.status == 0
    assert result.messages() == [{"return": {}}]  # the session went on
    assert result.stderr.splitlines() == [
        f"qmpshell: cannot write transcript {link}: it is a symbolic link, which is not "
        "followed; going on without it"
    ]
    unchanged(target)


def test_existing_transcript_tightened_and_appended(
    run_shell: Any, qemu: Any, tmp_path: Path
) -> None:
    log = tmp_path / "t.jsonl"
    log.write_text('{"before": true}\n')
    log.chmod(0o666)
    result = run_shell("-l", str(log), "-c", "query-name", qemu.qmp)
    assert result.status == 0, result.stderr
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert lines[0] == {"before": True}
    assert lines[-1]["msg"]["return"] == {}


@as_root
def test_transcript_of_another_user_refused(run_shell: Any, qemu: Any, tmp_path: Path) -> None:
    log = tmp_path / "t.jsonl"
    log.write_text("")
    os.chown(log, NOBODY, NOBODY)
    result = run_shell("-l", str(log), "-c", "query-name", qemu.qmp)
    assert result.status == 0
    assert result.messages() == [{"return": {}}]
    [line] = result.stderr.splitlines()
    assert "owned by another user (uid 65534)" in line
    assert log.read_text() == ""


def test_full_disk_leaves_no_half_line(
    shell_env: dict[str, str], qemu: Any, tmp_path: Path
) -> None:
    log = tmp_path / "t.jsonl"
    limit = 1500  # bytes the shell may write to a file: a few lines, then "full"

    def small_disk() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a death

    commands = [word for _ in range(30) for word in ("-c", "query-name")]
    proc = subprocess.run(
        [sys.executable, "-m", "qmpshell", "-l", str(log), *commands, qemu.qmp],
        capture_output=True,
        text=True,
        env=shell_env,
        timeout=30,
        preexec_fn=small_disk,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ['{"return":{}}'] * 30  # the session went on
    [line] = proc.stderr.splitlines()  # reported once
    assert line.startswith(f"qmpshell: transcript {log} no longer written: ")
    text = log.read_text()
    assert 0 < len(text) <= limit and text.endswith("\n")
    for entry in text.splitlines():
        json.loads(entry)  # every line whole


def test_launched_qemu_dies_with_a_killed_shell(shell_env: dict[str, str], tmp_path: Path) -> None:
    shell_env["TMPDIR"] = str(tmp_path)
    waiting = ["-c", "query-name", "-c", "/wait DEVICE_DELETED device=none 60"]
    shell = subprocess.Popen(
        [sys.executable, "-m", "qmpshell", *waiting, "--", *MACHINE_NONE],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=shell_env,
    )
    try:
        assert shell.stdout is not None
        assert shell.stdout.readline()  # the answer: QEMU is up, the shell is waiting
        children = Path(f"/proc/{shell.pid}/task/{shell.pid}/children").read_text().split()
        [qemu_pid] = [int(pid) for pid in children]
        assert "qemu-system" in Path(f"/proc/{qemu_pid}/cmdline").read_text()
        shell.kill()
        shell.wait()
        _wait_for(lambda: _gone(qemu_pid), "the launched QEMU to die")
    finally:
        shell.kill()
        shell.wait()


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")  # dead; an init that does not reap may leave it a zombie


@pytest.mark.parametrize(
    "options",
    [
        ["-daemonize"],
        ["--daemonize"],
        ["-runas", "nobody"],
        ["-run-with", "chroot=/,user=nobody"],
        ["-qmp", "unix:/nonexistent/m.sock,server=on"],
        ["-monitor", "tcp:127.0.0.1:1,server"],
    ],
)
def test_detaching_options_refused(
    run_shell: Any, shell_env: dict[str, str], tmp_path: Path, options: list[str]
) -> None:
    launches = tmp_path / "tmp"
    launches.mkdir()
    shell_env["TMPDIR"] = str(launches)
    result = run_shell("-c", "query-name", "--", *MACHINE_NONE, *options)
    assert result.status == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(f"qmpshell: error: {options[0]} ")
    assert list(launches.iterdir()) == []  # nothing was started
