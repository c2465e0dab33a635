"""Figure 9 (issue 21): one script on a fleet of QEMUs, ``qmpshell -c query-status SOCK1
... SOCK50``, against the loop people run today, one qmp-shell per VM: wall time, and the
most memory the whole tree of processes held at once."""

from __future__ import annotations

from contextlib import ExitStack

from measure import QMP_SHELL, QMPSHELL, Run, Spawner, median, rotations, run_tool
from qemu import qemu
from report import Figure

LOOP = 'for sock; do echo query-status | "$0" "$sock" || exit 1; done'


def fleet(spawner: Spawner, count: int, runs: int, env: dict[str, str]) -> list[Figure]:
    """``count`` QEMUs (``-machine none``), each asked ``query-status``: qmpshell's
    fan-out (its default ``--jobs``) against a shell loop of qmp-shell, interleaved."""
    with ExitStack() as stack:
        socks = [stack.enter_context(qemu()).qmp for _ in range(count)]
        argv = {
            "fan-out": [QMPSHELL, "-c", "query-status", *socks],
            "loop": ["/bin/sh", "-c", LOOP, QMP_SHELL, *socks],
        }

        def tool(name: str, tree: bool = False) -> Run:
            return _check(run_tool(spawner, argv[name], env, tree=tree), name, count)

        for name in argv:  # the schema cache, the page cache
            tool(name)
        # Wall time without the sampler (it reads /proc every few ms, and would take a
        # core of two from the tools), then the tree's memory in rounds of their own.
        results: dict[str, list[Run]] = {name: [] for name in argv}
        trees: dict[str, list[Run]] = {name: [] for name in argv}
        for order in rotations(list(argv), runs):
            for name in order:
                results[name].append(tool(name))
                trees[name].append(tool(name, tree=True))

    def wall(name: str) -> float:
        return median([run.wall for run in results[name]]) * 1e3

    def peak(name: str) -> float:
        return median([run.tree_peak_kib for run in trees[name]]) / 1024

    what = f"`qmpshell -c query-status` on {count} QEMUs at once"
    other = "a shell loop of qmp-shell, one VM at a time"
    return [
        Figure(what, "wall ms", wall("fan-out"), wall("loop"), other),
        Figure(what, "peak RSS of all its processes, MiB", peak("fan-out"), peak("loop"), other),
    ]


def _check(run: Run, name: str, count: int) -> Run:
    run.check(name)
    lines = run.out_bytes  # every VM answered: at least one line each
    if lines < count * len('{"return":{}}'):
        raise RuntimeError(f"{name}: {lines} bytes of output for {count} QEMUs")
    return run
