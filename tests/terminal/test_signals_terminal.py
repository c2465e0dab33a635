"""Signals and Ctrl-C in the interactive shell (a pty): it closes down cleanly, never with a
traceback; Ctrl-C while connecting exits 130, Ctrl-C in the pager returns to the prompt."""

from __future__ import annotations

import signal
import stat
from pathlib import Path

import pexpect
import pytest
from conftest import QemuProcess
from pty_shell import PROMPT, echoed, quit_at_prompt, spawn, type_line
from waiting import wait_connected, wait_idle


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_shell_ends_cleanly_on_signal(
    shell_env: dict[str, str], qemu: QemuProcess, home: Path, signum: int
) -> None:
    history = home / "state" / "qmpshell" / "history"
    child = spawn(shell_env, qemu.qmp)
    try:
        child.expect(PROMPT)
        type_line(child, "query-name")
        child.expect(r"OK|\{\}")
        child.expect(PROMPT)
        child.send("query-sta")  # half typed
        child.expect(echoed("query-sta"))
        wait_idle(child.pid)
        child.kill(signum)
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert (child.exitstatus, child.signalstatus) == (None, signum)  # died of it, cleaned up
    assert "Traceback" not in (child.before or "")
    assert "query-name" in history.read_text()
    assert stat.S_IMODE(history.stat().st_mode) == 0o600


def test_ctrl_c_while_connecting_to_a_busy_monitor(
    shell_env: dict[str, str], qemu: QemuProcess
) -> None:
    """The monitor serves one client at a time: held by another, it sends no greeting,
    and qmpshell waits (up to --timeout) until Ctrl-C."""
    from conftest import SyncQMP

    holder = SyncQMP(qemu.qmp)
    try:
        child = spawn(shell_env, qemu.qmp)
        wait_connected(child.pid, qemu.qmp)
        wait_idle(child.pid, "qmpshell waiting for a greeting")
        child.sendintr()
        child.expect(pexpect.EOF)
        child.close()
    finally:
        holder.close()
    assert (child.exitstatus, child.signalstatus) == (None, signal.SIGINT)  # a shell says 130
    assert "Traceback" not in (child.before or "")


def test_ctrl_c_in_the_pager(shell_env: dict[str, str], qemu: QemuProcess, tmp_path: Path) -> None:
    """Ctrl-C ends the pager (it is the pager's), not the shell, nor the next command."""
    pager = tmp_path / "pager"
    pager.write_text("#!/bin/sh\necho PAGER-UP; cat > /dev/null; sleep 60\n")
    pager.chmod(0o755)
    env = dict(shell_env, PAGER=str(pager))
    child = spawn(env, qemu.qmp)
    try:
        child.expect(PROMPT)
        type_line(child, "query-commands")  # taller than the 40-row terminal
        child.expect("PAGER-UP")
        wait_idle(child.pid, "qmpshell waiting for its pager")
        child.sendintr()
        child.expect(PROMPT)
        type_line(child, "query-name")
        child.expect(r"OK|\{\}")
        assert "cancelled" not in (child.before or "")
        quit_at_prompt(child)
    finally:
        child.close()
    assert child.exitstatus == 0
