"""HMP mode, pure: parsing the help listing, argument kinds, which output is a failure.
(Against real QEMU: tests/qemu/test_hmp_qemu.py, tests/terminal/test_hmp_terminal.py.)"""

from __future__ import annotations

import pytest
from conftest import FUZZ_EXAMPLES
from hypothesis import given, settings
from hypothesis import strategies as st

from qmpshell.language.hmp import HmpCommand, argument_kind, is_failure, output_text

# -- QEMU's own listings, parsed -------------------------------------------------------


def test_output_and_failures() -> None:
    assert output_text("VM status: running\r\n") == "VM status: running"
    assert output_text("a\r\nb\r\n") == "a\nb"
    assert output_text("\x1b[31mred\x9b") == "\\x1b[31mred\\x9b"
    assert output_text("tab\there\nlone \udc80") == "tab\there\nlone \\udc80"
    assert is_failure("unknown command: 'bogus'\r\n")
    assert is_failure("Error: Snapshot 'x' does not exist\r\n")
    assert not is_failure("VM status: running\r\n")


# HMP replies as QEMU 7.2 and 10.0 wrote them, with the command that got each, and
# whether it failed. The live tables are in test_hmp_failures.py; these are the forms
# that a test cannot easily provoke, and successes that merely mention an error.
REPLIES = [
    # monitor/hmp.c, the dispatcher: -preconfig, and commands not built in
    ("device_add e1000", "Command 'device_add' not available until machine "
     "initialization has completed.\r\n", True),
    ("info usbhost", 'Command "info usbhost" is not available.\r\n', True),
    # the argument parser: the reason may have gone to stderr, the last line is left
    ("netdev_add user,id=,", 'Try "help netdev_add" for more information\r\n', True),
    ("sum 0", "sum: string expected\r\nTry \"help sum\" for more information\r\n", True),
    ("x 1 2", "x: extraneous characters at the end of line\r\n"
     'Try "help x" for more information\r\n', True),
    # warnings and blank lines come before the line that decides
    ("device_add x", "warning: something is deprecated\r\nError: it failed\r\n", True),
    ("device_add x", "warning: something is deprecated\r\n", False),
    ("info memdev", "\r\nError: memory backends unavailable\r\n", True),
    ("info registers", "\r\nCPU#0\r\nEAX=00000000 EBX=00000000\r\n", False),
    # commands that report failures in free text, told by what their success prints
    ("drive_add 0 if=none,file=x", "OK\r\n", False),
    ("drive_add -n 0 node-name=n,driver=null-co", "", False),
    ("drive_add 0 if=none,format=help", "Supported formats: raw qcow2\r\n", False),
    ("drive_add 0 if=none,file=x", "Image is not in qcow2 format\r\n", True),
    ("drive_add 0 if=none,file=x", 'Failed to get "write" lock\r\n'
     "Is another process using the image [x]?\r\n", True),
    ("drive_del d", "Node 'd' is busy: block device is in use by block job\r\n", True),
    ("hostfwd_add tcp::1-:22", "Could not set up host forwarding rule 'tcp::1-:22'\r\n", True),
    ("hostfwd_remove n tcp::1", "host forwarding rule for tcp::1 removed\r\n", False),
    ("hostfwd_remove n tcp::1", "host forwarding rule for tcp::1 not found\r\n", True),
    ("log in_asm", "", False),
    ("log nosuch", "Log items (comma separated):\r\nnone            remove all logs\r\n", True),
    ("help log", "Log items (comma separated):\r\nnone            remove all logs\r\n", False),
    ("gva2gpa 0x1000", "Unmapped\r\n", True),
    ("gva2gpa 0x1000", "gpa: 0x1000\r\n", False),
    ("x/4c 0", "0000000000000000: 'E' 'r' 'r' 'o'\r\n", False),
    ("xp /8x 0x7fffff0", "0000000007fffff0: 0x00000000 0x00000000 0x00000000 0x00000000"
     "\r\n0000000008000000: Cannot access memory\r\n", True),
    # successes that mention errors
    ("info status", "VM status: paused (io-error)\r\n", False),
    ("info status", "VM status: paused (internal-error)\r\n", False),
    ("info migrate", "globals:\r\nMigration status: failed (Error: connection refused)\r\n", False),
    ("info migrate", "globals:\r\ndecompress-error-check: on\r\n", False),
    ("info block", "d0: x.qcow2 (qcow2)\r\n    I/O status:       failed\r\n", False),
    ("help", "pcie_aer_inject_error [-a] [-c] id <error_status> -- inject pcie aer error\r\n",
     False),
    ("help pcie_aer_inject_error", "pcie_aer_inject_error [-a] [-c] id <error_status> "
     "[<tlp header> [<tlp header prefix>]] -- inject pcie aer error\r\n\t -a for ...\r\n",
     False),
    ("info trace-events", "block_error : state 0\r\n", False),
    ("info qtree", "bus: main-system-bus\r\n  type System\r\n      werror = \"auto\"\r\n", False),
    ("qom-get /machine/peripheral/x serial", '"Error: not a real error"\r\n', False),
    ("migrate -d tcp:127.0.0.1:1", "", False),
    ("migrate tcp:127.0.0.1:1",
     "terminal does not allow synchronous migration, continuing detached\r\n", False),
]  # fmt: skip


