"""The interactive shell in a real pty, typed at as a person would."""

from __future__ import annotations

import os
import re
import signal
import stat
import sys
from pathlib import Path

import pexpect
from conftest import QemuProcess, qemu_version_text
from pty_shell import PROMPT, echoed, quit_at_prompt, spawn, type_line
from tmux import Tmux
from waiting import stop, wait_idle, wait_queued_to

NODE = "blockdev-add driver=raw node-name=n0 file.driver=null-co file.size=1048576"


def test_banner_command_and_ctrl_d(shell_env: dict[str, str], q35: QemuProcess) -> None:
    child = spawn(shell_env, q35.qmp)
    try:
        child.expect(rf"Connected to .*qmp\.sock \(QEMU {re.escape(qemu_version_text())}[ )]")
        child.expect(PROMPT)
        type_line(child, "query-status")
        child.expect('"status": "prelaunch"')
        child.expect(PROMPT)
        type_line(child, "no-such-command")
        child.expect("unknown command 'no-such-command'")
        type_line(child, "qom-get path=/nowhere property=x")
        child.expect("DeviceNotFound")
        quit_at_prompt(child)
    finally:
        child.close()
    assert child.exitstatus == 0


def test_event_arrives_while_typing(shell_env: dict[str, str], q35: QemuProcess) -> None:
    """An event shows up at once, and the half-typed line survives it."""
    child = spawn(shell_env, q35.qmp)
    other = q35.other_client()
    try:
        child.expect(PROMPT)
        child.send("query-st")
        child.expect("query-st")
        other.cmd("cont")
        # One line: local time to the millisecond, the name, no data for RESUME.
        child.expect(r"[^\d]\d\d:\d\d:\d\d\.\d{3} RESUME\r\n")
        # The half-typed line is drawn again below it, intact.
        child.expect(r"\(QEMU\) (?:\x1b\[[0-9;?]*[A-Za-z])*" + echoed("query-st"))
        child.send("atus\r")
        child.expect('"status": "running"')
        quit_at_prompt(child)
    finally:
        other.close()
        child.close()
    assert child.exitstatus == 0


def test_ctrl_c_clears_the_line(shell_env: dict[str, str], qemu: QemuProcess) -> None:
    child = spawn(shell_env, qemu.qmp)
    try:
        child.expect(PROMPT)
        child.send("garbage that is never sent")
        child.expect(echoed("never sent"))
        child.sendintr()
        child.expect(PROMPT)
        wait_idle(child.pid)  # the cleared prompt reads keys again
        type_line(child, "query-name")
        child.expect("OK\r\n")
        quit_at_prompt(child)
    finally:
        child.close()
    assert child.exitstatus == 0


def test_qemu_quits_under_the_shell(shell_env: dict[str, str], qemu: QemuProcess) -> None:
    child = spawn(shell_env, qemu.qmp)
    try:
        child.expect(PROMPT)
        type_line(child, "quit")
        child.expect("SHUTDOWN")
        child.expect("OK")
        child.expect("qmpshell: QEMU quit; session ended")
        child.expect(pexpect.EOF)
        assert "(QEMU)" not in child.before  # no prompt drawn after the reply
    finally:
        child.close()
    assert child.exitstatus == 0


def test_caret_under_the_fault(shell_env: dict[str, str], qemu: QemuProcess) -> None:
    child = spawn(shell_env, qemu.qmp)
    try:
        child.expect(PROMPT)
        type_line(child, "blockdev-add driver=raw nod-name=x file=y")
        # The caret stands under 'nod-name': 7 columns of prompt, then 24 of input.
        child.expect(r"[^ ] {31}\^\r\n")
        child.expect("column 25: unknown argument 'nod-name' for blockdev-add; did you mean")
        quit_at_prompt(child)
    finally:
        child.close()


def test_transaction_block_prompt(shell_env: dict[str, str], qemu: QemuProcess) -> None:
    child = spawn(shell_env, qemu.qmp)
    try:
        child.expect(PROMPT)
        type_line(child, NODE)
        child.expect("OK\r\n")
        child.expect(PROMPT)
        type_line(child, "transaction(")
        child.expect("TRANS>")
        type_line(child, "block-dirty-bitmap-add node=n0 name=b1")
        child.expect("TRANS>")
        type_line(child, ")")
        child.expect("OK\r\n")
        quit_at_prompt(child)
    finally:
        child.close()


def test_raw_json_over_several_lines(shell_env: dict[str, str], qemu: QemuProcess) -> None:
    child = spawn(shell_env, qemu.qmp)
    try:
        child.expect(PROMPT)
        type_line(child, '{"execute": "qom-get",')
        child.expect(r"\.{6}")  # the continuation prompt: the object is still open
        type_line(child, '"arguments": {"path": "/machine", "property": "type"}}')
        child.expect('"return": "none-machine"')
        quit_at_prompt(child)
    finally:
        child.close()


