"""Meta-commands in scripted mode, against real QEMU."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from conftest import QemuFactory, QemuProcess
from script_shell import Script
from waiting import wait_idle

USB = ("-machine", "q35,accel=tcg", "-m", "128", "-S", "-device", "qemu-xhci,id=xhci")


@pytest.fixture
def usb_machine(qemu_factory: QemuFactory) -> QemuProcess:
    """A paused q35 with a USB controller: USB devices unplug without the guest's help."""
    return qemu_factory.start(USB)


def test_wait_finds_an_event_that_came_before_it(run_shell: Any, usb_machine: QemuProcess) -> None:
    """device_del, then /wait: the event may arrive before /wait runs, and still counts."""
    result = run_shell(
        usb_machine.qmp,
        stdin="device_add driver=usb-kbd id=kb0 bus=xhci.0\n"
        "device_del id=kb0\n"
        "/wait DEVICE_DELETED device=kb0 5\n"
        "device_add driver=usb-kbd id=kb1 bus=xhci.0\n",
    )
    assert result.status == 0, result.stderr
    kinds = [m.get("event", "return") for m in result.messages()]
    # The event shows once as it arrives; /wait succeeds on it without printing it again.
    assert kinds.count("DEVICE_DELETED") == 1
    assert kinds[-1] == "return"


def test_wait_counts_only_events_since_the_last_command(run_shell: Any, q35: QemuProcess) -> None:
    started = time.monotonic()
    result = run_shell(
        "--timeout", "1",
        "-c", "cont",
        "-c", "/events list 0",  # a meta-command waits for cont's reply (and its RESUME)
        "-c", "query-status",
        "-c", "/wait RESUME",  # the RESUME came before query-status was sent
        q35.qmp,
    )  # fmt: skip
    assert result.status == 1
    assert "/wait RESUME: no such event within 1s" in result.stderr
    assert time.monotonic() - started >= 1


def test_wait_consumes_events_one_by_one(run_shell: Any, usb_machine: QemuProcess) -> None:
    result = run_shell(
        "--timeout", "2",
        "-c", "device_add driver=usb-kbd id=kb0 bus=xhci.0",
        "-c", "device_add driver=usb-kbd id=kb1 bus=xhci.0",
        "-c", "device_del id=kb0",
        "-c", "device_del id=kb1",
        "-c", "/wait DEVICE_DELETED",
        "-c", "/wait DEVICE_DELETED",
        "-c", "/wait DEVICE_DELETED 0.5",  # both are taken: this one times out
        usb_machine.qmp,
    )  # fmt: skip
    assert result.status == 1
    assert result.stderr.count("no such event") == 1


def test_wait_for_an_event_still_to_come(shell_env: dict[str, str], q35: QemuProcess) -> None:
    script = Script(
        shell_env, "--events", "none", "-c", "query-name", "-c", "/wait RES* 10", q35.qmp
    )
    assert script.reply() == {"return": {}}  # query-name answered: the /wait is next
    wait_idle(script.proc.pid, "qmpshell in /wait RES*")
    other = q35.other_client()
    other.cmd("cont")  # the event comes after the wait began
    other.close()
    assert script.proc.stdout is not None
    resumed = json.loads(script.proc.stdout.readline())
    assert resumed["event"] == "RESUME"  # filtered out, but shown as the answer to /wait
    status, err = script.finish()
    assert status == 0, err
    assert "Traceback" not in err


def test_event_filter(run_shell: Any, q35: QemuProcess) -> None:
    result = run_shell("--events", "STOP,SHUT*", "-c", "cont", "-c", "stop", q35.qmp)
    events = [m["event"] for m in result.messages() if "event" in m]
    assert events == ["STOP"]
    result = run_shell(
        "-c", "/events filter none", "-c", "cont", "-c", "/events list", q35.qmp
    )  # fmt: skip
    events = [m["event"] for m in result.messages() if "event" in m]
    assert events == ["RESUME"]  # only from the listing of the log
    assert "1 of 1 events; showing: none" in result.stderr


def test_bad_event_filter_is_usage_error(run_shell: Any, qemu: QemuProcess) -> None:
    result = run_shell("--events", "", "-c", "query-name", qemu.qmp)
    assert result.status == 2


def test_quit_and_unknown(run_shell: Any, qemu: QemuProcess) -> None:
    result = run_shell(qemu.qmp, stdin="/bogus\nquery-name\n/quit\nquery-status\n")
    assert result.status == 1
    assert result.messages() == [{"return": {}}]
    assert "unknown meta-command '/bogus'" in result.stderr


def test_verbose_and_pretty_switches(run_shell: Any, qemu: QemuProcess) -> None:
    result = run_shell(qemu.qmp, stdin="/verbose\nquery-name\n/pretty\nquery-name\n")
    assert result.status == 0
    lines = result.stdout.splitlines()
    assert lines[0] == '{"execute":"query-name"}'
    assert lines[1] == '{"return":{}}'
    assert lines[2:] == ["{", '  "execute": "query-name"', "}", "{", '  "return": {}', "}"]


def test_help(run_shell: Any, qemu: QemuProcess) -> None:
    result = run_shell(
        "-c", "/help",
        "-c", "/help device_del",
        "-c", "/help DEVICE_DELETED",
        "-c", "/help query-stat",
        qemu.qmp,
    )  # fmt: skip
    assert result.status == 1  # the unknown topic counts as a failure
    out = result.stdout
    assert "Meta-commands:" in out and "/wait EVENT" in out and "transaction(" in out
    assert "device_del\nArguments (* = required):\n  * id  str\nReturns: nothing\n" in out
    assert "DEVICE_DELETED" in out and "path" in out
    assert "did you mean 'query-stats', 'query-status'" in result.stderr


def test_the_meta_commands_of_several_connections_are_the_interactive_shells(
    run_shell: Any, qemu: QemuProcess
) -> None:
    """A script talks to the target its command line names: /connect, /target, /targets
    and /all each fail in one line, and the lines after them still run."""
    script = f"/connect {qemu.qmp}\n/target x\n/targets\n/all query-name\nquery-name\n"
    result = run_shell(qemu.qmp, stdin=script)
    assert result.status == 1
    assert result.messages() == [{"return": {}}]
    said = [line for line in result.stderr.splitlines() if "interactive shell only" in line]
    assert [line.split()[3] for line in said] == ["/connect", "/target", "/targets", "/all"]
