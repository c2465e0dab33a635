"""A reader of stdout that reads late never makes the installed ``qmpshell`` stop reading
QEMU: scripted output waits in memory, in order, while each message reaches the
transcript the moment it arrives.

Each test runs ``.venv/bin/qmpshell`` with stdout a pipe the test leaves unread for a
while, on a real QEMU; a second monitor lets the test make events happen meanwhile.
"""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import INSTALLED, QemuProcess

# How long the reader stays away: the scenario itself, not a way to wait for something.
LATE = 1.0


def _start(
    env: dict[str, str], *args: str, stderr: int = subprocess.PIPE
) -> subprocess.Popen[bytes]:
    if not INSTALLED.exists():
        pytest.fail(f"the qmpshell command is not installed beside {INSTALLED.parent}")
    return subprocess.Popen(
        [str(INSTALLED), *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=stderr,
        env=env,
    )


def _logged(path: Path) -> list[dict[str, Any]]:
    """The transcript's whole lines so far."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in text.splitlines(keepends=True) if line.endswith("\n")]


def _until(
    predicate: Callable[[], bool], what: str, proc: subprocess.Popen[bytes], timeout: float = 20
) -> None:
    """Poll ``predicate`` (the transcript, written as messages arrive) until it holds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert proc.poll() is None, f"qmpshell ended (status {proc.returncode}) before {what}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def _answered(log: Path, name: str) -> bool:
    """Whether the transcript holds the reply to the command ``name`` qmpshell sent."""
    logged = _logged(log)
    ids = [
        m["msg"].get("id") for m in logged if m["dir"] == "send" and m["msg"].get("execute") == name
    ]
    return any(m["dir"] == "recv" and "id" in m["msg"] and m["msg"]["id"] in ids for m in logged)


class RawMonitor:
    """The test's own client on QEMU's second monitor: a plain socket, negotiated, and a
    thread that reads everything QEMU says until it closes the connection."""

    def __init__(self, path: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(30)
        self.sock.connect(path)
        self.file = self.sock.makefile("rb")
        assert "QMP" in json.loads(self.file.readline())
        self.sock.sendall(b'{"execute": "qmp_capabilities"}\n')
        assert json.loads(self.file.readline()) == {"return": {}}
        self.received: list[dict[str, Any]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        # QEMU may reset the connection as it exits, after everything it sent was read.
        with contextlib.suppress(ConnectionResetError):
            for line in self.file:
                self.received.append(json.loads(line))

    def send(self, *names: str) -> None:
        self.sock.sendall(b"".join(b'{"execute": "%s"}\n' % name.encode() for name in names))

    def wait_closed(self, timeout: float = 60) -> None:
        """Until QEMU closed the connection: everything sent has been run."""
        self._reader.join(timeout)
        assert not self._reader.is_alive(), "QEMU did not close the second monitor"

    def close(self) -> None:
        with contextlib.suppress(OSError):  # QEMU may have closed it already
            self.sock.shutdown(socket.SHUT_RDWR)
        self._reader.join(10)
        self.file.close()
        self.sock.close()


def _events(lines: list[bytes]) -> list[str]:
    return [json.loads(line)["event"] for line in lines if b'"event"' in line]


def _waiting_for_shutdown(env: dict[str, str], log: Path, qemu: QemuProcess) -> Any:
    """The installed command, logging to ``log``: one command, then ``/wait SHUTDOWN``."""
    return _start(
        env, "-l", str(log), "-c", '{"execute": "query-name"}', "-c", "/wait SHUTDOWN 60", qemu.qmp
    )


BURST = 1500  # stop + cont pairs: 3,000 events


def test_a_burst_read_late_loses_nothing(
    shell_env: dict[str, str], qemu: QemuProcess, tmp_path: Path
) -> None:
    """3,000 STOP/RESUME events, then quit, while nobody reads stdout: every event and
    the SHUTDOWN reach stdout and the transcript, and ``/wait SHUTDOWN`` ends with 0."""
    log = tmp_path / "log.jsonl"
    proc = _waiting_for_shutdown(shell_env, log, qemu)
    other: RawMonitor | None = None
    try:
        # Events are logged from the first command on: start the burst after its reply.
        _until(lambda: _answered(log, "query-name"), "the reply to query-name", proc)
        other = RawMonitor(qemu.aux)
        started = time.monotonic()
        other.send(*["stop", "cont"] * BURST)
        # QEMU drops what it has not yet written to a monitor when it quits: quit only
        # once both monitors have read the whole burst (the shell's transcript says so).
        _until(
            lambda: _received(other, "RESUME") == BURST, "the burst on the second monitor", proc, 60
        )
        _until(lambda: _logged_events(log).count("RESUME") == BURST, "the burst logged", proc, 60)
        other.send("quit")
        other.wait_closed()
        time.sleep(max(0.0, started + LATE - time.monotonic()))  # the reader is late
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
        proc.wait()
        if other is not None:
            other.close()
    assert (proc.returncode, err.decode()) == (0, "")
    lines = out.splitlines()
    assert json.loads(lines[0]) == {"return": {}}
    expected = ["STOP", "RESUME"] * BURST + ["SHUTDOWN"]
    assert _events(lines) == expected
    assert _logged_events(log) == expected


def _received(monitor: RawMonitor, name: str) -> int:
    return sum(1 for m in list(monitor.received) if m.get("event") == name)


def _logged_events(log: Path) -> list[str]:
    return [m["msg"]["event"] for m in _logged(log) if m["dir"] == "recv" and "event" in m["msg"]]


def test_large_replies_read_late_arrive_whole_and_in_order(
    shell_env: dict[str, str], qemu: QemuProcess, tmp_path: Path
) -> None:
    """query-qmp-schema (about 200 KB) five times between small replies: all of them are
    received (the transcript has them) before the reader reads a byte, and stdout then
    holds every line whole, in order."""
    log = tmp_path / "log.jsonl"
    lines = ["query-qmp-schema", "query-name"] * 5 + ["query-status"]
    proc = _start(shell_env, "-l", str(log), *(f"-c{line}" for line in lines), qemu.qmp)
    try:
        # The first reply alone is more than a pipe holds; the shell reads on regardless.
        _until(lambda: _answered(log, "query-status"), "the last reply in the transcript", proc)
        time.sleep(LATE)  # the reader is later still
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
        proc.wait()
    assert (proc.returncode, err.decode()) == (0, "")
    replies = [json.loads(line) for line in out.splitlines()]
    assert len(replies) == len(lines)
    for line, reply in zip(lines, replies):
        if line == "query-qmp-schema":
            assert any(entry.get("name") == "query-status" for entry in reply["return"])
        elif line == "query-name":
            assert reply == {"return": {}}
        else:
            assert reply["return"]["status"] == "running"
    assert len(out) > 5 * 100_000


def test_an_error_between_two_replies_stays_between_them(
    shell_env: dict[str, str], qemu: QemuProcess, tmp_path: Path
) -> None:
    """With ``2>&1``, a complaint on stderr comes after the reply printed before it (a
    large one the reader has not read yet) and before the next reply."""
    log = tmp_path / "log.jsonl"
    proc = _start(
        shell_env,
        "-l",
        str(log),
        "-c",
        "query-qmp-schema",
        "-c",
        "/wait NO_SUCH_EVENT",
        "-c",
        "query-name",
        qemu.qmp,
        stderr=subprocess.STDOUT,
    )
    try:
        _until(lambda: _answered(log, "query-name"), "the last reply in the transcript", proc)
        time.sleep(LATE)  # the reader is later still
        out, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 1
    schema, complaint, name, summary = out.decode().splitlines()
    assert summary == "qmpshell: 1 of 3 failed: line 2"
    assert isinstance(json.loads(schema)["return"], list)
    assert complaint.startswith("qmpshell: line 2, column 7: unknown event 'NO_SUCH_EVENT'")
    assert json.loads(name) == {"return": {}}


def test_a_reader_that_goes_away_ends_a_script_quietly(
    shell_env: dict[str, str], qemu: QemuProcess
) -> None:
    """``| head -1`` while replies stream: the shell stops at once, says nothing, and
    dies of SIGPIPE as a filter does."""
    proc = _start(shell_env, *(["-cquery-qmp-schema"] * 50), qemu.qmp)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        proc.stdout.close()  # head -1 is done
        status = proc.wait(timeout=30)
        assert proc.stderr is not None
        err = proc.stderr.read()
    finally:
        proc.kill()
        proc.wait()
    assert isinstance(json.loads(first)["return"], list)
    assert (status, err.decode()) == (-signal.SIGPIPE, "")  # as any filter: 141


def test_a_reader_that_goes_away_ends_a_wait_quietly(
    shell_env: dict[str, str], qemu: QemuProcess, tmp_path: Path
) -> None:
    """``| head -1`` on a ``/wait`` that prints events: the next events end the session,
    quietly, of SIGPIPE; QEMU carries on."""
    log = tmp_path / "log.jsonl"
    proc = _waiting_for_shutdown(shell_env, log, qemu)
    other = None
    try:
        # /wait has its schema: the reader goes away while it waits for events.
        _until(lambda: _answered(log, "query-qmp-schema"), "the schema", proc)
        assert proc.stdout is not None
        assert json.loads(proc.stdout.readline()) == {"return": {}}
        proc.stdout.close()  # head -1 is done
        other = RawMonitor(qemu.aux)
        other.send(*["stop", "cont"] * 100)
        status = proc.wait(timeout=30)
        assert proc.stderr is not None
        err = proc.stderr.read()
    finally:
        proc.kill()
        proc.wait()
        if other is not None:
            other.close()
    assert (status, err.decode()) == (-signal.SIGPIPE, "")  # as any filter: 141
    check = qemu.other_client()  # the second monitor is free again
    assert "return" in check.cmd("query-status")
    check.close()


# -- the queue itself, on real pipes ------------------------------------------------------
