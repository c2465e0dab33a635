"""What a peer may send that must never give a traceback (issue 16, point 3).

Messages, events and ids nested to the limit and past it, greetings whose version fields
are nonsense, a peer that closes right after negotiation or while the schema is read, a
QEMU that stops (SIGSTOP) before it sends its schema. Each through the ``qmpshell``
command: in a script, with a transcript, and at the interactive prompt in tmux (waiting
on what the screen shows, never sleeping to synchronise).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import QemuProcess, read_line, start_shell
from fakepeer import (
    Behaviour,
    expect_command,
    fake_peer,
    handshake,
    recv_json,
    reply,
    wait_for_close,
)
from script_shell import cli_failure, run_cli  # run_cli runs RAW, which needs no schema
from tmux import Tmux

from qmpshell.limits import MAX_DEPTH

pytest_plugins = ["schema_fixture"]

RAW = '{"execute": "query-status"}'  # run_cli's line too
PROMPT = r"(?m)^\(QEMU\)"


def nested(depth: int, secret: bool = True) -> str:
    """JSON text ``depth`` levels deep, objects (with an infinity) and lists in turn, a
    secret innermost (an object, one of the levels) or a number. Written out by hand:
    Python's json cannot write what is deeper than its recursion limit."""
    levels = depth - secret
    opens = ["[" if level % 2 else '{"a": ' for level in range(levels)]
    closes = ["]" if level % 2 else ', "n": Infinity}' for level in reversed(range(levels))]
    leaf = '{"password": "hunter2"}' if secret else "1"
    return "".join(opens) + leaf + "".join(closes)


def deep_peer(where: str, depth: int) -> Behaviour:
    """Answers each command, and puts a value ``depth`` levels deep into the message
    (``reply``: its return; ``event``: an event before it; ``id``: a reply of that id
    before it). The message's own object counts as a level."""

    def behaviour(conn: socket.socket) -> None:
        handshake(conn)
        while True:
            request = recv_json(conn)
            inner = nested(depth - 1, secret=where != "id")
            if where == "reply":
                text = '{"return": ' + inner + ', "id": ' + json.dumps(request["id"]) + "}"
                conn.sendall(text.encode() + b"\r\n")
                continue
            if where == "event":
                text = '{"event": "DEEP", "data": ' + inner + ', "timestamp": {"seconds": 1}}'
            else:
                text = '{"return": {}, "id": ' + inner + "}"
            conn.sendall(text.encode() + b"\r\n")
            reply(conn, request)

    return behaviour


def no_traceback(proc: subprocess.CompletedProcess[str], status: int) -> None:
    report = f"exit {proc.returncode}\nstdout: {proc.stdout[:300]!r}\nstderr: {proc.stderr!r}"
    assert "Traceback" not in proc.stderr, report
    assert proc.returncode == status, report


@pytest.fixture
def tty_env(shell_env: dict[str, str]) -> dict[str, str]:
    env = dict(shell_env)
    env.pop("PROMPT_TOOLKIT_NO_CPR")
    return env


@pytest.fixture
def terminal(tty_env: dict[str, str], tmp_path: Path) -> Iterator[Callable[..., Tmux]]:
    screens: list[Tmux] = []

    def start(*argv: str) -> Tmux:
        directory = tmp_path / f"tty{len(screens)}"
        directory.mkdir()
        screens.append(Tmux(directory, tty_env, [sys.executable, "-m", "qmpshell", *argv]))
        return screens[-1]

    yield start
    for screen in screens:
        screen.close()


def ended(screen: Tmux, status: int) -> str:
    """Wait for the shell to end with ``status``; the whole screen, no traceback in it."""
    assert screen.wait_exit() == status, screen.screen(scrollback=True)
    text = screen.screen(scrollback=True)
    assert "Traceback" not in text, text
    return text


# -- nesting ----------------------------------------------------------------------------

WHERE = ("reply", "event", "id")


@pytest.mark.parametrize("where", WHERE)
@pytest.mark.parametrize("log", [False, True], ids=["plain", "transcript"])
def test_a_message_at_the_limit_is_taken(
    shell_env: dict[str, str], tmp_path: Path, where: str, log: bool
) -> None:
    options = ["-l", str(tmp_path / "t.jsonl")] if log else []
    with fake_peer(deep_peer(where, MAX_DEPTH)) as path:
        proc = run_cli(shell_env, path, *options)
    no_traceback(proc, 0)
    printed = [json.loads(line) for line in proc.stdout.splitlines()]
    assert printed[-1] == {"return": {}} or where == "reply", printed[-1:]
    if log:
        logged = (tmp_path / "t.jsonl").read_text()
        assert ("hunter2" not in logged and "<redacted>" in logged) or where == "id"
        assert all(json.loads(line) for line in logged.splitlines())


