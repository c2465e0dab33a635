"""A real ``qemu-ga`` on this host for the tests of guest agent mode, with everything that
would act on the host itself blocked, so that no test can harm the machine."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from waiting import wait_for

# What an agent on this host must not do to it: shut it down, suspend it, freeze or trim
# its filesystems, set its clock, users, CPUs or memory, open its files.
AGENT_BLOCKED_ON_HOST = (
    "guest-shutdown",
    "guest-suspend-disk",
    "guest-suspend-ram",
    "guest-suspend-hybrid",
    "guest-fsfreeze-freeze",
    "guest-fsfreeze-freeze-list",
    "guest-fstrim",
    "guest-set-time",
    "guest-set-vcpus",
    "guest-set-memory-blocks",
    "guest-set-user-password",
    "guest-file-open",
)

# Nor, for most tests, run programs or list the host's NICs.
AGENT_BLOCKED = (*AGENT_BLOCKED_ON_HOST, "guest-exec", "guest-network-get-interfaces")


@dataclass
class AgentProcess:
    proc: subprocess.Popen[bytes]
    path: str  # its socket


@contextmanager
def running_agent(blocked: Sequence[str] = AGENT_BLOCKED) -> Iterator[AgentProcess]:
    """``qemu-ga`` listening on a private socket with ``blocked`` blocked, until the block
    ends; killed then, even if a test stopped it (SIGSTOP)."""
    binary = shutil.which("qemu-ga")
    if binary is None:
        pytest.fail("qemu-ga is not installed (apt-get install qemu-guest-agent)")
    directory = tempfile.mkdtemp(prefix="qs-ga-")
    path = os.path.join(directory, "qga.sock")
    state = os.path.join(directory, "state")
    os.mkdir(state)
    proc = subprocess.Popen(
        [binary, "-m", "unix-listen", "-p", path, "-t", state, "-b", ",".join(blocked)],
        stdin=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:

        def listening() -> bool:
            assert proc.poll() is None, "qemu-ga exited"
            return os.path.exists(path)

        wait_for(listening, f"qemu-ga listening at {path}")
        yield AgentProcess(proc, path)
    finally:
        os.kill(proc.pid, signal.SIGCONT)
        proc.kill()
        proc.wait()
        shutil.rmtree(directory, ignore_errors=True)