@pytest.mark.parametrize(("line", "text", "failed"), REPLIES)
def test_failure_forms(line: str, text: str, failed: bool) -> None:
    assert is_failure(text, line) is failed


def test_without_the_command_only_the_forms_count() -> None:
    assert is_failure("Error: x\r\n") and is_failure("Could not open 'x': No such file\r\n")
    assert not is_failure("Image is not in qcow2 format\r\n")  # drive_add's, in free text
    assert is_failure("Image is not in qcow2 format\r\n", "drive_add 0 file=x")


_NOTICES = st.lists(st.sampled_from(["", "warning: deprecated", "info: note", "  "]), max_size=3)


@settings(max_examples=FUZZ_EXAMPLES)
@given(st.sampled_from(REPLIES), _NOTICES, st.booleans())
def test_warnings_blank_lines_and_line_ends_change_nothing(
    reply: tuple[str, str, bool], notices: list[str], crlf: bool
) -> None:
    line, text, failed = reply
    before = "".join(f"{notice}\r\n" for notice in notices)
    changed = before + text
    if not crlf:
        changed = changed.replace("\r\n", "\n")
    assert is_failure(changed, line) is failed


@settings(max_examples=FUZZ_EXAMPLES)
@given(st.text(), st.sampled_from(["device_del", "x", "info status", "drive_add", "log"]))
def test_a_try_help_last_line_always_fails(before: str, command: str) -> None:
    assert is_failure(f'{before}\r\nTry "help {command}" for more information\r\n', command)


@pytest.mark.parametrize(
    ("command", "info", "position", "name", "kind"),
    [
        ("device_del", None, 0, "device", "devices"),
        ("device_add", None, 0, "driver[,prop=value][,...]", "device-types"),
        ("loadvm", None, 0, "tag", "snapshots"),
        ("eject", None, 0, "device", "block-devices"),
        ("change", None, 1, "filename", "file"),
        ("info", "block", 0, "device", "block-devices"),
        ("info", "status", 0, "x", ""),
    ],
)
def test_argument_kinds(
    command: str, info: str | None, position: int, name: str, kind: str
) -> None:
    assert argument_kind(command, info, position, name) == kind


def test_synopsis_arguments() -> None:
    command = HmpCommand("x", (), "[-f] device [format [mode]]", "")
    assert command.arguments == ["device", "format", "mode"]


# -- scripted --------------------------------------------------------------------------


# -- in a terminal ---------------------------------------------------------------------
