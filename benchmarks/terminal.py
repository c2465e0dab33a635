"""qmpshell in a pty, as a terminal user has it, for the interactive figures.

The pty's other end is read by a thread that answers cursor-position queries (as a
terminal does, so that prompt_toolkit draws menus) and notes when each byte arrived; it
ends with the program or when the terminal is closed, before the pty is (a reader left
behind would read whatever pty is opened next under the same descriptor). The shell is
started by the spawner, so its peak RSS is its own.
"""

from __future__ import annotations

import bisect
import fcntl
import os
import re
import select
import signal
import struct
import termios
import threading
import time
from contextlib import suppress
from pathlib import Path

from measure import Spawner

CTRL_D = b"\x04"


class Terminal:
    """A program in a pty of ``rows`` by 200; everything it writes is kept (a bytearray:
    growing it is linear, so a flood of events costs what it writes)."""

    def __init__(
        self, spawner: Spawner, argv: list[str], env: dict[str, str], rows: int = 50
    ) -> None:
        self.spawner = spawner
        self.fd, child = os.openpty()
        fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", rows, 200, 0, 0))
        try:
            self.pid = spawner.start(argv, env, [child, child, child], tty=True)
        finally:
            os.close(child)
        self.text = bytearray()
        self._ends: list[int] = []  # the offset after each read
        self._times: list[float] = []  # and when it was made
        self._lock = threading.Lock()
        self.status: int | None = None
        self.peak_kib = 0
        self._wake, self._woken = os.pipe()  # written by close(): the reader stops
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while True:
            try:
                ready, _, _ = select.select([self.fd, self._wake], [], [])
                if self._wake in ready:
                    return
                data = os.read(self.fd, 1 << 16)
            except OSError:
                return  # EIO: the program has gone
            if not data:
                return
            now = time.time()
            if b"\x1b[6n" in data:
                os.write(self.fd, b"\x1b[1;1R")
            with self._lock:
                self.text += data
                self._ends.append(len(self.text))
                self._times.append(now)

    def send(self, data: bytes) -> float:
        """Type ``data``; when it was sent."""
        now = time.time()
        os.write(self.fd, data)
        return now

    def size(self) -> int:
        with self._lock:
            return len(self.text)

    def wait_for(self, pattern: bytes, start: int = 0, timeout: float = 30) -> int:
        """Wait until ``pattern`` appears after offset ``start``; its end offset."""
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while time.monotonic() < deadline:
            with self._lock:
                match = regex.search(self.text, start)
            if match:
                return match.end()
            time.sleep(0.002)
        raise TimeoutError(f"{pattern!r} did not appear")

    def findall(self, regex: re.Pattern[bytes]) -> list[re.Match[bytes]]:
        with self._lock:
            return list(regex.finditer(self.text))

    def time_of(self, offset: int) -> float:
        """When the byte at ``offset`` of the output arrived."""
        with self._lock:
            index = bisect.bisect_left(self._ends, offset)
            return self._times[index] if index < len(self._times) else time.time()

    def hwm_kib(self) -> int:
        """The program's peak RSS so far (VmHWM), while it runs."""
        with suppress(OSError):
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        return 0

    def quit(self, timeout: float = 15) -> int:
        """End the program with Ctrl-D (killed if it has not gone after ``timeout``);
        its peak RSS over its life (KiB), from ``wait4``."""
        if self.status is None:
            with suppress(OSError):
                self.send(CTRL_D)
            self.status, self.peak_kib, _ = self.spawner.wait(self.pid, timeout)
        return self.peak_kib

    def close(self) -> None:
        """Kill the program if it still runs, stop the reader and wait for it, then close
        the pty."""
        if self.status is None:
            with suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            self.status, self.peak_kib, _ = self.spawner.wait(self.pid)
        if self._woken >= 0:
            os.write(self._woken, b"x")
            self._thread.join(timeout=10)
            if self._thread.is_alive():
                raise RuntimeError("the pty's reader did not stop")
            for fd in (self.fd, self._wake, self._woken):
                with suppress(OSError):
                    os.close(fd)
            self._woken = -1
