"""``--reconnect``: QEMU killed and started again on the same socket, the session goes on."""

from __future__ import annotations

import json
import time
from pathlib import Path

from conftest import QemuFactory, QemuProcess
from script_shell import Script, stderr_line
from waiting import stop, wait_for


def test_script_goes_on_after_qemu_restarts(
    shell_env: dict[str, str], qemu_factory: QemuFactory, tmp_path: Path
) -> None:
    first = qemu_factory.start()
    log = tmp_path / "session.jsonl"
    script = Script(shell_env, "--reconnect=20", "-l", str(log), first.qmp)
    script.send("query-name")
    assert script.reply() == {"return": {}}
    first.proc.kill()
    stderr_line(script.proc.stderr, f"waiting for {first.qmp} to come back (for up to 20s)")
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

    stop(first.proc.pid)
    script.send("query-status")
    wait_for(lambda: '"execute": "query-status"' in log.read_text(), "query-status sent")
    first.proc.kill()
    # Said the moment the connection is lost, while the script idles, before anything
    # that comes later.
    lost = stderr_line(script.proc.stderr, "no reply")
    assert lost == (
        "qmpshell: line 2: no reply, the connection was lost (QEMU may or may not have run it)\n"
    )
    stderr_line(script.proc.stderr, "; waiting for")
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
    stderr_line(script.proc.stderr, "waiting for")
    # It gives up while the script waits for its next line, and exits.
    stderr_line(script.proc.stderr, f"gave up waiting for {qemu.qmp} after 0.5s: ")
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


# -- interactive -----------------------------------------------------------------------
