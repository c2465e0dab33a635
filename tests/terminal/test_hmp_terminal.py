"""HMP mode against real QEMU in a terminal (tmux): a session, and argument completion."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import QemuProcess
from tmux import Tmux


@pytest.fixture
def hmp_screen(shell_env: dict[str, str], q35: QemuProcess, tmp_path: Path) -> Iterator[Tmux]:
    env = dict(shell_env)
    env.pop("PROMPT_TOOLKIT_NO_CPR")
    argv = [sys.executable, "-m", "qmpshell", "--color", "never", "-H", q35.qmp]
    terminal = Tmux(tmp_path, env, argv)
    terminal.wait_for(r"\(qemu\)")
    try:
        yield terminal
    finally:
        terminal.close()


def test_terminal_hmp_session(hmp_screen: Tmux, home: Path) -> None:
    screen = hmp_screen
    screen.wait_for(r"│ HMP")
    screen.type("info sta")
    screen.wait_for(r"status\s+show the current VM status")
    screen.type("tus", "Enter")
    screen.wait_for(r"VM status: paused \(prelaunch\)")
    screen.type("help inf")
    screen.wait_for(r"info\s+show various information")
    screen.type("C-u", "cpu 0", "Enter")
    screen.wait_for(r"│ HMP, CPU 0")
    screen.type("/qmp", "Enter")
    screen.wait_for(r"│ QMP\s")
    screen.type("query-name", "Enter")
    screen.wait_for("OK")
    screen.type("/hmp", "Enter")
    screen.wait_for(r"│ HMP, CPU 0")
    screen.type("Up")  # HMP history: the QMP line is not in it
    screen.wait_for(r"\(qemu\) cpu 0")
    screen.type("C-u", "C-d")
    state = home / "state" / "qmpshell"
    deadline = time.monotonic() + 10
    while "cpu 0" not in _read(state / "history-hmp") and time.monotonic() < deadline:
        time.sleep(0.05)
    hmp_history = _read(state / "history-hmp")
    assert "info status" in hmp_history and "query-name" not in hmp_history
    assert "query-name" in (state / "history").read_text()


def _read(path: Path) -> str:
    return path.read_text() if path.exists() else ""


def test_terminal_hmp_argument_completion(hmp_screen: Tmux, q35: QemuProcess) -> None:
    screen = hmp_screen
    screen.type("device_add usb-")
    screen.wait_for(r"usb-kbd\s+device type")
    screen.type("C-u", "info block ")
    screen.type("Tab")
    screen.wait_for(r"\(qemu\) info block\n")  # no drives on this machine: nothing offered
