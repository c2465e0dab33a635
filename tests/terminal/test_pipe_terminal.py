"""Journeys: a reply through a shell pipe (``LINE |! COMMAND``) at the prompt of the
installed shell, from a fresh HOME, against a real QEMU (tmux)."""

from __future__ import annotations

import os
import re
from typing import Any

from waiting import processes_with, wait_for

NONE = ("-machine", "none")


def test_a_reply_through_a_pipe_shows_the_commands_output(newcomer: Any) -> None:
    screen = newcomer(machine=NONE)
    screen.type("query-status |! tr a-z A-Z", "Enter")
    text = screen.wait_for(r'(?s)\{"STATUS":"RUNNING",[^\n]*"RUNNING":TRUE\}\s*\n\(QEMU\)')
    assert "Traceback" not in text
    screen.type("query-status |! exit 3", "Enter")
    screen.wait_for(r"qmpshell: pipe exited with status 3\s*\n\(QEMU\)")
    screen.type("query-nosuch |! cat", "Enter")  # refused before anything is sent
    screen.wait_for(r"(?s)unknown command 'query-nosuch'.*\n\(QEMU\)")
    screen.type("query-status |!", "Enter")
    screen.wait_for(r"column 14: '\|!' needs a shell command after it")
    screen.type("Up", "Up", "Up")  # the whole line is in the history, pipe and all
    screen.wait_for(r"\(QEMU\) query-status \|! exit 3\s*\n")


def test_ctrl_c_kills_the_pipe_and_returns_to_the_prompt(newcomer: Any) -> None:
    marker = f"pipe-journey-{os.getpid()}"
    screen = newcomer(machine=NONE)
    screen.type(f"query-status |! sleep 100; : {marker}", "Enter")
    wait_for(lambda: bool(processes_with(marker)), "the pipe started")
    screen.type("C-c")
    screen.wait_for(r"pipe stopped \(its processes killed\)\s*\n\(QEMU\)")
    assert not processes_with(marker)
    screen.type("query-name", "Enter")  # the session goes on
    screen.wait_for(r"\(QEMU\) query-name\s*\n(OK|\{\})\s*\n\(QEMU\)")


def test_the_pipes_output_is_escaped(newcomer: Any) -> None:
    """The command's output derives from QEMU's data: it reaches the terminal escaped,
    its stderr too."""
    screen = newcomer(machine=NONE)
    screen.type(
        r"query-status |! printf 'a\033[2Jb\342\200\256c\n'; printf 'e\033]0;t\007\n' >&2",
        "Enter",
    )
    # stderr as it comes; stdout once the command is done (paged when tall)
    text = screen.wait_for(r"(?m)^e\\x1b\]0;t\\x07\n^a\\x1b\[2Jb\\u202ec\n\(QEMU\)")
    assert "query-status" in text  # the screen was not cleared


def test_tall_output_goes_through_the_pager(newcomer: Any) -> None:
    screen = newcomer(machine=NONE, height=20)
    screen.type("query-qmp-schema |! tr , '\\n'", "Enter")
    screen.wait_for(r'(?m)^:\s*$|\(END\)|"meta-type":"command"')
    text = screen.screen()
    assert re.search(r"(?m)^:", text), text  # less waits for a key: it was paged
    screen.type("q")
    screen.wait_for(r"(?m)^\(QEMU\)\s*$")


def test_output_tall_only_once_wrapped_goes_through_the_pager(newcomer: Any) -> None:
    """One line of 200 KB is hundreds of rows: paged by the rows it takes, not by its
    lines (it was written straight to the screen)."""
    screen = newcomer(machine=NONE, height=20)
    screen.type("query-qmp-schema |! head -c 200000", "Enter")
    screen.wait_for(r"(?m)^:\s*$|\(END\)")
    screen.type("q")
    screen.wait_for(r"(?m)^\(QEMU\)\s*$")
    screen.type("query-status |! head -c 150", "Enter")  # one row: not paged
    screen.wait_for(r'\(QEMU\) query-status \|! head -c 150\s*\n\{"status"[^\n]*\n\(QEMU\)')


# SGR with 4 (underline) as one of its parameters (not 49's 4), then maybe more SGRs.
UNDERLINED = r"\x1b\[(?:[0-9;]*;)?4(?:;[0-9;]*)?m(?:\x1b\[[0-9;]*m)*"


def test_the_command_is_not_marked_but_a_fault_before_it_is(newcomer: Any) -> None:
    screen = newcomer("--color", "always", machine=NONE)
    screen.type("query-status |! jq -r '.status' | wc -l")
    text = screen.wait_for(r"\|!.*wc -l", escapes=True)
    screen.type("C-u", "query-status bogus=1 |! cat")
    screen.wait_for(UNDERLINED + "bogus=1", escapes=True)
    assert not re.search(UNDERLINED + r"[^\n]*(jq|\|!)", text), text
    screen.type("C-u", "query-status |! quer", "Tab")  # no QMP names after the pipe
    screen.wait_for(r"\(QEMU\) query-status \|! quer\s*\n")
    assert "query-" not in screen.screen().split("|! quer", 1)[1]


def test_ctrl_c_for_a_pipe_leaves_a_launched_qemu_running(newcomer: Any) -> None:
    """The launched QEMU is not in the terminal's foreground group: the Ctrl-C is the
    pipe's alone (QEMU used to quit on it, 'terminating on signal 2')."""
    marker = f"pipe-launch-{os.getpid()}"
    screen = newcomer("--launch", address=False)
    screen.type(f"query-status |! sleep 100; : {marker}", "Enter")
    wait_for(lambda: bool(processes_with(marker)), "the pipe started")
    screen.type("C-c")
    screen.wait_for(r"pipe stopped \(its processes killed\)\s*\n\(QEMU\)")
    screen.type("query-status", "Enter")
    text = screen.wait_for(r'(?s)\(QEMU\) query-status\s*\n\{.*"running": false.*\n\(QEMU\)')
    assert "terminating on signal" not in text
