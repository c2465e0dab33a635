"""HMP failures are failures: real commands on a real QEMU, through the installed command.

``human-monitor-command`` succeeds whatever HMP did; qmpshell tells a failure by its text
(:func:`qmpshell.language.hmp.is_failure`, the rule in docs/hmp-failures.md). Each row of the
tables in tests/hmp_tables.py runs one HMP line with ``qmpshell -H -c LINE SOCKET`` and
checks the exit status and that ``is_failure`` says the same of the text QEMU sent (read
back from the transcript). The same tables pass on QEMU 7.2 and 10.0 (``scripts/test --qemu10``).
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from conftest import INSTALLED, QemuFactory, QemuProcess, SyncQMP, free_port
from hmp_tables import FAILURES, SUCCESSES, Row

from qmpshell.language.hmp import is_failure, parse_listing

# A q35 machine, paused, with a USB controller and a PCIe root port: somewhere to plug
# devices in and take them out again (q35's root bus does not take hot-plugged ones).
Q35 = (
    "-machine", "q35,accel=tcg", "-m", "128", "-S",
    "-device", "qemu-xhci,id=xhci", "-device", "pcie-root-port,id=rp1,chassis=1",
)  # fmt: skip
NONE = ("-machine", "none")  # no CPU, no disk, nothing plugged in


class Machines(NamedTuple):
    q35: QemuProcess
    none: QemuProcess
    image: Path  # a raw image nobody holds
    locked: Path  # a qcow2 image another QEMU holds open for writing
    port: int  # a free TCP port for host forwarding


@pytest.fixture(scope="module")
def machines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Machines]:
    """The QEMUs the rows run on, shared by the module: every row uses ids of its own."""
    directory = tmp_path_factory.mktemp("images")
    image, locked = directory / "free.raw", directory / "held.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "raw", str(image), "1M"], check=True)
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(locked), "1M"], check=True)
    factory = QemuFactory()
    try:
        factory.start(("-machine", "none", "-drive", f"file={locked},if=none,id=held"))
        yield Machines(factory.start(Q35), factory.start(NONE), image, locked, free_port())
    finally:
        factory.cleanup()


def run_row(machines: Machines, row: Row, env: dict[str, str], log: Path) -> tuple[int, str]:
    """Run ``row`` through the installed qmpshell: its exit status, and the text QEMU
    answered, from the transcript."""
    qemu = machines.q35 if row.machine == "q35" else machines.none
    names = {"img": machines.image, "locked": machines.locked, "port": machines.port}
    line = row.line.format(**names)
    if row.setup:
        other = SyncQMP(qemu.aux)
        try:
            for each in row.setup:
                reply = other.cmd("human-monitor-command", **{"command-line": each.format(**names)})
                assert not is_failure(reply["return"], each), (each, reply)
        finally:
            other.close()
    proc = subprocess.run(
        [str(INSTALLED), "-H", "-l", str(log), "-c", line, qemu.qmp],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert "Traceback" not in proc.stderr, proc.stderr
    replies = [json.loads(each)["msg"] for each in log.read_text().splitlines()]
    texts = [m["return"] for m in replies if isinstance(m.get("return"), str)]
    assert len(texts) == 1, replies
    return proc.returncode, texts[0]


def _hmp(qemu: QemuProcess, line: str) -> str:
    """The text of one HMP line, run by the test's own client."""
    other = SyncQMP(qemu.aux)
    try:
        return str(other.cmd("human-monitor-command", **{"command-line": line})["return"])
    finally:
        other.close()


@pytest.mark.parametrize("row", FAILURES, ids=[row.line for row in FAILURES])
def test_failing_hmp_command_exits_1(
    machines: Machines, row: Row, shell_env: dict[str, str], tmp_path: Path
) -> None:
    status, text = run_row(machines, row, shell_env, tmp_path / "t.jsonl")
    assert row.says.format(port=machines.port) in _first_line(text)
    assert is_failure(text, row.line), text
    assert status == 1, text


@pytest.mark.parametrize("row", SUCCESSES, ids=[row.line for row in SUCCESSES])
def test_succeeding_hmp_command_exits_0(
    machines: Machines, row: Row, shell_env: dict[str, str], tmp_path: Path
) -> None:
    status, text = run_row(machines, row, shell_env, tmp_path / "t.jsonl")
    assert row.says.format(port=machines.port) in _first_line(text)
    assert not is_failure(text, row.line), text
    assert status == 0, text


def _first_line(text: str) -> str:
    return text.split("\r\n")[0]


# -- what the text cannot tell ---------------------------------------------------------


