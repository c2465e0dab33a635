"""Replay mode (``--replay TRANSCRIPT``): a transcript's commands sent again, the replies
that differ from the recorded ones reported, and an exit status a CI job can go by."""

from __future__ import annotations

from ..errors import ConnectionLost, ExitStatus
from ..language.replydiff import IgnoredPaths
from ..session.replay import replay
from ..session.runner import LineRunner
from ..session.transcriptread import Step


async def run_replay(runner: LineRunner, steps: list[Step], ignored: IgnoredPaths) -> ExitStatus:
    """0 when every reply is as recorded and every wait ended as it did, 1 when one
    differs, 3 when the connection is lost (QEMU quitting as recorded aside)."""
    try:
        count = await replay(runner, steps, ignored)
    except ConnectionLost as exc:
        runner.output.error(f"{exc}; the replay stopped")
        return ExitStatus.CONNECTION
    if count.passed:
        runner.output.note(count.summary())
        return ExitStatus.OK
    runner.output.error(count.summary())
    return ExitStatus.COMMAND_FAILED
