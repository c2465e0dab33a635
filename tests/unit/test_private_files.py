"""Files the shell writes are opened safely (no symlink, nothing but a regular file), and
the QEMU options a launch may be given."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from private_files import target_and_link, unchanged

from qmpshell.protocol.launch import refused_option
from qmpshell.protocol.privatefile import open_private

MACHINE_NONE = ["qemu-system-x86_64", "-machine", "none", "-nodefaults", "-display", "none"]


def test_open_private_refuses_a_symlink(tmp_path: Path) -> None:
    target, link = target_and_link(tmp_path)
    with pytest.raises(OSError, match="symbolic link"):
        open_private(link, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    unchanged(target)


def test_open_private_refuses_what_is_not_a_regular_file(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo", 0o600)
    with pytest.raises(OSError, match="not a regular file"):  # and does not wait for a reader
        open_private(tmp_path / "fifo", os.O_WRONLY | os.O_APPEND)


@pytest.mark.parametrize(
    "options",
    [
        ["-monitor", "stdio"],
        ["-qmp", "unix:/tmp/m.sock,server=on,wait=off"],
        ["-chardev", "socket,id=c,path=/tmp/c.sock,server=on,nowait"],
        ["-run-with", "chroot=/"],
        ["-name", "daemonize"],
    ],
)
def test_other_options_allowed(options: list[str]) -> None:
    assert refused_option([*MACHINE_NONE, *options]) is None
