"""The report: figures with their targets, as the Markdown of docs/benchmarks.md.

Each :class:`Figure` is one row: what was measured, its unit, qmpshell's value, the value
it is compared with and whose, the ratio, the target and whether it is met. A target is on
the ratio (``<= 0.6x`` qmp-shell) or on the value itself (``<= 125 MiB``).
"""

from __future__ import annotations

import os
import platform
import subprocess
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

# The hand-written part of docs/benchmarks.md that a run keeps: between these lines.
LIMITS_BEGIN = "<!-- limits: written by hand after a full run; kept by later runs -->"
LIMITS_END = "<!-- /limits -->"
LIMITS_PLACEHOLDER = (
    "_To be written after the final full run on the merged code: for each figure, what\n"
    "bounds it (Python's start-up and imports, QEMU's own pace, the copies of a big\n"
    "message while it is decoded and shown, the terminal's rendering...), as found with\n"
    "`-X importtime`, a profiler or tracemalloc._"
)


@dataclass
class Target:
    """``op limit``, on the ratio when ``unit`` is ``x``, else on the value."""

    op: str  # "<=", "<" or ">="
    limit: float
    unit: str

    @property
    def on_ratio(self) -> bool:
        return self.unit == "x"

    def met(self, value: float) -> bool:
        if self.op == ">=":
            return value >= self.limit
        return value <= self.limit if self.op == "<=" else value < self.limit

    def __str__(self) -> str:
        limit = f"{self.limit:g}"
        return f"{self.op} {limit}x" if self.on_ratio else f"{self.op} {limit} {self.unit}"


def at_most(limit: float, unit: str) -> Target:
    return Target("<=", limit, unit)


def under(limit: float, unit: str) -> Target:
    return Target("<", limit, unit)


def at_least(limit: float, unit: str) -> Target:
    return Target(">=", limit, unit)


@dataclass
class Figure:
    """One row of the report. ``failed``/``other_failed``: why a value is not a result
    (the tool exited with an error, was killed...); the value is still shown."""

    measure: str
    unit: str
    ours: float
    other: float | None = None
    which: str = ""
    target: Target | None = None
    failed: str = ""
    other_failed: str = ""
    number: str = ""  # the figure's number in issue 18's list, if it is one

    @property
    def ratio(self) -> float | None:
        if self.other is None or not self.other or self.other_failed:
            return None
        return self.ours / self.other

    @property
    def met(self) -> str:
        if self.target is None:
            return ""
        if self.failed:
            return "no"
        value = self.ratio if self.target.on_ratio else self.ours
        if value is None:
            return "?"
        return "yes" if self.target.met(value) else "no"

    def cells(self) -> list[str]:
        ours = number(self.ours) + (f" ({self.failed})" if self.failed else "")
        other = "" if self.other is None else number(self.other)
        if self.other_failed:
            other += f" ({self.other_failed})"
        ratio = "" if self.ratio is None else f"{self.ratio:.2f}x"
        target = "" if self.target is None else str(self.target)
        return [
            self.number, self.measure, self.unit, ours, other, self.which, ratio, target,
            self.met,
        ]  # fmt: skip


def number(value: float) -> str:
    """A value as the table shows it: counts whole, the rest to three figures or so."""
    if value == int(value) and abs(value) >= 100:
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


HEAD = ["#", "measure", "unit", "qmpshell", "compared with", "which", "ratio", "target", "met"]


def table(figures: list[Figure]) -> list[str]:
    lines = ["| " + " | ".join(HEAD) + " |", "|" + "---|" * len(HEAD)]
    for figure in figures:
        cells = [cell.replace("|", "\\|") for cell in figure.cells()]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def machine() -> str:
    """The CPU, cores, kernel, Python and QEMU of this run."""
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


