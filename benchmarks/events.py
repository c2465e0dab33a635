"""Figure 8 and its scripted twin: QEMU's own events (STOP and RESUME from ``stop`` and
``c`` on the human monitor of a paused guest, made at a set rate: see
:func:`qemu.make_events`) as qmpshell shows them: none lost, and how long from QEMU's
timestamp to the line read from qmpshell's output."""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from measure import QMPSHELL, Spawner, percentile
from qemu import EVENTS_MACHINE, make_events, qemu
from report import Figure, at_least, under
from terminal import Terminal

EVENT_LINE = re.compile(rb"\d\d:\d\d:\d\d\.\d{3} (?:\x1b\[[0-9;]*m)*(STOP|RESUME)")


def event_time(message: dict[str, Any]) -> float:
    stamp = message["timestamp"]
    return float(stamp["seconds"]) + float(stamp["microseconds"]) / 1e6


def rate_of(stamps: list[float]) -> float:
    """Events per second between the first and the last of ``stamps``."""
    return (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 1 else 0.0


def settle(count: Callable[[], int], expected: int, quiet: float = 3.0) -> None:
    """Wait until ``count()`` reaches ``expected``, or has not grown for ``quiet`` s
    (an event lost: the figure will say so)."""
    seen, since = count(), time.monotonic()
    while seen < expected and time.monotonic() - since < quiet:
        time.sleep(0.05)
        now = count()
        if now != seen:
            seen, since = now, time.monotonic()


def transcript_events(path: str) -> list[dict[str, Any]]:
    """The events in qmpshell's transcript (``-l``), in order."""
    messages = [json.loads(line).get("msg") for line in Path(path).read_text().splitlines()]
    return [msg for msg in messages if isinstance(msg, dict) and "event" in msg]


def scripted(pairs: int, rate: float, env: dict[str, str], home: str) -> list[Figure]:
    """Events shown by scripted qmpshell (stdout a pipe): none lost, and the delay."""
    log = os.path.join(home, "events.jsonl")
    with qemu(EVENTS_MACHINE) as vm:
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
        make_events(vm.hmp, pairs, rate)
        settle(lambda: len(arrivals), 2 * pairs)
        proc.stdin.close()
        proc.wait(timeout=30)
        reader.join()
    delays = []
    for arrived, line in arrivals:
        message = json.loads(line)
        if "event" in message:
            delays.append(arrived - event_time(message))
    logged = transcript_events(log)
    made = rate_of([event_time(event) for event in logged])
    return [
        Figure(f"events, scripted: {2 * pairs:,} made", "shown / in transcript", len(delays),
               len(logged), "transcript", at_least(1, "x")),
        Figure(f"event display delay, scripted, at {made:,.0f} events/s", "p99 ms",
               percentile(delays, 99) * 1e3, target=under(50, "ms")),
    ]  # fmt: skip


def in_pty(
    spawner: Spawner, pairs: int, rate: float, env: dict[str, str], home: str
) -> tuple[list[Figure], list[Figure]]:
    """Events shown by the interactive shell in a pty while a line is half typed, made at
    ``rate`` (as far as QEMU keeps up: the rate reached is said): the p99 delay (figure
    8), the p50, none lost."""
    log = os.path.join(home, f"pty-events-{rate:g}.jsonl")
    with qemu(EVENTS_MACHINE) as vm:
        term = Terminal(spawner, [QMPSHELL, "--color", "always", "-l", log, vm.qmp], env)
        try:
            term.wait_for(rb"\(QEMU\)")
            time.sleep(0.3)
            term.send(b"query-st")  # a half-typed line while the events arrive
            make_events(vm.hmp, pairs, rate)
            settle(lambda: len(term.findall(EVENT_LINE)), 2 * pairs)
            time.sleep(0.2)
            matches = term.findall(EVENT_LINE)
            events = transcript_events(log)
            delays = [
                term.time_of(match.end()) - event_time(event)
                for match, event in zip(matches, events)
            ]
        finally:
            term.close()
    made = rate_of([event_time(event) for event in events])
    what = f"event display delay in a pty, {2 * pairs:,} events at {made:,.0f}/s"
    return [
        Figure(what, "p99 ms", percentile(delays, 99) * 1e3, target=under(30, "ms")),
    ], [
        Figure(what, "p50 ms", percentile(delays, 50) * 1e3),
        Figure(f"events, in a pty while typing: {2 * pairs:,} made", "shown / in transcript",
               len(matches), len(events), "transcript", at_least(1, "x")),
    ]  # fmt: skip
