"""``--reconnect``: after a lost connection, wait for the monitor to come back.

QEMU restarted on the same socket path (or port) is found again: :class:`Reconnector`
tries to connect every :data:`INTERVAL` seconds, renegotiates as the first connection
did, and leaves the rest (the schema, completion data, the guest agent's stream, the run
state) to the steps it is given. The client object stays the same, so its event handlers
(the event log, the transcript) go on as before.

An attempt is the whole handshake: connecting, the greeting, ``qmp_capabilities``, and
every step (``query-commands``, ``query-qmp-schema``, ``query-status``, the agent's
resync). The connection may drop at any of them, and the loss surfaces as whatever that
step was waiting on raises: :class:`~qmpshell.errors.ConnectionLost`, a timeout, an
``OSError``, or a cancellation of something the closing client was awaiting. Each attempt
runs as a task of its own, so that all of these are that attempt's failure, to be tried
again within the limit, and a cancellation of the attempt itself is told apart from the
cancellation of whoever waits for the reconnection.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Union

from ..errors import ConnectionLost, ExitStatus, QMPShellError, SessionEnded
from ..protocol.address import Address
from ..protocol.client import QMPClient
from .display import Display

INTERVAL = 0.25  # between attempts; a restarted QEMU is found within this

# What a connection dropping part-way through the handshake surfaces as; anything else
# from a step is a bug, and propagates.
Failure = Union[QMPShellError, OSError, EOFError, asyncio.TimeoutError]
RETRYABLE = (QMPShellError, OSError, EOFError, asyncio.TimeoutError)


async def cancel_and_wait(task: asyncio.Future[Any]) -> None:
    """Cancel ``task``, wait until it has ended, and take what it ended with: a task of
    the session left running when the session ends would be cancelled by
    ``asyncio.run``'s shutdown, wherever it is, and an error it ended with reported
    there with its traceback."""
    task.cancel()
    await asyncio.wait({task})
    if not task.cancelled():
        task.exception()  # taken: what it was about to raise as the cancellation came


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
        # What else a new connection needs (schema, agent sync, the run state), in order;
        # each step's failure is the attempt's.
        self.steps: list[Callable[[], Awaitable[None]]] = [after] if after is not None else []
        self.output = output
        self.attempts = 0  # in all
        self.attempt = 0  # of the reconnection under way (the toolbar's); 0: none is
        self.on_attempt: Callable[[], None] | None = None  # as each attempt starts
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
            await cancel_and_wait(watcher)

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
        last: Failure | None = None
        try:
            while deadline is None or loop.time() < deadline:
                self.attempts += 1
                self.attempt += 1
                if self.on_attempt is not None:
                    self.on_attempt()
                last = await self._attempt(deadline)
                if last is None:
                    greeting = self.client.greeting
                    version = (
                        f" (QEMU {greeting.version_text})" if greeting and greeting.raw else ""
                    )
                    if self.output is not None:
                        self.output.note(f"reconnected to {self.address}{version}")
                    return True
                await self.client.close()
                await asyncio.sleep(INTERVAL)
        finally:
            self.attempt = 0
        if self.output is not None:
            self.output.error(f"gave up waiting for {self.address} after {self.limit:g}s: {last}")
        return False

    async def _attempt(self, deadline: float | None) -> Failure | None:
        """One attempt, connecting and every step: None when it succeeded, else why not."""
        attempt = asyncio.ensure_future(self._handshake(self._attempt_timeout(deadline)))
        # Its failure is taken even if the session ends before anyone reads it (a script
        # ending while an attempt is refused), so that asyncio never reports it.
        attempt.add_done_callback(lambda done: done.cancelled() or done.exception())
        left = None if deadline is None else deadline - asyncio.get_running_loop().time()
        try:
            # Never raises what the attempt raised; a step slower than what is left of the
            # limit (each has the session's timeout) is cut short by it.
            await asyncio.wait({attempt}, timeout=None if left is None else max(left, INTERVAL))
        finally:
            late = not attempt.done()  # out of time, or whoever waits for us gave up
            if late:
                # Taken even as we are cancelled: an attempt cancelled just as its
                # connection was refused may end with that refusal instead
                # (asyncio.wait_for before Python 3.12), which asyncio would report.
                await cancel_and_wait(attempt)
        if late:
            return ConnectionLost(f"{self.address} did not finish the handshake in time")
        if attempt.cancelled():
            return ConnectionLost(f"connection to {self.address} lost while setting up")
        error = attempt.exception()
        if error is not None and not isinstance(error, RETRYABLE):
            raise error
        return error

    async def _handshake(self, timeout: float | None) -> None:
        await self.client.connect(
            self.address, negotiate=self.negotiate, enable_oob=True, timeout=timeout
        )
        for step in self.steps:
            await step()
        if not self.client.is_connected:  # dropped as the last step ended
            raise self.client.disconnect_reason or ConnectionLost(f"{self.address} went away")

    def _attempt_timeout(self, deadline: float | None) -> float | None:
        """Each attempt's limit: the session's timeout, cut to what is left of the wait."""
        if deadline is None:
            return self.timeout
        left = max(deadline - asyncio.get_running_loop().time(), INTERVAL)
        return left if self.timeout is None else min(self.timeout, left)
