"""The config file in a real terminal (tmux): the installed qmpshell from a fresh HOME
whose config file says how the shell should behave, and the command line saying
otherwise."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import NEWCOMER_MACHINE, QemuFactory
from waiting import wait_idle


@pytest.fixture
def config(home: Path) -> Any:
    path = home / "config" / "qmpshell" / "config.toml"
    path.parent.mkdir()
    return path.write_text


def _shell_pid(tty: str) -> int:
    """The qmpshell reading the terminal ``tty``."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            reads = os.readlink(f"/proc/{entry}/fd/0")
            with open(f"/proc/{entry}/cmdline", "rb") as file:
                command = file.read()
        except OSError:
            continue
        if reads == tty and b"qmpshell" in command:
            return int(entry)
    raise AssertionError(f"no qmpshell on {tty}")


def test_menus_only_on_tab_and_history_where_the_file_says(
    newcomer: Any, config: Any, home: Path
) -> None:
    config('complete-while-typing = false\nhistory-file = "~/qmp-history"\n')
    screen = newcomer()
    screen.type("query-kvm", "Enter")  # the schema is loaded by the first reply
    screen.wait_for(r'"present": ')
    screen.type("query-bl")
    screen.wait_for(r"(?m)^\(QEMU\) query-bl\s*$")
    wait_idle(_shell_pid(screen.tty()), "the shell reading keys after query-bl")
    assert "query-block-jobs" not in screen.screen()  # no menu while typing
    screen.type("Tab")
    menu = screen.wait_for(r"query-block-jobs")
    assert "query-blockstats" in menu
    screen.type("C-u", "C-d")
    assert screen.wait_exit() == 0
    assert "query-kvm" in (home / "qmp-history").read_text()
    assert not (home / "state" / "qmpshell" / "history").exists()


def _reply_line(screen: Any) -> str:
    """The reply's line ``"enabled": false`` as the terminal shows it, its colours in."""
    shown = screen.wait_for(r'"enabled"', escapes=True)
    return next(line for line in shown.splitlines() if '"enabled"' in line)


def test_color_never_in_the_file_and_always_on_the_command_line(newcomer: Any, config: Any) -> None:
    config('color = "never"\n')
    screen = newcomer()
    screen.type("query-kvm", "Enter")
    assert re.fullmatch(r'\s*"enabled": false,\s*', _reply_line(screen))  # no SGR at all
    screen.type("C-d")
    assert screen.wait_exit() == 0
    screen = newcomer("--color", "always")
    screen.type("query-kvm", "Enter")
    assert re.search(r'\x1b\[[0-9;]*m"enabled"', _reply_line(screen))


def test_a_named_target_from_the_file(
    newcomer: Any, config: Any, qemu_factory: QemuFactory
) -> None:
    qemu = qemu_factory.start(NEWCOMER_MACHINE)
    config(f'[targets.vm1]\naddress = "{qemu.qmp}"\n')
    screen = newcomer("@vm1", address=False)
    screen.type("query-status", "Enter")
    screen.wait_for(r'"status": "prelaunch"')
    screen.type("C-d")
    assert screen.wait_exit() == 0
    screen = newcomer("@vm2", address=False, prompt=None)
    assert screen.wait_exit() == 2
    shown = "".join(screen.screen(scrollback=True).splitlines())  # a long line joined again
    assert "qmpshell: error: no target named 'vm2'; did you mean '@vm1'?" in shown
