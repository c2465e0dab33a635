"""Faults a production host sees, against real QEMU wherever QEMU can produce them.

Each case ends in a one-line message and a documented exit status, never a traceback,
and loses nothing already received. docs/reliability.md lists them all.
"""

from __future__ import annotations

import json
import os
import re
import socket
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

from conftest import QemuProcess
from fakepeer import expect_command, fake_peer, handshake, recv_json, send_json, wait_for_close
from script_shell import Script, cli_failure
from waiting import stop, wait_queued_to

# An OSC sequence that would set the terminal's title, and a C1 CSI (U+009B).
HOSTILE = "\x1b]0;pwned\x07\u009b31m\x7f"


def _no_raw_controls(text: str) -> None:
    """Nothing in ``text`` could drive a terminal: no C0 but newline, no DEL, no C1."""
    assert re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f]", text) is None, repr(text)


# -- what QEMU sends cannot drive the terminal ------------------------------------------


def test_control_characters_in_replies_are_escaped_in_scripts(
    run_shell: Any, qemu: QemuProcess
) -> None:
    """QEMU echoes the unknown command (HMP) and the unknown id (QMP) back."""
    hmp = json.dumps({"execute": "human-monitor-command", "arguments": {"command-line": HOSTILE}})
    qmp = json.dumps({"execute": "device_del", "arguments": {"id": HOSTILE}})
    result = run_shell(qemu.qmp, stdin=f"{hmp}\n{qmp}\n")
    _no_raw_controls(result.stdout)
    replies = result.messages()  # still JSON, and the same JSON
    assert HOSTILE in replies[0]["return"]
    assert HOSTILE in replies[1]["error"]["desc"]
    hmp_mode = run_shell("-H", qemu.qmp, stdin=HOSTILE + "\n")
    _no_raw_controls(hmp_mode.stdout)
    assert "unknown command: '\\x1b]0;pwned\\x07\\x9b31m\\x7f'" in hmp_mode.stdout


# -- QEMU killed, the socket removed ------------------------------------------------------


def test_killed_while_a_command_waits(shell_env: dict[str, str], qemu: QemuProcess) -> None:
    script = Script(shell_env, qemu.qmp)
    script.send("query-name")
    assert script.reply() == {"return": {}}
    stop(qemu.proc.pid)  # it cannot answer the next command
    script.send("query-status")
    wait_queued_to(qemu.proc.pid)  # sent; the stopped QEMU cannot answer
    qemu.proc.kill()
    status, stderr = script.finish()
    assert status == 3
    assert re.fullmatch(
        f"qmpshell: connection to {qemu.qmp} (closed by peer|lost: .*); no reply to line 2\n",
        stderr,
    ), stderr


