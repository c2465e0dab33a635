"""Journeys: completing names only QEMU knows, and host files only where QEMU opens a
file, on a fresh QEMU and a fresh HOME with nothing typed before the first Tab."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from conftest import NEWCOMER_MACHINE

# A machine with something of each kind device_add refers to.
FURNISHED = (
    *NEWCOMER_MACHINE,
    "-device", "qemu-xhci,id=xhci",
    "-device", "pcie-root-port,id=port1,chassis=1",
    "-object", "iothread,id=io1",
    "-object", "memory-backend-ram,id=ram1,size=16M",
    "-blockdev", "null-co,node-name=disk0",
    "-netdev", "user,id=net0",
    "-chardev", "null,id=ch0",
)  # fmt: skip


def pick(screen: Any, typed: str, menu: str, result: str) -> None:
    """Type, see the candidate in the menu (it shows as you type), take it with Tab, see
    the line completed. (Tab sent with the text races the menu: a lone candidate is
    inserted at once or shown, depending on whether completion started while typing.)"""
    screen.type(typed)
    screen.wait_for(menu)
    screen.type("Tab")
    screen.wait_for(result)


# A menu entry that is a directory of this machine (the toolbar's socket path starts
# with one space only).
HOST_DIRECTORY = re.compile(r"(?m)^ {5,}/(bin|etc|proc|tmp|usr|var)\b")


def test_qom_paths_walked_from_the_root(newcomer: Any) -> None:
    screen = newcomer()
    screen.type("qom-list path=", "Tab")
    screen.wait_for(r"/chardevs\s+container")
    shown = screen.wait_for(r"/machine\s+pc-q35")
    assert "/objects" in shown
    # Taken from the menu with Tab; a path that names an object goes on below it.
    screen.type("C-u")
    pick(screen, "qom-get path=/m", r"/machine\s+pc-q35", r"qom-get path=/machine\s*\n")
    screen.type("C-u", "qom-get path=/machine", "Tab")
    screen.wait_for(r"/machine/peripheral\s+container")
    screen.wait_for(r"/machine/unattached\s+container")
    screen.type("C-u")
    pick(screen, "qom-list path=/machine/peripheral-a", r"peripheral-anon\s+container",
         r"path=/machine/peripheral-anon\s*\n")  # fmt: skip
    screen.type("Enter")
    screen.wait_for(r'"name": "type"')


def test_host_files_only_where_qemu_opens_a_file(newcomer: Any, tmp_path: Path) -> None:
    (tmp_path / "guest-memory.bin").write_bytes(b"")
    screen = newcomer(width=200)  # room for the long temporary path on one line
    screen.type("qom-get path=/", "Tab")
    shown = screen.wait_for(r"/machine\s+pc-q35")
    assert "/objects" in shown
    assert not HOST_DIRECTORY.search(shown), shown
    # memsave writes a file of this machine: its filename completes from the disk.
    screen.type("C-u")
    pick(screen, f"memsave val=0 size=1 filename={tmp_path}/guest-me",
         r" {3,}guest-memory\.bin *\n", r"filename=\S+/guest-memory\.bin")  # fmt: skip
    screen.type("C-u")
    pick(screen, "blockdev-add driver=file node-name=f filename=/proc/self/statu",
         r" {3,}status *\n", r"filename=/proc/self/status")  # fmt: skip
    # dump-guest-memory's protocol holds a file after "file:".
    screen.type("C-u")
    pick(screen, "dump-guest-memory paging=false protocol=f", r"file:\s+then a file",
         r"protocol=file:\s*\n")  # fmt: skip
    pick(screen, f"{tmp_path}/guest-me", r" {3,}guest-memory\.bin *\n",
         r"protocol=file:\S+/guest-memory\.bin")  # fmt: skip


def test_device_add_takes_names_from_qemu(newcomer: Any) -> None:
    screen = newcomer(machine=FURNISHED)
    pick(screen, "device_add driver=virtio-blk-pci drive=", r"disk0\s+node \(null-co\)",
         r"drive=disk0\s*\n")  # fmt: skip
    screen.type(" bus=", "Tab")
    screen.wait_for(r"pcie\.0\s+bus \(PCIE\)")
    screen.wait_for(r"xhci\.0\s+bus \(usb-bus\)")
    screen.type("C-u")
    pick(screen, "device_add driver=virtio-blk-pci drive=disk0 iothread=",
         r"io1\s+iothread", r"iothread=io1\s*\n")  # fmt: skip
    pick(screen, " bus=po", r"port1\s+bus \(PCIE\)", r"bus=port1\s*\n")
    screen.type(" id=vd0", "Enter")
    screen.wait_for(r"(?m)^OK")
    pick(screen, "device_add driver=virtio-net-pci netdev=", r"net0\s+netdev \(user\)",
         r"netdev=net0\s*\n")  # fmt: skip
    screen.type("C-u", "device_add driver=pc-dimm memdev=", "Tab")
    screen.wait_for(r"ram1\s+memory-backend-ram")
    screen.type("C-u")
    pick(screen, "device_add driver=virtconsole chardev=c", r"ch0\s+", r"chardev=ch0\s*\n")


def test_device_properties_as_arguments(newcomer: Any) -> None:
    screen = newcomer(machine=FURNISHED)
    screen.type("device_add driver=virtio-blk-pci dri")
    screen.wait_for(r"drive=\s+str \(property\)")
    screen.type("Tab")  # the only one: taken, and the menu of its values follows
    screen.wait_for(r"virtio-blk-pci drive=\s*\n\s+disk0\s+node \(null-co\)")


def test_hmp_device_add_properties_and_names(newcomer: Any) -> None:
    screen = newcomer("-H", machine=FURNISHED)
    screen.type("device_add virtio-blk-pci,", "Tab")
    screen.wait_for(r"id=\s+the new device's id")  # device_add's own, first
    screen.wait_for(r"bus=\s+the bus to plug it into")
    screen.wait_for(r"account-failed=\s+OnOffAuto \(property\)")
    pick(screen, "dri", r"drive=\s+str \(property\)", r"virtio-blk-pci,drive=\s*\n")
    screen.type("C-u")
    pick(screen, "device_add virtio-blk-pci,drive=", r"disk0\s+node", r",drive=disk0\s*\n")
    screen.type(",bus=", "Tab")
    screen.wait_for(r"pcie\.0\s+bus \(PCIE\)")
    screen.type("C-u")
    pick(screen, "drive_add 0 if=none,file=/proc/self/statu", r" {3,}status *\n",
         r"file=/proc/self/status")  # fmt: skip
    screen.type("C-u")
    pick(screen, "qom-list /m", r"/machine\s+pc-q35", r"qom-list /machine\s*\n")
