"""The config file against a real QEMU: the command run as a user runs it, from a fresh
HOME whose ``$XDG_CONFIG_HOME/qmpshell/config.toml`` says what to do, and the command
line saying otherwise."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import INSTALLED, QemuFactory, QemuProcess
from guest_agent import AgentProcess
from waiting import stop


@pytest.fixture
def config(home: Path) -> Any:
    """Write the config file of the fresh HOME (``$XDG_CONFIG_HOME/qmpshell/config.toml``)."""
    path = home / "config" / "qmpshell" / "config.toml"
    path.parent.mkdir()

    def write(text: str) -> Path:
        path.write_text(text)
        return path

    return write


# Both ways a script runs: without asyncio (one-shot) and in the asyncio session.
WAYS = pytest.mark.parametrize("way", ["one-shot", "session"])


def _way(shell_env: dict[str, str], way: str) -> None:
    if way == "session":
        shell_env["QMPSHELL_NO_ONESHOT"] = "1"


@WAYS
def test_events_none_in_the_file_and_all_on_the_command_line(
    run_shell: Any, shell_env: dict[str, str], config: Any, qemu: QemuProcess, way: str
) -> None:
    _way(shell_env, way)
    config('# quiet scripts\nevents = "none"\n')
    quiet = run_shell("-c", "stop", "-c", "cont", qemu.qmp)
    assert quiet.status == 0, quiet.stderr
    assert quiet.messages() == [{"return": {}}, {"return": {}}]
    loud = run_shell("--events", "all", "-c", "stop", "-c", "cont", qemu.qmp)
    assert loud.status == 0
    assert [m.get("event") for m in loud.messages()] == ["STOP", None, "RESUME", None]


@WAYS
def test_pretty_and_verbose_in_the_file_and_undone_on_the_command_line(
    run_shell: Any, shell_env: dict[str, str], config: Any, qemu: QemuProcess, way: str
) -> None:
    _way(shell_env, way)
    config("pretty = true\nverbose = true\n")
    result = run_shell("-c", "query-kvm", qemu.qmp)
    assert result.status == 0, result.stderr
    assert result.stdout.startswith('{\n  "execute": "query-kvm"\n}\n')  # echoed, indented
    assert '\n  "return": {\n    "enabled": false,' in result.stdout
    plain = run_shell("--no-pretty", "--no-verbose", "-c", "query-kvm", qemu.qmp)
    assert [set(m["return"]) for m in plain.messages()] == [{"enabled", "present"}]
    assert plain.stdout.count("\n") == 1


def test_timeout_in_the_file_and_on_the_command_line(
    run_shell: Any, config: Any, qemu_factory: QemuFactory
) -> None:
    """A stopped QEMU sends no greeting: the file's limit, unless the command line's.
    (One QEMU each: a stopped one's backlog holds the first client.)"""
    config("timeout = 0.5\n")
    first, second = qemu_factory.start(), qemu_factory.start()
    stop(first.proc.pid)
    stop(second.proc.pid)
    try:
        from_file = run_shell("-c", "query-name", first.qmp)
        from_command_line = run_shell("--timeout", "0.7", "-c", "query-name", second.qmp)
    finally:
        os.kill(first.proc.pid, signal.SIGCONT)
        os.kill(second.proc.pid, signal.SIGCONT)
    assert from_file.status == 3
    assert "no QMP greeting" in from_file.stderr and "within 0.5s" in from_file.stderr
    assert from_command_line.status == 3 and "within 0.7s" in from_command_line.stderr


def test_a_bad_file_is_one_line_and_nothing_is_sent(
    run_shell: Any, config: Any, qemu: QemuProcess, tmp_path: Path
) -> None:
    path = config('color = "always"\ncolour = "never"\n')
    log = tmp_path / "log.jsonl"
    result = run_shell("-l", str(log), "-c", "quit", qemu.qmp)
    assert result.status == 2
    assert result.stderr == f"qmpshell: {path}:2: unknown key 'colour'; did you mean 'color'?\n"
    assert result.stdout == "" and not log.exists()
    assert qemu.other_client().cmd("query-status")["return"]["status"] == "running"
    # --no-config reads none: the script runs.
    result = run_shell("--no-config", "-c", "query-name", qemu.qmp)
    assert result.status == 0 and result.messages() == [{"return": {}}]


def test_a_syntax_error_says_the_line(run_shell: Any, config: Any, qemu: QemuProcess) -> None:
    path = config("# settings\npager = false\ntimeout = 5 seconds\n")
    result = run_shell("-c", "query-name", qemu.qmp)
    assert result.status == 2
    assert result.stderr.startswith(f"qmpshell: {path}:3: not TOML: ")
    assert result.stderr.count("\n") == 1


def test_config_names_another_file(
    run_shell: Any, config: Any, qemu: QemuProcess, tmp_path: Path
) -> None:
    config("events = []\n")  # broken, but not the one read
    other = tmp_path / "scripts.toml"
    other.write_text('events = "none"\n')
    result = run_shell("--config", str(other), "-c", "stop", qemu.qmp)
    assert result.status == 0, result.stderr
    assert result.messages() == [{"return": {}}]
    missing = run_shell("--config", str(tmp_path / "nope.toml"), "-c", "stop", qemu.qmp)
    assert missing.status == 2
    assert missing.stderr == f"qmpshell: {tmp_path / 'nope.toml'}: no such file\n"


def test_print_config_needs_no_address(shell_env: dict[str, str], config: Any) -> None:
    """The installed command: what is in effect and where from, then exit 0 without
    connecting to anything (no address, no QMP_SOCKET)."""
    path = config('color = "never"\n\n# long replies straight\npager = false\ntimeout = 0\n')
    proc = subprocess.run(
        [str(INSTALLED), "--print-config", "--color", "always"],
        capture_output=True,
        text=True,
        env=shell_env,
        timeout=30,
    )
    assert proc.returncode == 0 and proc.stderr == ""
    lines = proc.stdout.splitlines()
    assert lines[0] == f"# config file: {path}"
    rows = {line.split(" = ")[0]: line for line in lines[1:]}
    assert rows["color"].startswith('color = "always"')
    assert rows["color"].endswith("# from the command line")
    assert rows["pager"].startswith("pager = false") and rows["pager"].endswith(f"# {path}:4")
    assert rows["timeout"].startswith("timeout = 0 ") and f"# {path}:5;" in rows["timeout"]
    assert rows["history"].endswith("# the default")
    history = Path(shell_env["XDG_STATE_HOME"], "qmpshell", "history")
    assert rows["history-file"].startswith(f"history-file = {json.dumps(str(history))}")


# -- named targets: [targets.NAME], qmpshell @NAME ----------------------------------------


@WAYS
def test_a_named_target(
    run_shell: Any, shell_env: dict[str, str], config: Any, qemu: QemuProcess, way: str
) -> None:
    _way(shell_env, way)
    config(f'[targets.vm]\naddress = "{qemu.qmp}"\n')
    result = run_shell("-c", "query-status", "@vm")
    assert result.status == 0, result.stderr
    assert result.messages()[0]["return"]["status"] == "running"
    # QMP_SOCKET may name one too.
    shell_env["QMP_SOCKET"] = "@vm"
    result = run_shell("-c", "query-name")
    assert result.status == 0 and result.messages() == [{"return": {}}]


def test_a_named_guest_agent(run_shell: Any, config: Any, agent: AgentProcess) -> None:
    config(f'[targets.guest]\nga = "{agent.path}"\n')
    result = run_shell("-c", "guest-ping", "@guest")
    assert result.status == 0, result.stderr
    assert result.messages() == [{"return": {}}]


def test_a_name_not_in_the_file(run_shell: Any, config: Any, qemu: QemuProcess) -> None:
    path = config(f'[targets.web1]\naddress = "{qemu.qmp}"\n[targets.db]\nlibvirt = "db"\n')
    result = run_shell("-c", "query-status", "@web")
    assert result.status == 2 and result.stdout == ""
    assert result.stderr == (
        f"qmpshell: error: no target named 'web'; did you mean '@web1'? (in {path}: @db, @web1)\n"
    )
    result = run_shell("--no-config", "-c", "query-status", "@web1")
    assert result.status == 2
    assert result.stderr == (
        "qmpshell: error: no target named 'web1': --no-config reads no config file\n"
    )
    # A named target is an address: not with --ga or --launch.
    assert run_shell("--ga", "/x", "@web1").status == 2


def test_no_config_file_no_named_target(run_shell: Any, home: Path) -> None:
    result = run_shell("-c", "query-status", "@web1")
    assert result.status == 2
    path = home / "config" / "qmpshell" / "config.toml"
    assert result.stderr == (
        f"qmpshell: error: no target named 'web1': there is no config file {path}\n"
    )


def test_targets_listed(shell_env: dict[str, str], named_targets: Path) -> None:
    proc = subprocess.run(
        [str(INSTALLED), "--targets"], capture_output=True, text=True, env=shell_env, timeout=30
    )
    assert proc.returncode == 0 and proc.stderr == ""
    assert proc.stdout.splitlines() == [
        "@db\tlibvirt domain db on qemu:///system",
        "@web1\tmonitor at /run/web1/qmp.sock",
        "@web2\tguest agent at /run/web2/qga.sock",
    ]
