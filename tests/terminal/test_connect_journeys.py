"""First contact (issue 14): the installed qmpshell, a fresh QEMU and HOME, a real terminal.

Each journey types nothing before what it tests.
"""

from __future__ import annotations

import re
import time
from typing import Any

from conftest import NEWCOMER_MACHINE, QemuFactory, SyncQMP
from guest_agent import AgentProcess

QUIT_NOTE = "qmpshell: QEMU quit; session ended"


def _lines(screen: str) -> list[str]:
    """What the program wrote: the lines with text, tmux's own last word left out."""
    return [line for line in screen.splitlines() if line.strip() and "Pane is dead" not in line]


def _after(screen: str, line: str) -> list[str]:
    """The lines of ``screen`` below the last one that starts with ``line``."""
    lines = screen.splitlines()
    at = max(i for i, text in enumerate(lines) if text.startswith(line))
    return _lines("\n".join(lines[at + 1 :]))


# -- quit ------------------------------------------------------------------------------


def test_quit_shows_the_reply_and_the_event_then_ends_calmly(newcomer: Any) -> None:
    screen = newcomer()
    screen.type("quit", "Enter")
    shown = screen.wait_for(re.escape(QUIT_NOTE))
    assert screen.wait_exit() == 0
    after = _after(shown, "(QEMU) quit")
    assert re.match(r"\d\d:\d\d:\d\d\.\d{3} SHUTDOWN ", after[0]), after
    assert after[1:] == ["OK", QUIT_NOTE], after  # no prompt drawn in between, no error
    assert "closed by peer" not in screen.screen(scrollback=True)


def test_hmp_quit_and_q_end_calmly(newcomer: Any) -> None:
    for line in ("quit", "q"):
        screen = newcomer("-H")
        screen.type(line, "Enter")
        shown = screen.wait_for(re.escape(QUIT_NOTE))
        assert screen.wait_exit() == 0
        after = _after(shown, f"(qemu) {line}")
        assert "SHUTDOWN" in after[0] and after[1:] == [QUIT_NOTE], after


def test_quit_in_a_script_exits_0_without_a_word(newcomer: Any) -> None:
    screen = newcomer("-c", "quit", prompt=None)
    assert screen.wait_exit() == 0
    text = "".join(_lines(screen.screen(scrollback=True)))  # long lines joined again
    assert '"event":"SHUTDOWN"' in text and text.endswith('{"return":{}}')
    assert "qmpshell:" not in text


def test_a_qemu_killed_is_still_a_lost_connection(newcomer: Any, qemu_factory: QemuFactory) -> None:
    qemu = qemu_factory.start(NEWCOMER_MACHINE)
    screen = newcomer(qemu=qemu)
    qemu.proc.kill()
    screen.wait_for(r"qmpshell: connection to .* (closed by peer|lost)")
    assert screen.wait_exit() == 3


# -- a busy monitor --------------------------------------------------------------------

BUSY = (
    r"(?m)^qmpshell: no greeting yet: another client may hold this monitor; "
    r"waiting 30 s \(Ctrl-C gives up\)$"
)


def test_busy_monitor_is_said_then_the_session_goes_on(
    newcomer: Any, qemu_factory: QemuFactory
) -> None:
    qemu = qemu_factory.start(NEWCOMER_MACHINE)
    holder = SyncQMP(qemu.qmp)  # the monitor's one client, for now
    started = time.monotonic()
    screen = newcomer(qemu=qemu, prompt=None)
    screen.wait_for(BUSY, timeout=5)
    assert time.monotonic() - started < 2.5  # the shell's start-up included
    assert "(QEMU)" not in screen.screen()
    holder.close()
    screen.wait_for(r"(?m)^\(QEMU\)")
    screen.type("query-status", "Enter")
    screen.wait_for('"status": "prelaunch"')


def test_busy_monitor_ctrl_c_gives_up(newcomer: Any, qemu_factory: QemuFactory) -> None:
    qemu = qemu_factory.start(NEWCOMER_MACHINE)
    holder = SyncQMP(qemu.qmp)
    try:
        screen = newcomer(qemu=qemu, prompt=None)
        screen.wait_for(BUSY, timeout=5)
        screen.type("C-c")
        assert screen.wait_exit() == 130
        assert "Traceback" not in screen.screen(scrollback=True)
    finally:
        holder.close()


def test_ga_on_a_qmp_monitor_is_said_at_once(newcomer: Any, qemu_factory: QemuFactory) -> None:
    qemu = qemu_factory.start(NEWCOMER_MACHINE)
    started = time.monotonic()
    screen = newcomer("--ga", qemu.qmp, address=False, prompt=None)
    assert screen.wait_exit() == 3
    assert time.monotonic() - started < 2.5
    assert _lines(screen.screen(scrollback=True)) == [
        f"qmpshell: {qemu.qmp} is a QMP monitor, not a guest agent: drop --ga"
    ]


def test_qmp_on_a_guest_agent_is_said_within_2_seconds(
    newcomer: Any, exec_agent: AgentProcess
) -> None:
    """An agent never greets, but answers the probe sent after a second of silence."""
    started = time.monotonic()
    screen = newcomer(exec_agent.path, address=False, prompt=None)
    assert screen.wait_exit() == 3
    assert time.monotonic() - started < 3  # the shell's start-up included
    lines = _lines(screen.screen(scrollback=True))
    assert lines[-1] == f"qmpshell: {exec_agent.path} is a guest agent, not QMP: try --ga"
    assert len(lines) <= 2  # the busy note may have come first


# -- the guest agent's guest-exec ------------------------------------------------------


def test_guest_exec_status_shows_the_output_decoded(
    newcomer: Any, exec_agent: AgentProcess
) -> None:
    screen = newcomer("--ga", exec_agent.path, address=False)
    screen.type(
        'guest-exec path=/bin/sh arg=["-c","printf \'hello\\033[2J\\n\'; echo oops >&2"] '
        "capture-output=true",
        "Enter",
    )
    pid = re.findall(r'"pid": (\d+)', screen.wait_for(r'"pid": \d+'))[-1]
    screen.type(f"guest-exec-status pid={pid}", "Enter")
    shown = screen.wait_for(r"err-data \(decoded\):\noops\n", timeout=10)
    # hello, then ESC [2J written out (an escape that would clear the screen)
    assert "out-data (decoded):\nhello\\x1b[2J\n" in shown
    assert '"out-data": "aGVsbG8bWzJKCg=="' in shown  # the reply itself as it came


# -- --help ----------------------------------------------------------------------------


def test_help_shows_the_address_forms(newcomer: Any) -> None:
    screen = newcomer("--help", address=False, prompt=None, height=60)
    assert screen.wait_exit() == 0
    text = screen.screen(scrollback=True)
    forms = ("unix:PATH", "/tmp/qmp.sock", "tcp:HOST:PORT", " HOST:PORT", "[IPV6]:PORT")
    forms += ("[::1]:4444",)
    for form in forms:
        assert form in text, form
