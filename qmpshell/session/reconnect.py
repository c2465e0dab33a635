"""``--reconnect``: after a lost connection, wait for the monitor to come back.

QEMU restarted on the same socket path (or port) is found again: :class:`Reconnector`
tries to connect every :data:`INTERVAL` seconds, renegotiates as the first connection
did, and leaves the rest (the schema, completion data, the guest agent's stream) to the
callback it is given. The client object stays the same, so its event handlers (the event
log, the transcript) go on as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from ..errors import ExitStatus, QMPShellError, SessionEnded
from ..protocol.address import Address
from ..protocol.client import QMPClient
from .display import Display

INTERVAL = 0.25  # between attempts; a restarted QEMU is found within this


class Reconnector:
    """Connects ``client`` to ``address`` again, as often as the connection is lost."""

    def __init__(
        self,
        client: QMPClient,
        address: Address,
        *,
        limit: float | None,
        negotiate: bool = True,
        timeout: float | None = None,
        after: Callable[[], Awaitable[None]] | None = None,
        output: Display | None = None,
    ) -> None:
        self.client = client
        self.address = address
        self.limit = limit  # seconds to keep trying; None: until the user gives up
        self.negotiate = negotiate
        self.timeout = timeout
        self.after = after  # what else a new connection needs (schema, agent sync)
        self.output = output
        self.attempts = 0
        self.gave_up = False
        self._lock = asyncio.Lock()

    async def back(self) -> bool:
        """After a loss: reconnect, or wait for the reconnection already under way.
        True once connected again; False once the limit has passed."""
        async with self._lock:
            if self.client.is_connected:
                return True
            if not self.gave_up:
                self.gave_up = not await self._reconnect()
            return not self.gave_up

    async def watch(self) -> None:
        """Reconnect the moment the connection is lost, not at the next command; return
        when reconnecting has been given up, or when QEMU quit as asked."""
        while not self.gave_up:
            await self.client.wait_closed()
            if isinstance(self.client.disconnect_reason, SessionEnded):
                return
            await self.back()

    async def run_script(self, script: Coroutine[Any, Any, ExitStatus]) -> ExitStatus:
        """Run a script while reconnecting the moment the connection is lost (the script
        may be waiting for its input then); end it when reconnecting is given up."""
        task = asyncio.ensure_future(script)
        watcher = asyncio.ensure_future(self.watch())
        watcher.add_done_callback(lambda _: task.cancel() if self.gave_up else None)
        try:
            return await task
        except asyncio.CancelledError:
            if not self.gave_up:
                raise
            return ExitStatus.CONNECTION
        finally:
            watcher.cancel()

    async def _reconnect(self) -> bool:
        """Try until connected (True) or until the limit has passed (False)."""
        reason = self.client.disconnect_reason
        waiting = f"waiting for {self.address} to come back"
        if self.limit:
            waiting += f" (for up to {self.limit:g}s)"
        if self.output is not None:
            self.output.error(f"{reason or 'connection lost'}; {waiting}")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.limit if self.limit else None
        last: QMPShellError | None = None
        while deadline is None or loop.time() < deadline:
            self.attempts += 1
            try:
                await self.client.connect(
                    self.address,
                    negotiate=self.negotiate,
                    enable_oob=True,
                    timeout=self._attempt_timeout(deadline),
                )
                if self.after is not None:
                    await self.after()
            except QMPShellError as exc:
                last = exc
                await self.client.close()
                await asyncio.sleep(INTERVAL)
                continue
            greeting = self.client.greeting
            version = f" (QEMU {greeting.version_text})" if greeting and greeting.raw else ""
            if self.output is not None:
                self.output.note(f"reconnected to {self.address}{version}")
            return True
        if self.output is not None:
            self.output.error(f"gave up waiting for {self.address} after {self.limit:g}s: {last}")
        return False

    def _attempt_timeout(self, deadline: float | None) -> float | None:
        """Each attempt's limit: the session's timeout, cut to what is left of the wait."""
        if deadline is None:
            return self.timeout
        left = max(deadline - asyncio.get_running_loop().time(), INTERVAL)
        return left if self.timeout is None else min(self.timeout, left)
