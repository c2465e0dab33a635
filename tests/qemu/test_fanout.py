"""One script on several targets (``qmpshell -c LINE SOCK1 SOCK2 ...``), against real
QEMUs: every target's lines tagged and in their order, the worst exit status, one line
per failed target at the end of stderr, a target that cannot be reached failing alone."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import QemuFactory, QemuProcess, Result
from waiting import connected_to, wait_for


def named(factory: QemuFactory, name: str) -> QemuProcess:
    return factory.start(("-machine", "none", "-name", name))


@pytest.fixture
def three(qemu_factory: QemuFactory) -> list[QemuProcess]:
    return [named(qemu_factory, f"vm{n}") for n in (1, 2, 3)]


def by_target(result: Result) -> dict[str, list[dict[str, Any]]]:
    """stdout's JSON Lines, each target's in the order they came; every line must be a
    JSON object whose first member is "target"."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for line in result.stdout.splitlines():
        message = json.loads(line)
        assert next(iter(message)) == "target", line
        grouped.setdefault(message.pop("target"), []).append(message)
    return grouped


def test_a_script_on_three_qemus_and_one_missing(
    run_shell: Any, three: list[QemuProcess], tmp_path: Path
) -> None:
    missing = str(tmp_path / "nothing.sock")
    addresses = [vm.qmp for vm in three]
    result = run_shell("-c", "query-name", "-c", "query-status", *addresses, missing)
    assert result.status == 3, result  # the worst: one target could not be reached
    grouped = by_target(result)
    assert set(grouped) == set(addresses)
    for n, address in enumerate(addresses, 1):
        name, status = grouped[address]
        assert name == {"return": {"name": f"vm{n}"}}
        assert status["return"]["status"] == "running"
    lines = result.stderr.splitlines()
    assert lines[-1] == (
        f"qmpshell: {missing}: failed, exit status 3 (no connection, or it was lost)"
    ), result.stderr
    assert lines[0].startswith(f"qmpshell: {missing}: "), result.stderr  # its own words
    assert len(lines) == 2, result.stderr


def test_stdin_script_keeps_each_targets_order(run_shell: Any, three: list[QemuProcess]) -> None:
    lines = [f'human-monitor-command command-line="p {n}"' for n in range(40)]
    script = "\n".join([*lines, "bogus"]) + "\n"
    result = run_shell(*(vm.qmp for vm in three), stdin=script)
    assert result.status == 1, result  # the unknown command, on each target
    for replies in by_target(result).values():
        assert [int(r["return"], 16) for r in replies] == list(range(40))
    failed = [line for line in result.stderr.splitlines() if "failed, exit status 1" in line]
    assert sorted(failed) == sorted(
        f"qmpshell: {vm.qmp}: failed, exit status 1 (a command failed)" for vm in three
    )
    assert result.stderr.splitlines()[-3:] == failed  # at the end


def test_text_output_is_prefixed(run_shell: Any, three: list[QemuProcess]) -> None:
    hmp = run_shell("-H", "-c", "info name", three[0].qmp, three[1].qmp)
    assert hmp.status == 0, hmp
    assert sorted(hmp.stdout.splitlines()) == sorted(
        [f"{three[0].qmp}: vm1", f"{three[1].qmp}: vm2"]
    )
    values = run_shell("-r", "-c", "query-name", three[0].qmp, three[1].qmp)
    assert sorted(values.stdout.splitlines()) == sorted(
        [f'{three[0].qmp}: {{"name":"vm1"}}', f'{three[1].qmp}: {{"name":"vm2"}}']
    )
    pretty = run_shell("-p", "-c", "query-name", three[0].qmp)  # one target: as ever
    assert pretty.stdout.startswith("{\n"), pretty


def test_jobs_bounds_the_runs_at_a_time(run_shell: Any, three: list[QemuProcess]) -> None:
    """One at a time: each target's lines all come before the next target's."""
    script = "".join(f'human-monitor-command command-line="p {n}"\n' for n in range(20))
    result = run_shell("--jobs", "1", *(vm.qmp for vm in three), stdin=script)
    assert result.status == 0, result
    order = [json.loads(line)["target"] for line in result.stdout.splitlines()]
    assert order == [vm.qmp for vm in three for _ in range(20)]


def test_transcript_lines_name_their_target(
    run_shell: Any, three: list[QemuProcess], tmp_path: Path
) -> None:
    log = tmp_path / "fleet.jsonl"
    result = run_shell("-l", str(log), "-c", "query-name", *(vm.qmp for vm in three))
    assert result.status == 0, result
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    sent = {e["target"] for e in entries if e["dir"] == "send"}
    assert sent == {vm.qmp for vm in three}
    for entry in entries:
        if entry["dir"] == "recv" and "return" in entry["msg"] and "name" in entry["msg"]["return"]:
            vm = three[[v.qmp for v in three].index(entry["target"])]
            assert entry["msg"]["return"]["name"] == f"vm{three.index(vm) + 1}"


def test_usage_errors(run_shell: Any, three: list[QemuProcess]) -> None:
    bad = run_shell("-c", "query-name", three[0].qmp, "tcp:nohost")
    assert bad.status == 2 and "'nohost'" in bad.stderr, bad
    launch = run_shell("--launch", "-c", "query-name", three[0].qmp, three[1].qmp)
    assert launch.status == 2, launch
    jobs = run_shell("--jobs", "0", "-c", "query-name", three[0].qmp, three[1].qmp)
    assert jobs.status == 2 and "--jobs" in jobs.stderr, jobs


def test_sigterm_reaches_every_run(shell_env: dict[str, str], three: list[QemuProcess]) -> None:
    """The runs are told, none is left behind, and the command dies of the signal."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "qmpshell", "-c", "/wait RESET 60", *(vm.qmp for vm in three)],
        env=shell_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:

        def every_run_connected() -> bool:
            runs = _children(proc.pid)
            return len(runs) == 3 and all(
                any(connected_to(run, vm.qmp) for run in runs) for vm in three
            )

        wait_for(every_run_connected, "every run connected to its QEMU", timeout=20)
        runs = _children(proc.pid)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGTERM, err
    assert b"Traceback" not in err
    assert not [run for run in runs if Path(f"/proc/{run}").exists()]


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(word) for word in text.split()]