def test_failures_qemu_does_not_report_in_the_reply(
    run_shell: Any, qemu_factory: QemuFactory
) -> None:
    """Commands that fail later, or that QEMU does not count as failing, print nothing:
    they exit 0. docs/hmp-failures.md lists them."""
    qemu = qemu_factory.start()
    closed = free_port()  # nothing listens there
    result = run_shell("-H", "-c", f"migrate -d tcp:127.0.0.1:{closed}", qemu.qmp)
    assert (result.status, result.stdout) == (0, "")
    status = ""
    for _ in range(100):  # the connection fails after the reply: info migrate tells
        status = next(x for x in _hmp(qemu, "info migrate").splitlines() if "status" in x)
        if "failed" in status:
            break
        time.sleep(0.1)
    assert status.startswith("Migration status: failed (")
    result = run_shell("-H", "-c", "info migrate", qemu.qmp)
    assert result.status == 0  # info reporting a failed migration has not failed
    for line in ("delvm nosuch", "trace-event nosuch* on"):  # no disk; no such event
        result = run_shell("-H", "-c", line, qemu.qmp)
        assert (result.status, result.stdout) == (0, ""), line


# -- scripted, with -e -------------------------------------------------------------------


def _objects(qemu: QemuProcess) -> set[str]:
    other = SyncQMP(qemu.aux)
    try:
        return {entry["name"] for entry in other.cmd("qom-list", path="/objects")["return"]}
    finally:
        other.close()


def test_batch_stops_at_a_failed_hmp_line(run_shell: Any, qemu_factory: QemuFactory) -> None:
    qemu = qemu_factory.start()
    script = (
        "object_add memory-backend-ram,id=before,size=1M\n"
        "drive_add 0 file=/nonexistent,if=none\n"
        "object_add memory-backend-ram,id=after,size=1M\n"
    )
    result = run_shell("-H", "-e", qemu.qmp, stdin=script)
    assert result.status == 1
    assert "Could not open '/nonexistent'" in result.stdout
    objects = _objects(qemu)
    assert "before" in objects and "after" not in objects
    # Without -e the third line runs, and the status still tells of the failure.
    result = run_shell("-H", qemu.qmp, stdin=script.replace("before", "before2"))
    assert result.status == 1
    assert "after" in _objects(qemu)


# -- QEMU's own listings never look like failures -----------------------------------------


def test_help_of_every_command_is_no_failure(machines: Machines) -> None:
    listing = _hmp(machines.q35, "help")
    assert not is_failure(listing, "help")
    commands = {command.name for command in parse_listing(listing).values()}
    assert len(commands) > 100
    for name in sorted(commands):
        line = f"help {name}"
        assert not is_failure(_hmp(machines.q35, line), line), line


# `info` subcommands that fail on these machines other than through hmp_handle_error()
# (whose "Error: " lines say the QMP command behind failed), and QEMU's words. (`info
# usbhost`, not built in, is left out of the listing.)
_INFO_FAILING = {
    "q35": {
        "snapshots": "no block device can store vmstate for snapshot",  # no disk for it
    },
    "none": {
        "snapshots": "no block device can store vmstate for snapshot",
        "registers": "No CPU available",
        "lapic": "No CPU available",
        "mem": "No CPU available",
        "tlb": "No CPU available",
    },
}


@pytest.mark.parametrize("machine", ["q35", "none"])
def test_every_info_output_is_no_failure(machines: Machines, machine: str) -> None:
    """Every ``info`` subcommand that needs no argument, on a q35 and on a machine with
    nothing in it: an output is taken for a failure only when it is one (an ``Error: ``
    from hmp_handle_error(), or one of those listed above)."""
    qemu = machines.q35 if machine == "q35" else machines.none
    listing = _hmp(qemu, "info")
    assert not is_failure(listing, "info")
    infos = parse_listing(listing, "info ")
    failed: dict[str, str] = {}
    succeeded = []
    for name, command in sorted(infos.items()):
        if name != command.name or _needs_argument(command.synopsis):
            continue
        text = _hmp(qemu, f"info {name}")
        if is_failure(text, f"info {name}"):
            failed[name] = text.split("\r\n")[0]
        else:
            succeeded.append(name)
    assert len(succeeded) > 30, succeeded
    assert {"status", "version", "qtree", "mtree", "block", "chardev"} <= set(succeeded)
    unprefixed = {name: text for name, text in failed.items() if not text.startswith("Error: ")}
    assert unprefixed == _INFO_FAILING[machine]


def _needs_argument(synopsis: str) -> bool:
    """Whether an HMP synopsis has an argument outside brackets (``target [names]``)."""
    depth, outside = 0, ""
    for char in synopsis:
        depth += char == "["
        outside += char if depth == 0 else " "
        depth -= char == "]"
    return bool(outside.replace("|", " ").split())
