"""Driving a real terminal emulator (tmux) for the tests that need one.

prompt_toolkit draws its bottom toolbar and menus only when the terminal answers its
cursor-position queries, which tmux does and a bare pty does not.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import time
from pathlib import Path


class Tmux:
    """A command in a detached tmux session, read back with capture-pane.

    The pane stays once the command has ended (``remain-on-exit``), so that a test can
    read the last screen and the exit status (:meth:`wait_exit`).
    """

    def __init__(
        self,
        directory: Path,
        env: dict[str, str],
        argv: list[str],
        *,
        width: int = 100,
        height: int = 30,
    ) -> None:
        self.socket = str(directory / "tmux.sock")
        config = directory / "tmux.conf"
        config.write_text("set -g remain-on-exit on\nset -g history-limit 5000\n")
        command = " ".join(shlex.quote(a) for a in argv)
        self._tmux(
            "-f", str(config), "new-session", "-d", "-x", str(width), "-y", str(height),
            command, env=env,
        )  # fmt: skip

    def _tmux(self, *args: str, env: dict[str, str] | None = None) -> str:
        result = subprocess.run(
            ["tmux", "-S", self.socket, *args],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout

    def screen(self, escapes: bool = False, scrollback: bool = False) -> str:
        extra = (["-e"] if escapes else []) + (["-S", "-5000"] if scrollback else [])
        return self._tmux("capture-pane", "-p", *extra)

    def type(self, *keys: str) -> None:
        self._tmux("send-keys", *keys)

    def paste(self, text: str) -> None:
        """Paste ``text`` as a terminal does: in one piece, bracketed when the program
        asked for bracketed paste (prompt_toolkit does)."""
        self._tmux("set-buffer", "--", text)
        self._tmux("paste-buffer", "-p", "-d")

    def resize(self, width: int, height: int) -> None:
        self._tmux("resize-window", "-x", str(width), "-y", str(height))

    def wait_for(
        self, pattern: str, timeout: float = 10, escapes: bool = False, scrollback: bool = False
    ) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen(escapes, scrollback)
            if re.search(pattern, screen):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{pattern!r} not on screen:\n{screen}")
            time.sleep(0.05)

    def exit_status(self) -> int | None:
        """The command's exit status once it has ended, else None."""
        fields = self._tmux("display", "-p", "#{pane_dead} #{pane_dead_status}").split()
        return int(fields[1]) if fields[:1] == ["1"] and len(fields) > 1 else None

    def wait_exit(self, timeout: float = 10) -> int:
        """Wait until the command ends; its exit status."""
        deadline = time.monotonic() + timeout
        while True:
            status = self.exit_status()
            if status is not None:
                return status
            if time.monotonic() > deadline:
                raise AssertionError(f"still running after {timeout} s:\n{self.screen()}")
            time.sleep(0.05)

    def close(self) -> None:
        subprocess.run(["tmux", "-S", self.socket, "kill-server"], capture_output=True)
