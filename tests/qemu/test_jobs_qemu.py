"""Block jobs and migration against real QEMU, in scripts: ``/job wait`` and ``/jobs``.

The jobs run between ``null-co`` nodes (no disk is written) with a ``speed`` limit, so
that they last long enough to be seen and no longer: a backup of 64 MiB at 32 MiB/s, a
stream at the same pace, one whose reads fail (``blkdebug`` injects EIO), and a
migration of a paused q35 whose RAM holds random data, to ``exec:cat >/dev/null`` at a
bandwidth limit.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import QemuFactory, QemuProcess, start_shell
from waiting import wait_idle

MiB = 1 << 20
SIZE = 64 * MiB
SPEED = 32 * MiB  # two seconds for SIZE


def null_node(name: str, size: int = SIZE, zeroes: bool = True) -> str:
    """A null-co node; reading zeroes (``zeroes``) its block status says so, and a
    backup writes zeroes there without reading."""
    on = "true" if zeroes else "false"
    return f"blockdev-add driver=null-co node-name={name} size={size} read-zeroes={on}"


def backup(job: str, speed: int = SPEED, *, source: bool = True) -> list[str]:
    """Lines that start a backup ``job`` from node ``src`` (made here unless ``source``
    is false) to a new ``dst``."""
    return [
        *([null_node("src")] if source else []),
        null_node("dst"),
        f"blockdev-backup job-id={job} device=src target=dst sync=full speed={speed}",
    ]


def failing_source() -> list[str]:
    """``src``: raw over blkdebug over null-co, whose first read fails with EIO (raw
    fires blkdebug's read_aio event before each read; a node not known to read zeroes
    is read)."""
    debug = {
        "execute": "blockdev-add",
        "arguments": {
            "driver": "blkdebug",
            "node-name": "dbg",
            "image": "base",
            "inject-error": [{"event": "read_aio", "errno": 5}],
        },
    }
    return [
        null_node("base", zeroes=False),
        json.dumps(debug),
        "blockdev-add driver=raw node-name=src file=dbg",
    ]


def test_job_wait_succeeds_when_the_backup_concludes(run_shell: Any, qemu: QemuProcess) -> None:
    started = time.monotonic()
    result = run_shell(qemu.qmp, stdin="\n".join([*backup("b0"), "/job wait b0", "query-jobs"]))
    assert result.status == 0, result.stderr
    assert time.monotonic() - started >= 1.5  # it waited for the job, which takes 2 s
    assert "job b0 (backup) concluded" in result.stderr
    assert result.messages()[-1] == {"return": []}  # auto-dismissed by then


def test_job_wait_fails_with_the_jobs_error(run_shell: Any, qemu: QemuProcess) -> None:
    lines = [*failing_source(), *backup("bad", source=False)]
    result = run_shell(qemu.qmp, stdin="\n".join([*lines, "/job wait bad", "/jobs"]))
    assert result.status == 1, result.stderr
    assert "job bad (backup) failed: Input/output error" in result.stderr
    assert "1 of" in result.stderr  # the summary counts /job wait as the failed line
    table = result.stdout.splitlines()
    assert table[-2].split() == ["ID", "TYPE", "STATE", "PROGRESS", "RATE", "ERROR"]
    assert table[-1].split()[:3] == ["bad", "backup", "failed"]
    assert table[-1].endswith("Input/output error")


def test_job_wait_on_a_job_that_never_was(run_shell: Any, qemu: QemuProcess) -> None:
    result = run_shell(qemu.qmp, stdin="/job wait nosuch\n")
    assert result.status == 1
    assert "/job wait: no job 'nosuch' (none runs)" in result.stderr


def test_job_wait_times_out(run_shell: Any, qemu: QemuProcess) -> None:
    lines = [*backup("slow", speed=MiB), "/job wait slow 0.5", "block-job-cancel device=slow"]
    result = run_shell(qemu.qmp, stdin="\n".join([*lines, "/job wait slow"]))
    assert result.status == 1, result.stderr
    assert "/job wait slow: still running at the timeout" in result.stderr
    assert "job slow (backup) cancelled" in result.stderr


def test_jobs_lists_a_running_stream(run_shell: Any, qemu: QemuProcess, tmp_path: Path) -> None:
    """block-stream: a qcow2 overlay on a null-co backing, its data pulled up."""
    top = tmp_path / "top.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(top), str(SIZE)], check=True)
    top_node = {
        "execute": "blockdev-add",
        "arguments": {
            "driver": "qcow2",
            "node-name": "top",
            "file": {"driver": "file", "filename": str(top)},
            "backing": "base",
        },
    }
    lines = [
        null_node("base"),
        json.dumps(top_node),
        f"block-stream job-id=st device=top speed={SPEED}",
        "/jobs",
        "/job wait st",
    ]
    result = run_shell(qemu.qmp, stdin="\n".join(lines))
    assert result.status == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if line.startswith("st "))
    assert row.split()[:3] == ["st", "stream", "running"]
    assert "job st (stream) concluded" in result.stderr


def test_a_lost_connection_ends_job_wait_at_once(
    shell_env: dict[str, str], qemu: QemuProcess
) -> None:
    shell = start_shell(shell_env, qemu.qmp)
    assert shell.stdin is not None and shell.stdout is not None and shell.stderr is not None
    shell.stdin.write("\n".join([*backup("b0", speed=MiB), "/job wait b0", ""]).encode())
    shell.stdin.flush()
    replies = 0
    while replies < 3:  # events come between them
        message = json.loads(shell.stdout.readline())
        if "event" not in message:
            assert message == {"return": {}}
            replies += 1
    wait_idle(shell.pid, "the shell waiting for the job")
    started = time.monotonic()
    qemu.proc.kill()
    assert shell.wait(timeout=10) == 3
    assert time.monotonic() - started < 5  # the job had a minute to go
    assert "while waiting for job b0" in shell.stderr.read().decode()


@pytest.fixture
def loaded_q35(qemu_factory: QemuFactory, tmp_path: Path) -> QemuProcess:
    """A paused q35 with 32 MiB of random data in its RAM (zero pages cost a migration
    next to nothing, so it would be over at once)."""
    blob = tmp_path / "random.bin"
    blob.write_bytes(os.urandom(32 * MiB))
    return qemu_factory.start(
        (
            "-machine", "q35,accel=tcg", "-m", "128", "-S",
            "-device", f"loader,file={blob},addr=0x1000000,force-raw=on",
        )
    )  # fmt: skip


def test_job_wait_on_a_migration(run_shell: Any, loaded_q35: QemuProcess) -> None:
    lines = [
        "migrate-set-parameters max-bandwidth=16777216",  # 16 MiB/s: about 2 s
        'migrate uri="exec:cat >/dev/null"',
        "/jobs",
        "/job wait migration",
        "query-status",
    ]
    result = run_shell(loaded_q35.qmp, stdin="\n".join(lines))
    assert result.status == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if line.startswith("migration "))
    assert row.split()[:2] == ["migration", "migration"]
    assert "migration completed" in result.stderr
    last = json.loads(result.stdout.splitlines()[-1])  # /jobs' table is no JSON
    assert last["return"]["status"] == "postmigrate"


@pytest.mark.parametrize("columns", [0, 40])
def test_a_scripts_job_wait_draws_a_bar_on_a_terminals_stderr(
    shell_env: dict[str, str], qemu: QemuProcess, columns: int
) -> None:
    """The bar fits stderr's terminal (stdout is a pipe: its width is not the bar's)."""
    import fcntl
    import pty
    import struct
    import termios

    parent, child = pty.openpty()
    if columns:
        fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    shell = subprocess.Popen(
        [*start_shell_argv(), qemu.qmp],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=child,
        env=shell_env,
    )
    os.close(child)
    assert shell.stdin is not None
    shell.stdin.write("\n".join([*backup("b0"), "/job wait b0", ""]).encode())
    shell.stdin.close()
    seen = b""
    while True:
        try:
            data = os.read(parent, 4096)
        except OSError:  # EIO: the shell has ended, the terminal is gone
            break
        if not data:
            break
        seen += data
    os.close(parent)
    assert shell.wait(timeout=10) == 0
    text = seen.decode().replace("\r\n", "\n")
    assert "\rb0 backup" in text and "\x1b[K" in text
    assert text.rstrip().endswith("job b0 (backup) concluded")
    if columns:
        bars = [part.split("\x1b[K")[0] for part in text.split("\r")[1:] if "\x1b[K" in part]
        assert bars and all(len(bar) < columns for bar in bars)


def start_shell_argv() -> list[str]:
    import sys

    return [sys.executable, "-m", "qmpshell"]
