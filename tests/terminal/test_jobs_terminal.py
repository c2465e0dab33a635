"""Journeys: a backup watched in the toolbar to its end, ``/job wait`` and ``/jobs``, as a
user at a terminal sees them (tmux, which answers prompt_toolkit's cursor queries)."""

from __future__ import annotations

import re
from typing import Any

from conftest import QemuFactory
from pty_shell import PROMPT, quit_at_prompt, spawn, type_line

MiB = 1 << 20
NONE = ("-machine", "none")

# A bar in the toolbar: the id, the type, the bar, the percentage... and the state.
BAR = r"b0 backup \[[#.]+\] \d+%.* running"


def start_backup(screen: Any, speed: int) -> None:
    screen.paste(
        f"blockdev-add driver=null-co node-name=src size={256 * MiB} read-zeroes=true\n"
        f"blockdev-add driver=null-co node-name=dst size={256 * MiB} read-zeroes=true\n"
    )
    screen.wait_for(r"(?s)(\{\}|OK).*(\{\}|OK)\s*\n\(QEMU\)")
    screen.type(f"blockdev-backup job-id=b0 device=src target=dst sync=full speed={speed}", "Enter")


def test_a_backup_shows_a_bar_then_one_line_for_its_end(newcomer: Any) -> None:
    screen = newcomer(machine=NONE)
    assert not re.search(r"\[[#.]+\]", screen.screen())  # nothing runs: no bar
    start_backup(screen, 64 * MiB)  # 4 s
    first = screen.wait_for(BAR)
    percent = int(re.search(r"b0 backup \[[#.]+\] (\d+)%", first)[1])  # type: ignore[index]
    # Redrawn as it goes, with a rate once two polls have come back.
    screen.wait_for(rf"b0 backup \[[#.]+\] (?!{percent}%)\d+% [\d.]+ MiB/s( \S+ left)? running")
    text = screen.wait_for(r"job b0 \(backup\) concluded", timeout=20)
    assert text.count("job b0 (backup) concluded") == 1
    screen.wait_for(r"(?s)concluded.*\(QEMU\)")
    assert not re.search(r"b0 backup \[", screen.screen())  # the bar went with the job
    screen.type("/jobs", "Enter")
    table = screen.wait_for(r"b0\s+backup\s+concluded\s+100%")
    assert re.search(r"ID\s+TYPE\s+STATE\s+PROGRESS\s+RATE\s+ERROR", table)


def test_the_bar_fits_a_narrow_terminal(newcomer: Any) -> None:
    screen = newcomer(machine=NONE, width=44)
    start_backup(screen, 32 * MiB)  # 8 s
    text = screen.wait_for(r"b0 backup \[[#.]+\] \d+%")
    row = next(line for line in text.splitlines() if "b0 backup [" in line)
    assert row.rstrip().endswith("running") and len(row.rstrip()) <= 44
    assert re.search(r"QMP\s*$", text.rstrip())  # the status line still shows the mode
    screen.type("block-job-cancel device=b0", "Enter")
    screen.wait_for(r"job b0 \(backup\) cancelled")


def test_job_wait_shows_the_bar_and_says_the_end(newcomer: Any) -> None:
    screen = newcomer(machine=NONE)
    start_backup(screen, 32 * MiB)  # 8 s: still running when /job wait is typed, if slowly
    screen.wait_for(BAR)
    screen.type("/job wait b0", "Enter")
    screen.wait_for(r"waiting for b0 backup \[[#.]+\] \d+%.*\(Ctrl-C stops\)")
    text = screen.wait_for(r"job b0 \(backup\) concluded\s*\n\(QEMU\)", timeout=20)
    assert text.count("job b0 (backup) concluded") == 1  # said by /job wait, not twice


def test_a_job_lost_with_the_connection_is_said_gone(
    shell_env: dict[str, str], qemu_factory: QemuFactory
) -> None:
    """--reconnect to a new QEMU: the backup that ran is not there; how it ended is not
    known, and the shell says so rather than that it concluded."""
    first = qemu_factory.start(NONE)
    child = spawn(shell_env, "--reconnect", first.qmp)
    try:
        child.expect(PROMPT)
        for name in ("src", "dst"):
            type_line(child, f"blockdev-add driver=null-co node-name={name} size={MiB << 8}")
            child.expect(r"OK|\{\}")
        type_line(child, "blockdev-backup job-id=b0 device=src target=dst sync=full speed=1")
        child.expect(r"OK|\{\}")
        first.proc.kill()
        child.expect("waiting for .* to come back")
        second = qemu_factory.start(NONE, reuse=first.directory)
        # Asked as the connection comes back, before the shell says it is back.
        child.expect(r"job b0 \(backup\) is gone; how it ended is not known")
        child.expect(f"reconnected to {second.qmp}")
        quit_at_prompt(child)
    finally:
        child.close()
    assert child.exitstatus == 0
