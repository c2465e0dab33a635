"""Journeys: the mistakes a newcomer makes first, each answered with one clear line, the
caret where the fault is, and the session going on."""

from __future__ import annotations

import re
from typing import Any


def test_caret_on_a_line_that_wrapped(newcomer: Any) -> None:
    screen = newcomer(width=60)
    line = "blockdev-add driver=null-co node-name=n1 size=1048576 read-zeroes=true bogus=1"
    screen.type(line)
    screen.type("Enter")
    text = screen.wait_for(r"unknown argument 'bogus'")
    # The row with the fault is shown again, the caret under its first character.
    shown = text.splitlines()
    caret = next(i for i, row in enumerate(shown) if row.strip() == "^")
    assert shown[caret - 1][shown[caret].index("^") :].startswith("bogus"), text
    screen.type("query-name", "Enter")
    screen.wait_for(r"OK|\{\}")


def test_caret_on_a_continuation_line(newcomer: Any) -> None:
    screen = newcomer()
    screen.type('{"execute": "query-status",', "Enter")
    screen.type('  "arguments": {]}', "Enter")
    text = screen.wait_for(r"its line 2, column \d+: invalid JSON")
    shown = text.splitlines()
    caret = next(i for i, row in enumerate(shown) if row.strip() == "^")
    assert shown[caret - 1][shown[caret].index("^")] == "]", text


def test_hmp_typed_at_the_qmp_prompt(newcomer: Any) -> None:
    screen = newcomer()
    screen.type("info status", "Enter")
    screen.wait_for(r"this looks like an HMP command: /hmp info status")
    screen.type("info", "Enter")
    screen.wait_for(r"this looks like an HMP command: /hmp info\n")
    screen.type("/hmp info status", "Enter")
    screen.wait_for(r"VM status: paused \(prelaunch\)")


def test_modes_are_announced_both_ways(newcomer: Any) -> None:
    screen = newcomer()
    screen.type("/hmp", "Enter")
    screen.wait_for(r"HMP mode: .*/qmp goes back")
    screen.type("/qmp", "Enter")
    screen.wait_for(r"QMP mode: .*/hmp switches back")


def test_ctrl_d_inside_a_transaction_says_what_it_drops(newcomer: Any) -> None:
    screen = newcomer()
    screen.type("transaction(", "Enter")
    screen.wait_for(r"TRANS>")
    screen.type("block-dirty-bitmap-add node=n0 name=b1", "Enter")
    screen.type("block-dirty-bitmap-add node=n0 name=b2", "Enter")
    screen.wait_for(r"(?s)name=b2.*TRANS>")
    screen.type("C-d")
    assert screen.wait_exit() == 0
    assert re.search(r"transaction of 2 actions dropped", screen.screen())


def test_ctrl_c_leaves_a_transaction_and_says_so(newcomer: Any) -> None:
    screen = newcomer()
    screen.type("transaction(", "Enter")
    screen.type("block-dirty-bitmap-add node=n0 name=b1", "Enter")
    screen.wait_for(r"(?s)name=b1.*TRANS>")
    screen.type("C-c")
    screen.wait_for(r"transaction of 1 action cancelled")
    screen.wait_for(r"(?m)^\(QEMU\)\s*$")


def test_help_and_exit_typed_as_commands(newcomer: Any) -> None:
    screen = newcomer()
    screen.type("help", "Enter")
    screen.wait_for(r"qmpshell's help is /help; HMP's is /hmp help")
    screen.type("exit", "Enter")
    screen.wait_for(r"'exit' is not a QMP command: /quit or Ctrl-D leaves")


def test_qmp_typed_in_hmp_mode(newcomer: Any) -> None:
    screen = newcomer("-H")
    screen.type("query-status", "Enter")
    screen.wait_for(r"this looks like a QMP command: /qmp query-status")


def test_mark_and_caret_agree_on_hmp_at_the_qmp_prompt(newcomer: Any) -> None:
    screen = newcomer("--color", "always")
    screen.type("info status")
    # Marked from the first word, as the error on Enter will say (column 1).
    screen.wait_for(r"\x1b\[[0-9;]*4[0-9;]*m(?:\x1b\[[0-9;]*m)*info", escapes=True)
