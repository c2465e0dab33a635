"""The requests in flight on one connection: their ids, their deadlines, and which
request each reply answers.

Replies are matched by id. The client's own ids are integers from a base nobody types,
skipping any id in use (a user's raw line may carry any id, one of ours copied from a
transcript too); a second request with an id still in flight is refused, since the
replies could not be told apart. A request given up on (timed out, cancelled) stays
known until its late reply comes, so that the reply is dropped and its id not reused.

A reply without id is QEMU's word on input it could not parse. QEMU answers in order
(out-of-band commands aside), so it answers the oldest request not yet answered; and as
its parser recovers it may send many more (one line of ``NaN`` gives three, a line nested
too deep a thousand). Those belong to the same request until the reply to a probe sent
behind it comes back: a :class:`Fence`.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from ..errors import DuplicateId, ReplyTimeout
from .message import RawMessage, id_key

TYPE_CHECKING = False  # typing's, without importing typing (docs/architecture.md, start-up)
if TYPE_CHECKING:
    import asyncio
    from typing import Any

Message = dict[str, "Any"]
ReplyHandler = Callable[[Message], None]
StrayHandler = Callable[[int], None]
OWN_ID_BASE = 7_100_000_000
# Requests given up on whose late reply is still awaited: at most this many are kept.
ABANDONED_LIMIT = 4096


class Request:
    """A request in flight: its future, who shows its reply (and hears how many more
    replies without id QEMU sent for it), when it times out, whether it runs out of band."""

    __slots__ = ("deadline", "future", "on_reply", "on_stray", "oob", "timeout")

    def __init__(
        self,
        future: asyncio.Future[Message],
        on_reply: ReplyHandler | None,
        on_stray: StrayHandler | None,
        deadline: float | None,
        timeout: float,
        oob: bool,
    ) -> None:
        self.future = future
        self.on_reply = on_reply
        self.on_stray = on_stray
        self.deadline = deadline
        self.timeout = timeout
        self.oob = oob


class Fence:
    """The replies without id that come before the probe's reply belong to ``owner``."""

    __slots__ = ("owner", "probe", "strays")

    def __init__(self, owner: Request, probe: Any) -> None:
        self.owner = owner
        self.probe = probe  # the id key of the probe
        self.strays = 0


class InFlight:
    """The table of requests in flight, in the order they were sent."""

    def __init__(self) -> None:
        self._pending: dict[Any, Request] = {}
        self.fence: Fence | None = None
        self._watchdog: asyncio.TimerHandle | None = None
        self._next_id = OWN_ID_BASE

    def __len__(self) -> int:
        return len(self._pending)

    def __contains__(self, ident: Any) -> bool:
        """Whether the id ``ident`` is in flight (or given up on, its reply awaited)."""
        return id_key(ident) in self._pending

    @property
    def last_own_key(self) -> Any:
        return (int, self._next_id)

    def with_own_id(self, message: Message) -> Message:
        """The message with an id of the client's own: the next number not in use."""
        self._next_id += 1
        while (int, self._next_id) in self._pending:
            self._next_id += 1
        if isinstance(message, RawMessage):
            return message.with_id(self._next_id)
        return {**message, "id": self._next_id}

    def key_for(self, message: Message) -> tuple[Message, Any]:
        """The message as it is to be sent (with an own id when it has none) and the key
        of its id; :class:`DuplicateId` when its own id is in flight already."""
        if "id" not in message:
            message = self.with_own_id(message)
            return message, (int, self._next_id)
        key = id_key(message["id"])
        if key in self._pending:
            shown = json.dumps(message["id"])  # ASCII: no control character gets through
            shown = shown if len(shown) <= 40 else shown[:39] + "…"
            raise DuplicateId(
                f"id {shown} is taken by a command still in flight (or given up on, whose "
                "reply may still come); use another id"
            )
        return message, key

    def add(
        self,
        key: Any,
        future: asyncio.Future[Message],
        on_reply: ReplyHandler | None,
        on_stray: StrayHandler | None,
        timeout: float | None,
        oob: bool,
    ) -> None:
        import asyncio  # imported by then: this table serves the asyncio client here

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout if timeout else None
        self._pending[key] = Request(future, on_reply, on_stray, deadline, timeout or 0.0, oob)
        if deadline is not None and (self._watchdog is None or deadline < self._watchdog.when()):
            if self._watchdog is not None:
                self._watchdog.cancel()
            self._watchdog = loop.call_at(deadline, self._expire_overdue)

    def answered(self, message: Message) -> tuple[Any, Request | None, bool]:
        """The key of the request a reply answers and the request (None: a stray of a
        fence, or nobody's), and whether the reply came without id, so that a fence
        should go up behind it."""
        if "id" in message:
            key = id_key(message["id"])
            fence = self.fence
            if fence is not None and key == fence.probe:
                self.close_fence()
            return key, self._pending.pop(key, None), False
        if self.fence is not None:
            self.fence.strays += 1  # QEMU's parser still recovering: not news
            return None, None, False
        # Without oob, replies come in order: the oldest request not answered yet.
        key = next((k for k, r in self._pending.items() if not r.oob), None)
        return key, self._pending.pop(key, None), True

    def raise_fence(self, owner: Request) -> Callable[[asyncio.Future[Message]], None]:
        """Put up a fence whose probe is the request sent last; the callback to add to
        the probe's future takes the fence down if no reply to it comes."""
        fence = self.fence = Fence(owner, self.last_own_key)

        def done(future: asyncio.Future[Message]) -> None:
            if not future.cancelled() and future.exception() is not None and self.fence is fence:
                self.close_fence()  # timed out, connection lost

        return done

    def close_fence(self) -> None:
        fence, self.fence = self.fence, None
        if fence is not None and fence.strays and fence.owner.on_stray is not None:
            fence.owner.on_stray(fence.strays)

    def _expire_overdue(self) -> None:
        """Fail the requests whose time is up; then sleep until the next deadline. One
        timer for all requests in flight, not one each: scripts keep dozens in flight."""
        import asyncio

        self._watchdog = None
        loop = asyncio.get_running_loop()
        now = loop.time()
        next_deadline = None
        abandoned = []
        for key, request in self._pending.items():
            future, deadline = request.future, request.deadline
            if future.done():
                abandoned.append(key)
            elif deadline is not None and deadline <= now:
                abandoned.append(key)
                future.set_exception(ReplyTimeout(f"no reply within {request.timeout:g}s"))
            elif deadline is not None and (next_deadline is None or deadline < next_deadline):
                next_deadline = deadline
        for key in abandoned[: max(0, len(abandoned) - ABANDONED_LIMIT)]:
            del self._pending[key]
        if next_deadline is not None:
            self._watchdog = loop.call_at(next_deadline, self._expire_overdue)

    def fail_all(self, error: Exception) -> None:
        """The connection has ended: every request fails with ``error``; forget them."""
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        self.fence = None
        pending = list(self._pending.values())
        self._pending.clear()
        for request in pending:
            if not request.future.done():
                request.future.set_exception(error)

    def clear(self) -> None:
        self._pending.clear()
        self.fence = None
