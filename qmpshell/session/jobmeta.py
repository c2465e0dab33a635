"""``/jobs`` and ``/job wait``: the job table shown, and waiting for one job's end.

``/job wait ID [TIMEOUT]`` ends when the job concludes or is dismissed, says how it
ended, and fails when it failed or was cancelled (exit 1 in a script); a lost connection
ends it at once. While it waits, the interactive shell's status line shows the job's bar
(:class:`JobWaiting`) and a script whose stderr is a terminal draws it there
(``Display.progress``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import ConnectionLost
from .jobpoll import JobWatch
from .jobs import Job
from .jobtext import progress_line, table

if TYPE_CHECKING:
    from .runner import LineRunner

BUSY_WIDTH = 60  # the bar's width in the interactive status line while /job wait waits


async def show_jobs(runner: LineRunner) -> bool:
    """``/jobs``: the running and recently ended jobs, the migration among them, as
    QEMU has them now (events do not say a job's type or progress)."""
    watch = runner.jobs
    await watch.refresh()  # a migration sends no events unless asked to (capability)
    runner.output.long_text(table(watch.table.all()))
    return True


@dataclass(frozen=True)
class JobWaiting:
    """What ``/job wait`` waits for, for the status line: the job's bar, time left."""

    watch: JobWatch
    ident: str
    deadline: float | None

    def describe(self, now: float) -> str:
        job = self.watch.table.get(self.ident)
        shown = progress_line(job, BUSY_WIDTH) if job is not None else self.ident
        if self.deadline is None:
            return f"waiting for {shown} (Ctrl-C stops)"
        left = max(self.deadline - now, 0.0)
        return f"waiting for {shown}, {left:.0f}s left (Ctrl-C stops)"


async def wait_job(runner: LineRunner, ident: str, deadline: float | None, where: str) -> bool:
    """Wait until job ``ident`` has ended (or the loop's clock reaches ``deadline``);
    True when it concluded (a migration: completed)."""
    watch = runner.jobs
    output = runner.output
    prefix = f"{where}: " if where else ""
    job = watch.table.get(ident)
    if job is None or job.running:
        try:
            await watch.refresh()  # a job we have not heard of, or how it is by now
        except ConnectionLost as exc:
            raise ConnectionLost(f"{exc} while waiting for job {ident}") from None
        job = watch.table.get(ident)
    if job is None:
        running = ", ".join(known.id for known in watch.table.running())
        runs = f"running: {running}" if running else "none runs"
        output.error(f"{prefix}/job wait: no job '{ident}' ({runs})")
        return False
    watch.waited.add(ident)
    watch.follow()
    try:
        if not await _until_ended(runner, job, deadline):
            output.error(f"{prefix}/job wait {ident}: still {job.state} at the timeout")
            return False
    finally:
        watch.waited.discard(ident)
        output.progress(None)
    if job.succeeded:
        output.note(job.ending())
        return True
    output.error(f"{prefix}{job.ending()}")
    return False


async def _until_ended(runner: LineRunner, job: Job, deadline: float | None) -> bool:
    """Until ``job`` has ended (True) or the deadline has passed (False); the bar drawn
    at each change; ConnectionLost at once if the connection ends first."""
    client = runner.client
    loop = asyncio.get_running_loop()
    closed = asyncio.ensure_future(client.wait_closed())
    try:
        while job.running:
            runner.output.progress(progress_line(job, runner.output.progress_width - 1))
            left = None if deadline is None else deadline - loop.time()
            if left is not None and left <= 0:
                return False
            change = asyncio.ensure_future(runner.jobs.changed())
            try:
                await asyncio.wait(
                    {change, closed}, timeout=left, return_when=asyncio.FIRST_COMPLETED
                )
            finally:
                change.cancel()
            if closed.done() and job.running:
                reason = client.disconnect_reason
                raise ConnectionLost(
                    f"{reason or 'connection lost'} while waiting for job {job.id}"
                )
        return True
    finally:
        closed.cancel()
