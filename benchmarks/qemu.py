"""The real QEMU the benchmarks talk to, and the benchmark's own raw clients of it.

Each QEMU has two monitors: ``qmp`` for the tool measured, ``aux`` for the benchmark (to
make events, or for a peer to pass commands on). The raw clients are blocking sockets with
no library between them and QEMU: the floors a shell is compared with.
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
    """A QEMU with two monitors: 'qmp' for the tool measured, 'aux' for the benchmark."""

    def __init__(self, machine: list[str]) -> None:
        self.dir = tempfile.mkdtemp(prefix="qs-bench-")
        self.qmp = os.path.join(self.dir, "qmp.sock")
        self.aux = os.path.join(self.dir, "aux.sock")
        self.proc = subprocess.Popen(
            ["qemu-system-x86_64", *machine, "-nodefaults", "-display", "none",
             "-qmp", f"unix:{self.qmp},server=on,wait=off",
             "-qmp", f"unix:{self.aux},server=on,wait=off"],
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while not (os.path.exists(self.qmp) and os.path.exists(self.aux)):
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


# A paused TCG guest: stop and cont make STOP and RESUME events, QEMU's own.
EVENTS_MACHINE = ["-machine", "q35,accel=tcg", "-m", "64", "-S"]


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


def make_events(path: str, pairs: int, rate: float = 0.0) -> None:
    """``2 * pairs`` RESUME and STOP events from QEMU, by ``cont`` and ``stop`` on monitor
    ``path`` of a paused guest (``stop`` first would make no event). At ``rate`` events per
    second when given: each millisecond or so, the pairs then due are written at once and
    their replies read (one at a time, QEMU's round trip would cap the rate below 5,000/s
    on a small machine); else one command at a time, as fast as QEMU answers."""
    client = RawClient(path)
    pair = b'{"execute":"cont"}\n{"execute":"stop"}'
    started = time.perf_counter()
    made = 0
    while made < pairs:
        if not rate:
            client.command(b'{"execute":"cont"}')
            client.command(b'{"execute":"stop"}')
            made += 1
            continue
        due = min(pairs, int((time.perf_counter() - started) * rate / 2) + 1)
        if due > made:
            client.sock.sendall((pair + b"\n") * (due - made))
            for _ in range(2 * (due - made)):
                client.read_reply()
            made = due
        time.sleep(0.001)
    client.close()
