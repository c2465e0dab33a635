"""Tab completion in a real terminal (tmux), against a real QEMU."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import QemuFactory, QemuProcess
from tmux import Tmux

USB = ("-machine", "q35,accel=tcg", "-m", "128", "-S", "-device", "qemu-xhci,id=xhci")


@pytest.fixture
def usb_machine(qemu_factory: QemuFactory) -> QemuProcess:
    return qemu_factory.start(USB)


@pytest.fixture(params=["cold", "after a command"])
def screen(
    request: pytest.FixtureRequest,
    shell_env: dict[str, str],
    usb_machine: QemuProcess,
    tmp_path: Path,
) -> Iterator[Tmux]:
    """The shell in a terminal, each test run twice: from the first keystroke, and after
    a first command has been run (as the tests did when the schema came with it)."""
    env = dict(shell_env)
    env.pop("PROMPT_TOOLKIT_NO_CPR")  # tmux answers the cursor queries menus need
    argv = [sys.executable, "-m", "qmpshell", "--color", "never", usb_machine.qmp]
    terminal = Tmux(tmp_path, env, argv)
    terminal.wait_for(r"\(QEMU\)")
    if request.param == "after a command":
        terminal.type("query-name", "Enter")
        terminal.wait_for("OK")
    try:
        yield terminal
    finally:
        terminal.close()


def pick(screen: Tmux, typed: str, menu: str, result: str) -> None:
    """Type, see the candidate in the menu, take it with Tab, see the line completed."""
    screen.type(typed)
    screen.wait_for(menu)
    screen.type("Tab")
    screen.wait_for(result)


def test_command_name(screen: Tmux) -> None:
    screen.type("query-sta", "Tab")
    screen.wait_for(r"query-stats\s+command")
    screen.wait_for(r"query-status\s+command")
    screen.type("C-u", "query-statu")
    screen.wait_for(r"query-status\s+command")  # the menu, as you type
    screen.type("Tab")  # picks it
    screen.wait_for(r"\(QEMU\) query-status\n")
    screen.type("Enter")
    screen.wait_for(r'"status": "prelaunch"')


def test_argument_names_and_enum_values(screen: Tmux) -> None:
    screen.type("blockdev-add ", "Tab")
    screen.wait_for(r"driver=\s+enum, required")
    screen.wait_for(r"node-name=\s+str")
    screen.type("C-u", "blockdev-add driver=qco", "Tab")
    screen.wait_for(r"qcow2\s+enum")
    screen.type("C-u", "blockdev-add driver=file ", "Tab")
    screen.wait_for(r"filename=\s+str, required")
    # The toolbar describes the argument at the cursor.
    screen.type("C-u", "blockdev-add driver=file aio=")
    screen.wait_for(r"aio: enum — threads \| native \| io_uring")


def test_device_id_created_then_offered(screen: Tmux) -> None:
    # Device types come from QEMU (qom-list-types).
    pick(screen, "device_add driver=usb-kb", r"usb-kbd\s+device type", "driver=usb-kbd\n")
    screen.type(" bus=xhci.0 id=keyboard7", "Enter")
    screen.wait_for("OK")
    screen.type("device_del id=", "Tab")
    screen.wait_for(r"keyboard7\s+usb-kbd")


def test_node_name_created_then_offered(screen: Tmux) -> None:
    screen.type("blockdev-add driver=null-co node-name=scratch9", "Enter")
    screen.wait_for("OK")
    pick(screen, "block-dirty-bitmap-add node=s", r"scratch9\s+node \(null-co\)", "=scratch9\n")


def test_device_properties_as_argument_names(screen: Tmux) -> None:
    pick(screen, "device_add driver=usb-kbd pc", r"pcap=\s+str \(property\)", "pcap=\n")


def test_qom_paths_walked_level_by_level(screen: Tmux) -> None:
    screen.type("qom-list path=/machine/periph", "Tab")
    screen.wait_for(r"/machine/peripheral\s+container")
    screen.type("C-u")
    pick(screen, "qom-get path=/machine property=ty", r"type\s+string", "property=type\n")


def test_netdev_ids(shell_env: dict[str, str], qemu_factory: QemuFactory, tmp_path: Path) -> None:
    qemu = qemu_factory.start(
        ("-machine", "q35,accel=tcg", "-m", "128", "-S", "-netdev", "user,id=uplink3")
    )
    env = dict(shell_env)
    env.pop("PROMPT_TOOLKIT_NO_CPR")
    screen = Tmux(tmp_path, env, [sys.executable, "-m", "qmpshell", "--color", "never", qemu.qmp])
    try:
        screen.wait_for(r"\(QEMU\)")  # no command first: the names come from QEMU at once
        pick(screen, "netdev_del id=u", r"uplink3\s+netdev \(user\)", "id=uplink3\n")
    finally:
        screen.close()
