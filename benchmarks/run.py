"""qmpshell's benchmarks, side by side with QEMU's qmp-shell and a lock-step floor.

Run with ``scripts/bench`` (which prepares the environment: qmpshell installed as users
get it, and qemu.qmp for qmp-shell) or directly: ``python benchmarks/run.py [--quick]
[--write docs/benchmarks.md]``. Every measurement starts its own QEMU (``-machine none``
unless a CPU is needed) and reports medians over several runs, and ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import pty
import re
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
QMPSHELL = str(BIN / "qmpshell")
QMP_SHELL = str(BIN / "qmp-shell")


# -- QEMU and a raw client ---------------------------------------------------------------


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
    started = Qemu(machine or ["-machine", "none"])
    try:
        yield started
    finally:
        started.stop()


class RawClient:
    """The practical floor: send one command, read until its reply, repeat."""

    def __init__(self, path: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(path)
        self.file = self.sock.makefile("rb")
        self.file.readline()
        self.command(b'{"execute":"qmp_capabilities"}')

    def command(self, line: bytes) -> bytes:
        self.sock.sendall(line + b"\n")
        while True:
            reply = self.file.readline()
            if b'"return"' in reply or b'"error"' in reply:
                return reply

    def close(self) -> None:
        self.file.close()
        self.sock.close()


# -- measuring processes -------------------------------------------------------------------


def timed(
    argv: list[str], stdin: bytes = b"", env: dict[str, str] | None = None
) -> tuple[float, int]:
    """Wall time (s) and peak RSS (KiB) of a command, its output thrown away."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    assert proc.stdin is not None
    proc.stdin.write(stdin)
    proc.stdin.close()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[0]} exited with {proc.returncode}")
    return elapsed, usage.ru_maxrss


def env_for_tools(home: str) -> dict[str, str]:
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


# -- 1 and 2: start-up, throughput ----------------------------------------------------------


def bench_startup(runs: int, home: str) -> list[Row]:
    env = env_for_tools(home)
    ours_t, ours_m, theirs_t, theirs_m = [], [], [], []
    with qemu() as vm:
        timed([QMPSHELL, "-c", "query-status", vm.qmp], env=env)  # the schema cache, once
        for _ in range(runs):
            t, m = timed([QMPSHELL, "-c", "query-status", vm.qmp], env=env)
            ours_t.append(t)
            ours_m.append(m)
            t, m = timed([QMP_SHELL, vm.qmp], b"query-status\n", env=env)
            theirs_t.append(t)
            theirs_m.append(m)
    return [
        Row("start-up to first reply", "wall ms", median(ours_t) * 1e3, median(theirs_t) * 1e3,
            "qmp-shell", "no slower than qmp-shell"),
        Row("start-up to first reply", "peak RSS MiB", median(ours_m) / 1024,
            median(theirs_m) / 1024, "qmp-shell", "no higher than qmp-shell"),
    ]  # fmt: skip


def bench_throughput(runs: int, count: int, home: str) -> list[Row]:
    """Per command, net of each tool's own start-up (one line, timed the same way)."""
    env = env_for_tools(home)
    script = b"query-status\n" * count
    ours, theirs, floor = [], [], []
    with qemu() as vm:
        timed([QMPSHELL, "-c", "query-status", vm.qmp], env=env)
        for _ in range(runs):
            start = timed([QMPSHELL, vm.qmp], b"query-status\n", env=env)[0]
            ours.append((timed([QMPSHELL, vm.qmp], script, env=env)[0] - start) / (count - 1))
            start = timed([QMP_SHELL, vm.qmp], b"query-status\n", env=env)[0]
            theirs.append((timed([QMP_SHELL, vm.qmp], script, env=env)[0] - start) / (count - 1))
            client = RawClient(vm.qmp)
            started = time.perf_counter()
            for _ in range(count):
                client.command(b'{"execute":"query-status"}')
            floor.append((time.perf_counter() - started) / count)
            client.close()
    us = median(ours) * 1e6
    return [
        Row(f"scripted, {count} query-status", "µs per command", us, median(theirs) * 1e6,
            "qmp-shell", "at least 2x faster"),
        Row(f"scripted, {count} query-status", "µs per command", us, median(floor) * 1e6,
            "lock-step floor", "within 1.25x"),
    ]  # fmt: skip


