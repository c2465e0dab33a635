"""qmpshell's benchmarks, side by side with QEMU's qmp-shell and raw clients, in one run.

Run with ``scripts/bench`` (which prepares the environment: qmpshell installed as users
get it, and qemu.qmp for qmp-shell) or directly: ``python benchmarks/run.py [--quick]
[--write docs/benchmarks.md] [--only N]`` (``--only 8``: figure 8 and its scripted twin
alone, a report not written). Every figure starts its own QEMU (``-machine none`` unless
a guest is needed) and, where a real QEMU will not misbehave on cue, a peer of the
benchmark's own in front of it (``peers.py``). The modules:

- ``measure.py``: running a tool for its wall time and peak RSS (through ``spawnd.py``);
- ``qemu.py``: the QEMU processes, the raw clients, the events made on a QEMU's human
  monitor;
- ``peers.py``: the misbehaving servers;
- ``speed.py`` (figures 1, 2), ``memory.py`` (3, 4, 5), ``interactive.py`` (6, 7 and
  completion), ``events.py`` (8), with ``terminal.py`` for the pty, ``fleet.py`` (9);
- ``report.py``: the figures, their targets and the Markdown.

``--quick`` uses small counts, to prove in about a minute that the benchmarks work (what CI
runs); it exits 0 whether or not the targets are met, as the full run does.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import events
import fleet
import interactive
import memory
import speed
from measure import QMP_SHELL, QMPSHELL, Spawner, env_for_tools, run_tool
from report import Figure, kept_limits, report


@dataclass
class Counts:
    """How much of everything a run does."""

    rounds: int  # interleaved rounds of one command (figure 1)
    piped_rounds: int
    lines: int  # piped commands (figure 2)
    memory_rounds: int
    reply: int  # bytes (figure 3)
    flood: int  # events (figures 4, 6)
    line: int  # bytes (figure 5)
    pty_rounds: int
    pairs: int  # STOP/RESUME pairs (figure 8)
    rate: float  # events per second asked (figure 8's 5,000 and a margin: see report.METHOD)
    prefixes: int  # completion
    fleet: int  # QEMUs in one fan-out (figure 9)
    fleet_rounds: int


FULL = Counts(
    rounds=25, piped_rounds=7, lines=2000, memory_rounds=3, reply=50_000_000,
    flood=100_000, line=10_000_000, pty_rounds=3, pairs=2500, rate=5100.0, prefixes=1000,
    fleet=50, fleet_rounds=3,
)  # fmt: skip
QUICK = Counts(
    rounds=5, piped_rounds=3, lines=200, memory_rounds=1, reply=5_000_000,
    flood=10_000, line=1_000_000, pty_rounds=1, pairs=500, rate=5100.0, prefixes=100,
    fleet=4, fleet_rounds=1,
)  # fmt: skip

NOTES = [
    "qmp-shell (qemu.qmp) reads at most 10 MB per message: a larger reply ends it with an",
    "error, so its figure for the 50 MB reply is that of a failure. qmp-shell takes no raw",
    "JSON line, and keeps events until an empty line asks for them: it prints none.",
    "",
]


class Progress:
    """Says on stderr what is being measured and how long each part took."""

    def __init__(self) -> None:
        self.started = self.last = time.monotonic()

    def __call__(self, what: str) -> None:
        now = time.monotonic()
        print(f"[{now - self.started:6.1f}s, +{now - self.last:5.1f}s] {what}", file=sys.stderr)
        self.last = now


def numbered(number: int, figures: list[Figure]) -> list[Figure]:
    for figure in figures:
        figure.number = str(number)
    return figures


# What one figure's measuring gives: the figures of issue 18 and the others beside them.
Measured = tuple[list[Figure], list[Figure]]


def measure_all(
    counts: Counts, spawner: Spawner, home: str, only: set[int] | None = None
) -> Measured:
    """Every figure (or those of the numbers ``only``, with the others they come with):
    those of issue 18, in its order, and the others."""
    env = env_for_tools(home)
    say = Progress()

    def warm(path: str) -> None:
        """Each tool once on ``path``: the schema cache, the page cache."""
        run_tool(spawner, [QMPSHELL, "-c", "query-name", path], env).check("qmpshell")
        run_tool(spawner, [QMP_SHELL, path], env, b"query-name\n").check("qmp-shell")

    def events_figures() -> Measured:
        main, extra = events.in_pty(spawner, counts.pairs, counts.rate, env, home)
        say("8: events, scripted")
        return main, extra + events.scripted(counts.pairs, counts.rate, env, home)

    steps: list[tuple[int, str, Callable[[], Measured]]] = [
        (1, "one command", lambda: (speed.one_command(spawner, counts.rounds, env), [])),
        (2, f"{counts.lines:,} piped commands",
         lambda: speed.piped(spawner, counts.piped_rounds, counts.lines, env)),
        (3, f"a {counts.reply:,} byte reply",
         lambda: (memory.big_reply(spawner, counts.memory_rounds, counts.reply, env, warm), [])),
        (4, f"{counts.flood:,} events while a command waits",
         lambda: (memory.events_while_waiting(
             spawner, counts.memory_rounds, counts.flood, env, warm), [])),
        (5, f"a {counts.line:,} byte input line",
         lambda: (memory.big_line(spawner, counts.memory_rounds, counts.line, env, warm), [])),
        (6, f"{counts.flood:,} events at the prompt, in a pty",
         lambda: interactive.events_at_prompt(spawner, counts.pty_rounds, counts.flood, env)),
        (7, "the schema rendered into a pty; completion",
         lambda: interactive.schema_render(spawner, counts.pty_rounds, counts.prefixes, env)),
        (8, f"{2 * counts.pairs:,} events asked at {counts.rate:g}/s in a pty", events_figures),
        (9, f"one script on {counts.fleet} QEMUs",
         lambda: (fleet.fleet(spawner, counts.fleet, counts.fleet_rounds, env), [])),
    ]  # fmt: skip
    figures: list[Figure] = []
    others: list[Figure] = []
    for number, what, measure in steps:
        if only is None or number in only:
            say(f"{number}: {what}")
            main, extra = measure()
            figures += numbered(number, main)
            others += extra
    say("done")
    return figures, others


def describe(counts: Counts) -> str:
    """What a run did, for the report."""
    return (
        f"Rounds: {counts.rounds} of one command (1), {counts.piped_rounds} of "
        f"{counts.lines:,} piped lines (2), {counts.memory_rounds} of each memory figure "
        f"(3, 4, 5), {counts.pty_rounds} interactive session"
        f"{'s' if counts.pty_rounds != 1 else ''} each (6, 7); "
        f"{2 * counts.pairs:,} events asked at {counts.rate:,.0f}/s (8; the rate reached is "
        f"in the figure); {counts.fleet_rounds} of a fan-out on {counts.fleet} QEMUs (9)."
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small counts, to prove it works")
    parser.add_argument("--write", metavar="PATH", help="also write the report to PATH")
    parser.add_argument(
        "--only", metavar="N", type=int, action="append",
        help="only figure N of issue 18 (and the others it comes with); may be repeated; "
        "not with --write",
    )  # fmt: skip
    args = parser.parse_args()
    if args.only and args.write:
        parser.error("--only makes a partial report: it is not written (no --write)")
    counts = QUICK if args.quick else FULL
    spawner = Spawner()  # first, while this process is small
    home = tempfile.mkdtemp(prefix="qs-bench-home-")
    try:
        figures, others = measure_all(counts, spawner, home, set(args.only or []) or None)
    finally:
        spawner.close()
        shutil.rmtree(home, ignore_errors=True)
    command = "scripts/bench --quick" if args.quick else "scripts/bench"
    if args.only:
        command = "benchmarks/run.py" + " --quick" * args.quick
        command += "".join(f" --only {number}" for number in args.only)
    text = report(command, describe(counts), figures, others, kept_limits(args.write), NOTES)
    print(text)
    if args.write:
        Path(args.write).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
