"""``--replay``: a transcript's commands sent again, each reply compared with the one
recorded: a transcript becomes a regression test.

The commands go one at a time, in the recorded order, each with an id of ours (the
recorded id is dropped: ids are not compared). Where the recording waited for an event
(``/wait``) or a job (``/job wait``), the replay runs the same wait, from the same point
(events since the last command sent), before the next command. Each reply that differs,
outside the parts :mod:`qmpshell.language.replydiff` ignores, is said on one line; a
wait that fails counts as a difference. Events are not compared.
"""

from __future__ import annotations

from typing import Any

from ..errors import InputError
from ..language.replydiff import IgnoredPaths, describe, differences
from .events import EventFilter
from .lines import hmp_succeeded, qmp_succeeded
from .meta import check_wait, first_of
from .runner import LineRunner, settled
from .transcriptread import Await, Command, Step, Unsendable

Message = dict[str, Any]


class ReplayCount:
    """How a replay went, for its summary and exit status."""

    def __init__(self) -> None:
        self.replies = 0  # replies compared
        self.differing = 0  # of those, the ones that differ
        self.waits = 0
        self.failed_waits = 0
        self.unsent = 0  # commands that could not be sent again (a secret left out)

    @property
    def passed(self) -> bool:
        return not self.differing and not self.failed_waits

    def summary(self) -> str:
        """``3 of 40 replies differ``, and the waits that failed, the commands not sent."""
        if not self.replies and not self.waits and not self.unsent:
            return "nothing to replay: the transcript holds no command a line sent"
        verb = "differs" if self.differing == 1 else "differ"
        parts = []
        if self.differing:
            parts.append(f"{self.differing} of {self.replies} replies {verb}")
        elif self.replies or not self.failed_waits:
            parts.append(f"all {self.replies} replies as recorded")
        if self.failed_waits:
            parts.append(f"{self.failed_waits} of {self.waits} waits failed")
        if self.unsent:
            parts.append(f"{self.unsent} command{'s' if self.unsent != 1 else ''} not sent")
        return "; ".join(parts)


async def replay(runner: LineRunner, steps: list[Step], ignored: IgnoredPaths) -> ReplayCount:
    """Run ``steps`` against the runner's client; ConnectionLost propagates."""
    count = ReplayCount()
    runner.events.filter = EventFilter("none")  # the report is the differences only
    for step in steps:
        where = f"line {step.line}"
        if isinstance(step, Unsendable):
            count.unsent += 1
            runner.output.note(f"{where}: {step.name or 'a command'} {step.why}")
        elif isinstance(step, Await):
            count.waits += 1
            if not await _wait(runner, step, where):
                count.failed_waits += 1
        else:
            await _command(runner, step, ignored, count, where)
        if runner.client.quitting:
            break  # QEMU quits: nothing after it can be sent
    return count


async def _command(
    runner: LineRunner, step: Command, ignored: IgnoredPaths, count: ReplayCount, where: str
) -> None:
    message = {key: value for key, value in step.message.items() if key != "id"}
    name = step.name
    recorded = step.reply

    compared = []

    def compare(reply: Message) -> None:
        compared.append(True)
        if recorded is None:
            return  # none came when it was recorded (the connection ended first)
        count.replies += 1
        found = differences(recorded, reply, name, ignored)
        if found:
            count.differing += 1
            runner.output.error(f"{where}: {_title(step)}: {describe(found)}")

    def judge(sent: Message, reply: Message) -> bool:
        if name == "human-monitor-command":
            return hmp_succeeded(sent, reply)
        return qmp_succeeded(reply)

    await settled(runner.send(message, where, compare, judge))
    if recorded is not None and not compared:  # no reply in time: said already
        count.replies += 1
        count.differing += 1


async def _wait(runner: LineRunner, step: Await, where: str) -> bool:
    """Wait as the recording did; False when the wait failed (and said why)."""
    wait = step.wait
    if "job" in wait:  # as /job wait does (its progress on a terminal's stderr)
        return await runner.meta.run(wait_line(wait), where)
    pattern = str(wait["event"])
    data = wait.get("data")
    conditions = data if isinstance(data, dict) else {}
    await runner.schema_load.ensure()
    if runner.parser.schema is not None:
        try:  # an event this QEMU never sends: said at once, not after the timeout
            check_wait(runner.parser.schema, pattern, conditions)
        except InputError as exc:
            runner.output.error(f"{where}: /wait {pattern}: {exc}")
            return False
    timeout = _seconds(wait.get("timeout"), runner.timeout)
    found = await first_of(
        runner.events.wait(pattern, runner.wait_from, conditions, timeout), runner.client
    )
    if found is None:
        runner.output.error(f"{where}: /wait {pattern}: no such event within {timeout:g}s")
        return False
    runner.wait_from = found[0] + 1  # as /wait does: the next wait looks past it
    return True


def _seconds(value: Any, default: float | None) -> float | None:
    """A recorded timeout, or the session's (None: for ever)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < 1e9:
        return float(value)
    return default


def _title(step: Command) -> str:
    """The command, as a reader finds it: its name, or the HMP line it ran."""
    arguments = step.message.get("arguments")
    if step.name == "human-monitor-command" and isinstance(arguments, dict):
        return f"HMP '{arguments.get('command-line', '')}'"
    return step.name or "a command"


def wait_line(wait: Message) -> str:
    """The ``/job wait`` that waits as a transcript's wait line says."""
    timeout = _seconds(wait.get("timeout"), None)
    return f"/job wait {wait['job']}" + (f" {timeout:g}" if timeout else "")
