"""The real QEMU the benchmarks talk to, and the benchmark's own raw clients of it.

Each QEMU has three monitors: ``qmp`` for the tool measured, ``aux`` for the benchmark (or
for a peer to pass commands on) and ``hmp``, a human monitor, on which the benchmark makes
events. The raw clients are blocking sockets with no library between them and QEMU: the
floors a shell is compared with.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class Qemu:
    """A QEMU with three monitors: 'qmp' for the tool measured, 'aux' (QMP) and 'hmp' (the
    human monitor) for the benchmark."""

    def __init__(self, machine: list[str]) -> None:
        self.dir = tempfile.mkdtemp(prefix="qs-bench-")
        self.qmp = os.path.join(self.dir, "qmp.sock")
        self.aux = os.path.join(self.dir, "aux.sock")
        self.hmp = os.path.join(self.dir, "hmp.sock")
        self.proc = subprocess.Popen(
            ["qemu-system-x86_64", *machine, "-nodefaults", "-display", "none",
             "-qmp", f"unix:{self.qmp},server=on,wait=off",
             "-qmp", f"unix:{self.aux},server=on,wait=off",
             "-monitor", f"unix:{self.hmp},server=on,wait=off"],
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while not all(map(os.path.exists, (self.qmp, self.aux, self.hmp))):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("QEMU did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


@contextmanager
def qemu(machine: list[str] | None = None) -> Iterator[Qemu]:
    """A QEMU (``-machine none`` unless told), stopped at the end."""
    started = Qemu(machine or ["-machine", "none"])
    try:
        yield started
    finally:
        started.stop()


# A QEMU not started (-S) and with no guest: cont and stop make STOP and RESUME events,
# QEMU's own. A guest adds nothing to them but a vCPU thread that each stop must pause: a
# 64 MiB q35 TCG guest took a third of a core more at 5,000 events/s, its first 0.1 s of
# events came at 1,400 to 3,900/s (then faster, to catch up), and with scripted qmpshell
# reading the events QEMU mostly fell behind (2,900 to 5,100/s of 5,100 asked).
EVENTS_MACHINE = ["-machine", "none", "-S"]


def is_reply(line: bytes) -> bool:
    """Whether a line from QEMU is a reply (QEMU writes its key first), not an event."""
    return line.startswith(b'{"return"') or line.startswith(b'{"error"')


class RawClient:
    """A blocking client that negotiates, then sends raw lines and reads raw replies."""

    def __init__(self, path: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(path)
        self.file = self.sock.makefile("rb")
        self.greeting = self.file.readline()
        self.command(b'{"execute":"qmp_capabilities"}')

    def command(self, line: bytes) -> bytes:
        """Send one command, read until its reply."""
        self.sock.sendall(line + b"\n")
        return self.read_reply()

    def read_reply(self) -> bytes:
        """The next reply (events before it are dropped)."""
        while True:
            line = self.file.readline()
            if not line:
                raise ConnectionError("QEMU closed the monitor")
            if is_reply(line):
                return line

    def lock_step(self, line: bytes, count: int) -> float:
        """Seconds for ``count`` commands sent one at a time, each after the last reply."""
        started = time.perf_counter()
        for _ in range(count):
            self.command(line)
        return time.perf_counter() - started

    def pipelined(self, line: bytes, count: int) -> float:
        """Seconds for ``count`` commands written at once (by a thread, so that neither
        side's socket buffer can stall the other) and their ``count`` replies read."""
        data = (line + b"\n") * count
        writer = threading.Thread(target=self.sock.sendall, args=(data,))
        started = time.perf_counter()
        writer.start()
        for _ in range(count):
            self.read_reply()
        elapsed = time.perf_counter() - started
        writer.join()
        return elapsed

    def close(self) -> None:
        self.file.close()
        self.sock.close()


def make_events(path: str, pairs: int, rate: float) -> None:
    """``2 * pairs`` RESUME and STOP events from QEMU at ``rate`` events per second, by
    ``c`` and ``stop`` on the human monitor ``path`` of a paused QEMU (``stop`` first
    would make no event): each millisecond or so, the pairs then due are written at once
    (behind time, the rest catch up). Returns once QEMU has run them all.

    The human monitor rather than QMP: QEMU 7.2 runs at most about 4,000 QMP commands a
    second on a small machine, even pipelined (each passes from the monitor's I/O thread
    to the main loop and its reply back), so one event per command could not reach
    5,000/s; HMP lines run in the main loop as they are read (about 13,000 ``c``/``stop``
    a second on two cores), and they make the same events, sent to every QMP monitor."""
    sock = socket.socket(socket.AF_UNIX)
    sock.connect(path)

    def drained() -> bytes:
        """What the monitor has written (its echo and prompts) and not been read."""
        try:
            return sock.recv(1 << 16, socket.MSG_DONTWAIT)
        except BlockingIOError:
            return b""

    started = time.perf_counter()
    made = 0
    while made < pairs:
        due = min(pairs, int((time.perf_counter() - started) * rate / 2) + 1)
        if due > made:
            sock.sendall(b"c\nstop\n" * (due - made))
            made = due
        while drained():
            pass
        time.sleep(0.001)
    # The monitor runs lines in order: once this one is answered, every event is made.
    sock.sendall(b"info status\n")
    tail = b""
    while b"VM status" not in tail:
        data = sock.recv(1 << 16)
        if not data:
            raise ConnectionError("QEMU closed the human monitor")
        tail = tail[-16:] + data
    sock.close()
