"""One interactive session with several connections (issue 21): the installed qmpshell
in tmux, a fresh HOME, three real QEMUs; /connect, /target, /targets, /all, events named
by their connection, and connections lost one after another."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import QemuFactory, QemuProcess


def _machine(name: str) -> tuple[str, ...]:
    return ("-machine", "none", "-name", name)


@pytest.fixture
def three(qemu_factory: QemuFactory) -> list[QemuProcess]:
    """Three QEMUs, their guests called vm-a, vm-b and vm-c."""
    return [qemu_factory.start(_machine(f"vm-{n}")) for n in "abc"]


def _connected(screen: Any, qemu: QemuProcess, name: str) -> str:
    """/connect QEMU as NAME, and the screen once its prompt shows."""
    screen.type(f"/connect {qemu.qmp} {name}", "Enter")
    return screen.wait_for(rf"(?m)^\[{name}\] \(QEMU\)$")


def test_a_newcomer_connects_to_three_and_runs_a_line_on_all(
    newcomer: Any, three: list[QemuProcess], tmp_path: Path
) -> None:
    log = tmp_path / "session.jsonl"
    screen = newcomer("-l", str(log), qemu=three[0])
    # The first /connect names the new one; the prompt says which one lines go to.
    shown = _connected(screen, three[1], "b")
    assert re.search(r"qmpshell: connected to b \(QEMU [\d.]+, running, QMP\); /target", shown)
    # Completion works on the new connection at once, from its own schema.
    screen.type("query-sta", "Tab")
    screen.wait_for(r"(?m)^\[b\] \(QEMU\) query-stat")
    screen.type("C-u")
    _connected(screen, three[2], "c")
    screen.type("/targets", "Enter")
    table = screen.wait_for(r"(?m)^\*\s+c\s")
    rows = [line.split() for line in table.splitlines() if re.match(r"^[ *] +(qmp|b|c) ", line)]
    assert [row[1] if row[0] == "*" else row[0] for row in rows] == ["qmp", "b", "c"], table
    screen.wait_for(r"c │ QEMU [\d.]+ │ running │ QMP │ 3 targets \(/targets\)")
    screen.type("/all query-name", "Enter")
    shown = screen.wait_for(r'(?s)\[c\]\n.*"vm-c".*\n\[c\] \(QEMU\)', joined=True)
    after = shown[shown.rindex("/all query-name") :]
    headings = re.findall(r"(?m)^\[(\w+)\]$", after)
    names = re.findall(r'"name": "(vm-\w)"', after)
    assert headings == ["qmp", "b", "c"] and names == ["vm-a", "vm-b", "vm-c"], after
    # /target switches: the prompt, the toolbar and where lines go.
    screen.type("/target b", "Enter")
    screen.wait_for(r"(?m)^\[b\] \(QEMU\)$")
    screen.type("query-name", "Enter")
    screen.wait_for(r'(?m)"vm-b"[\s\S]*\n\[b\] \(QEMU\)$', joined=True)
    screen.type("C-d")
    assert screen.wait_exit() == 0
    for qemu in three:  # the session closed its connections and left the QEMUs be
        assert qemu.proc.poll() is None
    # The transcript says which connection each message is of, once there are several.
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    sent = [(e.get("target"), e["msg"]["execute"]) for e in entries if e.get("user")]
    assert sent == [
        ("qmp", "query-name"),
        ("b", "query-name"),
        ("c", "query-name"),
        ("b", "query-name"),
    ], sent


def test_events_of_each_connection_are_shown_with_its_name(
    newcomer: Any, three: list[QemuProcess]
) -> None:
    screen = newcomer(qemu=three[0])
    _connected(screen, three[1], "b")
    screen.type("/all stop", "Enter")
    shown = screen.wait_for(r"(?m)/all stop\n[\s\S]*^OK\n[\s\S]*^OK\n\[b\] \(QEMU\)$", joined=True)
    after = shown[shown.rindex("/all stop") :]
    assert re.search(r"(?m)^\[qmp\] \d\d:\d\d:\d\d\.\d{3} STOP$", after), after
    assert re.search(r"(?m)^\[b\] \d\d:\d\d:\d\d\.\d{3} STOP$", after), after
    screen.wait_for(r"b │ QEMU [\d.]+ │ paused │ QMP │ 2 targets")
    # An event of a connection that is not the current one is shown as it comes.
    other = three[0].other_client()
    try:
        other.cmd("cont")
    finally:
        other.close()
    screen.wait_for(r"(?m)^\[qmp\] \d\d:\d\d:\d\d\.\d{3} RESUME$")


def test_mistakes_are_one_line_each_and_the_session_goes_on(
    newcomer: Any, three: list[QemuProcess], tmp_path: Path
) -> None:
    screen = newcomer(qemu=three[0])
    missing = tmp_path / "nothing.sock"
    screen.type(f"/connect {missing}", "Enter")
    screen.wait_for(rf"qmpshell: cannot connect to {re.escape(str(missing))}: ", joined=True)
    _connected(screen, three[1], "b")
    screen.type(f"/connect {three[1].qmp}", "Enter")
    screen.wait_for(r"is open already as b; /target b goes to it")
    # The same socket by another path: QEMU would not greet it a second time.
    alias = tmp_path / "alias.sock"
    alias.symlink_to(three[1].qmp)
    screen.type(f"/connect {alias}", "Enter")
    screen.wait_for(rf"qmpshell: {re.escape(str(alias))} is open already as b", joined=True)
    screen.type(f"/connect {three[2].qmp} @c", "Enter")
    screen.wait_for(r"'@c' cannot name a connection: a NAME does not start with @, / or -")
    screen.type("/target q", "Tab")  # the names of the open connections complete
    screen.wait_for(r"(?m)^\[b\] \(QEMU\) /target qmp$")
    screen.type("C-u", "/target bb", "Enter")
    screen.wait_for(r"qmpshell: no target named 'bb'; did you mean 'b'\?")
    screen.type("/connect", "Enter")
    screen.wait_for(r"qmpshell: usage: /connect ADDR\|@NAME \[NAME\]")
    screen.type("/all /quit", "Enter")
    screen.wait_for(r"qmpshell: /all runs QMP and HMP lines, not /quit")
    screen.type("query-name", "Enter")
    screen.wait_for(r'(?m)"vm-b"[\s\S]*\n\[b\] \(QEMU\)$', joined=True)
    assert "Traceback" not in screen.screen(scrollback=True)


def test_connections_lost_one_by_one_end_the_session_with_the_last(
    newcomer: Any, three: list[QemuProcess]
) -> None:
    screen = newcomer(qemu=three[0])
    _connected(screen, three[1], "b")
    _connected(screen, three[2], "c")
    # One that is not the current one: said at once, the session goes on where it is.
    three[1].proc.kill()
    screen.wait_for(r"qmpshell: b: connection to .* (closed by peer|lost)")
    screen.wait_for(r"3 targets, 1 lost")
    # The current one, while the user is typing: on to the one used before it that is
    # open; the half-typed line, meant for the lost one, is not sent to it but kept in
    # the history.
    screen.type("/target qmp", "Enter", "/target c", "Enter")
    screen.wait_for(r"(?m)^\[qmp\] \(QEMU\) /target c\n\[c\] \(QEMU\)$")
    screen.type("query-na")
    three[2].proc.kill()
    screen.wait_for(r"qmpshell: now on qmp \(/targets lists the connections\)")
    screen.wait_for(r"qmpshell: the line being typed was for c; Up recalls it")
    screen.wait_for(r"(?m)^\[qmp\] \(QEMU\)$")
    screen.type("Up")
    screen.wait_for(r"(?m)^\[qmp\] \(QEMU\) query-na$")
    screen.type("me", "Enter")
    screen.wait_for(r'"vm-a"')
    screen.type("/target b", "Enter")
    screen.wait_for(r"the connection to b is closed; /connect \S+ opens it again", joined=True)
    screen.type("/targets", "Enter")
    screen.wait_for(r"(?m)^ +b +\S+ +lost: ")
    # The last one: the session ends as a lost connection does.
    three[0].proc.kill()
    screen.wait_for(r"qmpshell: connection to .* (closed by peer|lost)")
    assert screen.wait_exit() == 3


def test_quit_on_one_leaves_the_others(newcomer: Any, three: list[QemuProcess]) -> None:
    screen = newcomer(qemu=three[0])
    _connected(screen, three[1], "b")
    screen.type("quit", "Enter")
    screen.wait_for(r"qmpshell: b: QEMU quit; its connection is closed")
    screen.wait_for(r"(?m)^\[qmp\] \(QEMU\)$")
    assert three[1].proc.wait(10) == 0
    screen.type("query-name", "Enter")
    screen.wait_for(r'"vm-a"')
    screen.type("/targets", "Enter")
    screen.wait_for(r"(?m)^ +b +\S+ +closed: QEMU quit$")


def test_a_named_target_of_the_config_file(
    newcomer: Any, three: list[QemuProcess], home: Path
) -> None:
    config = home / "config" / "qmpshell" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f'[targets.web2]\naddress = "{three[1].qmp}"\n')
    screen = newcomer(qemu=three[0])
    screen.type("/connect @w", "Tab")  # the config file's names complete
    screen.wait_for(r"(?m)^\(QEMU\) /connect @web2$")
    screen.type("Enter")
    screen.wait_for(r"(?m)^\[web2\] \(QEMU\)$")
    screen.type("/connect @nope", "Enter")
    screen.wait_for(r"qmpshell: no target named 'nope'")
    screen.type("query-name", "Enter")
    screen.wait_for(r'(?m)"vm-b"[\s\S]*\n\[web2\] \(QEMU\)$', joined=True)


def test_hmp_mode_is_each_connections_own(newcomer: Any, three: list[QemuProcess]) -> None:
    screen = newcomer(qemu=three[0])
    _connected(screen, three[1], "b")
    screen.type("/hmp", "Enter")
    screen.wait_for(r"(?m)^\[b\] \(qemu\)$")
    screen.type("/target qmp", "Enter")
    screen.wait_for(r"(?m)^\[qmp\] \(QEMU\)$")
    screen.type("/all info name", "Enter")  # each in its own mode: QMP refuses it
    shown = screen.wait_for(r"(?m)^vm-b\s*$")
    # The fault is pointed at on the line /all ran, shown again, not under the line typed.
    assert re.search(r"(?m)^\[qmp\]\n  info name\n  \^\nqmpshell: column 1: ", shown), shown
    screen.type("/all /hmp info name", "Enter")
    shown = screen.wait_for(
        r"(?m)/all /hmp info name\n\[qmp\]\nvm-a\s*\n\[b\]\nvm-b\s*\n\[qmp\] \(QEMU\)$"
    )
    assert "Traceback" not in shown


def test_a_lost_connection_is_opened_again_in_its_place(
    newcomer: Any, three: list[QemuProcess], qemu_factory: QemuFactory
) -> None:
    screen = newcomer(qemu=three[0])
    _connected(screen, three[1], "b")
    three[1].proc.kill()
    screen.wait_for(r"qmpshell: now on qmp \(/targets lists the connections\)")
    again = qemu_factory.start(_machine("vm-b2"), reuse=three[1].directory)
    _connected(screen, again, "b")
    screen.type("query-name", "Enter")
    screen.wait_for(r'(?m)"vm-b2"[\s\S]*\n\[b\] \(QEMU\)$', joined=True)
    screen.type("/targets", "Enter")
    table = screen.wait_for(r"(?m)^\* +b +\S+ +QEMU [\d.]+, running, QMP$")
    assert len(re.findall(r"(?m)^[ *] +b ", table)) == 1, table  # in the lost one's place
    screen.type("C-d")
    assert screen.wait_exit() == 0
