"""HMP mode against real QEMU, scripted, and where there is no HMP (the storage daemon)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conftest import QemuFactory, QemuProcess, SyncQMP, qemu_version_text

from qmpshell.language.hmp import parse_listing


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
