"""LiveNames against a real QEMU: the names device_add's members take, QOM paths level by
level, in order, and nothing but an empty list when QEMU cannot say."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from conftest import QemuFactory, QemuProcess

from qmpshell.protocol import QMPClient, parse_address
from qmpshell.session.live import LiveNames, natural_key, value_source

T = TypeVar("T")

MACHINE = (
    "-machine", "q35,accel=tcg", "-m", "128", "-S",
    "-device", "qemu-xhci,id=xhci",
    "-device", "virtio-scsi-pci,id=scsi3",
    "-object", "iothread,id=io2", "-object", "iothread,id=io10",
    "-object", "memory-backend-ram,id=mem1,size=16M",
    "-blockdev", "null-co,node-name=null7",
    "-drive", "if=none,id=disk4,driver=null-co",
    "-netdev", "user,id=uplink",
    "-chardev", "null,id=cons",
)  # fmt: skip


def run(qemu: QemuProcess, body: Callable[[LiveNames], Awaitable[T]]) -> T:
    async def main() -> T:
        async with QMPClient() as client:
            await client.connect(parse_address(qemu.qmp))
            return await body(LiveNames(client))

    return asyncio.run(asyncio.wait_for(main(), 30))  # type: ignore[arg-type]


def names(qemu: QemuProcess, command: str, member: str) -> list[tuple[str, str]]:
    kind, argument = value_source(command, (member,), None)
    assert kind, (command, member)
    return run(qemu, lambda live: live.names(kind, argument))


def test_device_add_members(qemu_factory: QemuFactory) -> None:
    qemu = qemu_factory.start(MACHINE)
    drives = names(qemu, "device_add", "drive")
    assert ("null7", "node (null-co)") in drives
    assert ("disk4", "block backend") in drives
    assert not [n for n, _ in drives if n.startswith("#")]  # implicit nodes left out
    buses = dict(names(qemu, "device_add", "bus"))
    assert buses["pcie.0"] == "bus (PCIE)"
    assert buses["xhci.0"] == "bus (usb-bus)"
    assert buses["scsi3.0"] == "bus (SCSI)"
    assert names(qemu, "device_add", "iothread") == [("io2", "iothread"), ("io10", "iothread")]
    memdevs = [n for n, _ in names(qemu, "device_add", "memdev")]
    assert "mem1" in memdevs and "io2" not in memdevs
    assert names(qemu, "device_add", "netdev") == [("uplink", "netdev (user)")]
    assert "cons" in [n for n, _ in names(qemu, "device_add", "chardev")]


def test_lists_are_in_natural_order(qemu_factory: QemuFactory) -> None:
    qemu = qemu_factory.start(MACHINE)
    for kind in ("buses", "drives"):
        found = [n for n, _ in run(qemu, lambda live, k=kind: live.names(k))]  # type: ignore[misc]
        assert found == sorted(found, key=natural_key) and found
    unattached = run(qemu, lambda live: live.qom_paths("/machine/unattached/"))
    paths = [n for n, _ in unattached]
    assert paths == sorted(paths, key=natural_key)
    assert paths.index("/machine/unattached/device[2]") < paths.index(
        "/machine/unattached/device[10]"
    )


def test_qom_paths_level_by_level(q35: QemuProcess) -> None:
    root = run(q35, lambda live: live.qom_paths(""))
    names = [n for n, _ in root]
    assert names == sorted(names)  # QEMU 10 has /backend too
    assert {"/chardevs", "/machine", "/objects"} <= set(names)
    assert run(q35, lambda live: live.qom_paths("/")) == root
    assert [n for n, _ in run(q35, lambda live: live.qom_paths("/m"))] == ["/machine"]
    # A path that names an object already goes on to its children.
    went_on = [n for n, _ in run(q35, lambda live: live.qom_paths("/machine"))]
    assert went_on[0] == "/machine" and "/machine/peripheral" in went_on
    below = dict(run(q35, lambda live: live.qom_paths("/machine/p")))
    assert below["/machine/peripheral"] == "container"
    assert run(q35, lambda live: live.qom_paths("machine")) == []  # relative: not walked


def test_nothing_when_qemu_cannot_say(qemu_factory: QemuFactory) -> None:
    qemu = qemu_factory.start()  # -machine none: no buses, no drives, no objects
    assert names(qemu, "device_add", "drive") == []
    assert names(qemu, "device_add", "iothread") == []
    assert run(qemu, lambda live: live.qom_paths("/no/such/")) == []
    assert run(qemu, lambda live: live.names("device-properties", "no-such-device")) == []
