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

    def screen(self, escapes: bool = False, scrollback: bool = False, joined: bool = False) -> str:
        """The pane's text; ``joined`` undoes the terminal's wrapping of long lines."""
        extra = (["-e"] if escapes else []) + (["-S", "-5000"] if scrollback else [])
        extra += ["-J"] if joined else []
        return self._tmux("capture-pane", "-p", *extra)

    def tty(self) -> str:
        """The terminal the command runs on (``/dev/pts/N``)."""
        return self._tmux("display", "-p", "#{pane_tty}").strip()

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
        self,
        pattern: str,
        timeout: float = 10,
        escapes: bool = False,
        scrollback: bool = False,
        joined: bool = False,
    ) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen(escapes, scrollback, joined)
            if re.search(pattern, screen):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{pattern!r} not on screen:\n{screen}")
            time.sleep(0.05)

    def exit_status(self) -> int | None:
        """The command's exit status once it has ended, else None."""
        fields = self._tmux(
            "display", "-p", "#{pane_dead}|#{pane_pid}|#{pane_dead_status}|#{pane_dead_signal}"
        )
        dead, pid, status, signum = fields.strip().split("|")
        if dead != "1":
            return None
        if status:
            return int(status)
        if signum:  # killed by a signal: as a shell reports it
            return 128 + int(signum)
        # tmux 3.3 may mark a pane dead (its pty closed) and never reap the process:
        # then the zombie's own record holds the status.
        return _zombie_status(int(pid))

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


def _zombie_status(pid: int) -> int | None:
    """The exit status of a process that has ended but was not reaped, as a shell
    reports it (128 + N when killed by signal N); None while it runs."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    if fields[0] != "Z":
        return None
    code = int(fields[-1])  # exit_code, as waitpid(2) gives it
    return code >> 8 if code & 0x7F == 0 else 128 + (code & 0x7F)
