"""Big work through the installed ``qmpshell``: a 50 MB reply, a reply of 200,000 small
objects, 100,000 events while a command waits, a 10 MB input line. Each arrives whole,
intact and in order on stdout (and in the transcript), the event log keeps the newest
events within its bound for ``/events``, and the line reaches the peer byte for byte.
How much memory this takes is the benchmark's to measure (``benchmarks/``): no test
here asserts a size or a time.

The peer is a fake one (``tests/fakepeer.py``) but for a refused line: QEMU sends
nothing this big on demand, and reads its input a byte per turn of its loop (a 10 MB line
takes it a minute).
"""

from __future__ import annotations

import hashlib
import json
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import INSTALLED, QemuProcess
from fakepeer import encode, expect_command, fake_peer, handshake, reply_to, wait_for_close

# Odd characters among plain ones: quotes and backslashes JSON escapes, a bidi override
# the shell writes as an escape, text beyond ASCII.
PATTERN = 'plain text, "quoted" \\ back\u202eslashed, é €😀 '
MB_50 = PATTERN * (50_000_000 // len(PATTERN))
MB_12 = MB_50[:12_000_000]


def _serving(result: Any, before: Callable[[socket.socket], None] | None = None) -> Any:
    """A behaviour: answer one command with ``result`` (after ``before`` has run)."""

    def behaviour(conn: socket.socket) -> None:
        handshake(conn)
        request = expect_command(conn, "big")
        if before is not None:
            before(conn)
        conn.sendall(encode(reply_to(request, result), ensure_ascii=False))
        wait_for_close(conn)

    return behaviour


def _run(
    env: dict[str, str], path: str, *options: str, then: tuple[str, ...] = ()
) -> tuple[list[bytes], str]:
    """Run ``qmpshell OPTIONS -c big -c THEN...`` (raw JSON: the fake peer has no
    schema); its stdout lines (raw) and stderr, once it exited with 0."""
    if not INSTALLED.exists():
        pytest.fail(f"the qmpshell command is not installed beside {INSTALLED.parent}")
    proc = subprocess.run(
        [str(INSTALLED), *options, "-c", '{"execute": "big"}', *(f"-c{t}" for t in then), path],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout.splitlines(), proc.stderr.decode()


def test_a_50_mb_reply_arrives_whole_and_intact(cli_env: dict[str, str], tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    with fake_peer(_serving({"data": MB_50})) as path:
        lines, err = _run(cli_env, path, "-l", str(log))
    assert err == ""
    assert len(lines) == 1
    assert b"\xe2\x80\xae" not in lines[0]  # the bidi override is written as an escape
    assert json.loads(lines[0]) == {"return": {"data": MB_50}}
    logged = [json.loads(line) for line in log.read_text().splitlines()]
    assert logged[-1]["msg"] == {"return": {"data": MB_50}, "id": logged[-2]["msg"]["id"]}


def test_a_big_reply_indented_and_as_its_return_value(cli_env: dict[str, str]) -> None:
    with fake_peer(_serving({"data": MB_12, "more": [MB_12[:1000]] * 3})) as path:
        lines, _ = _run(cli_env, path, "--pretty")
    assert json.loads(b"\n".join(lines)) == {"return": {"data": MB_12, "more": [MB_12[:1000]] * 3}}
    assert lines[:2] == [b"{", b'  "return": {']
    with fake_peer(_serving({"data": MB_12})) as path:
        lines, _ = _run(cli_env, path, "-r")
    assert [json.loads(line) for line in lines] == [{"data": MB_12}]


OBJECTS = [{"n": n, "name": f"object {n}", "tags": ["a", "b"]} for n in range(200_000)]


@pytest.mark.parametrize("option", ["", "--pretty", "-r"])
def test_a_reply_of_200_000_objects_arrives_whole(
    cli_env: dict[str, str], tmp_path: Path, option: str
) -> None:
    """Kept as its text while it is decoded (protocol/packed.py), written a run at a
    time: on stdout, as indented JSON, as a return value, and in the transcript."""
    log = tmp_path / "log.jsonl"
    with fake_peer(_serving(OBJECTS)) as path:
        lines, err = _run(cli_env, path, "-l", str(log), *filter(None, [option]))
    assert err == ""
    if option == "--pretty":
        assert lines[:3] == [b"{", b'  "return": [', b"    {"]
        assert json.loads(b"\n".join(lines)) == {"return": OBJECTS}
    elif option == "-r":
        assert [json.loads(line) for line in lines] == [OBJECTS]
    else:
        assert [json.loads(line) for line in lines] == [{"return": OBJECTS}]
    logged = [json.loads(line) for line in log.read_text().splitlines()]
    assert logged[-1]["msg"] == {"return": OBJECTS, "id": logged[-2]["msg"]["id"]}


FLOOD = 100_000


def _flood(conn: socket.socket) -> None:
    """100,000 events between the command and its reply, written as fast as they go."""
    events = (
        encode({"event": "TICK", "data": {"n": n}, "timestamp": {"seconds": n, "microseconds": 0}})
        for n in range(FLOOD)
    )
    batch: list[bytes] = []
    for data in events:
        batch.append(data)
        if len(batch) == 1000:
            conn.sendall(b"".join(batch))
            batch.clear()
    conn.sendall(b"".join(batch))


def test_100_000_events_while_a_command_waits_all_arrive_in_order(
    cli_env: dict[str, str],
) -> None:
    """Every event on stdout, in order, then the reply; ``/events`` then lists the newest
    the log kept, the very last of them included, and says how many there were."""
    with fake_peer(_serving({}, _flood)) as path:
        lines, err = _run(cli_env, path, then=("/events list",))
    messages = [json.loads(line) for line in lines]
    assert [m["data"]["n"] for m in messages[:FLOOD]] == list(range(FLOOD))
    assert messages[FLOOD] == {"return": {}}
    listed = [m["data"]["n"] for m in messages[FLOOD + 1 :]]
    assert 0 < len(listed) < FLOOD  # bounded by bytes: the oldest were dropped
    assert listed == list(range(FLOOD - len(listed), FLOOD))
    assert err == f"qmpshell: {len(listed)} of {FLOOD} events; showing: all\n"


# -- a 10 MB input line -----------------------------------------------------------------

LINE_TEXT = "echo " + PATTERN * (10_000_000 // len(PATTERN))


def _digest(text: str) -> dict[str, Any]:
    return {"length": len(text), "sha256": hashlib.sha256(text.encode()).hexdigest()}


def _reading_big_lines(conn: socket.socket) -> None:
    """A peer that reads lines of any length (in big reads) and answers each command with
    the length and digest of its command-line, so that the test sees what arrived."""
    handshake(conn)
    buffer = b""
    while True:
        while b"\n" not in buffer:
            data = conn.recv(1 << 20)
            if not data:
                return
            buffer += data
        line, buffer = buffer.split(b"\n", 1)
        request = json.loads(line)
        if request.get("execute") == "query-commands":  # shorthand asks: no schema here
            conn.sendall(encode(reply_to(request, [{"name": "human-monitor-command"}])))
            continue
        arguments = request.get("arguments", {})
        conn.sendall(encode(reply_to(request, _digest(arguments.get("command-line", "")))))


def _fed(env: dict[str, str], path: str, line: str) -> tuple[int, list[Any], str]:
    """``qmpshell PATH`` reading ``line`` on a pipe; its status, messages and stderr."""
    proc = subprocess.run(
        [str(INSTALLED), path],
        env=env,
        input=(line + "\n").encode(),
        capture_output=True,
        timeout=120,
        check=False,
    )
    return (
        proc.returncode,
        [json.loads(out) for out in proc.stdout.splitlines()],
        proc.stderr.decode(),
    )


@pytest.mark.parametrize(
    "line",
    [
        json.dumps({"execute": "human-monitor-command", "arguments": {"command-line": LINE_TEXT}}),
        "human-monitor-command command-line=" + json.dumps(LINE_TEXT),
    ],
    ids=["raw", "shorthand"],
)
def test_a_10_mb_line_is_sent_whole_and_answered(cli_env: dict[str, str], line: str) -> None:
    with fake_peer(_reading_big_lines) as path:
        status, messages, err = _fed(cli_env, path, line)
    assert (status, err) == (0, "")
    assert messages == [{"return": _digest(LINE_TEXT)}]


def test_a_10_mb_line_that_is_refused_sends_nothing(
    shell_env: dict[str, str], qemu: QemuProcess
) -> None:
    """Refused with its column, and QEMU, which would take a minute to read it, answers
    the next line at once: nothing of it was sent."""
    line = "query-status x=" + "y" * 10_000_000 + "\nquery-status"
    status, messages, err = _fed(shell_env, qemu.qmp, line)
    assert status == 1
    assert [m["return"]["status"] for m in messages] == ["running"]
    assert err.splitlines()[0] == (
        "qmpshell: line 1, column 14: unknown argument 'x': query-status takes no arguments"
    )
