"""Keeping the job table true while something runs: :class:`JobWatch` hears every event,
hears which commands started a job, and while any job or a migration runs asks QEMU
(``query-jobs``, ``query-migrate``) about twice a second; when nothing runs it asks
nothing. It says when a job ended (one line, in the interactive shell), wakes whoever
waits for one (``/job wait``), and tells its listeners (the toolbar) after each change.

A script sends what it says and nothing else (its transcript is its lines): there the
watch asks QEMU only while a ``/job wait`` waits, and ``/jobs`` asks once; events keep
the table meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import CommandError, ConnectionLost, ReplyTimeout
from ..protocol.client import QMPClient
from .display import Display
from .jobs import Job, JobTable

POLL_SECONDS = 0.5

# Commands whose success means a job now runs (or the migration does), QMP's and HMP's.
JOB_COMMANDS = frozenset(
    {
        "blockdev-mirror",
        "blockdev-backup",
        "block-stream",
        "block-commit",
        "drive-mirror",
        "drive-backup",
        "blockdev-create",
        "blockdev-amend",
        "x-blockdev-amend",
        "snapshot-save",
        "snapshot-load",
        "snapshot-delete",
        "job-resume",
        "block-job-resume",
        "transaction",
        "drive_mirror",
        "drive_backup",
        "block_stream",
        "block_job_resume",
    }
)
MIGRATION_COMMANDS = frozenset(
    {"migrate", "migrate-incoming", "migrate-resume", "migrate_incoming"}
)


class JobWatch:
    """The session's :class:`JobTable`, kept up to date by events and polling."""

    def __init__(self, client: QMPClient, output: Display, *, timeout: float | None) -> None:
        self.client = client
        self.output = output
        self.timeout = timeout or 5.0  # a poll never waits longer than this for its reply
        self.table = JobTable()
        self.listeners: list[Callable[[], None]] = []  # told after each change
        self.waited: set[str] = set()  # ids a /job wait waits for: it says their end
        self._kicked = {"jobs": False, "migration": False}
        self._no_migrate = False  # no query-migrate (qemu-storage-daemon)
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._changed: asyncio.Event | None = None

    # -- what it hears ------------------------------------------------------------------

    def on_event(self, event: Mapping[str, Any]) -> None:
        """The client's event handler: every event, as it arrives."""
        name = event.get("event")
        if name not in ("JOB_STATUS_CHANGE", "MIGRATION") and not (
            isinstance(name, str) and name.startswith("BLOCK_JOB_")
        ):
            return
        self._ended(self.table.event(event, _now()))
        self._changed_now()
        self._poll_soon()

    def replied(self, message: Mapping[str, Any], reply: Mapping[str, Any]) -> None:
        """A command (QMP, or HMP through ``human-monitor-command``) was answered: one
        that starts a job starts the polling too, should its events not say so."""
        if "return" not in reply:
            return
        name = message.get("execute")
        arguments = message.get("arguments")
        if name == "human-monitor-command" and isinstance(arguments, Mapping):
            line = arguments.get("command-line")
            name = line.split(maxsplit=1)[0] if isinstance(line, str) and line.split() else ""
        if name in JOB_COMMANDS:
            if isinstance(arguments, Mapping) and isinstance(name, str):
                self.table.started(name, arguments)
            self._kicked["jobs"] = True
        elif name in MIGRATION_COMMANDS:
            self._kicked["migration"] = True
        else:
            return
        self._poll_soon()

    # -- waiting ------------------------------------------------------------------------

    async def changed(self) -> None:
        """Until the table next changes."""
        if self._changed is None:
            self._changed = asyncio.Event()
        await self._changed.wait()

    def follow(self) -> None:
        """Poll while anything runs (a /job wait started on what refresh found)."""
        if self.table.running():
            self._poll_soon()

    async def refresh(self) -> None:
        """Ask QEMU once now (``/jobs``; ``/job wait`` on a job not heard of yet), and
        go on polling if something runs."""
        await self._poll(jobs=True, migration=not self._no_migrate)
        self.follow()

    # -- polling ------------------------------------------------------------------------

    @property
    def _may_poll(self) -> bool:
        return self.output.interactive or bool(self.waited)

    def _poll_soon(self) -> None:
        if not self._may_poll:
            return
        if self._wake is None:
            self._wake = asyncio.Event()
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        while True:
            jobs = self._kicked["jobs"] or self.table.jobs_running
            migration = (self._kicked["migration"] or self.table.migration_running) and not (
                self._no_migrate
            )
            if not self._may_poll:
                return  # the kicks stay, for the next /job wait
            self._kicked = {"jobs": False, "migration": False}
            if not (jobs or migration) or not self.client.is_connected:
                return
            if self._wake is not None:
                self._wake.clear()
            try:
                await self._poll(jobs=jobs, migration=migration)
            except ConnectionLost:
                return
            await self._pause()

    async def _pause(self) -> None:
        """Half a second, or less when an event asks for a look now (a job concluded)."""
        assert self._wake is not None
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)
        if self._wake.is_set():  # woken: give the rest of a burst of events a moment
            await asyncio.sleep(0.05)

    async def _poll(self, *, jobs: bool, migration: bool) -> None:
        if jobs:
            with contextlib.suppress(CommandError, ReplyTimeout):
                asked = _now()
                reply = await self.client.execute("query-jobs", timeout=self.timeout)
                self._ended(self.table.jobs_reply(reply, _now(), asked))
        if migration:
            asked = _now()
            try:
                info = await self.client.execute("query-migrate", timeout=self.timeout)
            except CommandError:
                self._no_migrate = True
            except ReplyTimeout:
                pass
            else:
                self._ended(self.table.migration_reply(info, _now(), asked))
        self._changed_now()

    def _changed_now(self) -> None:
        if self._changed is not None:
            self._changed.set()
            self._changed = None
        for listener in self.listeners:
            listener()

    def _ended(self, jobs: list[Job]) -> None:
        if not self.output.interactive:
            return
        for job in jobs:
            if job.id in self.waited:
                continue
            say = self.output.note if job.succeeded else self.output.error
            say(job.ending())

    async def reconnected(self) -> None:
        """The connection is back (``--reconnect``), maybe to another QEMU: ask what
        still runs; what no longer does ended unseen."""
        self.table.lost()
        if self.table.running():
            await self.refresh()

    async def close(self) -> None:
        """Stop polling (the session ends)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


def _now() -> float:
    return asyncio.get_running_loop().time()
