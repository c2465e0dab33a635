"""Running a measured tool: its wall time and peak RSS as the operating system counts them.

Every measured process is started by the spawner (``spawnd.py``, see there for why), with
its stdin fed and its stdout and stderr drained by threads of the benchmark, as fast as the
tool writes: a figure is the tool's, never a full pipe's.
"""

from __future__ import annotations

import array
import contextlib
import marshal
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
QMPSHELL = str(BIN / "qmpshell")
QMP_SHELL = str(BIN / "qmp-shell")

# A measured process that takes longer than this is killed (and the figure says so).
RUN_TIMEOUT = 300.0


@dataclass
class Run:
    """One measured process: wall seconds (fork to reaping), peak RSS in KiB, its exit
    status, how many bytes it wrote to stdout, and the end of what it wrote to stderr."""

    wall: float
    peak_kib: int
    status: int
    out_bytes: int
    err_tail: bytes
    out_tail: bytes = b""
    tree_peak_kib: int = 0  # the most its whole tree of processes held at once (tree=True)

    @property
    def peak_mib(self) -> float:
        return self.peak_kib / 1024

    def check(self, what: str) -> Run:
        """This run, or RuntimeError when the process failed."""
        if self.status != 0:
            tail = self.err_tail.decode(errors="replace").strip().splitlines()[-3:]
            raise RuntimeError(f"{what} exited with {self.status}: {' / '.join(tail)}")
        return self


class Spawner:
    """The benchmark's end of the spawner process."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._sock = ours
        self._lock = threading.Lock()
        self._proc = subprocess.Popen(
            [sys.executable, "-S", "-I", str(HERE / "spawnd.py"), str(theirs.fileno())],
            pass_fds=[theirs.fileno()],
            stdin=subprocess.DEVNULL,
        )
        theirs.close()

    def _ask(self, request: dict[str, Any], fds: list[int] | None = None) -> dict[str, Any]:
        with self._lock:
            ancillary = []
            if fds:
                ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))]
            self._sock.sendmsg([marshal.dumps(request)], ancillary)
            answer: dict[str, Any] = marshal.loads(self._sock.recv(1 << 16))
            return answer

    def start(
        self, argv: list[str], env: dict[str, str], fds: list[int], *, tty: bool = False
    ) -> int:
        """Start ``argv`` with ``fds`` as its stdin, stdout and stderr; its pid."""
        pid: int = self._ask({"argv": argv, "env": env, "tty": tty}, fds)["pid"]
        return pid

    def wait(self, pid: int, timeout: float = RUN_TIMEOUT) -> tuple[int, int, float]:
        """Exit status, peak RSS (KiB) and wall seconds of child ``pid``, killed first
        when it has not ended within ``timeout``. Nothing else may be asked meanwhile."""
        done = threading.Event()

        def kill() -> None:
            if not done.is_set():
                os.kill(pid, signal.SIGKILL)

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            answer = self._ask({"wait": pid})
        finally:
            done.set()
            timer.cancel()
        return answer["status"], answer["maxrss"], answer["wall"]

    def close(self) -> None:
        self._sock.close()
        self._proc.wait(timeout=10)


class _Drain(threading.Thread):
    """Reads a descriptor to its end, counting, keeping only the last bytes."""

    def __init__(self, fd: int, keep: int = 4096) -> None:
        super().__init__(daemon=True)
        self.fd, self.keep = fd, keep
        self.count = 0
        self.tail = b""
        self.start()

    def run(self) -> None:
        try:
            while True:
                data = os.read(self.fd, 1 << 20)
                if not data:
                    return
                self.count += len(data)
                self.tail = (self.tail + data)[-self.keep :]
        finally:
            os.close(self.fd)


class _Feed(threading.Thread):
    """Writes ``data`` to a descriptor and closes it (a reader that stops early is fine)."""

    def __init__(self, fd: int, data: bytes) -> None:
        super().__init__(daemon=True)
        self.fd, self.data = fd, data
        self.start()

    def run(self) -> None:
        try:
            view = memoryview(self.data)
            while view:
                view = view[os.write(self.fd, view[: 1 << 20]) :]
        except OSError:
            pass
        finally:
            os.close(self.fd)


def run_tool(
    spawner: Spawner,
    argv: list[str],
    env: dict[str, str],
    stdin: bytes = b"",
    timeout: float = RUN_TIMEOUT,
    *,
    tree: bool = False,
) -> Run:
    """Run ``argv`` with ``stdin`` on its standard input, its output drained; with
    ``tree``, the RSS of it and all its descendants summed every few milliseconds, the
    highest sum kept (a fan-out's runs: the OS keeps only each process's own peak)."""
    in_read, in_write = os.pipe()
    out_read, out_write = os.pipe()
    err_read, err_write = os.pipe()
    try:
        pid = spawner.start(argv, env, [in_read, out_write, err_write])
    finally:
        for fd in (in_read, out_write, err_write):
            os.close(fd)
    feed = _Feed(in_write, stdin)
    out, err = _Drain(out_read), _Drain(err_read)
    sampler = _TreeSampler(pid) if tree else None
    status, peak, wall = spawner.wait(pid, timeout)
    for thread in (feed, out, err, sampler):
        if thread is not None:
            thread.join(timeout=30)
    tree_peak = sampler.peak_kib if sampler is not None else 0
    return Run(wall, peak, status, out.count, err.tail, out.tail, tree_peak)


class _TreeSampler(threading.Thread):
    """Sums the RSS of a process and its descendants every 5 ms until it is gone."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kib = 0
        self.start()

    def run(self) -> None:
        while Path(f"/proc/{self.pid}/status").exists():
            total = sum(_rss_kib(pid) for pid in _tree(self.pid))
            self.peak_kib = max(self.peak_kib, total)
            threading.Event().wait(0.005)


def _tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        each = todo.pop()
        found.append(each)
        with contextlib.suppress(OSError):
            children = Path(f"/proc/{each}/task/{each}/children").read_text()
            todo += [int(child) for child in children.split()]
    return found


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def env_for_tools(home: str) -> dict[str, str]:
    """The environment of every measured tool: ``home`` for its history, cache and
    config, a capable terminal, colours allowed, no pager."""
    env = dict(os.environ)
    env.update(HOME=home, XDG_STATE_HOME=home, XDG_CACHE_HOME=home, XDG_CONFIG_HOME=home)
    env.update(PROMPT_TOOLKIT_NO_CPR="0", PAGER="cat", TERM="xterm-256color")
    env.pop("NO_COLOR", None)
    return env


def median(values: list[float]) -> float:
    return statistics.median(values)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def rotations(items: list[Any], runs: int) -> list[list[Any]]:
    """``runs`` orders of ``items``, each rotated by one from the last, so that every
    item is first, second... equally often: interleaved runs, no tool always warmest."""
    return [items[i % len(items) :] + items[: i % len(items)] for i in range(runs)]
