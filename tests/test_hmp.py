"""HMP mode against real QEMU: scripted, in a terminal, and where there is no HMP."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import FUZZ_EXAMPLES, QemuFactory, QemuProcess, SyncQMP, qemu_version_text
from hypothesis import given, settings
from hypothesis import strategies as st
from terminal import Tmux

from qmpshell.language.hmp import HmpCommand, argument_kind, is_failure, output_text, parse_listing


def hmp_text(qemu: QemuProcess, line: str) -> str:
    other = SyncQMP(qemu.aux)
    try:
        return str(other.cmd("human-monitor-command", **{"command-line": line})["return"])
    finally:
        other.close()


# -- QEMU's own listings, parsed -------------------------------------------------------


def test_help_listing_of_a_real_qemu(q35: QemuProcess) -> None:
    commands = parse_listing(hmp_text(q35, "help"))
    assert commands["c"] is commands["cont"] and commands["cont"].aliases == ("c",)
    assert commands["device_del"].arguments == ["device"]
    assert commands["change"].arguments[:2] == ["device", "filename"]
    assert commands["drive_add"].text == "add drive to PCI storage controller"  # 5 lines
    assert len({c.name for c in commands.values()}) > 100
    infos = parse_listing(hmp_text(q35, "help info"), "info ")
    assert {"status", "version", "cpus", "block"} <= set(infos)
    assert infos["block"].arguments == ["device"]


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


def test_scripted_hmp_text_as_qemu_wrote_it(run_shell: Any, q35: QemuProcess) -> None:
    result = run_shell("-H", q35.qmp, stdin="info status\n\n   \ninfo version\ninfo cpus\n")
    assert result.status == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "VM status: paused (prelaunch)"
    assert lines[1].startswith(qemu_version_text())
    assert lines[2].startswith("* CPU #0: thread_id=")
    assert "\r" not in result.stdout


def test_unknown_command_is_shown_and_fails(run_shell: Any, q35: QemuProcess) -> None:
    result = run_shell("-H", "-c", "bogus", "-c", "info status", q35.qmp)
    assert result.status == 1
    assert result.stdout.splitlines() == [
        "unknown command: 'bogus'",
        "VM status: paused (prelaunch)",
    ]


def test_cpu_selection(run_shell: Any, q35: QemuProcess, tmp_path: Path) -> None:
    log = tmp_path / "t.jsonl"
    result = run_shell(
        "-H", "-l", str(log), "-c", "cpu 0", "-c", "info registers", "-c", "cpu 7", q35.qmp
    )
    assert result.status == 1
    assert "CPU 0 selected" in result.stderr
    assert "no CPU 7; this machine has CPU 0" in result.stderr
    assert "EIP=" in result.stdout or "RIP=" in result.stdout
    sent = [json.loads(line)["msg"] for line in log.read_text().splitlines()]
    hmp = [m for m in sent if m.get("execute") == "human-monitor-command"]
    assert hmp[-1]["arguments"] == {"command-line": "info registers", "cpu-index": 0}


def test_machine_without_cpus(run_shell: Any, qemu: QemuProcess, tmp_path: Path) -> None:
    """qmp-shell crashes here at start-up; qmpshell sends no cpu-index and works."""
    log = tmp_path / "t.jsonl"
    result = run_shell("-H", "-l", str(log), "-c", "info status", "-c", "cpu 0", qemu.qmp)
    assert result.stdout == "VM status: running\n"
    assert "this machine has no CPUs" in result.stderr
    sent = [json.loads(line)["msg"] for line in log.read_text().splitlines()]
    assert all("cpu-index" not in m.get("arguments", {}) for m in sent)


def test_switching_modes_both_ways(run_shell: Any, q35: QemuProcess) -> None:
    script = "info status\n/qmp\nquery-name\n/hmp\ninfo status\n/qmp query-kvm\n/hmp\n"
    result = run_shell("-H", q35.qmp, stdin=script)
    assert result.status == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == lines[2] == "VM status: paused (prelaunch)"
    assert json.loads(lines[1]) == {"return": {}}
    assert set(json.loads(lines[3])["return"]) == {"enabled", "present"}
    result = run_shell("-c", "/hmp info status", "-c", "query-name", q35.qmp)
    assert result.stdout.splitlines() == ["VM status: paused (prelaunch)", '{"return":{}}']


def test_storage_daemon_has_no_hmp(run_shell: Any, qemu_factory: QemuFactory) -> None:
    daemon = qemu_factory.start_storage_daemon()
    result = run_shell("-H", "-c", "query-name", daemon.qmp)
    assert "no human monitor" in result.stderr and "staying in QMP" in result.stderr
    result = run_shell("-c", "/hmp", "-c", "/hmp info status", "-c", "query-version", daemon.qmp)
    assert result.status == 1
    assert result.stderr.count("no human monitor") == 2
    assert "return" in json.loads(result.stdout)


# -- in a terminal ---------------------------------------------------------------------


@pytest.fixture
def hmp_screen(shell_env: dict[str, str], q35: QemuProcess, tmp_path: Path) -> Iterator[Tmux]:
    env = dict(shell_env)
    env.pop("PROMPT_TOOLKIT_NO_CPR")
    argv = [sys.executable, "-m", "qmpshell", "--color", "never", "-H", q35.qmp]
    terminal = Tmux(tmp_path, env, argv)
    terminal.wait_for(r"\(qemu\)")
    try:
        yield terminal
    finally:
        terminal.close()


def test_terminal_hmp_session(hmp_screen: Tmux, home: Path) -> None:
    screen = hmp_screen
    screen.wait_for(r"│ HMP")
    screen.type("info sta")
    screen.wait_for(r"status\s+show the current VM status")
    screen.type("tus", "Enter")
    screen.wait_for(r"VM status: paused \(prelaunch\)")
    screen.type("help inf")
    screen.wait_for(r"info\s+show various information")
    screen.type("C-u", "cpu 0", "Enter")
    screen.wait_for(r"│ HMP, CPU 0")
    screen.type("/qmp", "Enter")
    screen.wait_for(r"│ QMP\s")
    screen.type("query-name", "Enter")
    screen.wait_for("OK")
    screen.type("/hmp", "Enter")
    screen.wait_for(r"│ HMP, CPU 0")
    screen.type("Up")  # HMP history: the QMP line is not in it
    screen.wait_for(r"\(qemu\) cpu 0")
    screen.type("C-u", "C-d")
    state = home / "state" / "qmpshell"
    deadline = time.monotonic() + 10
    while "cpu 0" not in _read(state / "history-hmp") and time.monotonic() < deadline:
        time.sleep(0.05)
    hmp_history = _read(state / "history-hmp")
    assert "info status" in hmp_history and "query-name" not in hmp_history
    assert "query-name" in (state / "history").read_text()


def _read(path: Path) -> str:
    return path.read_text() if path.exists() else ""


def test_terminal_hmp_argument_completion(hmp_screen: Tmux, q35: QemuProcess) -> None:
    screen = hmp_screen
    screen.type("device_add usb-")
    screen.wait_for(r"usb-kbd\s+device type")
    screen.type("C-u", "info block ")
    screen.type("Tab")
    screen.wait_for(r"\(qemu\) info block\n")  # no drives on this machine: nothing offered
