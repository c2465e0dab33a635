"""Events after they arrive: the log of all of them, the filter for display, and waiting.

Every event the client delivers is appended to an :class:`EventLog`, whether it is shown
or not; the :class:`EventFilter` only decides what reaches the screen. ``/wait`` looks in
the log from the moment the last command was sent, so ``device_del`` followed by
``/wait DEVICE_DELETED`` finds the event even if it arrived before ``/wait`` was typed.
"""

from __future__ import annotations

import fnmatch
import re
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import InputError

if TYPE_CHECKING:
    import asyncio

Event = dict[str, Any]

LOG_LIMIT = 100_000  # events kept for /events and /wait; the transcript keeps them all


class EventFilter:
    """Which events are shown: ``all``, ``none``, or names and globs (``BLOCK_*``)."""

    def __init__(self, spec: str = "all") -> None:
        text = spec.strip()
        if not text:
            raise InputError("empty event filter: use all, none or NAME,GLOB,...", 0)
        self.spec = text
        self._all = text.lower() == "all"
        self._none = text.lower() == "none"
        patterns = [p for p in re.split(r"[,\s]+", text) if p]
        self.patterns = tuple(patterns)
        self._match = re.compile(
            "|".join(fnmatch.translate(p) for p in patterns), re.IGNORECASE
        ).match

    def shows(self, name: str) -> bool:
        if self._all:
            return True
        if self._none:
            return False
        return self._match(name) is not None

    def __str__(self) -> str:
        return self.spec


def data_matches(event: Event, conditions: Mapping[str, Any]) -> bool:
    """True when each ``key`` (dotted for nested data) of ``conditions`` equals the event's."""
    for key, wanted in conditions.items():
        value: Any = event.get("data", {})
        for part in key.split("."):
            if not isinstance(value, dict) or part not in value:
                return False
            value = value[part]
        if value != wanted and str(value) != str(wanted):
            return False
    return True


class EventLog:
    """All events of a session, numbered in arrival order, with display and waiting."""

    def __init__(
        self,
        show: Callable[[Event], None],
        event_filter: EventFilter | None = None,
        limit: int = LOG_LIMIT,
    ) -> None:
        self._show = show
        self.filter = event_filter or EventFilter()
        self._events: deque[Event] = deque(maxlen=limit)
        self.total = 0  # events ever received; the number of the next one
        self.unseen = 0  # filtered out since the user last listed the log
        self._waiters: list[tuple[Callable[[Event], bool], asyncio.Future[tuple[int, Event]]]] = []

    def __call__(self, event: Event) -> None:
        """Take one event from the client (an event handler)."""
        self._events.append(event)
        self.total += 1
        name = str(event.get("event", ""))
        if self.filter.shows(name):
            self._show(event)
        else:
            self.unseen += 1
        for predicate, future in list(self._waiters):
            if not future.done() and predicate(event):
                future.set_result((self.total - 1, event))

    def since(self, number: int) -> list[tuple[int, Event]]:
        """The events numbered ``number`` and later that are still in the log."""
        first = self.total - len(self._events)
        start = max(number, first)
        return [(n, self._events[n - first]) for n in range(start, self.total)]

    def events(self) -> Iterable[Event]:
        return iter(self._events)

    def clear(self) -> None:
        self._events.clear()
        self.unseen = 0

    async def wait(
        self,
        pattern: str,
        since: int,
        conditions: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> tuple[int, Event] | None:
        """The first event numbered ``since`` or later whose name matches ``pattern`` (a
        glob) and whose data match ``conditions``; waits for it up to ``timeout``
        seconds (None: for ever). None when it did not come."""
        match = re.compile(fnmatch.translate(pattern), re.IGNORECASE).match
        conditions = conditions or {}

        def wanted(event: Event) -> bool:
            return match(str(event.get("event", ""))) is not None and data_matches(
                event, conditions
            )

        for number, event in self.since(since):
            if wanted(event):
                return number, event
        import asyncio

        future: asyncio.Future[tuple[int, Event]] = asyncio.get_running_loop().create_future()
        entry = (wanted, future)
        self._waiters.append(entry)
        try:
            return await asyncio.wait_for(future, timeout)
        except asyncio.TimeoutError:
            return None
        finally:
            self._waiters.remove(entry)


# How the run state (as query-status names it) changes with each event.
_RUN_STATE_AFTER = {
    "STOP": "paused",
    "RESUME": "running",
    "SHUTDOWN": "shutdown",
    "SUSPEND": "suspended",
    "SUSPEND_DISK": "suspended",
    "WAKEUP": "running",
    "GUEST_PANICKED": "guest-panicked",
}


def run_state_after(state: str | None, event: Event) -> str | None:
    """The VM's run state once ``event`` has happened (unchanged by most events)."""
    return _RUN_STATE_AFTER.get(str(event.get("event", "")), state)