@pytest.mark.parametrize("where", WHERE)
@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 700, 1000, 100_000])
@pytest.mark.parametrize("log", [False, True], ids=["plain", "transcript"])
def test_a_message_past_the_limit_is_a_protocol_error(
    shell_env: dict[str, str], tmp_path: Path, where: str, depth: int, log: bool
) -> None:
    options = ["-l", str(tmp_path / "t.jsonl")] if log else []
    with fake_peer(deep_peer(where, depth)) as path:
        proc = run_cli(shell_env, path, *options)
    no_traceback(proc, 3)
    assert proc.stderr == (
        f"qmpshell: connection to {path} dropped: a message from peer nested more than "
        f"{MAX_DEPTH} deep; no reply to line 1\n"
    )


@pytest.mark.parametrize("where", WHERE)
def test_deep_messages_at_the_prompt(
    terminal: Callable[..., Tmux], tmp_path: Path, where: str
) -> None:
    log = tmp_path / "t.jsonl"
    with fake_peer(deep_peer(where, MAX_DEPTH)) as path:
        screen = terminal("--color", "always", "-l", str(log), path)
        screen.wait_for(PROMPT)
        screen.type(RAW, "Enter")
        shown = {"reply": '"password"', "event": r"DEEP \{", "id": "(?m)^OK$"}[where]
        screen.wait_for(shown, timeout=15, scrollback=True)
        screen.type("/events", "Enter")  # the event log lays them out again
        screen.wait_for(r"\(QEMU\) /events\n(.*\n)*?\(QEMU\)", scrollback=True)
        screen.type("C-d")
        ended(screen, 0)
    logged = log.read_text()
    assert all(json.loads(line) for line in logged.splitlines())
    assert "hunter2" not in logged and ("<redacted>" in logged or where == "id")
    with fake_peer(deep_peer(where, 700)) as path:
        screen = terminal("-l", str(log), path)  # the shell's own query-status meets it
        text = ended(screen, 3)
        assert f"nested more than {MAX_DEPTH}\ndeep" in text  # wrapped at 100 columns


# -- greetings --------------------------------------------------------------------------

ODD_VERSIONS: dict[str, bytes] = {
    "infinity": b'{"major": Infinity, "minor": -Infinity, "micro": NaN}',
    "huge-float": b'{"major": 1e400, "minor": 1e308, "micro": -0.0}',
    "huge-int": b'{"major": ' + b"9" * 4000 + b', "minor": 2, "micro": 0}',
    "wrong-types": b'{"major": "7", "minor": [2], "micro": {"x": null}}',
    "bool-and-null": b'{"major": true, "minor": null, "micro": false}',
    "not-an-object": b"[7, 2, 0]",
}


def odd_greeting(version: bytes, package: bytes = b'"\\u001b[2Jpkg"') -> Behaviour:
    def behaviour(conn: socket.socket) -> None:
        conn.sendall(
            b'{"QMP": {"version": {"qemu": ' + version + b', "package": ' + package + b"}, "
            b'"capabilities": ["oob", 7, null, {"x": 1}]}}\r\n'
        )
        reply(conn, expect_command(conn, "qmp_capabilities"))
        while True:
            reply(conn, recv_json(conn))

    return behaviour


@pytest.mark.parametrize("name", sorted(ODD_VERSIONS))
def test_a_greeting_with_nonsense_versions(
    shell_env: dict[str, str], terminal: Callable[..., Tmux], name: str
) -> None:
    with fake_peer(odd_greeting(ODD_VERSIONS[name])) as path:
        no_traceback(run_cli(shell_env, path, "-l", os.devnull), 0)
        screen = terminal(path)
        shown = screen.wait_for(PROMPT)
        assert "(QEMU 0.0.0 (\\x1b[2Jpkg))." in shown, shown  # escaped where it is shown
        screen.type("C-d")
        ended(screen, 0)


@pytest.mark.parametrize("body", [b"[]", b'"QMP"', b"null", b"7"])
def test_a_greeting_whose_body_is_not_an_object(shell_env: dict[str, str], body: bytes) -> None:
    def behaviour(conn: socket.socket) -> None:
        conn.sendall(b'{"QMP": ' + body + b"}\r\n")
        wait_for_close(conn)

    with fake_peer(behaviour) as path:
        proc = run_cli(shell_env, path)
    no_traceback(proc, 3)
    assert "expected a QMP greeting" in proc.stderr and proc.stderr.count("\n") == 1


# -- the connection closes as the shell starts ------------------------------------------


def closes_on(command: str | None) -> Behaviour:
    """Negotiates, then closes: at once (``None``) or when ``command`` arrives, after
    answering what comes before it (query-commands with a list naming the schema)."""

    def behaviour(conn: socket.socket) -> None:
        handshake(conn)
        while command is not None:
            request = recv_json(conn)
            if request.get("execute") == command:
                return
            names = [{"name": "query-qmp-schema"}, {"name": "query-status"}]
            reply(conn, request, names if request.get("execute") == "query-commands" else {})

    return behaviour


