"""What the tests of files the shell writes (history, transcript, cache) set up: a file
a symbolic link points at, to show it is left alone, and the mark of a test that needs
root to give a file to another user."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

as_root = pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user needs root")

# Another user's: nobody's.
NOBODY = 65534


def target_and_link(tmp_path: Path) -> tuple[Path, Path]:
    """A file (mode 0644, "keep me") and a symbolic link to it, where the shell is told
    to write."""
    target = tmp_path / "precious"
    target.write_text("keep me\n")
    target.chmod(0o644)
    link = tmp_path / "link"
    link.symlink_to(target)
    return target, link


def unchanged(target: Path) -> None:
    """``target`` of :func:`target_and_link` as it was: not written, mode not changed."""
    assert target.read_text() == "keep me\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
