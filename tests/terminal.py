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
    """A command in a detached tmux session, read back with capture-pane."""

    def __init__(self, directory: Path, env: dict[str, str], argv: list[str]) -> None:
        self.socket = str(directory / "tmux.sock")
        command = " ".join(shlex.quote(a) for a in argv)
        self._tmux("new-session", "-d", "-x", "100", "-y", "30", command, env=env)

    def _tmux(self, *args: str, env: dict[str, str] | None = None) -> str:
        result = subprocess.run(
            ["tmux", "-S", self.socket, *args],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout

    def screen(self, escapes: bool = False) -> str:
        return self._tmux("capture-pane", "-p", *(["-e"] if escapes else []))

    def type(self, *keys: str) -> None:
        self._tmux("send-keys", *keys)

    def wait_for(self, pattern: str, timeout: float = 10, escapes: bool = False) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen(escapes)
            if re.search(pattern, screen):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{pattern!r} not on screen:\n{screen}")
            time.sleep(0.05)

    def close(self) -> None:
        subprocess.run(["tmux", "-S", self.socket, "kill-server"], capture_output=True)
