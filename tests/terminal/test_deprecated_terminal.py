"""Journeys: a deprecated command met in the menu, in ``/help`` and when sent, from a fresh
HOME at a real terminal (tmux) on a fresh QEMU; and the same QEMU told to refuse it
(``-compat deprecated-input=reject``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

NONE = ("-machine", "none")
REJECT = ("-machine", "none", "-compat", "deprecated-input=reject")
WARNING = "qmpshell: warning: 'nbd-server-add' is deprecated"


def export_setup(screen: Any, tmp_path: Path) -> None:
    """A block node and an NBD server to export it on."""
    screen.paste(
        "blockdev-add driver=null-co node-name=n0\n"
        f"nbd-server-start addr.type=unix addr.data.path={tmp_path}/nbd.sock\n"
    )
    screen.wait_for(r"(?s)(\{\}|OK).*(\{\}|OK)\s*\n\(QEMU\)")


def test_a_deprecated_command_is_marked_and_warned_of_once(newcomer: Any, tmp_path: Path) -> None:
    screen = newcomer(machine=NONE)
    export_setup(screen, tmp_path)
    screen.type("nbd-server-")
    menu = screen.wait_for(r"nbd-server-add\s+command, deprecated")
    assert "nbd-server-start   command\n" in menu or "nbd-server-start   command " in menu
    # Italic in the menu, besides the word (which is all NO_COLOR terminals need).
    assert "\x1b[3m" in screen.wait_for(r"\x1b\[3m[^\n]*nbd-server-add", escapes=True)
    screen.type("add device=n0", "Enter")
    screen.wait_for(rf"(?s){WARNING}\n(\{{\}}|OK)\s*\n\(QEMU\)")
    screen.type("nbd-server-remove name=n0", "Enter")
    screen.wait_for(r"warning: 'nbd-server-remove' is deprecated")
    screen.type("nbd-server-add device=n0", "Enter")  # again: nothing more said
    text = screen.wait_for(r"nbd-server-add device=n0\n(\{\}|OK)\s*\n\(QEMU\)")
    assert text.count("warning: 'nbd-server-add'") == 1
    screen.type("/help nbd-server-add", "Enter")
    screen.wait_for(r"(?m)^nbd-server-add \[deprecated\]$")
    screen.type("block-commit device=n0 top")  # the toolbar says it of the argument
    screen.wait_for(r"top: str, deprecated")


def test_qemu_told_to_refuse_it_says_so_after_the_warning(newcomer: Any, tmp_path: Path) -> None:
    screen = newcomer(machine=REJECT)
    export_setup(screen, tmp_path)
    screen.type("nbd-server-add device=n0", "Enter")
    screen.wait_for(
        rf"{WARNING}\nError \(CommandNotFound\): Deprecated command nbd-server-add "
        "disabled by policy"
    )
