"""Figures 3, 4 and 5: peak RSS of a one-line script given a 50 MB reply, 100,000 events
while its command waits, or a 10 MB input line, against the misbehaving peers; qmp-shell
alongside where it takes the same input."""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Callable

import peers
from measure import QMP_SHELL, QMPSHELL, Run, Spawner, median, rotations, run_tool
from qemu import qemu
from report import Figure, at_most

# A run is whole when it succeeded and this says nothing (else: what went wrong).
Verdict = Callable[[Run], str]


def compare(
    spawner: Spawner,
    runs: int,
    path: str,
    lines: dict[str, bytes],
    env: dict[str, str],
    verdict: Verdict,
) -> dict[str, tuple[float, str]]:
    """Each tool (``qmpshell``, ``qmp-shell``) given its one-line script on ``path``,
    interleaved: the median peak RSS (MiB) and why a run was not whole ("" when all were)."""
    argv = {"qmpshell": [QMPSHELL, path], "qmp-shell": [QMP_SHELL, path]}
    peaks: dict[str, list[float]] = {name: [] for name in lines}
    problems: dict[str, list[str]] = {name: [] for name in lines}
    for order in rotations(list(lines), runs):
        for name in order:
            run = run_tool(spawner, argv[name], env, lines[name])
            peaks[name].append(run.peak_mib)
            why = failure(run) or verdict(run)  # now: a verdict may ask the peer
            if why:
                problems[name].append(why)
    return {name: (median(peaks[name]), (problems[name] or [""])[0]) for name in lines}


def failure(run: Run) -> str:
    if run.status == 0:
        return ""
    if run.status < 0:
        return f"killed by signal {-run.status}"
    tail = run.err_tail.decode(errors="replace").strip().splitlines()
    said = tail[-1] if tail else ""
    if len(said) > 40:
        said = said[:40] + "…"
    return f"exit {run.status}: {said}" if said else f"exit {run.status}"


def figure(
    measure: str, results: dict[str, tuple[float, str]], limit: float, *, compared: bool = True
) -> Figure:
    ours, failed = results["qmpshell"]
    other, other_failed = results.get("qmp-shell", (None, ""))
    return Figure(
        measure, "peak RSS MiB", ours, other if compared else None,
        "qmp-shell" if compared and other is not None else "", at_most(limit, "MiB"),
        failed, other_failed,
    )  # fmt: skip


def big_reply(
    spawner: Spawner, runs: int, size: int, env: dict[str, str], warm: Callable[[str], None]
) -> list[Figure]:
    """A reply of ``size`` bytes: one string, and many small objects."""
    string = b"ringbuf-read device=ring0 size=%d\n" % size
    objects = b"qom-list path=/machine/peripheral\n"
    string_body, objects_body = peers.big_string(size), peers.qom_objects(size)
    answers = {
        "ringbuf-read": peers.big_reply(string_body),
        "qom-list": peers.big_reply(objects_body),
    }
    last_name = re.findall(rb'"dev\d+"', objects_body[-200:])[-1]

    mb = f"{size / 1e6:g} MB"
    with qemu() as vm, peers.peer(vm.aux, answers) as peer:
        warm(peer.path)
        figures = []
        for what, line, body, end in (
            ("one string (`ringbuf-read`)", string, string_body, b'blocks\\r\\n"'),
            ("small objects (`qom-list`)", objects, objects_body, last_name),
        ):
            results = compare(
                spawner, runs, peer.path, {"qmpshell": line, "qmp-shell": line}, env,
                shows_end(len(body), end),
            )  # fmt: skip
            figures.append(figure(f"a {mb} reply, {what}, scripted", results, 125))
    return figures


def shows_end(size: int, end: bytes) -> Verdict:
    """Whether a run showed a reply of ``size`` bytes whole: most of its bytes (tools print
    JSON with or without spaces) and ``end``, its last word, at the end."""

    def verdict(run: Run) -> str:
        if run.out_bytes < size * 0.8 or end not in run.out_tail:
            return f"reply not shown whole: {run.out_bytes:,} bytes"
        return ""

    return verdict


def events_while_waiting(
    spawner: Spawner, runs: int, count: int, env: dict[str, str], warm: Callable[[str], None]
) -> list[Figure]:
    """``count`` events between ``query-status`` and its reply."""
    events = peers.event_lines(count)
    answers = {"query-status": peers.flood_then_pass_on(events)}

    def replied(run: Run) -> str:
        return "" if b'"running"' in run.out_tail else "no reply shown"

    with qemu() as vm, peers.peer(vm.aux, answers) as peer:
        warm(peer.path)
        line = b"query-status\n"
        results = compare(
            spawner, runs, peer.path, {"qmpshell": line, "qmp-shell": line}, env, replied
        )
    return [figure(f"{count:,} events while a command waits, scripted", results, 50)]


def big_line(
    spawner: Spawner, runs: int, size: int, env: dict[str, str], warm: Callable[[str], None]
) -> list[Figure]:
    """An ``object-add`` of a secret with ``size`` bytes of base64 data, as raw JSON and
    as shorthand (qmp-shell takes only the shorthand)."""
    data = base64.b64encode(os.urandom(size * 3 // 4))
    arguments = b'"qom-type": "secret", "id": "sec0", "format": "base64", "data": "%s"' % data
    raw = b'{"execute": "object-add", "arguments": {%s}}\n' % arguments
    shorthand = b"object-add qom-type=secret id=sec0 format=base64 data=%s\n" % data
    mb = f"{size / 1e6:g} MB"
    with qemu() as vm, peers.peer(vm.aux, {"object-add": peers.accept_line}) as peer:
        warm(peer.path)

        def sent_whole(run: Run) -> str:
            largest, peer.largest_line = peer.largest_line, 0
            return "" if largest >= size else "the line was not sent whole"

        as_raw = compare(spawner, runs, peer.path, {"qmpshell": raw}, env, sent_whole)
        as_shorthand = compare(
            spawner, runs, peer.path, {"qmpshell": shorthand, "qmp-shell": shorthand}, env,
            sent_whole,
        )  # fmt: skip
    return [
        figure(f"a {mb} input line, raw JSON (`object-add` of a secret)", as_raw, 60),
        figure(f"a {mb} input line, shorthand (`object-add ... data=...`)", as_shorthand, 60),
    ]