def test_ctrl_c_leaves_a_transaction_block(shell_env: dict[str, str], qemu: QemuProcess) -> None:
    child = spawn(shell_env, qemu.qmp)
    try:
        child.expect(PROMPT)
        type_line(child, "transaction(")
        child.expect("TRANS>")
        wait_idle(child.pid)
        child.sendintr()
        child.expect("transaction of .* cancelled")
        quit_at_prompt(child)
    finally:
        child.close()


def test_coloured_reply_and_error(shell_env: dict[str, str], qemu: QemuProcess) -> None:
    child = spawn(shell_env, qemu.qmp, color="always")
    try:
        child.expect(PROMPT)
        type_line(child, "query-kvm")
        # A key in bold blue, a boolean in magenta: JSON coloured by pygments.
        child.expect(r'\x1b\[[0-9;]*m"enabled"\x1b\[[0-9;]*m: \x1b\[[0-9;]*mfalse')
        type_line(child, "qom-get path=/nowhere property=x")
        child.expect(r"\x1b\[01;31mError \(DeviceNotFound\):")  # bold red, one sequence
        quit_at_prompt(child)
    finally:
        child.close()


def test_no_color_environment(shell_env: dict[str, str], qemu: QemuProcess) -> None:
    shell_env["NO_COLOR"] = "1"
    child = spawn(shell_env, qemu.qmp, color="auto")
    try:
        child.expect(PROMPT)
        type_line(child, "qom-get path=/nowhere property=x")
        child.expect(r"Error \(DeviceNotFound\): Device '/nowhere' not found\r\n")
        assert re.search(r"\x1b\[[0-9;]*31m", child.before or "") is None  # no red at all
        quit_at_prompt(child)
    finally:
        child.close()


def test_history_is_private_and_recalled(
    shell_env: dict[str, str], qemu: QemuProcess, home: Path
) -> None:
    child = spawn(shell_env, qemu.qmp)
    try:
        child.expect(PROMPT)
        type_line(child, "query-kvm")
        child.expect('"present"')
        type_line(child, "object-add qom-type=secret id=s0 data=hunter2")
        child.expect("OK")
        quit_at_prompt(child)
    finally:
        child.close()
    path = home / "state" / "qmpshell" / "history"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert "query-kvm" in text and "hunter2" not in text
    child = spawn(shell_env, qemu.qmp)
    try:
        child.expect(PROMPT)
        child.send("\x1b[A")  # Up: the last line kept, the secret one skipped
        child.expect(echoed("query-kvm"))
        child.send("\r")
        child.expect('"present"')
        quit_at_prompt(child)
    finally:
        child.close()


def test_no_history(shell_env: dict[str, str], qemu: QemuProcess, home: Path) -> None:
    child = spawn(shell_env, "--no-history", qemu.qmp)
    try:
        child.expect(PROMPT)
        type_line(child, "query-name")
        child.expect("OK")
        quit_at_prompt(child)
    finally:
        child.close()
    assert not (home / "state" / "qmpshell" / "history").exists()


def test_wait_in_the_shell(shell_env: dict[str, str], q35: QemuProcess) -> None:
    child = spawn(shell_env, q35.qmp)
    other = q35.other_client()
    try:
        child.expect(PROMPT)
        type_line(child, "query-name")
        child.expect("OK")
        child.expect(PROMPT)
        type_line(child, "/wait RESUME 10")
        wait_idle(child.pid, "the shell waiting for RESUME")
        other.cmd("cont")
        child.expect("RESUME")
        quit_at_prompt(child)
    finally:
        other.close()
        child.close()


def test_ctrl_c_cancels_a_waiting_command(shell_env: dict[str, str], qemu: QemuProcess) -> None:
    child = spawn(shell_env, qemu.qmp)
    try:
        child.expect(PROMPT)
        type_line(child, "query-name")  # the schema is loaded: the next line is sent at once
        child.expect("OK")
        child.expect(PROMPT)
        stop(qemu.proc.pid)
        type_line(child, "query-status")
        wait_queued_to(qemu.proc.pid)  # sent; the stopped QEMU cannot answer
        child.sendintr()
        child.expect("cancelled")
        os.kill(qemu.proc.pid, signal.SIGCONT)
        child.expect(PROMPT)
        type_line(child, "query-kvm")  # its reply, not the late one to query-status
        child.expect('"present"')
        quit_at_prompt(child)
    finally:
        os.kill(qemu.proc.pid, signal.SIGCONT)
        child.close()
    assert child.exitstatus == 0