# -- 3: events ----------------------------------------------------------------------------


def make_events(path: str, pairs: int) -> None:
    client = RawClient(path)
    for _ in range(pairs):
        client.command(b'{"execute":"stop"}')
        client.command(b'{"execute":"cont"}')
    client.close()


def event_time(message: dict[str, Any]) -> float:
    stamp = message["timestamp"]
    return float(stamp["seconds"]) + stamp["microseconds"] / 1e6


def bench_events_scripted(pairs: int, home: str) -> tuple[int, int, list[float]]:
    """Events shown by scripted qmpshell: (shown, in transcript, delays in s)."""
    env = env_for_tools(home)
    log = os.path.join(home, "events.jsonl")
    with qemu(["-machine", "q35,accel=tcg", "-m", "64", "-S"]) as vm:
        proc = subprocess.Popen(
            [QMPSHELL, "-l", log, vm.qmp], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
        )
        assert proc.stdout is not None and proc.stdin is not None
        arrivals: list[tuple[float, bytes]] = []

        def read() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                arrivals.append((time.time(), line))

        reader = threading.Thread(target=read)
        reader.start()
        time.sleep(0.5)  # connected
        make_events(vm.aux, pairs)
        deadline = time.monotonic() + 30
        while len(arrivals) < 2 * pairs and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.stdin.close()
        proc.wait(timeout=30)
        reader.join()
    delays = []
    for arrived, line in arrivals:
        message = json.loads(line)
        if "event" in message:
            delays.append(arrived - event_time(message))
    logged = Path(log).read_text().count('"event"')
    return len(delays), logged, delays


