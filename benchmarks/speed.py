"""Figures 1 and 2: one command (wall time, peak RSS) and 2,000 piped commands, against
QEMU's qmp-shell and the benchmark's raw clients, on a real ``-machine none`` QEMU."""

from __future__ import annotations

from collections.abc import Callable

from measure import QMP_SHELL, QMPSHELL, Run, Spawner, median, rotations, run_tool
from qemu import RawClient, qemu
from report import Figure, at_most

QUERY = b"query-status\n"
RAW_QUERY = b'{"execute":"query-status"}'


def one_command(spawner: Spawner, runs: int, env: dict[str, str]) -> list[Figure]:
    """``qmpshell -c query-status``, ``echo query-status | qmpshell`` and
    ``echo query-status | qmp-shell``, interleaved."""
    with qemu() as vm:
        tools: dict[str, Callable[[], Run]] = {
            "-c": lambda: run_tool(spawner, [QMPSHELL, "-c", "query-status", vm.qmp], env),
            "stdin": lambda: run_tool(spawner, [QMPSHELL, vm.qmp], env, QUERY),
            "qmp-shell": lambda: run_tool(spawner, [QMP_SHELL, vm.qmp], env, QUERY),
        }
        for name, tool in tools.items():  # the schema cache, and the page cache
            tool().check(name)
        results: dict[str, list[Run]] = {name: [] for name in tools}
        for order in rotations(list(tools), runs):
            for name in order:
                results[name].append(tools[name]().check(name))

    def wall(name: str) -> float:
        return median([run.wall for run in results[name]]) * 1e3

    def peak(name: str) -> float:
        return median([run.peak_mib for run in results[name]])

    return [
        Figure("one command: `qmpshell -c query-status`", "wall ms", wall("-c"),
               wall("qmp-shell"), "qmp-shell", at_most(0.6, "x")),
        Figure("one command: `echo query-status | qmpshell`", "wall ms", wall("stdin"),
               wall("qmp-shell"), "qmp-shell", at_most(0.6, "x")),
        Figure("one command: `qmpshell -c query-status`", "peak RSS MiB", peak("-c"),
               peak("qmp-shell"), "qmp-shell", at_most(1.0, "x")),
        Figure("one command: `echo query-status | qmpshell`", "peak RSS MiB",
               peak("stdin"), peak("qmp-shell"), "qmp-shell", at_most(1.0, "x")),
    ]  # fmt: skip


def piped(
    spawner: Spawner, runs: int, count: int, env: dict[str, str]
) -> tuple[list[Figure], list[Figure]]:
    """``count`` piped ``query-status`` lines, per command net of start-up, against
    qmp-shell and the raw clients, interleaved: the figures with targets (qmp-shell, the
    pipelined client), and the lock-step floor."""
    script = QUERY * count

    def net(tool: str, path: str) -> float:
        one = run_tool(spawner, [tool, path], env, QUERY).check(tool).wall
        many = run_tool(spawner, [tool, path], env, script).check(tool).wall
        return (many - one) / (count - 1)

    def raw(pipelined: bool, path: str) -> float:
        client = RawClient(path)
        try:
            if pipelined:
                return client.pipelined(RAW_QUERY, count) / count
            return client.lock_step(RAW_QUERY, count) / count
        finally:
            client.close()

    with qemu() as vm:
        ways: dict[str, Callable[[], float]] = {
            "qmpshell": lambda: net(QMPSHELL, vm.qmp),
            "qmp-shell": lambda: net(QMP_SHELL, vm.qmp),
            "pipelined": lambda: raw(True, vm.qmp),
            "lock-step": lambda: raw(False, vm.qmp),
        }
        for way in ways.values():
            way()
        results: dict[str, list[float]] = {name: [] for name in ways}
        for order in rotations(list(ways), runs):
            for name in order:
                results[name].append(ways[name]())
    us = {name: median(values) * 1e6 for name, values in results.items()}
    what = f"{count:,} piped `query-status`"
    unit = "µs per command, net of start-up"
    return [
        Figure(what, unit, us["qmpshell"], us["qmp-shell"], "qmp-shell", at_most(0.5, "x")),
        Figure(what, unit, us["qmpshell"], us["pipelined"], "raw pipelined client",
               at_most(1.15, "x")),
    ], [Figure(what, unit, us["qmpshell"], us["lock-step"], "raw lock-step client")]  # fmt: skip
