"""``--reconnect``: QEMU killed and started again on the same socket, the session goes on."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pexpect
import pytest
from conftest import QemuFactory, QemuProcess
from test_repl_pty import PROMPT, echoed, quit_at_prompt, spawn, type_line

from qmpshell.modes.scripted import _ranges


class Script:
    """qmpshell reading a pipe the test writes to, a line at a time."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "qmpshell", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def reply(self) -> dict[str, object]:
        """The next line of stdout that is not an event."""
        assert self.proc.stdout is not None
        while True:
            line = self.proc.stdout.readline()
            if not line:
                assert self.proc.stderr is not None
                raise AssertionError(f"qmpshell ended: {self.proc.stderr.read()}")
            message = json.loads(line)
            if "event" not in message:
                return message  # type: ignore[no-any-return]

    def finish(self) -> tuple[int, str]:
        assert self.proc.stdin is not None and self.proc.stderr is not None
        self.proc.stdin.close()
        status = self.proc.wait(timeout=30)
        return status, self.proc.stderr.read()


def _wait_until(done: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    """Poll for a state the test can see (the transcript is written as a line is sent)."""
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, f"not seen within {timeout:g}s: {what}"
        time.sleep(0.01)


def _stderr_line(stream: IO[str] | None, pattern: str) -> str:
    assert stream is not None
    line = stream.readline()
    assert pattern in line, line
    return line


def test_script_goes_on_after_qemu_restarts(
    shell_env: dict[str, str], qemu_factory: QemuFactory, tmp_path: Path
) -> None:
    first = qemu_factory.start()
    log = tmp_path / "session.jsonl"
    script = Script(shell_env, "--reconnect=20", "-l", str(log), first.qmp)
    script.send("query-name")
    assert script.reply() == {"return": {}}
    first.proc.kill()
    _stderr_line(script.proc.stderr, f"waiting for {first.qmp} to come back (for up to 20s)")
    second = qemu_factory.start(reuse=first.directory)
    script.send("query-status")
    assert script.reply()["return"] == {"status": "running", "running": True, **_singlestep()}
    status, stderr = script.finish()
    assert status == 0
    assert f"reconnected to {second.qmp} (QEMU " in stderr
    sent = [json.loads(line) for line in log.read_text().splitlines()]
    commands = [m["msg"].get("execute") for m in sent if m["dir"] == "send"]
    # Both connections negotiated, and the transcript kept going across them (the
    # schema's query-commands and query-qmp-schema aside: it was read again).
    assert commands.count("query-commands") == 2
    commands = [c for c in commands if c not in ("query-commands", "query-qmp-schema")]
    assert commands == ["qmp_capabilities", "query-name", "qmp_capabilities", "query-status"]


def _singlestep() -> dict[str, bool]:
    """QEMU 7.2's query-status has singlestep; 9.0 dropped it."""
    from conftest import qemu_version

    return {"singlestep": False} if qemu_version() < (9, 0, 0) else {}


def test_script_reports_lines_left_without_reply(
    shell_env: dict[str, str], qemu_factory: QemuFactory
) -> None:
    """A command in flight when QEMU dies got no reply: it counts as failed (status 1),
    and the lines after it run on the new QEMU."""
    first = qemu_factory.start(("-machine", "q35,accel=tcg", "-m", "128", "-S"))
    other = first.other_client()
    other.cmd("stop")
    log = Path(first.directory) / "session.jsonl"
    script = Script(shell_env, "--reconnect", "-l", str(log), first.qmp)
    script.send("query-name")
    assert script.reply() == {"return": {}}
    # QEMU stopped with SIGSTOP cannot answer; killed, it never will.
    import os
    import signal

    os.kill(first.proc.pid, signal.SIGSTOP)
    script.send("query-status")
    _wait_until(lambda: '"execute": "query-status"' in log.read_text(), "query-status sent")
    first.proc.kill()
    # Said the moment the connection is lost, while the script idles, before anything
    # that comes later.
    lost = _stderr_line(script.proc.stderr, "no reply")
    assert lost == (
        "qmpshell: line 2: no reply, the connection was lost (QEMU may or may not have run it)\n"
    )
    _stderr_line(script.proc.stderr, "; waiting for")
    qemu_factory.start(reuse=first.directory)
    script.send("query-name")
    assert script.reply() == {"return": {}}
    status, stderr = script.finish()
    assert status == 1  # the line that lost its reply failed; the connection is back
    assert "reconnected" in stderr
    assert stderr.endswith("qmpshell: 1 of 3 failed: line 2\n")


def test_reconnect_gives_up_after_its_limit(shell_env: dict[str, str], qemu: QemuProcess) -> None:
    script = Script(shell_env, "--reconnect=0.5", qemu.qmp)
    script.send("query-name")
    assert script.reply() == {"return": {}}
    qemu.proc.kill()
    started = time.monotonic()
    _stderr_line(script.proc.stderr, "waiting for")
    # It gives up while the script waits for its next line, and exits.
    _stderr_line(script.proc.stderr, f"gave up waiting for {qemu.qmp} after 0.5s: ")
    assert script.proc.wait(timeout=10) == 3
    assert time.monotonic() - started < 10
    assert script.finish()[1] == ""


def test_without_reconnect_a_lost_connection_ends_the_script(
    shell_env: dict[str, str], qemu: QemuProcess
) -> None:
    script = Script(shell_env, qemu.qmp)
    script.send("query-name")
    assert script.reply() == {"return": {}}
    qemu.proc.kill()
    # The script waits for its next line; the loss alone ends it.
    assert script.proc.wait(timeout=10) == 3
    status, stderr = script.finish()
    assert status == 3
    assert stderr.strip().splitlines()[-1].startswith(f"qmpshell: connection to {qemu.qmp}")


def test_reconnect_is_refused_with_launch(run_shell: object) -> None:
    result = run_shell("--reconnect", "--launch")  # type: ignore[operator]
    assert result.status == 2
    assert "--reconnect does not apply to a QEMU that qmpshell launches" in result.stderr


def test_reconnect_value_must_be_attached(run_shell: object, qemu: QemuProcess) -> None:
    """``--reconnect SOCK`` is the flag and an address, not SOCK seconds."""
    result = run_shell("--reconnect", qemu.qmp, "-c", "query-name")  # type: ignore[operator]
    assert result.status == 0, result.stderr
    bad = run_shell("--reconnect=soon", qemu.qmp)  # type: ignore[operator]
    assert bad.status == 2
    assert "not a number of seconds: 'soon'" in bad.stderr


@pytest.mark.parametrize(
    "numbers, text",
    [([4], "4"), ([1, 2, 3], "1-3"), ([1, 2, 3, 5, 7, 8], "1-3, 5, 7-8")],
)
def test_line_ranges(numbers: list[int], text: str) -> None:
    assert _ranges(numbers) == text


# -- interactive -----------------------------------------------------------------------


def test_shell_keeps_the_half_typed_line_and_the_event_log(
    shell_env: dict[str, str], qemu_factory: QemuFactory
) -> None:
    first = qemu_factory.start(("-machine", "q35,accel=tcg", "-m", "128", "-S"))
    child = spawn(shell_env, "--reconnect", first.qmp)
    try:
        child.expect(PROMPT)
        other = first.other_client()
        other.cmd("cont")  # an event in the log of the first connection
        child.expect("RESUME")
        other.close()
        child.send("query-ver")
        child.expect(echoed("query-ver"))
        first.proc.kill()
        child.expect(f"closed by peer; waiting for {first.qmp} to come back")
        second = qemu_factory.start_storage_daemon(reuse=first.directory)
        child.expect(f"reconnected to {second.qmp}")
        child.send("sion")  # the rest of the line typed before QEMU died
        child.send("\r")
        child.expect('"micro"')
        # The schema was read again: the storage daemon has no query-status.
        type_line(child, "query-status")
        child.expect("unknown command 'query-status'")
        type_line(child, "/events")
        child.expect("RESUME")
        quit_at_prompt(child)
    finally:
        child.close()
    assert child.exitstatus == 0


def test_shell_command_waiting_when_qemu_dies(
    shell_env: dict[str, str], qemu_factory: QemuFactory
) -> None:
    import os
    import signal

    first = qemu_factory.start()
    child = spawn(shell_env, "--reconnect=30", first.qmp)
    try:
        child.expect(PROMPT)
        # A first line waits for the schema, which then cannot be what is in flight.
        type_line(child, "query-name")
        child.expect(r"OK|\{\}")
        child.expect(PROMPT)
        os.kill(first.proc.pid, signal.SIGSTOP)
        type_line(child, "query-status")
        time.sleep(0.3)
        first.proc.kill()
        child.expect("no reply: the connection was lost; the command may have run or not")
        child.expect(PROMPT)
        type_line(child, "query-name")  # while QEMU is away
        child.expect(r"not connected \(waiting for the monitor to come back\); not sent")
        qemu_factory.start(reuse=first.directory)
        child.expect("reconnected to")
        type_line(child, "query-name")
        child.expect(r"OK|\{\}")
        quit_at_prompt(child)
    finally:
        child.close()
    assert child.exitstatus == 0


def test_shell_gives_up_after_the_limit(shell_env: dict[str, str], qemu: QemuProcess) -> None:
    child = spawn(shell_env, "--reconnect=0.5", qemu.qmp)
    try:
        child.expect(PROMPT)
        qemu.proc.kill()
        child.expect("waiting for")
        child.expect(f"gave up waiting for {qemu.qmp} after 0.5s")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 3