@pytest.mark.parametrize("command", [None, "query-status", "query-commands", "query-qmp-schema"])
def test_closed_as_the_prompt_starts(terminal: Callable[..., Tmux], command: str | None) -> None:
    with fake_peer(closes_on(command)) as path:
        screen = terminal(path)
        text = ended(screen, 3)
    said = [line for line in text.splitlines() if line.startswith("qmpshell:")]
    assert len(said) == 1, text  # a close with our next command unread is a reset
    assert re.fullmatch(rf"qmpshell: connection to {path} (closed by peer|lost: .*)", said[0])


# -- a schema that does not come in time ------------------------------------------------


def schema_held(release: threading.Event, entries: list[dict[str, Any]]) -> Behaviour:
    """Negotiates and answers commands, but query-commands only once ``release`` is
    set (and a command comes after it); then the schema, ``entries``."""
    names = [{"name": e["name"]} for e in entries if e.get("meta-type") == "command"]

    def behaviour(conn: socket.socket) -> None:
        handshake(conn)
        held: list[dict[str, Any]] = []
        while True:
            request = recv_json(conn)
            name = request.get("execute")
            if name == "query-commands":
                held.append(request)
            elif name == "query-qmp-schema":
                reply(conn, request, entries)
            else:
                reply(conn, request, {"status": "running", "running": True})
            while release.is_set() and held:
                reply(conn, held.pop(0), names)

    return behaviour


def test_the_prompt_works_without_a_schema_that_does_not_come(
    terminal: Callable[..., Tmux], schema_entries: list[dict[str, Any]]
) -> None:
    release = threading.Event()
    with fake_peer(schema_held(release, schema_entries)) as path:
        screen = terminal("--timeout", "1", path)
        screen.wait_for(r"qmpshell: no schema from QEMU within 1s \(stopped or busy\?\)")
        screen.type("query-status", "Enter")
        screen.wait_for(r'"status": "running"')
        release.set()
        screen.type("query-status", "Enter")  # the peer answers query-commands now
        screen.wait_for(r"the schema has come: lines are typed by it again")
        screen.type("query-status bogus=1", "Enter")
        screen.wait_for(r"unknown argument 'bogus'")
        screen.type("C-d")
        text = ended(screen, 0)
    assert text.count("no schema from QEMU") == 1


def test_a_stopped_qemu_leaves_a_script_going_without_its_schema(
    shell_env: dict[str, str], qemu: QemuProcess
) -> None:
    """QEMU stopped (SIGSTOP) before the first line that wants the schema: that line is
    sent untyped after the timeout; once QEMU resumes, the schema comes and is used."""
    proc = start_shell(shell_env, "--timeout", "0.5", qemu.qmp)
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    try:
        proc.stdin.write(b'{"execute": "query-name"}\n')  # raw: no schema wanted
        proc.stdin.flush()
        assert json.loads(read_line(proc)) == {"return": {}}
        os.kill(qemu.proc.pid, signal.SIGSTOP)
        proc.stdin.write(b"query-status\n")
        proc.stdin.flush()
        assert read_line(proc, stream=proc.stderr) == (
            b"qmpshell: no schema from QEMU within 0.5s (stopped or busy?): lines are sent "
            b"untyped, and completion knows only the meta-commands, until it comes\n"
        )
        assert (
            read_line(proc, stream=proc.stderr)
            == b"qmpshell: line 2: query-status: no reply within 0.5s\n"
        )
        os.kill(qemu.proc.pid, signal.SIGCONT)
        assert (
            read_line(proc, stream=proc.stderr)
            == b"qmpshell: the schema has come: lines are typed by it again\n"
        )
        out, err = proc.communicate(b"query-status bogus=1\nquery-kvm\n", timeout=10)
        assert re.match(rb"qmpshell: line 3, column \d+: .*bogus", err), err
        assert set(json.loads(out)["return"]) == {"enabled", "present"}
        assert proc.returncode == 1 and b"Traceback" not in err
    finally:
        os.kill(qemu.proc.pid, signal.SIGCONT)
        proc.kill()
        proc.wait()


# -- a schema that makes no sense -------------------------------------------------------

