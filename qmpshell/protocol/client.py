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

from ..errors import (
    CommandError,
    ConnectError,
    ConnectionLost,
    NegotiationError,
    ProtocolError,
    QMPShellError,
    ReplyTimeout,
)
from .address import Address, LibvirtAddress
from .decoder import MessageDecoder, describe_bytes
from .ending import MAX_MESSAGE_SIZE, ended, unusable
from .eventstream import EventStream
from .greeting import PROBE, Greeting, answers_probe, await_greeting
from .inflight import InFlight, ReplyHandler, Request, StrayHandler
from .message import asks_to_quit, id_key
from .packed import as_list, plain
from .transcript import Transcript
from .transport import SocketTransport, Transport

Message = dict[str, Any]
EventHandler = Callable[[Message], None]


class Runstate(enum.Enum):
    """Where a client is in its life: forward only, except that a disconnected client
    may connect again (``--reconnect``)."""

    IDLE = "idle"
    CONNECTING = "connecting"
    RUNNING = "running"
    DISCONNECTED = "disconnected"


class QMPClient:
    """One connection to a QMP server (QEMU, qemu-storage-daemon): on a socket, or to a
    VM that libvirt manages, through libvirt (see :mod:`qmpshell.protocol.transport`)."""

    def __init__(
        self,
        *,
        transcript: Transcript | None = None,
        max_message_size: int | None = MAX_MESSAGE_SIZE,
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
        self._link: _Link | None = None  # what the current transport reports to
        self._requests = InFlight()
        self._greeting_waiter: asyncio.Future[Message] | None = None
        self._handlers: list[EventHandler] = []
        self._streams: list[EventStream] = []
        self._failure: QMPShellError | None = None
        self._closed: asyncio.Future[None] | None = None

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

        The address says how: a socket (:class:`~qmpshell.protocol.address.UnixAddress`,
        :class:`~qmpshell.protocol.address.TcpAddress`) or a domain libvirt manages
        (:class:`~qmpshell.protocol.address.LibvirtAddress`, whose capabilities libvirt has
        negotiated already). ``timeout`` bounds each step: the connection, the greeting,
        the negotiation. ``on_silence()`` is called if the greeting is a second late
        (another client holds the monitor, most likely: see :mod:`qmpshell.protocol.greeting`).
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
        self._link = None
        self._requests.clear()
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

            link = _Link(self)
            transport = LibvirtTransport(link, address)
        else:
            link = _Link(self)
            decoder = MessageDecoder(self._max_message_size, sync_bytes=self.guest_agent)
            transport = SocketTransport(link, address, decoder, guest_agent=self.guest_agent)
        self._link = link
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

    def _send(self, message: Message, user: bool = False) -> None:
        transport = self._transport
        if transport is None or not (
            self.is_connected or (self._negotiating and self._transport_open)
        ):
            raise self._lost_error()
        if self.transcript is not None:
            self.transcript.record("send", message, user=user)
        if asks_to_quit(message):
            self._quit_key = id_key(message.get("id"))
        transport.send(message)

    def send_nowait(self, message: Message) -> None:
        """Send a command whose reply nobody will wait for (guest agent commands that
        do not reply on success); a reply that comes anyway is dropped by its id."""
        if "id" not in message:
            message = self._requests.with_own_id(message)
        self._send(message)

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
        user: bool = False,
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
        :class:`DuplicateId`: its reply could not be told apart. ``user``: a line of the
        session sent it (so the transcript says, for ``--replay``).
        """
        message, key = self._requests.key_for(message)
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._send(message, user)
        oob = "exec-oob" in message
        self._requests.add(key, future, on_reply, on_stray, timeout, oob)
        return future

    def id_in_flight(self, ident: Any) -> bool:
        """Whether a command with id ``ident`` is in flight (or was given up on and its
        reply may still come): a command with the same id would be refused."""
        return ident in self._requests

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
        return plain(reply.get("return"))

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
            if isinstance(message.get("QMP"), dict):
                self.greeting = Greeting.from_message(message)
                waiter.set_result(message)
            elif answers_probe(message):
                self._fail(ConnectError(f"{self.address} is a guest agent, not QMP", "agent"))
            else:
                self._fail(ProtocolError(f"expected a QMP greeting, got {_short(message)}"))
            return
        if "return" not in message and "error" not in message:
            return  # neither reply nor event; it is in the transcript, nothing waits for it
        key, request, unparsed = self._requests.answered(message)
        if key is not None and key == self._quit_key and "error" in message:
            self._quit_key = None  # refused: QEMU stays
        if request is not None and unparsed:
            self._fence(request)
        if request is None or request.future.done():
            return  # a command given up on (timed out, cancelled): dropped
        if request.on_reply is not None:
            try:
                request.on_reply(message)
            except Exception as exc:  # e.g. the reader of our output went away
                request.future.set_exception(exc)
                return
        request.future.set_result(message)

    def _fence(self, owner: Request) -> None:
        """QEMU could not parse a request: send a probe behind it; the replies without id
        that come before the probe's are more of QEMU's words about that request."""
        probe: Message = {"execute": "guest-ping" if self.guest_agent else "query-version"}
        try:
            future = self.send_request(probe, timeout=owner.timeout or None)
        except ConnectionLost:
            return
        future.add_done_callback(self._requests.raise_fence(owner))

    @property
    def _before_greeting(self) -> bool:
        waiter = self._greeting_waiter
        return waiter is None or not waiter.done()

    def _fail(self, error: ProtocolError | ConnectError) -> None:
        """The stream is unusable: close it and tell everyone waiting why."""
        if isinstance(error, ConnectError):  # the wrong kind of server (--ga on QMP)
            self._failure = error
        else:
            self._failure = unusable(self.address, error, greeted=not self._before_greeting)
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
            self._failure = ended(
                self.address,
                exc,
                unfinished,
                greeted=not self._before_greeting,
                quitting=self.quitting,
            )
        self.state = Runstate.DISCONNECTED
        error = self._failure
        self._requests.fail_all(error)
        if self._greeting_waiter is not None and not self._greeting_waiter.done():
            self._greeting_waiter.set_exception(error)
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


def _short(message: Message) -> str:
    return describe_bytes(json.dumps(message, default=as_list).encode(), 60)


class _Link:
    """The client's side of one connection, what its transport reports to (a
    :class:`~qmpshell.protocol.transport.Sink`): passed on while it is the client's
    current connection, dropped once the client has connected again."""

    def __init__(self, client: QMPClient) -> None:
        self._client = client

    def _current(self) -> bool:
        return self._client._link is self

    def deliver(self, message: Message) -> None:
        if self._current():
            self._client._on_message(message)

    def stream_error(self, error: ProtocolError | ConnectError) -> None:
        if self._current():
            self._client._fail(error)

    def lost(self, exc: Exception | None, unfinished: str = "") -> None:
        if self._current():
            self._client._on_connection_lost(exc, unfinished)
