"""The qmpshell command in scripted mode, against real QEMU processes."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import QemuFactory, QemuProcess, qemu_version
from conftest import read_line as _readline
from conftest import start_shell as _start_shell
from waiting import stop, wait_queued_to

# -- addresses -------------------------------------------------------------------------


def test_unix_socket_path(run_shell: Any, qemu: QemuProcess) -> None:
    result = run_shell("-c", "query-status", qemu.qmp)
    assert result.status == 0, result.stderr
    status = {"status": "running", "running": True}
    if qemu_version() < (9, 0):  # 9.0 removed singlestep (deprecated since 8.1)
        status["singlestep"] = False
    assert result.messages() == [{"return": status}]


def test_unix_prefix_and_relative_path(run_shell: Any, qemu: QemuProcess) -> None:
    assert run_shell("-c", "query-name", f"unix:{qemu.qmp}").status == 0
    relative = os.path.relpath(qemu.qmp)
    if len(relative) < 100:
        assert run_shell("-c", "query-name", relative).status == 0


@pytest.mark.parametrize("family", ["ipv4", "ipv6"])
def test_tcp(run_shell: Any, qemu_factory: QemuFactory, family: str) -> None:
    qemu = qemu_factory.start(tcp=family)
    result = run_shell("-c", "query-version", qemu.qmp)
    assert result.status == 0, result.stderr
    assert result.messages()[0]["return"]["qemu"]["major"] >= 7
    assert run_shell("-c", "query-version", f"tcp:{qemu.qmp}").status == 0


def test_tcp_hostname(run_shell: Any, qemu_factory: QemuFactory) -> None:
    qemu = qemu_factory.start(tcp="ipv4")
    port = qemu.qmp.rsplit(":", 1)[1]
    result = run_shell("-c", "query-name", f"localhost:{port}")
    assert result.status == 0, result.stderr


def test_address_from_environment(
    qemu: QemuProcess, shell_env: dict[str, str], run_shell: Any
) -> None:
    shell_env["QMP_SOCKET"] = qemu.qmp
    result = run_shell("-c", "query-status")
    assert result.status == 0, result.stderr
    assert "return" in result.messages()[0]


def test_pretty_monitor(run_shell: Any, qemu_factory: QemuFactory) -> None:
    """A monitor with pretty=on spreads each message over many lines."""
    qemu = qemu_factory.start(pretty=True)
    result = run_shell("-c", "query-status", "-c", "query-qmp-schema", qemu.qmp)
    assert result.status == 0, result.stderr
    status, schema = result.messages()
    assert status["return"]["status"] == "running"
    assert len(schema["return"]) > 500


def test_storage_daemon(run_shell: Any, qemu_factory: QemuFactory) -> None:
    daemon = qemu_factory.start_storage_daemon()
    result = run_shell(
        "-c", "query-version",
        "-c", "query-status",
        "-c", '{"execute": "query-status"}',
        daemon.qmp,
    )  # fmt: skip
    assert result.status == 1
    version, status = result.messages()
    assert "return" in version
    # Its schema has no query-status: refused before sending; raw JSON goes through.
    assert "line 2, column 1: unknown command 'query-status'" in result.stderr
    assert status["error"]["class"] == "CommandNotFound"


# -- input and output ------------------------------------------------------------------


def test_stdin_lines_comments_and_blank_lines(run_shell: Any, qemu: QemuProcess) -> None:
    script = "# a comment\n\nquery-name\n   \n  # indented comment\nquery-kvm\n"
    result = run_shell(qemu.qmp, stdin=script)
    assert result.status == 0, result.stderr
    name, kvm = result.messages()
    assert name == {"return": {}}
    assert set(kvm["return"]) == {"enabled", "present"}


def test_commands_run_in_order(run_shell: Any, q35: QemuProcess) -> None:
    result = run_shell(
        "-c", "cont", "-c", "query-status", "-c", "stop", "-c", "query-status", q35.qmp
    )
    statuses = [m["return"]["status"] for m in result.messages() if m.get("return")]
    assert statuses == ["running", "paused"]


def test_shorthand_arguments(run_shell: Any, qemu: QemuProcess) -> None:
    result = run_shell(
        "-c", "object-add qom-type=secret id=sec0 data=letmein",
        "-c", "qom-get path=/objects/sec0 property=data",
        qemu.qmp,
    )  # fmt: skip
    assert result.status == 0, result.stderr
    assert result.messages() == [{"return": {}}, {"return": "letmein"}]


def test_raw_json_keeps_user_id_and_hides_own(run_shell: Any, qemu: QemuProcess) -> None:
    result = run_shell(
        "-c", '{"execute": "query-name", "id": {"mine": [1, "x"]}}',
        "-c", '{"execute": "query-name"}',
        "-c", "query-name",
        qemu.qmp,
    )  # fmt: skip
    assert result.messages() == [
        {"return": {}, "id": {"mine": [1, "x"]}},
        {"return": {}},
        {"return": {}},
    ]


def test_pretty_output(run_shell: Any, qemu: QemuProcess) -> None:
    result = run_shell("-p", "-c", "query-kvm", qemu.qmp)
    lines = result.stdout.splitlines()
    assert lines[0] == "{" and lines[-1] == "}"
    assert any(line.startswith("  ") for line in lines)
    assert json.loads(result.stdout)["return"]["enabled"] is False


def test_verbose_echoes_command_before_reply(run_shell: Any, qemu: QemuProcess) -> None:
    result = run_shell("-v", "-c", "qom-list path=/machine", qemu.qmp)
    sent, reply = result.messages()
    assert sent == {"execute": "qom-list", "arguments": {"path": "/machine"}}
    assert isinstance(reply["return"], list)


def test_event_between_command_and_reply(run_shell: Any, q35: QemuProcess) -> None:
    """QEMU sends STOP before the reply to stop; the output keeps that order."""
    result = run_shell("-c", "cont", "-c", "stop", q35.qmp)
    assert result.status == 0
    kinds = [m.get("event", "return" if "return" in m else "?") for m in result.messages()]
    assert kinds == ["RESUME", "return", "STOP", "return"]
    event = result.messages()[0]
    assert set(event["timestamp"]) == {"seconds", "microseconds"}


def test_events_shown_while_waiting_for_input(shell_env: dict[str, str], q35: QemuProcess) -> None:
    """An event from another client appears at once, not at the next command."""
    proc = _start_shell(shell_env, q35.qmp)
    try:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(b"query-status\n")
        proc.stdin.flush()
        assert json.loads(_readline(proc))["return"]["status"] == "prelaunch"
        other = q35.other_client()
        other.cmd("cont")
        assert json.loads(_readline(proc))["event"] == "RESUME"
        other.cmd("stop")
        assert json.loads(_readline(proc))["event"] == "STOP"
        other.close()
        proc.stdin.close()
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
        proc.wait()


# -- negotiation -----------------------------------------------------------------------


def test_skip_negotiation(run_shell: Any, qemu: QemuProcess) -> None:
    result = run_shell("-N", "-c", "query-status", qemu.qmp)
    assert result.status == 1
    assert result.messages()[0]["error"]["class"] == "CommandNotFound"
    result = run_shell("-N", "-c", "qmp_capabilities", "-c", "query-status", qemu.qmp)
    assert result.status == 0, result.stderr
    assert result.messages()[1]["return"]["running"] is True


# -- exit statuses ---------------------------------------------------------------------


def test_error_reply_exits_1_and_goes_on(run_shell: Any, qemu: QemuProcess) -> None:
    result = run_shell("-c", "qom-get path=/nowhere property=x", "-c", "query-name", qemu.qmp)
    assert result.status == 1
    error, name = result.messages()
    assert error["error"]["class"] == "DeviceNotFound"
    assert name == {"return": {}}


def test_parse_error_exits_1_with_one_line(run_shell: Any, qemu: QemuProcess) -> None:
    result = run_shell(qemu.qmp, stdin='query-name\n{"execute": }\nquery-name\n')
    assert result.status == 1
    assert len(result.messages()) == 2
    assert result.stderr.splitlines()[1:] == ["qmpshell: 1 of 3 failed: line 2"]
    assert result.stderr.startswith("qmpshell: line 2, column 13: invalid JSON")


def test_exit_on_error_stops_at_first_failure(run_shell: Any, q35: QemuProcess) -> None:
    result = run_shell("-e", "-c", "qom-get path=/nowhere property=x", "-c", "cont", q35.qmp)
    assert result.status == 1
    assert len(result.messages()) == 1
    other = q35.other_client()
    assert other.cmd("query-status")["return"]["status"] == "prelaunch"  # cont never ran
    other.close()
    result = run_shell("-e", q35.qmp, stdin="query-name\nbad =\ncont\n")
    assert result.status == 1
    assert len(result.messages()) == 1
    result = run_shell("-e", q35.qmp, stdin="query-name\nbogus\ncont\n")
    assert result.status == 1
    assert len(result.messages()) == 1
    assert "unknown command 'bogus'" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        [],  # no address, no QMP_SOCKET
        ["--timeout", "soon", "/x"],
        ["--no-such-option", "/x"],
        ["localhost:99999"],
        ["[::1"],
    ],
)
def test_bad_usage_exits_2(run_shell: Any, args: list[str]) -> None:
    result = run_shell(*args)
    assert result.status == 2
    assert "usage:" in result.stderr


def test_missing_socket_exits_3(run_shell: Any, tmp_path: Path) -> None:
    result = run_shell("-c", "query-status", str(tmp_path / "nothing.sock"))
    assert result.status == 3
    assert result.stderr == f"qmpshell: no such socket: {tmp_path / 'nothing.sock'}\n"


def test_script_ends_at_quit(run_shell: Any, qemu: QemuProcess) -> None:
    """Nothing can run after quit: the script ends there, calmly (exit 0, nothing on
    stderr), once QEMU has closed the connection."""
    result = run_shell("-c", "quit", "-c", "query-status", qemu.qmp)
    assert (result.status, result.stderr) == (0, "")
    shutdown, reply = result.messages()
    assert shutdown["event"] == "SHUTDOWN"
    assert reply == {"return": {}}
    qemu.proc.wait(timeout=10)


@pytest.mark.parametrize("line", ["quit", "q"])
def test_hmp_quit_ends_the_script(run_shell: Any, qemu: QemuProcess, line: str) -> None:
    result = run_shell("-H", qemu.qmp, stdin=f"{line}\ninfo status\n")
    assert (result.status, result.stderr) == (0, "")
    assert [m["event"] for m in result.messages()] == ["SHUTDOWN"]


def test_quit_by_another_client_is_a_lost_connection(
    shell_env: dict[str, str], qemu: QemuProcess
) -> None:
    """Only a quit the shell sent is the end asked for: QEMU quit by someone else between
    two lines is a lost connection (one line, exit 3)."""
    proc = _start_shell(shell_env, qemu.qmp)
    assert proc.stdin is not None
    proc.stdin.write(b"query-name\n")
    proc.stdin.flush()
    _readline(proc)
    other = qemu.other_client()
    other.sock.sendall(b'{"execute": "quit"}\n')
    qemu.proc.wait(timeout=10)
    other.close()
    _readline(proc)  # the SHUTDOWN event reached the shell too
    with contextlib.suppress(BrokenPipeError):  # it may have said so and ended already
        proc.stdin.write(b"query-status\n")
        proc.stdin.flush()
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 3
    assert err.decode().startswith("qmpshell: connection to ")
    assert err.count(b"\n") == 1


def test_quit_as_last_command_exits_0(run_shell: Any, qemu: QemuProcess) -> None:
    assert run_shell("-c", "quit", qemu.qmp).status == 0
    qemu.proc.wait(timeout=10)


def test_qemu_killed_while_waiting(shell_env: dict[str, str], q35: QemuProcess) -> None:
    """A QEMU that dies while a command waits: one line, exit 3."""
    proc = _start_shell(shell_env, q35.qmp)
    assert proc.stdin is not None
    proc.stdin.write(b"query-name\n")
    proc.stdin.flush()
    _readline(proc)
    stop(q35.proc.pid)  # it cannot answer now
    proc.stdin.write(b"query-status\n")
    proc.stdin.flush()
    wait_queued_to(q35.proc.pid)  # sent; the stopped QEMU cannot answer
    os.kill(q35.proc.pid, signal.SIGKILL)
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 3
    assert err.decode().startswith("qmpshell: connection to ")
    assert err.count(b"\n") == 1


def test_reply_timeout_fails_the_command_and_goes_on(
    shell_env: dict[str, str], qemu: QemuProcess
) -> None:
    """A stopped QEMU (SIGSTOP) cannot reply; --timeout gives up on that command only."""
    proc = _start_shell(shell_env, "--timeout", "0.5", qemu.qmp)
    assert proc.stdin is not None and proc.stderr is not None
    try:
        proc.stdin.write(b"query-name\n")
        proc.stdin.flush()
        assert json.loads(_readline(proc)) == {"return": {}}
        stop(qemu.proc.pid)
        proc.stdin.write(b"query-status\n")
        proc.stdin.flush()
        line = _readline(proc, stream=proc.stderr)
        assert line == b"qmpshell: line 2: query-status: no reply within 0.5s\n"
        os.kill(qemu.proc.pid, signal.SIGCONT)
        # The late reply to query-status is dropped; the next command gets its own.
        out, _ = proc.communicate(b"query-kvm\n", timeout=10)
        assert [set(json.loads(out)["return"])] == [{"enabled", "present"}]
        assert proc.returncode == 1
    finally:
        os.kill(qemu.proc.pid, signal.SIGCONT)
        proc.kill()
        proc.wait()


def test_greeting_timeout(run_shell: Any, qemu: QemuProcess) -> None:
    stop(qemu.proc.pid)
    try:
        result = run_shell("--timeout", "0.5", "-c", "query-name", qemu.qmp)
    finally:
        os.kill(qemu.proc.pid, signal.SIGCONT)
    assert result.status == 3
    assert "no QMP greeting" in result.stderr and "within 0.5s" in result.stderr


def test_busy_monitor_is_explained(run_shell: Any, qemu: QemuProcess) -> None:
    """QEMU serves one client per monitor; a second one never gets a greeting."""
    holder = socket.socket(socket.AF_UNIX)
    holder.connect(qemu.qmp)
    try:
        result = run_shell("--timeout", "0.5", "-c", "query-status", qemu.qmp)
    finally:
        holder.close()
    assert result.status == 3
    assert "another client may be connected" in result.stderr
    assert result.stderr.count("\n") == 1


# -- transcript ------------------------------------------------------------------------


def test_transcript(run_shell: Any, q35: QemuProcess, tmp_path: Path) -> None:
    log = tmp_path / "session.jsonl"
    before = time.time()
    # -e: one command at a time, so that the order on the wire is known exactly.
    result = run_shell("-e", "-l", str(log), "-c", "cont", "-c", '{"execute": "bogus"}', q35.qmp)
    assert result.status == 1
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert all(before <= e["time"] <= time.time() for e in entries)
    flow = [(e["dir"], _kind(e["msg"])) for e in entries]
    assert flow == [
        ("recv", "greeting"),
        ("send", "qmp_capabilities"),
        ("recv", "return"),
        ("send", "query-commands"),  # the schema is fetched for typing shorthand...
        ("recv", "return"),
        ("send", "query-qmp-schema"),
        ("recv", "return"),
        ("send", "cont"),
        ("recv", "RESUME"),
        ("recv", "return"),
        ("send", "bogus"),
        ("recv", "error"),
    ]
    # The transcript holds the wire messages, ids included.
    assert entries[7]["msg"]["id"] == entries[9]["msg"]["id"]
    # A second session appends; the schema now comes from the cache.
    run_shell("-l", str(log), "-c", "query-name", q35.qmp)
    assert len(log.read_text().splitlines()) == len(entries) + 7


def _kind(message: dict[str, Any]) -> str:
    if "QMP" in message:
        return "greeting"
    if "execute" in message:
        return str(message["execute"])
    if "event" in message:
        return str(message["event"])
    return "return" if "return" in message else "error"


def test_transcript_written_as_messages_pass(
    shell_env: dict[str, str], qemu: QemuProcess, tmp_path: Path
) -> None:
    log = tmp_path / "live.jsonl"
    proc = _start_shell(shell_env, "-l", str(log), qemu.qmp)
    try:
        assert proc.stdin is not None
        proc.stdin.write(b"query-name\n")
        proc.stdin.flush()
        _readline(proc)
        # The shell is still running, waiting for more input: the file is already there.
        lines = log.read_text().splitlines()
        assert [json.loads(line)["dir"] for line in lines] == ["recv"] + ["send", "recv"] * 4
    finally:
        proc.kill()
        proc.wait()


def test_unwritable_transcript_warns_and_goes_on(run_shell: Any, qemu: QemuProcess) -> None:
    result = run_shell("-l", "/nonexistent-dir/x.jsonl", "-c", "query-name", qemu.qmp)
    assert result.status == 0
    assert result.messages() == [{"return": {}}]
    assert "cannot write transcript" in result.stderr


def test_version_and_help(run_shell: Any) -> None:
    result = run_shell("--version")
    assert result.status == 0 and result.stdout.startswith("qmpshell ")
    result = run_shell("--help")
    assert result.status == 0
    for option in ("--pretty", "--verbose", "--skip-negotiation", "--logfile", "--command"):
        assert option in result.stdout
    assert "examples:" in result.stdout and "exit status:" in result.stdout


def test_scripted_mode_does_not_load_the_terminal_libraries(
    qemu: QemuProcess, shell_env: dict[str, str]
) -> None:
    """Start-up speed: prompt_toolkit and pygments are for the interactive shell only."""
    program = (
        "import sys\n"
        "from qmpshell.cli.main import main\n"
        f"status = main(['-c', 'query-status', '-c', 'blockdev-add driver=raw', {qemu.qmp!r}])\n"
        "loaded = [m for m in sys.modules if m.startswith(('prompt_toolkit', 'pygments'))]\n"
        "print(int(status), loaded, file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, env=shell_env, check=False
    )
    assert result.stderr.splitlines()[-1] == "1 []", result.stderr


def test_transcript_redacts_secrets(run_shell: Any, qemu: QemuProcess, tmp_path: Path) -> None:
    log = tmp_path / "t.jsonl"
    line = "object-add qom-type=secret id=sec0 data=hunter2"
    result = run_shell(
        "-l", str(log), "-c", line, "-c", "qom-get path=/objects/sec0 property=data", qemu.qmp
    )
    assert result.status == 0, result.stderr
    assert result.messages()[1] == {"return": "hunter2"}  # QEMU got the real one
    sent = [json.loads(entry)["msg"] for entry in log.read_text().splitlines()]
    # Commands are redacted; a reply holding the secret (this qom-get) cannot be spotted
    # by any member name, and stays as QEMU sent it.
    assert "hunter2" not in json.dumps([m for m in sent if "execute" in m])
    added = next(m for m in sent if m.get("execute") == "object-add")
    assert added["arguments"] == {"qom-type": "secret", "id": "sec0", "data": "<redacted>"}
    # Asked for, they are kept.
    run_shell("--log-secrets", "-l", str(log), "-c", line.replace("sec0", "sec1"), qemu.qmp)
    assert "hunter2" in log.read_text()


def test_stdin_from_dev_null_is_an_empty_script(
    shell_env: dict[str, str], qemu: QemuProcess
) -> None:
    """``</dev/null`` (cron, nohup, ssh -n): a device the event loop cannot watch, read as
    a file is: nothing to run, exit 0, nothing said."""
    with open(os.devnull) as devnull:
        proc = subprocess.run(
            [sys.executable, "-m", "qmpshell", qemu.qmp],
            stdin=devnull,
            capture_output=True,
            text=True,
            env=shell_env,
            timeout=30,
        )
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