class Terminal:
    """qmpshell in a pty, read by a thread that answers cursor-position queries (as a
    terminal does, so that prompt_toolkit draws menus) and timestamps what it reads."""

    def __init__(self, argv: list[str], env: dict[str, str], rows: int = 50) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child
            os.execve(argv[0], argv, env)
        import fcntl
        import struct
        import termios

        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, 200, 0, 0))
        self.chunks: list[tuple[float, bytes]] = []
        self.text = b""
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while True:
            try:
                ready, _, _ = select.select([self.fd], [], [], 0.5)
                if not ready:
                    continue
                data = os.read(self.fd, 1 << 16)
            except OSError:
                return
            if not data:
                return
            now = time.time()
            if b"\x1b[6n" in data:
                os.write(self.fd, b"\x1b[1;1R")
            with self._lock:
                self.chunks.append((now, data))
                self.text += data

    def send(self, data: bytes) -> float:
        now = time.time()
        os.write(self.fd, data)
        return now

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

    def time_of(self, offset: int) -> float:
        """When the byte at ``offset`` of the output arrived."""
        seen = 0
        with self._lock:
            for when, data in self.chunks:
                seen += len(data)
                if seen >= offset:
                    return when
        return time.time()

    def peak_rss_kib(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        return 0

    def close(self) -> None:
        with suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        os.close(self.fd)


EVENT_LINE = re.compile(rb"\d\d:\d\d:\d\d\.\d{3} (?:\x1b\[[0-9;]*m)*(STOP|RESUME)")


def bench_events_pty(pairs: int, home: str) -> tuple[int, int, list[float]]:
    env = env_for_tools(home)
    log = os.path.join(home, "pty-events.jsonl")
    with qemu(["-machine", "q35,accel=tcg", "-m", "64", "-S"]) as vm:
        term = Terminal([QMPSHELL, "--color", "always", "-l", log, vm.qmp], env)
        try:
            term.wait_for(rb"\(QEMU\)")
            time.sleep(0.3)
            term.send(b"query-st")  # a half-typed line while the flood arrives
            make_events(vm.aux, pairs)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                with term._lock:
                    shown = len(EVENT_LINE.findall(term.text))
                if shown >= 2 * pairs:
                    break
                time.sleep(0.05)
            time.sleep(0.2)
            with term._lock:
                matches = list(EVENT_LINE.finditer(term.text))
            lines = Path(log).read_text().splitlines()
            events = [json.loads(line)["msg"] for line in lines if '"event"' in line]
            delays = [
                term.time_of(match.end()) - event_time(event)
                for match, event in zip(matches, events)
            ]
            return len(matches), len(events), delays
        finally:
            term.close()


# -- 4, 5, 6: the interactive shell ----------------------------------------------------------


def bench_interactive(runs: int, prefixes: int, home: str) -> list[Row]:
    env = env_for_tools(home)
    render: list[float] = []
    menu: list[float] = []
    rss = 0
    with qemu() as vm:
        for _ in range(runs):
            # A 50-row terminal; --no-pager so that the whole reply is written to it, and
            # menus on Tab only, so that Tab is what makes the menu appear.
            argv = [QMPSHELL, "--color", "always", "--no-pager", "--no-complete-while-typing"]
            term = Terminal([*argv, vm.qmp], env, rows=50)
            try:
                at = term.wait_for(rb"\(QEMU\)")
                term.send(b"query-name\r")  # loads the schema
                at = term.wait_for(rb"OK", at)
                at = term.wait_for(rb"\(QEMU\)", at)
                time.sleep(0.2)
                term.send(b"query-qmp-schema")
                at = term.wait_for(rb"schema", at)
                time.sleep(0.2)
                start = len(term.text)
                sent = term.send(b"\r")
                end = term.wait_for(rb"\(QEMU\)", start + 1000)
                # The last byte of the reply: the one before the next prompt.
                render.append(term.time_of(end - 7) - sent)
                time.sleep(0.2)
                term.send(b"blockdev-add driver=qc")
                time.sleep(0.3)
                start = len(term.text)
                tab = term.send(b"\t")
                found = term.wait_for(rb"qcow2", start)
                menu.append(term.time_of(found) - tab)
                time.sleep(0.2)
                rss = max(rss, term.peak_rss_kib())
            finally:
                term.close()
        latencies = completion_latencies(vm.qmp, prefixes)
    return [
        Row("200 KB reply (query-qmp-schema), coloured, into a pty", "ms Enter → last byte",
            median(render) * 1e3, 150, "target", "under 150 ms"),
        Row("completion: get_completions", f"p50 ms ({len(latencies)} prefixes)",
            percentile(latencies, 50) * 1e3, 5, "target", "p99 under 5 ms"),
        Row("completion: get_completions", "p99 ms", percentile(latencies, 99) * 1e3, 5,
            "target", "p99 under 5 ms"),
        Row("completion: menu after Tab, in a pty", "ms", median(menu) * 1e3, None, "", ""),
        Row("interactive session, schema loaded", "peak RSS MiB", rss / 1024, 60, "target",
            "under 60 MiB"),
    ]  # fmt: skip


def completion_latencies(path: str, count: int) -> list[float]:
    """get_completions over command names, argument names and enum values."""
    import asyncio

    from prompt_toolkit.completion import CompleteEvent
    from prompt_toolkit.document import Document

    from qmpshell.protocol import QMPClient, parse_address
    from qmpshell.session.introspection import load_schema
    from qmpshell.ui.completer import ShellCompleter

    async def schema_of() -> Any:
        async with QMPClient() as client:
            await client.connect(parse_address(path))
            return await load_schema(client)

    schema = asyncio.run(schema_of())
    completer = ShellCompleter(lambda: schema, lambda: False, ["/help"])
    lines: list[str] = []
    names = sorted(schema.commands)
    for name in names:
        lines += [name[:3], name[: len(name) // 2], f"{name} "]
    for value in ("", "q", "r", "nu", "fi", "th"):
        lines.append(f"blockdev-add driver={value}")
        lines.append(f"blockdev-add driver=file node-name=n {value}")
        lines.append(f"blockdev-add driver=raw file.{value}")
    lines = (lines * (count // len(lines) + 1))[:count]
    event = CompleteEvent(completion_requested=True)
    latencies = []
    for line in lines:
        started = time.perf_counter()
        list(completer.get_completions(Document(line), event))
        latencies.append(time.perf_counter() - started)
    return latencies


# -- the report ---------------------------------------------------------------------------


class Row:
    def __init__(
        self, what: str, unit: str, ours: float, other: float | None, against: str, target: str
    ) -> None:
        self.what, self.unit, self.ours, self.other = what, unit, ours, other
        self.against, self.target = against, target

    def cells(self) -> list[str]:
        other = "" if self.other is None else f"{self.other:.1f}"
        ratio = "" if not self.other else f"{self.ours / self.other:.2f}"
        return [self.what, self.unit, f"{self.ours:.1f}", other, self.against, ratio, self.target]


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    qemu_version = subprocess.run(
        ["qemu-system-x86_64", "--version"], capture_output=True, text=True, check=True
    ).stdout.splitlines()[0]
    return (
        f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, {qemu_version}"
    )


def report(rows: list[Row], extra: list[str], quick: bool) -> str:
    head = ["measure", "unit", "qmpshell", "compared with", "which", "ratio", "target"]
    lines = [
        "# Benchmarks",
        "",
        f"Measured on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {machine()}.",
        "",
        "Produced by `scripts/bench`"
        + (" --quick (small counts: a smoke test)" if quick else "")
        + "; medians over several runs, all in one run of the script.",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    lines += ["| " + " | ".join(row.cells()) + " |" for row in rows]
    lines += ["", *extra, ""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small counts, to prove it works")
    parser.add_argument("--write", metavar="PATH", help="also write the report to PATH")
    args = parser.parse_args()
    runs, count, pairs, prefixes = (2, 100, 50, 100) if args.quick else (7, 2000, 2500, 1000)
    home = tempfile.mkdtemp(prefix="qs-bench-home-")
    try:
        rows = bench_startup(runs * 2, home)
        rows += bench_throughput(max(3, runs // 2), count, home)
        shown, logged, delays = bench_events_scripted(pairs, home)
        rows.append(Row(f"events, scripted: {2 * pairs} made", "shown / in transcript",
                        shown, logged, "transcript", "none lost"))  # fmt: skip
        rows.append(Row("event display delay, scripted", "p50 / p99 ms",
                        percentile(delays, 50) * 1e3, percentile(delays, 99) * 1e3,
                        "p99", "p99 under 50 ms"))  # fmt: skip
        shown, logged, delays = bench_events_pty(pairs, home)
        rows.append(Row(f"events, in a pty while typing: {2 * pairs} made",
                        "shown / in transcript", shown, logged, "transcript",
                        "none lost"))  # fmt: skip
        rows.append(Row("event display delay, pty", "p50 / p99 ms",
                        percentile(delays, 50) * 1e3, percentile(delays, 99) * 1e3,
                        "p99", "p99 under 50 ms"))  # fmt: skip
        rows += bench_interactive(max(1, runs // 3), prefixes, home)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    extra = [
        "Event delays are from the event's QEMU timestamp to the moment its line was read",
        "from qmpshell's output (a pipe in scripted mode, a pty in the interactive shell).",
        "The lock-step floor is a raw blocking socket client in the benchmark itself.",
        "On a small machine QEMU, the benchmark's own event generator and pty reader share the",
        "cores with qmpshell, so the p99 of the delay in a pty varies from run to run.",
    ]
    text = report(rows, extra, args.quick)
    print(text)
    if args.write:
        Path(args.write).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
