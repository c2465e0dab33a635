"""Journey: a hostile peer cannot drive the user's terminal (issue 16).

A fake peer (real QEMU never sends these) puts terminal control sequences, C1 controls and
bidi overrides in everything it can: the greeting's package, the qmp_capabilities error,
the schema's command, member and enum names, replies, events, HMP text, the run state,
the error behind ``cpu N``. The installed ``qmpshell`` runs in tmux under ``script``,
which records every byte the shell wrote to its terminal; the test walks through banner,
a command, ``/help``, Tab menus, a type error, an event, HMP, ``cpu N`` and a
reconnection, then checks that no payload reached the terminal raw, while its escaped
form is on the screen.
"""

from __future__ import annotations

import json
import shlex
import socket
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import INSTALLED
from fakepeer import (
    ClientGone,
    error_reply_to,
    expect_command,
    recv_json,
    reply,
    running_peer,
    send_greeting,
    send_json,
)
from tmux import Tmux

TITLE = "\x1b]0;PWNED\x07"  # sets the window title
CLEAR = "\x1b[2J"  # clears the screen
CLIPBOARD = "\x1b]52;c;UFdORUQ=\x07"  # writes the clipboard
CSI = "\x9b"  # a CSI of its own (C1)
RLO = "\u202e"  # right-to-left override
EVIL = TITLE + CLEAR + CLIPBOARD + CSI + RLO + "\u2066"

# What must never reach the terminal, as UTF-8 bytes.
RAW_MARKERS = [b"\x1b]0;", b"\x1b]52", b"\x1b[2J", "\x9b".encode(), RLO.encode(), b"\xe2\x81\xa6"]

GREETING = {
    "QMP": {
        "version": {"qemu": {"major": 7, "minor": 2, "micro": 0}, "package": "pkg" + EVIL},
        "capabilities": [],
    }
}

SCHEMA: list[dict[str, Any]] = [
    {"name": "str", "meta-type": "builtin", "json-type": "string"},
    {"name": "int", "meta-type": "builtin", "json-type": "int"},
    {"name": "0", "meta-type": "object", "members": []},
    {"name": "E", "meta-type": "enum", "values": ["good", "bad" + EVIL, "rtl" + RLO]},
    {
        "name": "A",
        "meta-type": "object",
        "members": [
            {"name": "mode", "type": "E"},
            {"name": "note" + EVIL, "type": "str", "default": None},
        ],
    },
    {"name": "evil-cmd", "meta-type": "command", "arg-type": "A", "ret-type": "0"},
    {"name": "evil-" + EVIL, "meta-type": "command", "arg-type": "0", "ret-type": "0"},
    {"name": "evil-bye", "meta-type": "command", "arg-type": "0", "ret-type": "0"},
    {"name": "zz" + RLO + "zz", "meta-type": "command", "arg-type": "0", "ret-type": "0"},
    {"name": "EVIL" + EVIL, "meta-type": "event", "arg-type": "0"},
]
for name in ("query-status", "query-cpus-fast", "human-monitor-command", "query-name"):
    SCHEMA.append({"name": name, "meta-type": "command", "arg-type": "0", "ret-type": "0"})
COMMANDS = [{"name": e["name"]} for e in SCHEMA if e["meta-type"] == "command"]
COMMANDS += [{"name": "query-commands"}, {"name": "query-qmp-schema"}]

HMP_TEXT = f"hmp says {EVIL}\r\nsecond line\r\n"


def hostile_monitor(conn: socket.socket) -> None:
    """A monitor that answers everything qmpshell asks with something hostile."""
    send_greeting(conn, GREETING)
    reply(conn, expect_command(conn, "qmp_capabilities"))
    answers: dict[str, Any] = {
        "query-commands": COMMANDS,
        "query-qmp-schema": SCHEMA,
        "query-status": {"status": "running" + EVIL, "running": True, "singlestep": False},
        "human-monitor-command": HMP_TEXT,
        "evil-cmd": {"key" + EVIL: "value" + EVIL},
    }
    while True:
        try:
            request = recv_json(conn)
        except ClientGone:
            return
        name = request.get("execute")
        if name == "evil-bye":
            return  # the connection drops; --reconnect comes back
        if name == "evil-cmd":
            event = {"event": "EVIL" + EVIL, "data": {"d": EVIL}}
            send_json(conn, {**event, "timestamp": {"seconds": 1, "microseconds": 0}})
        if name in answers:
            reply(conn, request, answers[name])
        else:
            send_json(conn, error_reply_to(request, "refused " + EVIL, "Evil" + EVIL))


def refusing_capabilities(conn: socket.socket) -> None:
    send_greeting(conn, GREETING)
    request = expect_command(conn, "qmp_capabilities")
    send_json(conn, error_reply_to(request, "no capabilities " + EVIL, "Evil" + EVIL))
    while conn.recv(4096):
        pass


