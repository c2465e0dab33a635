"""An asyncio QMP client: connect, negotiate, execute commands, listen to events.

This module knows nothing of terminals; it is usable as a library::

    async with QMPClient() as qmp:
        await qmp.connect(parse_address("/run/vm.sock"))
        status = await qmp.execute("query-status")
        async for event in qmp.events():
            print(event["event"])

Replies are matched to commands by id: the client adds an id of its own to every command
that has none, and drops replies whose id it does not know (a command that timed out or
was cancelled). Events are handed to every listener the moment they are decoded, in the
order they arrived, also while commands wait for their replies.
"""

from __future__ import annotations

import asyncio
import enum
import json
from collections.abc import Callable
from typing import Any

from .address import Address, LibvirtAddress
from .decoder import MessageDecoder, describe_bytes
from .errors import (
    CommandError,
    ConnectError,
    ConnectionLost,
    DuplicateId,
    NegotiationError,
    NotQMPError,
    ProtocolError,
    QMPShellError,
    ReplyTimeout,
    SessionEnded,
)
from .eventstream import EventStream
from .greeting import PROBE, Greeting, answers_probe, await_greeting
from .message import RawMessage, asks_to_quit, id_key
from .transcript import Transcript
from .transport import SocketTransport, Transport

Message = dict[str, Any]
EventHandler = Callable[[Message], None]
ReplyHandler = Callable[[Message], None]
StrayHandler = Callable[[int], None]
OWN_ID_BASE = 7_100_000_000
# Requests given up on (timed out, cancelled) whose late reply is still awaited, to drop
# it and to keep their ids apart: at most this many are remembered.
ABANDONED_LIMIT = 4096


class _Request:
    """A request in flight: its future, who shows its reply (and hears of the further
    id-less replies QEMU sent for it), when it times out, whether it runs out of band."""

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


class _Fence:
    """After a reply without id (QEMU's parser choked on a request), QEMU may send more
    of them as it resynchronises: they belong to the same request, until the reply to a
    probe sent behind it comes back."""

    __slots__ = ("owner", "probe", "strays")

    def __init__(self, owner: _Request, probe: Any) -> None:
        self.owner = owner
        self.probe = probe  # the id key of the probe
        self.strays = 0


class Runstate(enum.Enum):
    """Where a client is in its life: forward only, except that a disconnected client
    may connect again (``--reconnect``)."""

    IDLE = "idle"
    CONNECTING = "connecting"
    RUNNING = "running"
    DISCONNECTED = "disconnected"


