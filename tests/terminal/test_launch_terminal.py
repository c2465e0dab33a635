"""Launch mode in a terminal (tmux): qmpshell starts QEMU itself, and stops it at the end."""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import pytest
from conftest import qemu_version_text
from tmux import Tmux


@pytest.fixture
def private_tmp(shell_env: dict[str, str], tmp_path: Path) -> Path:
    """Launch directories go here, so a test can see them made and removed."""
    directory = tmp_path / "tmp"
    directory.mkdir()
    shell_env["TMPDIR"] = str(directory)
    return directory


def test_interactive_launch(shell_env: dict[str, str], private_tmp: Path, tmp_path: Path) -> None:
    env = dict(shell_env)
    env.pop("PROMPT_TOOLKIT_NO_CPR")
    screen = Tmux(tmp_path, env, [sys.executable, "-m", "qmpshell", "--color", "never", "--launch"])
    try:
        screen.wait_for(r"\(QEMU\)")
        version = re.escape(qemu_version_text())
        screen.wait_for(rf"qemu-system-x86_64 \(launched\) │ QEMU {version} │ prelaunch │ QMP")
        screen.type("cont", "Enter")
        screen.wait_for(r"\d\d:\d\d:\d\d\.\d{3} RESUME")  # events as with a socket
        screen.type("query-sta")
        screen.wait_for(r"query-status\s+command")  # completion as with a socket
        screen.type("C-u", "C-d")
        deadline = time.monotonic() + 10
        while list(private_tmp.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert list(private_tmp.iterdir()) == []  # QEMU gone, directory removed
        history = (tmp_path / "state" / "qmpshell" / "history").read_text()
        assert "cont" in history
    finally:
        screen.close()