@pytest.fixture
def recorded(shell_env: dict[str, str], tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """``start(*ARGS)``: the installed qmpshell in tmux, under ``script``, which keeps in
    a file every byte the shell writes to its terminal; returns (Tmux, that file)."""
    if not INSTALLED.exists():
        pytest.fail(f"the qmpshell command is not installed beside {sys.executable}")
    env = dict(shell_env)
    env.pop("PROMPT_TOOLKIT_NO_CPR")  # tmux answers: toolbar and menus are drawn
    screens: list[Tmux] = []

    def start(*args: str) -> tuple[Tmux, Path]:
        directory = tmp_path / f"tty{len(screens)}"
        directory.mkdir()
        raw = directory / "raw"
        command = shlex.join([str(INSTALLED), *args])
        screen = Tmux(directory, env, ["script", "-q", "-f", "-c", command, str(raw)])
        screens.append(screen)
        return screen, raw

    yield start
    for screen in screens:
        screen.close()


def assert_nothing_raw(raw: Path) -> None:
    data = raw.read_bytes()
    assert b"PWNED" in data or b"pkg" in data, data[-2000:]  # the recording works
    for marker in RAW_MARKERS:
        assert marker not in data, (marker, data[max(data.find(marker) - 200, 0) :][:400])


def test_a_hostile_peer_cannot_drive_the_terminal(recorded: Any) -> None:
    with running_peer(hostile_monitor) as peer:
        screen, raw = recorded("--reconnect=10", peer.path)
        # The banner, with the greeting's package escaped; the run state in the toolbar.
        screen.wait_for(r"Connected to .*\(QEMU 7\.2\.0 \(pkg\\x1b\]0;PWNED\\x07\\x1b\[2J")
        screen.wait_for(r"running\\u001b\]0;PWNED")
        # A command: its reply, and the event that came before it.
        screen.type("evil-cmd mode=good", "Enter")
        screen.wait_for(r"EVIL\\u001b\]0;PWNED.*\\u202e")
        screen.wait_for(r'"key\\u001b\]0;PWNED\\u0007')
        # /help on the hostile command: member and enum names.
        screen.type("/help evil-cmd", "Enter")
        screen.wait_for(r"note\\x1b\]0;PWNED")
        # A type error naming the enum's values.
        screen.type("evil-cmd mode=nope", "Enter")
        screen.wait_for(r"(?s)nope.*bad\\x1b\]0;PWNED.*rtl\\u202e")
        # Tab menus: command names, then enum values.
        screen.type("evil-")
        screen.type("Tab")
        screen.wait_for(r"evil-\\u001b\]0;PWNED")
        screen.type("C-u", "evil-cmd mode=")
        screen.type("Tab")
        screen.wait_for(r"bad\\u001b\]0;PWNED")
        # A name completed into the input line shows escaped there too.
        screen.type("C-u", "zz")
        screen.type("Tab")
        screen.wait_for(r"\(QEMU\) zz\\u202ezz")
        screen.type("C-u")
        # HMP: the text, and the error behind cpu N.
        screen.type("/hmp", "Enter")
        screen.type("info status", "Enter")
        screen.wait_for(r"hmp says \\x1b\]0;PWNED")
        screen.type("cpu 1", "Enter")
        screen.wait_for(r"query-cpus-fast: Evil\\x1b\]0;PWNED")
        # The connection drops; the reconnection's line names the package again.
        screen.type("/qmp", "Enter")
        screen.type("evil-bye", "Enter")
        screen.wait_for(r"reconnected to .*pkg\\x1b\]0;PWNED", timeout=20)
        screen.type("C-d")
        assert screen.wait_exit() == 0
    assert_nothing_raw(raw)


def test_a_watch_of_a_hostile_peer_is_escaped(recorded: Any) -> None:
    with running_peer(hostile_monitor) as peer:
        screen, raw = recorded(peer.path)
        screen.wait_for(r"Connected to ")
        screen.type("/watch -n 0.2 evil-cmd mode=good", "Enter")  # an event each run too
        screen.wait_for(r'(?s)run 2 · .*"key\\u001b\]0;PWNED\\u0007')
        screen.type("C-c")
        screen.wait_for(r"stopped watching")
        screen.type("/watch -n 0.2 -c 2 /hmp info status", "Enter")
        screen.wait_for(r"(?s)run 2 of 2 · .*hmp says \\x1b\]0;PWNED")
        screen.type("C-d")
        assert screen.wait_exit() == 0
    assert_nothing_raw(raw)


def test_a_refused_negotiation_is_shown_escaped(recorded: Any) -> None:
    with running_peer(refusing_capabilities) as peer:
        screen, raw = recorded(peer.path)
        screen.wait_for(r"no capabilities \\x1b\]0;PWNED")
        screen.wait_exit()
    assert_nothing_raw(raw)
    assert b"no capabilities" in raw.read_bytes()


def test_scripted_output_is_escaped_too(run_shell: Any) -> None:
    with running_peer(hostile_monitor) as peer:
        result = run_shell(peer.path, stdin="evil-cmd mode=good\nevil-cmd mode=nope\n")
    for text in (result.stdout, result.stderr):
        for marker in RAW_MARKERS:
            assert marker.decode() not in text, text
    messages = result.messages()
    assert {"key" + EVIL: "value" + EVIL} in [m.get("return") for m in messages]
    assert json.loads(result.stdout.splitlines()[-1])  # still JSON, escapes and all
