"""Guest agent mode in a terminal (tmux), against a real qemu-ga on this machine: completion
from guest-info.

The agent runs with every command that would act on the host itself blocked
(conftest.AGENT_BLOCKED_ON_HOST), so tests cannot harm the machine."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import AGENT_BLOCKED_ON_HOST
from tmux import Tmux

# What the host's agent must not do (conftest), nor run programs or list the host's NICs.
BLOCKED = [*AGENT_BLOCKED_ON_HOST, "guest-exec", "guest-network-get-interfaces"]


@dataclass
class Agent:
    proc: subprocess.Popen[bytes]
    path: str


@pytest.fixture
def agent() -> Iterator[Agent]:
    binary = shutil.which("qemu-ga")
    if binary is None:
        pytest.fail("qemu-ga is not installed (apt-get install qemu-guest-agent)")
    directory = tempfile.mkdtemp(prefix="qs-ga-")
    path = os.path.join(directory, "qga.sock")
    state = os.path.join(directory, "state")
    os.mkdir(state)
    proc = subprocess.Popen(
        [binary, "-m", "unix-listen", "-p", path, "-t", state, "-b", ",".join(BLOCKED)],
        stdin=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not os.path.exists(path):
            assert proc.poll() is None, "qemu-ga exited"
            assert time.monotonic() < deadline, "qemu-ga did not open its socket"
            time.sleep(0.01)
        yield Agent(proc, path)
    finally:
        os.kill(proc.pid, signal.SIGCONT)
        proc.kill()
        proc.wait()
        shutil.rmtree(directory, ignore_errors=True)


def test_completion_from_guest_info(
    shell_env: dict[str, str], agent: Agent, tmp_path: Path
) -> None:
    env = dict(shell_env)
    env.pop("PROMPT_TOOLKIT_NO_CPR")
    screen = Tmux(tmp_path, env, [sys.executable, "-m", "qmpshell", "--ga", agent.path])
    try:
        screen.wait_for(r"Connected to the guest agent at .* \(qemu-ga 7\.")
        screen.wait_for(r"\(QGA\)")
        screen.type("guest-get-t")
        screen.wait_for(r"guest-get-time\s+command")
        screen.wait_for(r"guest-get-timezone\s+command")
        screen.type("C-u", "guest-shut")
        screen.wait_for(r"guest-shutdown\s+disabled")
        screen.type("C-u", "guest-ping", "Enter")
        screen.wait_for("OK")
        screen.wait_for(r"│ guest agent 7\.")
    finally:
        screen.close()
