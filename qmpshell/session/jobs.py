"""Long work QEMU does in the background: block jobs and migration, as one table.

Pure state, no I/O: a :class:`JobTable` is fed events (``JOB_STATUS_CHANGE``,
``BLOCK_JOB_*``, ``MIGRATION``) and the replies of ``query-jobs`` and ``query-migrate``,
each with the time it came (the loop's clock), and says which jobs run, how far each has
got, how fast it goes (bytes per second over the last few samples), how long it has
left, and how each one ended. Who asks QEMU, and when, is :mod:`.jobpoll`'s.

How a job ended is read from what QEMU said on its way out: ``BLOCK_JOB_CANCELLED``
(cancelled), ``BLOCK_JOB_COMPLETED`` with ``error`` or ``query-jobs``' ``error``
(failed, with that text), else concluded. A job QEMU dismissed by itself (``auto-dismiss``,
the default) ends at its ``null`` state, or when ``query-jobs`` no longer lists it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# A job in one of these states is still QEMU's business; "concluded" and "null" are ends.
JOB_RUNNING = frozenset(
    {
        "undefined",
        "created",
        "running",
        "paused",
        "ready",
        "standby",
        "waiting",
        "pending",
        "aborting",
    }
)
JOB_ENDED = frozenset({"concluded", "null"})
# query-migrate's statuses: while one of these, a migration runs (or is being cancelled).
MIGRATION_RUNNING = frozenset(
    {
        "setup",
        "active",
        "cancelling",
        "postcopy-active",
        "postcopy-paused",
        "postcopy-recover",
        "postcopy-recover-setup",
        "pre-switchover",
        "device",
        "wait-unplug",
        "colo",
    }
)
MIGRATION_ENDED = {"completed": "completed", "failed": "failed", "cancelled": "cancelled"}

# The type of job each command starts, known from its reply before query-jobs says it.
JOB_TYPES = {
    "blockdev-backup": "backup",
    "drive-backup": "backup",
    "blockdev-mirror": "mirror",
    "drive-mirror": "mirror",
    "block-stream": "stream",
    "block-commit": "commit",
    "blockdev-create": "create",
    "blockdev-amend": "amend",
    "x-blockdev-amend": "amend",
}

MIGRATION = "migration"  # the id the table gives the migration (QEMU runs one at a time)
RATE_SECONDS = 3.0  # the rate is measured over the samples of the last few seconds
KEEP_ENDED = 16  # ended jobs kept for /jobs, the newest


@dataclass
class Job:
    """One job as far as the table knows it; ``outcome`` is None while it runs."""

    id: str
    type: str = "job"
    state: str = "created"
    current: int | None = None  # bytes (work units) done
    total: int | None = None  # of how many
    remaining: int | None = None  # migration: RAM still to send (dirtied pages come back)
    error: str | None = None
    io_error: str | None = None  # BLOCK_JOB_ERROR's, which the job may live through
    cancelled: bool = False  # BLOCK_JOB_CANCELLED, or a migration's "cancelled"
    lost: bool = False  # running when the connection was lost, not seen since
    # "concluded", "completed", "cancelled", "failed", or "unknown" (gone while the
    # connection was lost)
    outcome: str | None = None
    started: float = 0.0
    ended: float | None = None
    # (when, current, done): done is current but for a migration, whose RAM left to go
    # shrinks faster than bytes are sent (a zero page costs a few bytes).
    samples: deque[tuple[float, int, int]] = field(default_factory=deque)
    hinted_rate: float | None = None  # migration's own figure (ram.mbps), until we measure

    @property
    def running(self) -> bool:
        return self.outcome is None

    @property
    def succeeded(self) -> bool:
        return self.outcome in ("concluded", "completed")

    @property
    def percent(self) -> float | None:
        """How far it has got, 0 to 100; None while QEMU does not know the total."""
        if self.total is None or self.total <= 0:
            return 100.0 if self.outcome is not None and self.succeeded else None
        if self.remaining is not None:
            done = self.total - self.remaining
        elif self.current is not None:
            done = self.current
        else:
            return None
        return min(max(done * 100.0 / self.total, 0.0), 100.0)

    def _per_second(self, which: int) -> float | None:
        if len(self.samples) < 2:
            return None
        first, last = self.samples[0], self.samples[-1]
        if last[0] - first[0] <= 0 or last[which] < first[which]:
            return None
        return (last[which] - first[which]) / (last[0] - first[0])

    @property
    def rate(self) -> float | None:
        """Bytes per second over the samples kept (the last :data:`RATE_SECONDS`)."""
        measured = self._per_second(1)
        return self.hinted_rate if measured is None else measured

    @property
    def time_left(self) -> float | None:
        """Seconds until done at the pace of the last samples; None when it cannot be
        told (paused, no total yet, nothing moved)."""
        pace = self._per_second(2)
        if not self.running or not pace or self.total is None or not self.samples:
            return None
        return max(self.total - self.samples[-1][2], 0) / pace

    def sample(self, now: float, current: int, done: int | None = None) -> None:
        """Progress seen at ``now``: ``current`` bytes moved, ``done`` of the total
        (``current`` unless told)."""
        done = current if done is None else done
        if self.samples and current < self.samples[-1][1]:
            self.samples.clear()  # went backwards (a new pass): start measuring afresh
        if self.samples and now <= self.samples[-1][0]:
            self.samples[-1] = (now, current, done)
        else:
            self.samples.append((now, current, done))
        while len(self.samples) > 2 and now - self.samples[0][0] > RATE_SECONDS:
            self.samples.popleft()

    def ending(self) -> str:
        """The one line that says how it ended: ``job b0 (backup) concluded``."""
        what = "migration" if self.id == MIGRATION else f"job {self.id} ({self.type})"
        if self.outcome == "failed":
            return f"{what} failed: {self.error}" if self.error else f"{what} failed"
        if self.outcome == "unknown":
            return f"{what} is gone; how it ended is not known (the connection was lost)"
        return f"{what} {self.outcome or self.state}"


class JobTable:
    """The jobs and the migration QEMU runs, and those that ended lately."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}  # in the order they were first seen
        self._ended: deque[str] = deque()  # ids of ended jobs, oldest first

    def get(self, ident: str) -> Job | None:
        return self._jobs.get(ident)

    def all(self) -> list[Job]:
        """Every job kept: running ones, then those that ended, each in order seen."""
        jobs = list(self._jobs.values())
        return [job for job in jobs if job.running] + [job for job in jobs if not job.running]

    def running(self) -> list[Job]:
        return [job for job in self._jobs.values() if job.running]

    @property
    def jobs_running(self) -> bool:
        """Whether some job (not the migration) runs: query-jobs is worth asking."""
        return any(job.running and job.id != MIGRATION for job in self._jobs.values())

    @property
    def migration_running(self) -> bool:
        job = self._jobs.get(MIGRATION)
        return job is not None and job.running

    # -- what QEMU says ---------------------------------------------------------------

    def event(self, event: Mapping[str, Any], now: float) -> list[Job]:
        """Take one event; the jobs it ended."""
        name = event.get("event")
        data = event.get("data")
        if not isinstance(data, Mapping):
            return []
        if name == "MIGRATION":
            status = _text(data.get("status"))
            if status is None or status == "none":
                return []
            job = self._migration(status, now)
            job.state = status
            # A failed migration's reason is in query-migrate only: its poll ends it.
            if status in MIGRATION_ENDED and status != "failed":
                return self._end(job, MIGRATION_ENDED[status], now)
            return []
        if name == "JOB_STATUS_CHANGE":
            ident, status = _text(data.get("id")), _text(data.get("status"))
            if ident is None or status is None:
                return []
            job = self._job(ident, now, fresh=status == "created")
            job.state = status
            # Concluded but not dismissed: query-jobs has its error, and its poll ends it.
            if status == "null" and job.running:
                return self._end(job, self._outcome(job), now)
            return []
        if isinstance(name, str) and name.startswith("BLOCK_JOB_"):
            ident = _text(data.get("device")) or _text(data.get("id"))
            if ident is None:
                return []
            job = self._job(ident, now)
            kind = _text(data.get("type"))
            if kind is not None:
                job.type = kind
            offset, length = _count(data.get("offset")), _count(data.get("len"))
            if offset is not None and length is not None:
                job.current, job.total = offset, length
                job.sample(now, offset)
            if name == "BLOCK_JOB_CANCELLED":
                job.cancelled = True
            elif name == "BLOCK_JOB_COMPLETED":
                error = _text(data.get("error"))
                if error is not None:
                    job.error = error
            elif name == "BLOCK_JOB_ERROR":
                operation = _text(data.get("operation")) or "I/O"
                job.io_error = f"{operation} error ({_text(data.get('action')) or 'reported'})"
        return []

    def jobs_reply(self, jobs: Any, now: float, asked: float | None = None) -> list[Job]:
        """Take ``query-jobs``' return value (asked for at ``asked``, default ``now``);
        the jobs it shows ended (concluded, or no longer listed: dismissed)."""
        asked = now if asked is None else asked
        if not isinstance(jobs, list):
            return []
        listed: set[str] = set()
        ended: list[Job] = []
        for info in jobs:
            if not isinstance(info, Mapping):
                continue
            ident, status = _text(info.get("id")), _text(info.get("status"))
            if ident is None or status is None:
                continue
            listed.add(ident)
            job = self._job(ident, now, fresh=status in JOB_RUNNING, asked=asked)
            if not job.running and job.ended is not None and job.ended >= asked:
                continue  # asked before it ended: the reply says less than the events did
            job.lost = False
            job.type = _text(info.get("type")) or job.type
            job.state = status
            current, total = (
                _count(info.get("current-progress")),
                _count(info.get("total-progress")),
            )
            if current is not None:
                job.current = current
                job.sample(now, current)
            if total is not None:
                job.total = total
            error = _text(info.get("error"))
            if error is not None:
                job.error = error
            if status in JOB_ENDED and job.running:
                ended += self._end(job, self._outcome(job), now)
        for job in self.running():
            if job.id != MIGRATION and job.id not in listed and job.started <= asked:
                job.state = "null"
                ended += self._end(job, self._outcome(job), now)
        return ended

    def migration_reply(self, info: Any, now: float, asked: float | None = None) -> list[Job]:
        """Take ``query-migrate``'s return value (asked for at ``asked``, default
        ``now``); the migration, if it ended."""
        asked = now if asked is None else asked
        if not isinstance(info, Mapping):
            return []
        status = _text(info.get("status"))
        if status is None or status == "none":
            known = self._jobs.get(MIGRATION)
            if known is not None and known.running and known.lost:  # another QEMU now
                return self._end(known, "unknown", now)
            return []
        job = self._migration(status, now, asked)
        if not job.running and job.ended is not None and job.ended >= asked:
            return []  # asked before it ended
        job.lost = False
        job.state = status
        ram = info.get("ram")
        if isinstance(ram, Mapping):
            transferred = _count(ram.get("transferred"))
            job.total = _count(ram.get("total"))
            job.remaining = _count(ram.get("remaining"))
            if transferred is not None:
                job.current = transferred
                left = job.remaining
                done = job.total - left if job.total is not None and left is not None else None
                job.sample(now, transferred, done)
            mbps = ram.get("mbps")
            if isinstance(mbps, (int, float)) and not isinstance(mbps, bool) and mbps > 0:
                job.hinted_rate = mbps * 1e6 / 8
        error = _text(info.get("error-desc"))
        if error is not None:
            job.error = error
        if status in MIGRATION_ENDED and job.running:
            return self._end(job, MIGRATION_ENDED[status], now)
        return []

    def started(self, command: str, arguments: Mapping[str, Any]) -> None:
        """``command`` succeeded: the job it started (whose events came first) has the
        type it makes; its id is ``job-id``, or the ``device`` by default."""
        kind = JOB_TYPES.get(command)
        ident = _text(arguments.get("job-id")) or _text(arguments.get("device"))
        job = self._jobs.get(ident) if ident is not None else None
        if kind is not None and job is not None and job.running and job.type == "job":
            job.type = kind

    # -- keeping ----------------------------------------------------------------------

    def _job(
        self, ident: str, now: float, *, fresh: bool = False, asked: float | None = None
    ) -> Job:
        """The job of that id; a new one when ``fresh`` and the one kept has ended (ids
        are used again: ``job0`` after ``job0``), unless what says so was asked for
        before it ended (at ``asked``)."""
        job = self._jobs.get(ident)
        stale = asked is not None and job is not None and (job.ended or 0.0) >= asked
        if job is None or (fresh and not job.running and not stale):
            if job is not None:
                self._ended.remove(ident)
                del self._jobs[ident]
            job = self._jobs[ident] = Job(ident, started=now)
        return job

    def _migration(self, status: str, now: float, asked: float | None = None) -> Job:
        job = self._job(MIGRATION, now, fresh=status in MIGRATION_RUNNING, asked=asked)
        job.type = MIGRATION
        return job

    def _outcome(self, job: Job) -> str:
        if job.cancelled:
            return "cancelled"
        if job.error is not None:
            return "failed"
        return "unknown" if job.lost else "concluded"

    def lost(self) -> None:
        """The connection was lost (and is back): what ran may have ended unseen, or
        run on; the next replies tell which (a job they do not show ended unknown)."""
        for job in self.running():
            job.lost = True

    def _end(self, job: Job, outcome: str, now: float) -> list[Job]:
        job.outcome = outcome
        job.ended = now
        if outcome == "cancelled":
            job.cancelled = True
        self._ended.append(job.id)
        while len(self._ended) > KEEP_ENDED:
            del self._jobs[self._ended.popleft()]
        return [job]


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
