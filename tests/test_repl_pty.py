"""The interactive shell in a real pty, typed at as a person would."""

from __future__ import annotations

import re
import sys
import time

import pexpect
from conftest import QemuProcess

NODE = "blockdev-add driver=raw node-name=n0 file.driver=null-co file.size=1048576"
PROMPT = r"\(QEMU\)"  # prompt_toolkit moves the cursor instead of writing the space


def spawn(env: dict[str, str], *args: str, color: str = "never") -> pexpect.spawn:
    """qmpshell in a pty; without colour unless asked, so that text can be matched."""
    child = pexpect.spawn(
        sys.executable,
        ["-m", "qmpshell", "--color", color, *args],
        env=env,
        encoding="utf-8",
        timeout=10,
        dimensions=(40, 120),
    )
    return child


def quit_at_prompt(child: pexpect.spawn) -> None:
    """Wait for the prompt, then Ctrl-D, and see the shell end."""
    child.expect(PROMPT)
    time.sleep(0.1)
    child.sendeof()
    child.expect(pexpect.EOF)


def echoed(text: str) -> str:
    """A pattern for ``text`` as the terminal shows it: highlighting codes may sit
    between any two characters."""
    return r"(?:\x1b\[[0-9;?]*[A-Za-z])*".join(re.escape(char) for char in text)


def type_line(child: pexpect.spawn, text: str) -> None:
    """Type as a person does: the keys, a look at the screen, then Enter."""
    child.send(text)
    child.expect(echoed(text))
    child.send("\r")


def test_banner_command_and_ctrl_d(shell_env: dict[str, str], q35: QemuProcess) -> None:
    child = spawn(shell_env, q35.qmp)
    try:
        child.expect(r"Connected to .*qmp\.sock \(QEMU 7\.")
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
        child.expect(r"\(QEMU\) " + echoed("query-st"))
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
        time.sleep(0.2)  # let the cleared prompt settle, as a person's eye would
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
        child.expect("qmpshell: connection to .* (closed by peer|lost)")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 3


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
        time.sleep(0.1)
        child.sendintr()
        child.expect("transaction cancelled")
        quit_at_prompt(child)
    finally:
        child.close()