class QMPClient:
    """One connection to a QMP server (QEMU, qemu-storage-daemon): on a socket, or to a
    VM that libvirt manages, through libvirt (see :mod:`qmpshell.transport`)."""

    def __init__(
        self,
        *,
        transcript: Transcript | None = None,
        max_message_size: int | None = None,
        guest_agent: bool = False,
    ) -> None:
        self.transcript = transcript
        # A guest agent speaks the same JSON without greeting or negotiation, and marks
        # resynchronisation replies with a 0xFF byte.
        self.guest_agent = guest_agent
        self._max_message_size = max_message_size
        self.state = Runstate.IDLE
        self.address: Address | None = None
        self.greeting: Greeting | None = None
        self.oob_enabled = False
        self.negotiated = False  # qmp_capabilities sent by connect() and accepted
        self._negotiating = False
        self._quit_key: Any = None  # the id of a quit sent and not refused
        self._transport: Transport | None = None
        # In the order sent (QEMU answers in that order, out-of-band commands aside);
        # requests given up on stay until their late reply comes.
        self._pending: dict[Any, _Request] = {}
        self._fence: _Fence | None = None
        self._watchdog: asyncio.TimerHandle | None = None
        self._greeting_waiter: asyncio.Future[Message] | None = None
        self._handlers: list[EventHandler] = []
        self._streams: list[EventStream] = []
        self._failure: QMPShellError | None = None
        self._closed: asyncio.Future[None] | None = None
        # Own ids are integers (QEMU handles them measurably faster than strings), from a
        # base no one types by hand, so they do not meet the ids users write.
        self._next_id = OWN_ID_BASE

    async def __aenter__(self) -> QMPClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # -- connecting --------------------------------------------------------------

    async def connect(
        self,
        address: Address,
        *,
        negotiate: bool = True,
        enable_oob: bool = False,
        timeout: float | None = None,
        on_silence: Callable[[], None] | None = None,
    ) -> Greeting:
        """Connect, read the greeting and (unless told not to) negotiate capabilities.

        The address says how: a socket (:class:`~qmpshell.address.UnixAddress`,
        :class:`~qmpshell.address.TcpAddress`) or a domain libvirt manages
        (:class:`~qmpshell.address.LibvirtAddress`, whose capabilities libvirt has
        negotiated already). ``timeout`` bounds each step: the connection, the greeting,
        the negotiation. ``on_silence()`` is called if the greeting is a second late
        (another client holds the monitor, most likely: see :mod:`qmpshell.greeting`).
        Raises :class:`ConnectError`, :class:`NotQMPError` or :class:`NegotiationError`.
        """
        if self.state is Runstate.CONNECTING or self.state is Runstate.RUNNING:
            raise RuntimeError("this QMPClient is connected already")
        self._start_afresh()
        self.state = Runstate.CONNECTING
        self.address = address
        loop = asyncio.get_running_loop()
        self._closed = loop.create_future()
        self._greeting_waiter = loop.create_future()
        if self.guest_agent:
            self._greeting_waiter.set_result({})  # none is coming
            negotiate = False
        try:
            transport = await self._open(address, timeout)
            greeting = await self._wait_greeting(timeout, on_silence)
            if transport.negotiated_already:
                self.negotiated = True
            elif negotiate:
                await self._negotiate(enable_oob, timeout)
            if isinstance(self._failure, ConnectError):  # as it opened (--ga on QMP)
                raise self._failure
        except BaseException:
            self._abort()
            raise
        finally:
            self._negotiating = False
        self.state = Runstate.RUNNING
        return greeting

    def _start_afresh(self) -> None:
        """Forget what the last connection left (a client may connect again once it has
        disconnected); the event handlers, the transcript and the id counter stay."""
        self._transport = None
        self._pending.clear()
        self._fence = None
        self._failure = None
        self.greeting = None
        self.oob_enabled = False
        self.negotiated = False
        self._negotiating = False
        self._quit_key = None
        for stream in self._streams:  # streams of the last connection have ended
            self.remove_event_handler(stream.put)
        self._streams.clear()

    async def _open(self, address: Address, timeout: float | None) -> Transport:
        transport: Transport
        if isinstance(address, LibvirtAddress):
            from .libvirt_transport import LibvirtTransport  # libvirt is imported only here

            transport = LibvirtTransport(self, address)
        else:
            decoder = MessageDecoder(self._max_message_size, sync_bytes=self.guest_agent)
            transport = SocketTransport(self, address, decoder)
        self._transport = transport
        await transport.open(timeout)
        return transport

    async def _wait_greeting(
        self, timeout: float | None, on_silence: Callable[[], None] | None
    ) -> Greeting:
        assert self._greeting_waiter is not None
        if self.guest_agent:
            return Greeting({})
        transport = self._transport

        def silent() -> None:  # busy, or a guest agent: one answers the probe at once
            if isinstance(transport, SocketTransport) and not transport.is_closing():
                if self.transcript is not None:
                    self.transcript.record("send", PROBE)
                transport.send(PROBE)
            if on_silence is not None:
                on_silence()

        return await await_greeting(self._greeting_waiter, self.address, timeout, silent)

    async def _negotiate(self, enable_oob: bool, timeout: float | None) -> None:
        assert self.greeting is not None
        command: Message = {"execute": "qmp_capabilities"}
        oob = enable_oob and "oob" in self.greeting.capabilities
        if oob:
            command["arguments"] = {"enable": ["oob"]}
        self._negotiating = True  # commands may follow qmp_capabilities from now on
        try:
            reply = await self.request(command, timeout=timeout)
        except ReplyTimeout:
            raise NegotiationError(
                f"QMP negotiation failed: no reply to qmp_capabilities within {timeout:g}s"
            ) from None
        except ConnectionLost as exc:
            raise NegotiationError(f"QMP negotiation failed: {exc}") from None
        if "error" in reply:
            error = CommandError("qmp_capabilities", reply)
            raise NegotiationError(f"QMP negotiation refused: {error.error_class}: {error.desc}")
        self.oob_enabled = oob
        self.negotiated = True

    # -- commands ----------------------------------------------------------------

    def _send(self, message: Message) -> None:
        transport = self._transport
        if transport is None or not (
            self.is_connected or (self._negotiating and self._transport_open)
        ):
            raise self._lost_error()
        if self.transcript is not None:
            self.transcript.record("send", message)
        if asks_to_quit(message):
            self._quit_key = id_key(message.get("id"))
        transport.send(message)

    def send_nowait(self, message: Message) -> None:
        """Send a command whose reply nobody will wait for (guest agent commands that
        do not reply on success); a reply that comes anyway is dropped by its id."""
        if "id" not in message:
            message = self._with_own_id(message)
        self._send(message)

    def _with_own_id(self, message: Message) -> Message:
        """The message with an id of the client's own: the next number not in use (a
        user's raw line may carry any id, one of ours copied from a transcript too)."""
        self._next_id += 1
        while (int, self._next_id) in self._pending:
            self._next_id += 1
        if isinstance(message, RawMessage):
            return message.with_id(self._next_id)
        return {**message, "id": self._next_id}

    def begin_resync(self) -> None:
        """Guest agent resynchronisation, first half: write the 0xFF byte that resets the
        agent's parser, and discard what arrives until the agent's own 0xFF."""
        transport = self._transport
        if transport is None or not self.is_connected:
            raise self._lost_error()
        transport.begin_resync()

    def send_request(
        self,
        message: Message,
        *,
        timeout: float | None = None,
        on_reply: ReplyHandler | None = None,
        on_stray: StrayHandler | None = None,
    ) -> asyncio.Future[Message]:
        """Send a command message now and return the future of its whole reply.

        An ``id`` is added when the message has none (a :class:`RawMessage` goes as its
        text, with the id added). ``on_reply``, if given, is called with the reply the
        moment it is decoded, in stream order with the events around it (before the future
        is done), so that output keeps QEMU's order. Several requests may be in flight;
        replies are matched by id, a reply without id (QEMU could not parse what it read)
        to the oldest request. When QEMU sends several such replies for one request,
        ``on_stray(count)`` says how many more came. The future fails with
        :class:`ReplyTimeout` or :class:`ConnectionLost`; cancelling it drops its reply.
        An id already in flight (or given up on, whose reply may still come) raises
        :class:`DuplicateId`: its reply could not be told apart.
        """
        if "id" in message:
            key = id_key(message["id"])
            if key in self._pending:
                raise DuplicateId(
                    f"id {_short_id(message['id'])} is taken by a command still in flight "
                    "(or given up on, whose reply may still come); use another id"
                )
        else:
            message = self._with_own_id(message)
            key = (int, self._next_id)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Message] = loop.create_future()
        self._send(message)
        deadline = loop.time() + timeout if timeout else None
        oob = "exec-oob" in message
        self._pending[key] = _Request(future, on_reply, on_stray, deadline, timeout or 0.0, oob)
        if deadline is not None and (self._watchdog is None or deadline < self._watchdog.when()):
            if self._watchdog is not None:
                self._watchdog.cancel()
            self._watchdog = loop.call_at(deadline, self._expire_overdue)
        return future

    def _expire_overdue(self) -> None:
        """Fail the requests whose time is up; then sleep until the next deadline. One
        timer for all requests in flight, not one each: scripts keep dozens in flight.
        A request given up on stays known until its late reply comes (to drop it, and so
        that its id is not reused meanwhile), up to :data:`ABANDONED_LIMIT` of them."""
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

    async def request(self, message: Message, *, timeout: float | None = None) -> Message:
        """Send a command message as given and return its whole reply message.

        ``error`` replies are returned, not raised. Raises :class:`ReplyTimeout` or
        :class:`ConnectionLost`; if the caller is cancelled, the late reply is dropped.
        """
        return await self.send_request(message, timeout=timeout)

    async def execute(
        self, command: str, arguments: Message | None = None, *, timeout: float | None = None
    ) -> Any:
        """Run a command and return its ``return`` value; raise :class:`CommandError`."""
        message: Message = {"execute": command}
        if arguments:
            message["arguments"] = arguments
        reply = await self.request(message, timeout=timeout)
        if "error" in reply:
            raise CommandError(command, reply)
        return reply.get("return")

    # -- events ------------------------------------------------------------------

    def add_event_handler(self, handler: EventHandler) -> None:
        """Call ``handler(event)`` for every event, synchronously, as it is decoded."""
        self._handlers.append(handler)

    def remove_event_handler(self, handler: EventHandler) -> None:
        if handler in self._handlers:
            self._handlers.remove(handler)

    def clear_event_handlers(self) -> None:
        """Stop delivering events (to handlers and event streams alike)."""
        self._handlers.clear()

    def events(self) -> EventStream:
        """An async iterator of events from now on; it ends when the connection does."""
        stream = EventStream(self.remove_event_handler)
        self.add_event_handler(stream.put)
        self._streams.append(stream)
        return stream

    # -- receiving ---------------------------------------------------------------

    def _on_message(self, message: Message) -> None:
        if self.transcript is not None:
            self.transcript.record("recv", message)
        if "event" in message:
            for handler in tuple(self._handlers):
                handler(message)
            return
        waiter = self._greeting_waiter
        if waiter is not None and not waiter.done():
            if "QMP" in message:
                self.greeting = Greeting.from_message(message)
                waiter.set_result(message)
            elif answers_probe(message):
                self._fail(ConnectError(f"{self.address} is a guest agent, not QMP", "agent"))
            else:
                self._fail(ProtocolError(f"expected a QMP greeting, got {_short(message)}"))
            return
        if "return" not in message and "error" not in message:
            return  # neither reply nor event; it is in the transcript, nothing waits for it
        if "id" in message:
            key = id_key(message["id"])
            if self._fence is not None and key == self._fence.probe:
                self._close_fence()
        elif self._fence is not None:
            self._fence.strays += 1  # QEMU's parser still resynchronising: not news
            return
        else:
            # A reply to input QEMU could not parse carries no id; without oob, replies
            # come in order, so it answers the oldest command not yet answered.
            key = next((k for k, r in self._pending.items() if not r.oob), None)
        if key == self._quit_key and "error" in message:
            self._quit_key = None  # refused: QEMU stays
        request = self._pending.pop(key, None)
        if request is not None and "id" not in message:
            self._open_fence(request)
        if request is None or request.future.done():
            return  # a command given up on (timed out, cancelled): dropped
        if request.on_reply is not None:
            try:
                request.on_reply(message)
            except Exception as exc:  # e.g. the reader of our output went away
                request.future.set_exception(exc)
                return
        request.future.set_result(message)

    def _open_fence(self, owner: _Request) -> None:
        """Send a probe behind the request QEMU could not parse: the replies without id
        that come before the probe's are more of QEMU's words about that request."""
        probe: Message = {"execute": "guest-ping" if self.guest_agent else "query-version"}
        try:
            future = self.send_request(probe, timeout=owner.timeout or None)
        except ConnectionLost:
            return
        fence = self._fence = _Fence(owner, (int, self._next_id))

        def done(future: asyncio.Future[Message]) -> None:
            if not future.cancelled() and future.exception() is not None and self._fence is fence:
                self._close_fence()  # no reply to the probe (timed out, connection lost)

        future.add_done_callback(done)

    def _close_fence(self) -> None:
        fence, self._fence = self._fence, None
        assert fence is not None
        if fence.strays and fence.owner.on_stray is not None:
            fence.owner.on_stray(fence.strays)

    @property
    def _before_greeting(self) -> bool:
        waiter = self._greeting_waiter
        return waiter is None or not waiter.done()

    def _fail(self, error: ProtocolError | ConnectError) -> None:
        """The stream is unusable: close it and tell everyone waiting why."""
        if isinstance(error, ConnectError):  # the wrong kind of server (--ga on QMP)
            self._failure = error
        elif self._before_greeting:
            self._failure = NotQMPError(f"{self.address} is not a QMP server: {error}")
        else:
            self._failure = ConnectionLost(f"connection to {self.address} dropped: {error}")
        if self._transport is not None:
            self._transport.abort()

    def _lost_error(self) -> ConnectionLost:
        """Why nothing can be sent now: the connection was lost (and maybe is being made
        again: a failed attempt's own error is for connect() to raise, not this)."""
        if isinstance(self._failure, ConnectionLost):
            return self._failure
        if self.state is Runstate.CONNECTING or self._failure is not None:
            return ConnectionLost(f"not connected to {self.address}")
        return ConnectionLost(f"connection to {self.address} lost")

    def _on_connection_lost(self, exc: Exception | None, unfinished: str = "") -> None:
        """The transport says the connection has ended: ``exc`` is why (None: closed by
        the peer; a :class:`ConnectionLost` says it in its own words), ``unfinished`` what
        was left of a message cut short."""
        if self._failure is None or self.quitting:
            if self.quitting:
                self._failure = SessionEnded("QEMU quit; session ended")
            elif self._before_greeting:
                self._failure = NotQMPError(
                    f"{self.address} closed the connection without a QMP greeting"
                )
            elif isinstance(exc, ConnectionLost):
                self._failure = exc
            elif exc is not None:
                self._failure = ConnectionLost(
                    f"connection to {self.address} lost: {exc}{unfinished}"
                )
            else:
                self._failure = ConnectionLost(
                    f"connection to {self.address} closed by peer{unfinished}"
                )
        self.state = Runstate.DISCONNECTED
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        error = self._failure
        waiters = [request.future for request in self._pending.values()]
        self._fence = None
        if self._greeting_waiter is not None:
            waiters.append(self._greeting_waiter)
        for future in waiters:
            if not future.done():
                future.set_exception(error)
        for stream in self._streams:
            stream.end()
        if self._closed is not None and not self._closed.done():
            self._closed.set_result(None)

    @property
    def quitting(self) -> bool:
        """A ``quit`` was sent and not refused: the end of the connection is expected,
        and when it comes, :attr:`disconnect_reason` is a :class:`SessionEnded`."""
        return self._quit_key is not None

    @property
    def is_connected(self) -> bool:
        """Connected and usable: negotiated (if asked to) and not closing."""
        return self.state is Runstate.RUNNING and self._transport_open

    @property
    def _transport_open(self) -> bool:
        return self._transport is not None and not self._transport.is_closing()

    # -- closing -----------------------------------------------------------------

    @property
    def disconnect_reason(self) -> QMPShellError | None:
        """Why the connection ended, once it has."""
        return self._failure if self.state is Runstate.DISCONNECTED else None

    async def wait_closed(self) -> None:
        """Return once the connection has ended, for whatever reason."""
        if self._closed is not None:
            await asyncio.shield(self._closed)

    def _abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()
        self.state = Runstate.DISCONNECTED
        if self._greeting_waiter is not None and not self._greeting_waiter.done():
            self._greeting_waiter.cancel()

    async def close(self) -> None:
        """Close the connection (a no-op if it is closed already)."""
        if self._transport is not None and not self._transport.is_closing():
            self._failure = self._failure or ConnectionLost(f"connection to {self.address} closed")
            self._transport.close()
            await self.wait_closed()
        self.state = Runstate.DISCONNECTED


def _short_id(ident: Any) -> str:
    return describe_bytes(json.dumps(ident).encode(), 40)


def _short(message: Message) -> str:
    return describe_bytes(json.dumps(message).encode(), 60)