def test_qemu_killed_while_idle(shell_env: dict[str, str], qemu: QemuProcess) -> None:
    child = spawn(shell_env, qemu.qmp)
    try:
        child.expect(PROMPT)
        child.send("query-na")  # half typed when QEMU dies
        child.expect(echoed("query-na"))
        qemu.proc.kill()
        child.expect("qmpshell: connection to .* (closed by peer|lost)")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 3


def test_toolbar_follows_the_run_state(
    shell_env: dict[str, str], q35: QemuProcess, tmp_path: Path
) -> None:
    """In tmux, a real terminal emulator: the toolbar needs answers to cursor queries."""
    env = dict(shell_env)
    env.pop("PROMPT_TOOLKIT_NO_CPR")
    screen = Tmux(tmp_path, env, [sys.executable, "-m", "qmpshell", q35.qmp])
    other = q35.other_client()
    try:
        screen.wait_for(rf"QEMU {re.escape(qemu_version_text())} │ prelaunch │ QMP")
        other.cmd("cont")
        screen.wait_for(r"│ running │ QMP")
        other.cmd("stop")
        screen.wait_for(r"│ paused │ QMP")
        screen.type("/events filter none", "Enter")
        screen.wait_for("showing: none")
        other.cmd("cont")
        screen.wait_for(r"│ running │ QMP │ 1 event hidden")
        screen.type("transaction(", "Enter")
        screen.wait_for(r"│ QMP transaction │")
    finally:
        other.close()
        screen.close()


def test_tall_reply_goes_through_the_pager(
    shell_env: dict[str, str], qemu: QemuProcess, tmp_path: Path
) -> None:
    pager = tmp_path / "pager"
    pager.write_text("#!/bin/sh\necho PAGER-START; wc -l; echo PAGER-END\n")
    pager.chmod(0o755)
    shell_env["PAGER"] = str(pager)
    child = spawn(shell_env, qemu.qmp)
    try:
        child.expect(PROMPT)
        type_line(child, "query-kvm")  # short: printed directly
        child.expect('"present"')
        child.expect(PROMPT)
        type_line(child, "query-qmp-schema")
        child.expect(r"PAGER-START\r\n\s*(\d+)\r\nPAGER-END")
        assert int(child.match.group(1)) > 1000
        quit_at_prompt(child)
    finally:
        child.close()


def test_flood_of_events_keeps_the_prompt(shell_env: dict[str, str], q35: QemuProcess) -> None:
    child = spawn(shell_env, "--events", "none", q35.qmp)
    other = q35.other_client()
    try:
        child.expect(PROMPT)
        for _ in range(500):
            other.cmd("cont")
            other.cmd("stop")
        child.send("query-sta")
        child.expect(echoed("query-sta"))
        child.setwinsize(30, 100)  # and a resize in the middle of it
        type_line(child, "tus")
        child.expect('"status": "paused"')
        type_line(child, "/events list 0")
        child.expect("0 of 1000 events")
        quit_at_prompt(child)
    finally:
        other.close()
        child.close()


def test_bad_line_is_marked_while_typing(
    shell_env: dict[str, str], qemu: QemuProcess, tmp_path: Path
) -> None:
    argv = [sys.executable, "-m", "qmpshell", "--color", "always", qemu.qmp]
    screen = Tmux(tmp_path, shell_env, argv)
    try:
        screen.wait_for(r"\(QEMU\)")
        screen.type("query-name", "Enter")  # the schema is loaded after this
        screen.wait_for("OK")
        screen.type("query-status bogus=1")
        # The unknown argument is drawn underlined (SGR 4) while the line is typed.
        screen.wait_for(r"\x1b\[[0-9;]*4[0-9;]*m(?:\x1b\[[0-9;]*m)*bogus=1", escapes=True)
        screen.type("C-u", "query-status")
        text = screen.wait_for(r"query-status", escapes=True)
        assert not re.search(r"\x1b\[[0-9;]*4[0-9;]*m(?:\x1b\[[0-9;]*m)*query", text)
    finally:
        screen.close()


def test_ctrl_r_searches_history(shell_env: dict[str, str], qemu: QemuProcess) -> None:
    child = spawn(shell_env, qemu.qmp)
    try:
        child.expect(PROMPT)
        type_line(child, "qom-get path=/machine property=type")
        child.expect('"none-machine"')
        child.expect(PROMPT)
        type_line(child, "query-name")
        child.expect("OK")
        child.expect(PROMPT)
        child.send("\x12")  # Ctrl-R
        child.send("qom")
        child.expect(echoed("qom-get path=/machine"))  # found, though query-name came later
        child.send("\r")  # the first Enter ends the search, the second runs the line
        wait_idle(child.pid)
        child.send("\r")
        child.expect('"none-machine"')
        quit_at_prompt(child)
    finally:
        child.close()
