"""Signals and Ctrl-C in scripts: qmpshell closes down cleanly, never with a traceback.

SIGTERM and SIGHUP end a session as end of input does (the transcript complete, a
launched QEMU quit), with the exit statuses 143 and 129; Ctrl-C while connecting exits
130. The interactive shell: tests/terminal/test_signals_terminal.py."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import QemuProcess
from script_shell import Script
from waiting import has_unix_socket, wait_connected, wait_for, wait_idle


def _transcript(path: Path) -> list[tuple[str, object]]:
    lines = path.read_text().splitlines()
    return [(m["dir"], m["msg"].get("execute", "reply")) for m in map(json.loads, lines)]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_script_ends_cleanly_on_signal(
    shell_env: dict[str, str], qemu: QemuProcess, tmp_path: Path, signum: int
) -> None:
    log = tmp_path / "log.jsonl"
    script = Script(shell_env, "-l", str(log), qemu.qmp)
    script.send("query-name")
    assert script.reply() == {"return": {}}
    script.proc.send_signal(signum)  # while it waits for its next line
    status = script.proc.wait(timeout=10)
    assert script.proc.stderr is not None
    stderr = script.proc.stderr.read()
    assert status == -signum  # died of it (a shell says 128 + signum), after cleaning up
    if signum == signal.SIGTERM:
        assert stderr == "qmpshell: terminated by SIGTERM\n"
    else:
        assert stderr == ""  # the terminal is gone: nobody to tell
    assert ("send", "query-name") in _transcript(log)
    assert _transcript(log)[-1] == ("recv", "reply")  # whole lines, the last one too
    assert "return" in qemu.other_client().cmd("query-status")  # QEMU is untouched


def test_sigterm_quits_a_launched_qemu(shell_env: dict[str, str], tmp_path: Path) -> None:
    private = tmp_path / "tmp"
    private.mkdir()
    env = dict(shell_env, TMPDIR=str(private))
    machine = ["qemu-system-x86_64", "-machine", "none", "-nodefaults", "-display", "none"]
    script = Script(env, "--", *machine)
    script.send("query-name")
    assert script.reply() == {"return": {}}
    (directory,) = private.iterdir()
    found = subprocess.run(["pgrep", "-f", str(directory)], capture_output=True, text=True)
    qemu_pid = int(found.stdout.split()[0])
    script.proc.send_signal(signal.SIGTERM)
    assert script.proc.wait(timeout=15) == -signal.SIGTERM  # a shell says 143
    assert not os.path.exists(f"/proc/{qemu_pid}") or "zombie" in _state(qemu_pid)
    assert list(private.iterdir()) == []  # the launch directory is gone too


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return "zombie"


def test_ctrl_c_while_connecting_in_a_script(shell_env: dict[str, str], qemu: QemuProcess) -> None:
    from conftest import SyncQMP

    holder = SyncQMP(qemu.qmp)
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "qmpshell", "-c", "query-name", qemu.qmp],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=shell_env,
        )
        wait_connected(proc.pid, qemu.qmp)
        wait_idle(proc.pid, "qmpshell waiting for a greeting")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    finally:
        holder.close()
    assert proc.returncode == -signal.SIGINT  # a shell says 130: a loop around it stops
    assert (out, err) == ("", "")


def test_ctrl_c_stops_a_shell_loop_around_a_script(
    shell_env: dict[str, str], qemu: QemuProcess
) -> None:
    """A shell loop running qmpshell stops at Ctrl-C (SIGINT to the foreground group):
    qmpshell cleans up, then dies of SIGINT, and the shell takes that as its own."""
    loop = (
        f"for i in 1 2 3; do {sys.executable} -m qmpshell -c '/wait DEVICE_DELETED 60' "
        f"{qemu.qmp} 2>/dev/null; echo ran $i; done"
    )
    proc = subprocess.Popen(
        ["bash", "-c", loop],
        stdout=subprocess.PIPE,
        text=True,
        env=shell_env,
        start_new_session=True,
    )
    try:
        wait_for(lambda: bool(_children_of(proc.pid)), "qmpshell started by the loop")
        (shell,) = map(int, _children_of(proc.pid))
        wait_connected(shell, qemu.qmp)
        wait_idle(shell, "qmpshell waiting for DEVICE_DELETED")
        os.killpg(proc.pid, signal.SIGINT)
        out, _ = proc.communicate(timeout=15)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    assert out == ""  # neither "ran 1" nor another round
    assert proc.returncode == -signal.SIGINT


def _children_of(pid: int) -> list[str]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return found.stdout.split()


def test_sigterm_while_connecting_is_not_lost(shell_env: dict[str, str], qemu: QemuProcess) -> None:
    """SIGTERM from the moment the session's loop exists, while it connects and reads
    the greeting: asyncio.wait_for (before Python 3.12) may drop a cancellation that
    comes just as what it waits for is done; the session must end all the same (it went
    on waiting in 4 runs of 15)."""
    for _ in range(10):
        proc = subprocess.Popen(
            [sys.executable, "-m", "qmpshell", "-c", "/wait RESET 60", qemu.qmp],
            env=shell_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            pid = proc.pid
            wait_for(lambda: has_unix_socket(pid), "the session's loop")  # noqa: B023
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert proc.returncode == -signal.SIGTERM, err