COMMANDS = [{"name": "query-qmp-schema"}, {"name": "query-status"}]
STATUS_COMMAND = {"name": "query-status", "meta-type": "command", "arg-type": "0"}
BAD_SCHEMAS: dict[str, tuple[Any, Any]] = {
    "commands-a-number": (5, []),
    "commands-of-numbers": ([1, [2]], []),
    "schema-a-number": (COMMANDS, 5),
    "schema-an-object": (COMMANDS, {"a": 1}),
    "entries-not-objects": (COMMANDS, [1, "x", None, [STATUS_COMMAND]]),
    "features-a-number": (COMMANDS, [{**STATUS_COMMAND, "features": 5}]),
    "members-a-number": (
        COMMANDS,
        [STATUS_COMMAND, {"name": "0", "meta-type": "object", "members": 5}],
    ),
    "members-odd": (
        COMMANDS,
        [STATUS_COMMAND, {"name": "0", "meta-type": "object", "members": [{"name": 1}, 2]}],
    ),
    "variants-odd": (
        COMMANDS,
        [STATUS_COMMAND, {"name": "0", "meta-type": "object", "tag": 5, "variants": [{}]}],
    ),
    "member-features-a-number": (
        COMMANDS,
        [
            {**STATUS_COMMAND, "ret-type": "0"},
            {"name": "0", "meta-type": "object", "members": [{"name": "m", "type": "0"}]}
            | {"members": [{"name": "m", "type": "0", "features": 5}]},
        ],
    ),
    "enum-odd": (
        COMMANDS,
        [STATUS_COMMAND, {"name": "0", "meta-type": "enum", "values": [1], "members": [3]}],
    ),
}


def serves_schema(commands: Any, entries: Any) -> Behaviour:
    def behaviour(conn: socket.socket) -> None:
        handshake(conn)
        while True:
            request = recv_json(conn)
            answers = {"query-commands": commands, "query-qmp-schema": entries}
            reply(conn, request, answers.get(request.get("execute"), {"status": "running"}))

    return behaviour


@pytest.mark.parametrize("name", sorted(BAD_SCHEMAS))
def test_a_schema_that_makes_no_sense(shell_env: dict[str, str], name: str) -> None:
    with fake_peer(serves_schema(*BAD_SCHEMAS[name])) as path:
        for _ in range(2):  # the second time from the cache, if one was written
            proc = subprocess.run(
                [sys.executable, "-m", "qmpshell", "-c", "query-status", "-c", "/help", path],
                env=shell_env,
                capture_output=True,
                text=True,
                timeout=20,
                check=False,
            )
            no_traceback(proc, 0)
            assert json.loads(proc.stdout.splitlines()[0]) == {"return": {"status": "running"}}
            assert proc.stderr.count("\n") <= 1, proc.stderr


@pytest.mark.parametrize(
    "cached",
    [
        [1, 2],
        {"format": 1, "commands": [], "events": {}, "types": {}},
        {"format": 1, "commands": {"query-status": [5, None, 1, 7]}, "events": 1, "types": {}},
        {"format": 1, "commands": {"query-status": ["0", "", 0, []]}, "events": {"X": "{"},
         "types": {"0": "[1]"}},
    ],
    ids=["a-list", "commands-a-list", "odd-commands", "entries-not-json"],
)  # fmt: skip
def test_a_damaged_schema_cache(
    shell_env: dict[str, str], schema_entries: list[dict[str, Any]], cached: Any
) -> None:
    import marshal

    names = [{"name": e["name"]} for e in schema_entries if e.get("meta-type") == "command"]
    with fake_peer(serves_schema(names, schema_entries)) as path:
        argv = [sys.executable, "-m", "qmpshell", "-c", "query-status", path]
        first = subprocess.run(argv, env=shell_env, capture_output=True, timeout=20, check=False)
        assert first.returncode == 0, first
        directory = Path(shell_env["XDG_CACHE_HOME"], "qmpshell")
        (cache,) = directory.iterdir()
        cache.write_bytes(marshal.dumps(cached))
        lines = ["query-status", "query-status bogus=1", "/help query-status", "/events"]
        options = [arg for line in lines for arg in ("-c", line)]
        proc = subprocess.run(
            [sys.executable, "-m", "qmpshell", *options, path],
            env=shell_env,
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    no_traceback(proc, 1)  # bogus=1 refused, by a schema (the cache's, or fetched again)


# -- a message without end ------------------------------------------------------------


def test_a_message_larger_than_the_limit_ends_the_session(cli_env: dict[str, str]) -> None:
    """A peer that answers with a string that never ends: refused at the limit (256 MiB),
    never held whole in memory, one line and exit 3."""
    from qmpshell.protocol.client import MAX_MESSAGE_SIZE

    chunk = b"x" * (1 << 20)

    def endless(conn: socket.socket) -> None:
        handshake(conn)
        request = recv_json(conn)
        conn.sendall(b'{"id": ' + json.dumps(request["id"]).encode() + b', "return": "')
        for _ in range((MAX_MESSAGE_SIZE >> 20) + 16):
            conn.sendall(chunk)
        wait_for_close(conn)

    with fake_peer(endless) as path:
        line = cli_failure(run_cli(cli_env, path), 3)
    assert f"larger than {MAX_MESSAGE_SIZE} bytes" in line
