"""Launch mode: what a launched QEMU (and a guest console on its stdio) writes reaches the
user escaped, at once, whole lines or not; ``--raw-console`` passes it through unchanged.

A guest needs an image this machine does not have, so the hostile console is a real
program in QEMU's place: a wrapper script that writes what a hostile guest would, then
runs the real QEMU. A partial line comes from the real QEMU itself: an HMP monitor on its
stdio prints the prompt ``(qemu) `` with no newline.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest
from tmux import Tmux

from qmpshell.protocol.launch import ConsoleRelay

MACHINE_NONE = ["-machine", "none", "-nodefaults", "-display", "none"]
# Octal escapes for sh's printf: ESC ] 0 ; ... BEL (title), ESC [ 2 J (clear), C1 CSI
# (U+009B in UTF-8), U+202E (RLO); CR LF line ends, as a serial console writes them.
HOSTILE_CONSOLE = r"\033]0;PWNED\007guest\033[2J\302\233\342\200\256 says hi\r\nlogin: "
RAW = "\x1b]0;PWNED\x07guest\x1b[2J\x9b\u202e says hi\r\nlogin: "
MARKERS = ["\x1b]0;", "\x1b[2J", "\x9b", "\u202e"]


@pytest.fixture
def hostile_qemu(tmp_path: Path) -> Path:
    """A "QEMU" whose guest console writes control sequences before the real one runs."""
    script = tmp_path / "hostile-qemu"
    script.write_text(f"#!/bin/sh\nprintf '{HOSTILE_CONSOLE}'\nexec qemu-system-x86_64 \"$@\"\n")
    os.chmod(script, 0o755)
    return script


def test_a_guest_console_is_escaped(run_shell: Any, hostile_qemu: Path) -> None:
    result = run_shell("-c", "query-name", "--", str(hostile_qemu), *MACHINE_NONE)
    assert result.status == 0, result.stderr
    for marker in MARKERS:
        assert marker not in result.stderr, result.stderr
    assert "\\x1b]0;PWNED\\x07guest\\x1b[2J\\x9b\\u202e says hi\nlogin: " in result.stderr


def test_raw_console_passes_it_unchanged(run_shell: Any, hostile_qemu: Path) -> None:
    result = run_shell("--raw-console", "-c", "query-name", "--", str(hostile_qemu), *MACHINE_NONE)
    assert result.status == 0, result.stderr
    assert RAW.replace("\r\n", "\n") in result.stderr  # (run_shell reads text: \r\n is \n)


def test_raw_console_goes_with_a_launch(run_shell: Any) -> None:
    result = run_shell("--raw-console", "-c", "query-name", "/tmp/nowhere.sock")
    assert result.status == 2
    assert "--raw-console goes with a QEMU that qmpshell launches" in result.stderr


def test_a_line_not_ended_shows_at_once(shell_env: dict[str, str], tmp_path: Path) -> None:
    """QEMU's HMP prompt on stdio has no newline; it shows while the shell waits."""
    env = dict(shell_env)
    env.pop("PROMPT_TOOLKIT_NO_CPR")
    argv = [sys.executable, "-m", "qmpshell", "--color", "never", "--", "qemu-system-x86_64"]
    argv += [*MACHINE_NONE, "-chardev", "stdio,id=h", "-mon", "chardev=h,mode=readline"]
    screen = Tmux(tmp_path, env, argv)
    try:
        screen.wait_for(r"\(QEMU\)")
        screen.wait_for(r"(?m)^\(qemu\)")  # QEMU's own monitor prompt, relayed
        screen.type("C-d")
        assert screen.wait_exit() == 0
    finally:
        screen.close()


# -- the relay, pure ----------------------------------------------------------------------


def test_relay_pieces() -> None:
    relay = ConsoleRelay()
    assert relay.feed(b"one\r\ntwo\r") == ["one\n", "two"]  # the \r waits for its \n
    assert relay.feed(b"\nlogin: \xc3") == ["\n", "login: "]  # é cut by the read
    assert relay.feed(b"\xa9") == ["é"]
    assert relay.feed(b"bar\r") == ["bar"]
    assert relay.feed(b"baz") == ["\rbaz"]  # a lone \r stays (escaped later)
    assert relay.end() == []


def test_relay_leaves_the_notice_out_once() -> None:
    relay = ConsoleRelay(notice=True)
    notice = b"qemu: -qmp unix:/x,server=on,wait=on: info: QEMU waiting for connection on: "
    assert relay.feed(b"warning: early\nqemu: -qmp uni") == ["warning: early\n"]
    assert relay.feed(notice[14:] + b"disconnected:unix:/x\n") == []
    assert relay.feed(b"(qemu) ") == ["(qemu) "]  # not held once the notice has gone by
    assert relay.end() == []


def test_relay_raw_keeps_every_byte() -> None:
    relay = ConsoleRelay(raw=True)
    assert relay.feed(b"\x1b]0;t\x07a\r") == ["\x1b]0;t\x07a\r"]
    assert relay.feed(b"\n") == ["\n"]
    assert relay.end() == []


def test_relay_end_gives_what_was_held() -> None:
    relay = ConsoleRelay(notice=True)
    assert relay.feed(b"dying words") == []
    assert relay.end() == ["dying words"]