def test_killed_in_the_middle_of_large_replies(
    shell_env: dict[str, str], qemu: QemuProcess, tmp_path: Path
) -> None:
    """query-qmp-schema replies of 150+ KB each, QEMU killed while they stream in: the
    replies shown and logged are whole, then one line says the connection was lost."""
    log = tmp_path / "log.jsonl"
    lines = "query-qmp-schema\n" * 200
    proc = subprocess.Popen(
        [sys.executable, "-m", "qmpshell", "-l", str(log), qemu.qmp],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=shell_env,
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    proc.stdin.write(lines)
    proc.stdin.flush()
    first = proc.stdout.readline()  # the first reply is out: the rest are streaming
    qemu.proc.kill()
    rest, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 3
    replies = [json.loads(line) for line in (first + rest).splitlines()]
    assert 1 <= len(replies) < 200
    assert all(isinstance(reply["return"], list) for reply in replies)
    assert "Traceback" not in stderr
    assert stderr.splitlines()[-1].startswith(f"qmpshell: connection to {qemu.qmp}")
    logged = [json.loads(line) for line in log.read_text().splitlines()]
    assert sum(1 for m in logged if m["dir"] == "recv" and "return" in m["msg"]) >= len(replies)


def test_socket_file_removed_under_a_connection(
    shell_env: dict[str, str], qemu: QemuProcess
) -> None:
    """The connection outlives its socket file; a reconnection cannot find it and says so."""
    script = Script(shell_env, "--reconnect=0.5", qemu.qmp)
    script.send("query-name")
    assert script.reply() == {"return": {}}
    os.unlink(qemu.qmp)
    script.send("query-status")
    assert "status" in script.reply()["return"]  # type: ignore[operator]
    qemu.proc.kill()
    assert script.proc.wait(timeout=10) == 3
    _, stderr = script.finish()
    assert f"gave up waiting for {qemu.qmp} after 0.5s: no such socket: {qemu.qmp}" in stderr


def test_no_socket_at_all(run_shell: Any, tmp_path: Path) -> None:
    missing = str(tmp_path / "gone.sock")
    result = run_shell("-c", "query-name", missing)
    assert result.status == 3
    assert result.stderr == f"qmpshell: no such socket: {missing}\n"


# -- misbehaving peers a real QEMU cannot imitate -----------------------------------------


def _truncated_reply(conn: socket.socket) -> None:
    handshake(conn)
    request = expect_command(conn, "query-status")
    body = json.dumps({"return": ["x" * 1000] * 300, "id": request["id"]}).encode()
    conn.sendall(body[: len(body) // 2])  # and hang up mid-message


def test_peer_hangs_up_in_the_middle_of_a_reply(shell_env: dict[str, str]) -> None:
    with fake_peer(_truncated_reply) as path:
        proc = subprocess.run(
            [sys.executable, "-m", "qmpshell", "-c", '{"execute": "query-status"}', path],
            env=shell_env,
            capture_output=True,
            text=True,
            timeout=30,
        )
    line = cli_failure(proc, 3)
    assert re.fullmatch(
        rf"qmpshell: connection to {path} closed by peer in the middle of a message "
        r"\(\d+ bytes of it received\); no reply to line 1",
        line,
    ), line


def _huge_reply(size: int) -> Any:
    def behaviour(conn: socket.socket) -> None:
        handshake(conn)
        request = expect_command(conn, "guest-file-read")
        # As guest-file-read would send a big file: one long base64 string.
        chunk = b"QUJD" * (size // 4)
        conn.sendall(
            b'{"return": {"count": %d, "buf-b64": "%s", "eof": true}, "id": %s}\r\n'
            % (len(chunk), chunk, json.dumps(request["id"]).encode())
        )
        wait_for_close(conn)

    return behaviour


def _with_peak_rss(argv: list[str], env: dict[str, str]) -> tuple[int, str, int]:
    """Run ``argv``; return its status, its stdout's length, its peak RSS in KiB."""
    probe = (
        "import resource, subprocess, sys\n"
        "p = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE)\n"
        "print(p.returncode, len(p.stdout), "
        "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, *argv], env=env, capture_output=True, text=True, timeout=120
    )
    status, length, peak = out.stdout.split()
    return int(status), length, int(peak)


def test_a_50_mb_reply(shell_env: dict[str, str]) -> None:
    size = 50 * 1024 * 1024
    with fake_peer(_huge_reply(size)) as path:
        command = '{"execute": "guest-file-read", "arguments": {"handle": 1}}'
        status, length, peak = _with_peak_rss(
            [sys.executable, "-m", "qmpshell", "-c", command, path], shell_env
        )
    assert status == 0
    assert int(length) > size
    # The stream buffer, the decoded string and the printed line: a few times 50 MB.
    assert peak < 6 * size / 1024, f"peak RSS {peak} KiB"


def _events_before_reply(count: int) -> Any:
    def behaviour(conn: socket.socket) -> None:
        handshake(conn)
        request = expect_command(conn, "query-status")
        stamp = {"seconds": 1, "microseconds": 0}
        burst = b"".join(
            json.dumps({"event": "STOP", "data": {"n": n}, "timestamp": stamp}).encode() + b"\r\n"
            for n in range(count)
        )
        conn.sendall(burst)
        send_json(conn, {"return": {"status": "paused", "running": False}, "id": request["id"]})
        recv_json(conn)  # the next command, then hang up

    return behaviour


def test_burst_of_10000_events_while_a_command_waits(
    shell_env: dict[str, str], tmp_path: Path
) -> None:
    log = tmp_path / "log.jsonl"
    with fake_peer(_events_before_reply(10_000)) as path:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "qmpshell",
                "-l",
                str(log),
                "-c",
                '{"execute": "query-status"}',
                path,
            ],
            env=shell_env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert (proc.returncode, proc.stderr) == (0, "")
    printed = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [m["data"]["n"] for m in printed[:-1]] == list(range(10_000))
    assert printed[-1] == {"return": {"status": "paused", "running": False}}
    logged = [json.loads(line)["msg"] for line in log.read_text().splitlines()]
    assert sum(1 for m in logged if m.get("event") == "STOP") == 10_000


def test_10000_events_from_qemu_while_commands_run(
    shell_env: dict[str, str], q35: QemuProcess, tmp_path: Path
) -> None:
    """Another client stops and resumes QEMU 5000 times; qmpshell keeps sending
    commands meanwhile. Every event reaches the transcript, every reply its command,
    and memory stays within a few MB of an idle session's."""
    log = tmp_path / "log.jsonl"
    script = Script(shell_env, "-l", str(log), "--events", "none", q35.qmp)
    script.send("query-name")
    assert script.reply() == {"return": {}}
    idle = _peak_kib(script.proc.pid)
    other = q35.other_client()
    for round_ in range(5000):
        other.cmd("cont")
        other.cmd("stop")
        if round_ % 500 == 0:
            script.send(f'{{"execute": "query-status", "id": {round_}}}')
    other.close()
    replies = [script.reply() for _ in range(10)]
    assert [r["id"] for r in replies] == list(range(0, 5000, 500))
    busy = _peak_kib(script.proc.pid)
    status, stderr = script.finish()
    assert (status, stderr) == (0, "")
    logged = [json.loads(line)["msg"] for line in log.read_text().splitlines()]
    events = [m["event"] for m in logged if "event" in m]
    assert events.count("RESUME") == 5000 and events.count("STOP") == 5000
    assert busy - idle < 40 * 1024, f"peak RSS grew from {idle} to {busy} KiB"


def _peak_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmHWM:\s+(\d+) kB", status)
    assert match
    return int(match.group(1))


# -- files that cannot be written ---------------------------------------------------------


def test_transcript_on_a_device_refused(run_shell: Any, qemu: QemuProcess) -> None:
    # Only regular files: a root shell would otherwise chmod /dev/full to 0600. A full
    # disk part-way through is tests/test_files_and_launch.py's.
    result = run_shell("-l", "/dev/full", "-c", "query-name", "-c", "query-name", qemu.qmp)
    assert result.status == 0
    assert result.messages() == [{"return": {}}, {"return": {}}]
    assert result.stderr == (
        "qmpshell: cannot write transcript /dev/full: it is not a regular file; "
        "going on without it\n"
    )
    assert stat.S_IMODE(os.stat("/dev/full").st_mode) == 0o666


def test_transcript_that_cannot_be_created(
    run_shell: Any, qemu: QemuProcess, tmp_path: Path
) -> None:
    path = tmp_path / "no-such-dir" / "log.jsonl"
    result = run_shell("-l", str(path), "-c", "query-name", qemu.qmp)
    assert result.status == 0
    assert result.messages() == [{"return": {}}]
    assert result.stderr == (
        f"qmpshell: cannot write transcript {path}: No such file or directory; "
        "going on without it\n"
    )


# -- input near the limits ----------------------------------------------------------------


def test_a_1_mb_line(run_shell: Any, qemu: QemuProcess, tmp_path: Path) -> None:
    """A secret of 1 MiB, typed as shorthand: parsed, sent, accepted; redacted in the log."""
    log = tmp_path / "log.jsonl"
    data = "x" * (1 << 20)
    result = run_shell(
        "-l", str(log), qemu.qmp, stdin=f"object-add qom-type=secret id=big data={data}\n"
    )
    assert (result.status, result.stderr) == (0, "")
    assert result.messages() == [{"return": {}}]
    other = qemu.other_client()
    objects = other.cmd("qom-list", path="/objects")["return"]
    other.close()
    assert "big" in [o["name"] for o in objects]
    assert data not in log.read_text()


def test_nesting_too_deep(run_shell: Any, qemu: QemuProcess) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    raw = '{"execute": "qom-set", "arguments": {"value": ' + deep + "}}"
    lines = [raw, f"qom-set path=/machine property=x value={deep}"]
    result = run_shell(qemu.qmp, stdin="\n".join(lines) + "\n")
    assert result.status == 1
    assert result.stderr.splitlines() == [
        "qmpshell: line 1, column 1: invalid JSON: nested too deeply",
        "qmpshell: line 2, column 40: value nested too deeply",
        "qmpshell: 2 of 2 failed: lines 1-2",
    ]


def test_nesting_past_the_limit_of_qemus_messages(
    run_shell: Any, qemu: QemuProcess, tmp_path: Path
) -> None:
    """Deeper than MAX_DEPTH (256) but within what Python reads: refused too, since the
    walks over a message (the id's key, the transcript's redaction) rely on the limit."""
    deep = "[" * 600 + "]" * 600
    lines = [
        '{"execute": "qom-set", "arguments": {"value": ' + deep + "}}",
        '{"execute": "query-status", "id": ' + deep + "}",
        f"qom-set path=/machine property=password value={deep}",
        "qom-set path=/machine property=x value=" + "[" * 250 + "]" * 250,
    ]
    log = tmp_path / "t.jsonl"
    result = run_shell("-l", str(log), qemu.qmp, stdin="\n".join(lines) + "\n")
    assert result.status == 1
    too_deep = "invalid JSON: nested more than 256 levels deep"
    assert result.stderr.splitlines()[:3] == [
        f"qmpshell: line 1, column 1: {too_deep}",
        f"qmpshell: line 2, column 1: {too_deep}",
        "qmpshell: line 3, column 1: the message is nested more than 256 levels deep",
    ]
    assert "Property" in result.stdout  # line 4 sent: QEMU's own error, /machine has no x
    assert all(json.loads(line) for line in log.read_text().splitlines())


def test_nul_and_controls_in_values_reach_qemu_intact(run_shell: Any, qemu: QemuProcess) -> None:
    """Typed as JSON escapes in shorthand, sent as JSON escapes: QEMU gets them as they
    were meant, and their echo comes back escaped."""
    result = run_shell(qemu.qmp, stdin='device_del id="a\\u0000b\\u001b[2Jc"\n')
    _no_raw_controls(result.stdout)
    (reply,) = result.messages()
    assert reply["error"]["desc"] == "Device 'a\x00b\x1b[2Jc' not found"
