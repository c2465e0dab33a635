"""Events after they arrive: the log of all of them, the filter for display, and waiting.

Every event the client delivers is appended to an :class:`EventLog`, whether it is shown
or not; the :class:`EventFilter` only decides what reaches the screen. ``/wait`` looks in
the log from the moment the last command was sent, so ``device_del`` followed by
``/wait DEVICE_DELETED`` finds the event even if it arrived before ``/wait`` was typed.

The log is bounded by what it holds, not by a count: it keeps each event as its compact
JSON text (a tenth of what the parsed object takes) and drops the oldest once the texts
pass :data:`LOG_BYTES`, so a flood of events, or a few huge ones, cannot grow the
shell's memory without end. The transcript (``-l``) keeps them all.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections import deque
from collections.abc import Callable, Iterator, Mapping

from ..errors import InputError

TYPE_CHECKING = False  # typing's, without importing typing (docs/architecture.md, start-up)
if TYPE_CHECKING:
    import asyncio
    from typing import Any

Event = dict[str, "Any"]

# What the log keeps for /events and /wait: the newest events whose JSON texts (and a
# few bytes each for keeping them) add up to this; about 50,000 of QEMU's usual events.
LOG_BYTES = 8 << 20
_ENTRY = 64  # bytes an entry takes besides its text: the str's header, its place in the deque

# ASCII, and infinities written as JSON cannot but Python reads back: a text that parses
# to the very event it was made of.
_TEXT = json.JSONEncoder(separators=(",", ":"), check_circular=False)


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
    """The events of a session, numbered in arrival order, with display and waiting;
    the newest kept, up to ``max_bytes`` of their JSON text (see the module docstring)."""

    def __init__(
        self,
        show: Callable[[Event], None],
        event_filter: EventFilter | None = None,
        max_bytes: int = LOG_BYTES,
    ) -> None:
        self.show = show  # how an event the filter lets through is shown
        self.filter = event_filter or EventFilter()
        self.max_bytes = max_bytes
        self._events: deque[str] = deque()  # each event kept, as its JSON text
        self._bytes = 0  # what the kept events take, as counted against max_bytes
        self.total = 0  # events ever received; the number of the next one
        self.unseen = 0  # filtered out since the user last listed the log
        self._waiters: list[tuple[Callable[[Event], bool], asyncio.Future[tuple[int, Event]]]] = []

    def __call__(self, event: Event) -> None:
        """Take one event from the client (an event handler)."""
        self._keep(_TEXT.encode(event))
        self.total += 1
        name = str(event.get("event", ""))
        if self.filter.shows(name):
            self.show(event)
        else:
            self.unseen += 1
        for predicate, future in list(self._waiters):
            if not future.done() and predicate(event):
                future.set_result((self.total - 1, event))

    def _keep(self, text: str) -> None:
        """Add an event's text; drop the oldest while the log holds more than it may
        (the newest is kept whatever its size)."""
        events = self._events
        events.append(text)
        self._bytes += len(text) + _ENTRY
        while self._bytes > self.max_bytes and len(events) > 1:
            self._bytes -= len(events.popleft()) + _ENTRY

    def since(self, number: int) -> list[tuple[int, Event]]:
        """The events numbered ``number`` and later that are still in the log."""
        first = self.total - len(self._events)
        start = max(number, first)
        events = self._events
        return [(n, json.loads(events[n - first])) for n in range(start, self.total)]

    def events(self) -> Iterator[Event]:
        """The events still in the log, oldest first."""
        return map(json.loads, self._events)

    def clear(self) -> None:
        self._events.clear()
        self._bytes = 0
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

        first = self.total - len(self._events)
        for number in range(max(since, first), self.total):  # each parsed only if reached
            event = json.loads(self._events[number - first])
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
