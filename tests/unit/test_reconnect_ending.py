"""Ending the session while ``--reconnect`` is trying: the attempt under way is ended
with it, and whatever that attempt ended with is taken, so that asyncio has nothing to
report (no "Task exception was never retrieved", no "unhandled exception during
asyncio.run() shutdown")."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

from qmpshell.errors import ConnectError, ConnectionLost
from qmpshell.protocol.address import UnixAddress
from qmpshell.session.reconnect import Reconnector, cancel_and_wait


class RefusedAsCancelled:
    """A client whose connection attempt, cancelled, ends with the refusal it was about
    to report instead: what ``asyncio.wait_for`` (before Python 3.12) does when the
    cancellation comes as the connection is refused."""

    is_connected = False
    disconnect_reason = ConnectionLost("closed by peer")
    greeting = None

    def __init__(self) -> None:
        self.connecting = asyncio.Event()

    async def connect(self, address: Any, **options: Any) -> None:
        self.connecting.set()
        try:
            await asyncio.Event().wait()  # the refusal is on its way
        except asyncio.CancelledError:
            raise ConnectError(f"connection refused: {address}", "refused") from None

    async def wait_closed(self) -> None:
        pass

    async def close(self) -> None:
        pass


def _end_while_connecting(start: Any) -> list[dict[str, Any]]:
    """What asyncio reported when the task ``start(reconnector)`` makes is cancelled
    while an attempt connects (the task awaited, then garbage collected)."""
    reported: list[dict[str, Any]] = []

    async def body() -> None:
        asyncio.get_running_loop().set_exception_handler(lambda _, c: reported.append(c))
        client = RefusedAsCancelled()
        reconnector = Reconnector(client, UnixAddress("/nowhere"), limit=None)  # type: ignore[arg-type]
        task = asyncio.ensure_future(start(reconnector))
        await client.connecting.wait()
        await cancel_and_wait(task)
        assert task.cancelled()
        left = asyncio.all_tasks() - {asyncio.current_task()}
        assert not left, left  # the attempt has ended too
        del task
        gc.collect()

    asyncio.run(body())
    return reported


def test_a_cancelled_reconnection_takes_its_attempts_failure() -> None:
    assert _end_while_connecting(lambda r: r.back()) == []


def test_a_script_ended_while_reconnecting_ends_the_watcher_and_its_attempt() -> None:
    async def script() -> Any:
        await asyncio.Event().wait()

    assert _end_while_connecting(lambda r: r.run_script(script())) == []
