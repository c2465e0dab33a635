"""An async iterator over a client's events: ``async for event in client.events()``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

Message = dict[str, Any]


class EventStream:
    """The events from the moment it was made until the connection ended (then the
    iteration stops) or :meth:`close` was called. The client feeds it through
    :meth:`put` (an event handler) and :meth:`end`."""

    def __init__(self, unsubscribe: Callable[[Callable[[Message], None]], None]) -> None:
        self._unsubscribe = unsubscribe
        self._queue: asyncio.Queue[Message | None] = asyncio.Queue()

    def put(self, event: Message) -> None:
        self._queue.put_nowait(event)

    def end(self) -> None:
        self._queue.put_nowait(None)

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> Message:
        event = await self._queue.get()
        if event is None:
            raise StopAsyncIteration
        return event

    def close(self) -> None:
        self._unsubscribe(self.put)