def versions() -> str:
    """qmpshell's version and commit, and qemu.qmp's, as measured."""
    from importlib.metadata import PackageNotFoundError, version

    def of(package: str) -> str:
        try:
            return version(package)
        except PackageNotFoundError:
            return "not installed"

    commit = subprocess.run(
        ["git", "-C", str(Path(__file__).parent), "describe", "--always", "--dirty"],
        capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    at = f" at commit {commit}" if commit else ""
    return f"qmpshell {of('qmpshell')}{at}, qemu.qmp {of('qemu.qmp')}"


def kept_limits(path: str | None) -> str:
    """The hand-written section of the report at ``path``, or the placeholder."""
    if path and os.path.exists(path):
        text = Path(path).read_text()
        if LIMITS_BEGIN in text and LIMITS_END in text:
            kept = text.split(LIMITS_BEGIN, 1)[1].split(LIMITS_END, 1)[0].strip()
            if kept:
                return kept
    return LIMITS_PLACEHOLDER


SERVERS = """\
## The misbehaving servers

Figures 3 to 6 need a peer that a real QEMU plays only rarely. Each is a UNIX socket
written in the benchmark (`benchmarks/peers.py`) that plays a real `-machine none` QEMU: it
sends that QEMU's greeting, answers `qmp_capabilities` itself and passes every other command
on to the QEMU's spare monitor, so `query-commands`, the 200 KB `query-qmp-schema` and
`query-status` are QEMU's own (and both tools' schema caches work as against QEMU). It
answers these commands itself:

- **big reply** (3): `ringbuf-read` gets `{"return": "<N bytes>"}`, one string of a guest's
  serial console lines (a full 64 MB ring buffer); `qom-list` gets a list of N bytes of small
  objects (`{"name": "dev123", "type": "child<virtio-blk-pci>"}`, about 1.1 million in 50 MB).
- **events while a command waits** (4): `query-status` gets N `BLOCK_IO_ERROR` events (a
  guest failing writes on a full disk with `werror=report`), then QEMU's own reply.
- **a big input line** (5): `object-add` gets `{"return": {}}` at once; the peer checks that
  the whole line came. (QEMU 7.2 itself takes about 35 s to parse a 10 MB string: the figure
  would be QEMU's.) The line adds a `secret` whose `data` is 10 MB of base64.
- **events at the prompt** (6): while qmpshell sits at its prompt in a pty, the benchmark
  has the peer send N `BLOCK_IO_ERROR` events unasked; then it types `query-version` and
  waits for the reply (so every event has been read and handled) before reading the RSS.
"""

METHOD = """\
## How it is measured

- Every tool is started by a small spawner process (`benchmarks/spawnd.py`, about 9 MiB):
  Linux charges a child the RSS of the process it was forked from, at the `exec`, so a tool
  started by the benchmark itself would be charged the benchmark's size. Peak RSS is the
  child's `ru_maxrss` from `wait4()`, as the kernel counts it (a Python process cannot read
  below about 9 MiB); wall time is from the fork to the reaping.
- stdout and stderr go to pipes that the benchmark drains as fast as the tool writes.
- The runs of the tools compared are interleaved: each round runs every tool once, the order
  rotated by one from round to round; figures are medians over the rounds.
- Each tool runs once before the timed rounds, with the same `HOME`, `XDG_CACHE_HOME` and
  `XDG_STATE_HOME`: qmpshell's schema cache is warm.
- Scripted throughput (2) is per command, net of start-up: (time of N lines - time of one
  line) / (N - 1), each tool on the same QEMU; the raw clients are blocking sockets in the
  benchmark (no library): the *pipelined* one writes all N commands at once and reads the N
  replies (QEMU's own pace, the limit), the *lock-step* one sends each after the last reply.
- Event delays are from the event's QEMU timestamp to the moment its line was read from
  qmpshell's output (a pipe when scripted, a pty in the interactive shell). The events are
  QEMU's own STOP and RESUME, made by `c` and `stop` written to the human monitor of a
  `-machine none -S` QEMU, a few every millisecond at the rate asked (a little above
  figure 8's 5,000/s, a margin for the pauses of a busy machine); the rate in a figure's
  name is the one reached, from the first event's QEMU timestamp to the last one's. The
  human monitor rather than QMP: QEMU 7.2 runs at most about 4,000 QMP commands a second
  on two cores, even pipelined (each goes from the monitor's I/O thread to the main loop
  and its reply back), so `stop`/`cont` over QMP reached only about 4,200 events/s; HMP
  runs each line in the main loop as it reads it, about 13,000 `c`/`stop` a second here,
  and the events are the same, sent to every QMP monitor. No guest: a 64 MiB TCG guest
  adds nothing to these events but a vCPU thread that each `stop` must pause (a third of
  a core more at 5,000 events/s; the first 0.1 s of events came at under 4,000/s, then
  faster to catch up, and with a reader on the other core QEMU mostly fell behind).
- On a small machine QEMU, the benchmark's peers and readers and the tools share the cores:
  the ratios, measured side by side in one run, are steadier than the absolute figures.
"""


def report(
    command: str,
    counts: str,
    figures: list[Figure],
    others: list[Figure],
    limits: str,
    notes: list[str],
) -> str:
    """The whole of docs/benchmarks.md."""
    lines = [
        "# Benchmarks",
        "",
        "<!-- Generated by scripts/bench (benchmarks/run.py): change the generator, not this",
        "file, except between the limits markers below, which each run keeps. -->",
        "",
        f"Measured on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {machine()}.",
        "",
        f"Command: `{command}`; {versions()} (qmp-shell is QEMU's, from PyPI). Both tools",
        "are installed in the benchmark's own environment as users get them (not editable).",
        "",
        counts,
        "",
        SERVERS,
        "## What limits each figure",
        "",
        LIMITS_BEGIN,
        limits,
        LIMITS_END,
        "",
        "## Issue 18's figures",
        "",
        *table(figures),
        "",
        "## Other figures",
        "",
        *table(others),
        "",
        *notes,
        METHOD,
    ]
    return "\n".join(lines).rstrip() + "\n"
