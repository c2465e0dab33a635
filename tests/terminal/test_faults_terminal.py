"""Faults in the interactive shell (a pty): control characters QEMU sends are escaped on
screen; a history file that cannot be used, or is lost, costs no session.
docs/reliability.md lists every fault."""

from __future__ import annotations

import io
import json
from pathlib import Path

from conftest import QemuProcess
from pty_shell import PROMPT, quit_at_prompt, spawn, type_line

# An OSC sequence that would set the terminal's title, and a C1 CSI (U+009B).
HOSTILE = "\x1b]0;pwned\x07\u009b31m\x7f"


def test_control_characters_in_replies_are_escaped_on_screen(
    shell_env: dict[str, str], qemu: QemuProcess
) -> None:
    child = spawn(shell_env, qemu.qmp)
    try:
        child.expect(PROMPT)
        raw = json.dumps({"execute": "device_del", "arguments": {"id": HOSTILE}})
        child.send(raw + "\r")
        child.expect(r"Error \(DeviceNotFound\): Device '(.*)' not found")
        shown = child.match.group(1)
        assert shown == "\\u001b]0;pwned\\u0007\\u009b31m\\u007f"
        quit_at_prompt(child)
    finally:
        child.close()


def test_history_file_that_cannot_be_used(
    shell_env: dict[str, str], qemu: QemuProcess, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    child = spawn(shell_env, "--history-file", str(blocker / "history"), qemu.qmp)
    try:
        child.expect(
            f"cannot use history file {blocker}/history: {blocker} is not a directory; "
            "history is not saved"
        )
        child.expect(PROMPT)
        type_line(child, "query-name")
        child.expect(r"OK|\{\}")
        quit_at_prompt(child)
    finally:
        child.close()
    assert child.exitstatus == 0


def test_history_file_lost_during_the_session(
    shell_env: dict[str, str], qemu: QemuProcess, tmp_path: Path
) -> None:
    history = tmp_path / "history"
    child = spawn(shell_env, "--history-file", str(history), qemu.qmp)
    child.logfile_read = io.StringIO()
    try:
        child.expect(PROMPT)
        type_line(child, "query-name")
        child.expect(r"OK|\{\}")
        history.unlink()
        history.mkdir()  # appending to it fails from now on
        for command in ("query-version", "query-uuid"):  # each new to the history
            child.expect(PROMPT)
            type_line(child, command)
            child.expect("return|OK|micro")
        quit_at_prompt(child)
    finally:
        child.close()
    assert child.exitstatus == 0
    said = child.logfile_read.getvalue()
    assert said.count(f"qmpshell: history {history} no longer written: Is a directory") == 1
