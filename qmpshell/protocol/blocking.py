"""A blocking QMP client for one-shot scripts: one socket, one command at a time.

A script of a few lines (``qmpshell -c query-status``) spends most of its life starting
up, and asyncio alone takes longer to import than the whole exchange with QEMU. This
client does what such a script needs with a plain socket: connect, greeting, negotiation,
then each command in turn, its reply matched by id, the events before it handed to the
caller in stream order. It shares with :class:`~qmpshell.protocol.client.QMPClient` the
decoder, the greeting, the ids (:class:`~qmpshell.protocol.inflight.InFlight`'s own ids
and keys), the encoding of a message and every word said when a connection fails or
ends (:mod:`qmpshell.protocol.ending`).

What it does not do, the caller leaves to the asyncio client before anything is sent
(:class:`Unusual`): a greeting late or odd, a negotiation refused. Once commands have
been sent, a lost connection, a reply too late and a peer's garbage are said in the same
words as the asyncio client says them.
"""

from __future__ import annotations

import time

# The socket module's C half, which socket.py is built on (its socket class a subclass of
# this one): socket.py turns _socket's constants into enums, which costs a one-shot script
# 3 ms to import, and a UNIX socket needs none of it.
from _socket import AF_UNIX, SOCK_STREAM, socket
from _socket import timeout as SocketTimeout
from collections.abc import Callable

from ..errors import CommandError, ConnectionLost, ProtocolError, QMPShellError, ReplyTimeout
from .address import TcpAddress, UnixAddress
from .decoder import MessageDecoder
from .ending import MAX_MESSAGE_SIZE, connect_error, connect_timeout, ended, unfinished, unusable
from .greeting import PATIENCE, Greeting
from .inflight import InFlight
from .message import asks_to_quit, encode_line, id_key
from .packed import plain
from .transcript import Transcript

TYPE_CHECKING = False  # typing's, without importing typing (docs/architecture.md, start-up)
if TYPE_CHECKING:
    from typing import Any

Message = dict[str, "Any"]
EventHandler = Callable[[Message], None]
ReplyHandler = Callable[[Message], None]

_READ_SIZE = 1 << 16


class Unusual(Exception):
    """Something the asyncio client handles and this one does not, found before any
    command was sent: the caller closes this client and uses that one."""


class Sent:
    """A command sent: the key of its id, whether it asks QEMU to quit, when it was
    sent, who hears its reply, and the reply once read."""

    __slots__ = ("at", "key", "on_reply", "quit", "reply")

    def __init__(self, key: Any, quit: bool, at: float, on_reply: ReplyHandler | None) -> None:
        self.key = key
        self.quit = quit
        self.at = at
        self.on_reply = on_reply
        self.reply: Message | None = None


class BlockingClient:
    """One connection, used from one thread; see the module docstring."""

    def __init__(
        self,
        address: UnixAddress | TcpAddress,
        *,
        transcript: Transcript | None = None,
        on_event: EventHandler | None = None,
        before_waiting: Callable[[], None] | None = None,
    ) -> None:
        self.address = address
        # Called before each read that may wait for the peer (the output flushed).
        self.before_waiting = before_waiting
        self.transcript = transcript
        # What happened before a transcript was given (attach): the greeting and the
        # negotiation, kept to be written first, once the caller keeps this client.
        self._held: list[tuple[str, Message]] | None = []
        self.on_event = on_event
        self.greeting: Greeting | None = None
        self.oob_enabled = False
        self.quitting = False  # a quit was sent and not refused: the end is expected
        self._socket: socket | None = None
        self._decoder = MessageDecoder(MAX_MESSAGE_SIZE)
        self._ids = InFlight()  # only for its own ids and their keys
        self._received: list[Message] = []
        self._abandoned: set[Any] = set()  # keys of requests given up on
        self._waiting: dict[Any, Sent] = {}  # requests sent, in order, not yet answered
        self._outbox: list[bytes] = []
        self._timeout: float | None = -1.0  # the socket's, as last set
        self._failure: QMPShellError | None = None

    # -- connecting --------------------------------------------------------------

    def connect(self, timeout: float | None) -> Greeting:
        """Connect and read the greeting: :class:`ConnectError`, or :class:`Unusual`
        when the greeting is late (another client holds the monitor) or not QMP's."""
        address = self.address
        if isinstance(address, UnixAddress):
            sock = socket(AF_UNIX, SOCK_STREAM)
            where: Any = address.path
        else:
            sock = None
            where = (address.host, address.port)
        try:
            if sock is None:
                import socket as sockets  # its getaddrinfo loop, for a host and port

                sock = sockets.create_connection(where, timeout)
            else:
                sock.settimeout(timeout)
                sock.connect(where)
        except SocketTimeout:
            if sock is not None:
                sock.close()
            raise connect_timeout(address, timeout or 0) from None
        except OSError as exc:
            if sock is not None:
                sock.close()
            raise connect_error(address, exc) from exc
        self._socket = sock
        patience = PATIENCE if timeout is None else min(PATIENCE, timeout)
        try:
            message = self._next(time.monotonic() + patience)
        except (ReplyTimeout, QMPShellError):
            raise Unusual from None
        if not isinstance(message.get("QMP"), dict):
            raise Unusual
        self.greeting = Greeting.from_message(message)
        return self.greeting

    def negotiate(self, enable_oob: bool, timeout: float | None) -> None:
        """``qmp_capabilities``; :class:`Unusual` when it is not accepted at once."""
        assert self.greeting is not None
        command: Message = {"execute": "qmp_capabilities"}
        oob = enable_oob and "oob" in self.greeting.capabilities
        if oob:
            command["arguments"] = {"enable": ["oob"]}
        try:
            reply = self.request(command, timeout)
        except QMPShellError:
            raise Unusual from None
        if "error" in reply:
            raise Unusual
        self.oob_enabled = oob

    # -- commands ----------------------------------------------------------------

    def request(self, message: Message, timeout: float | None) -> Message:
        """Send ``message`` and return its reply (:meth:`send`, :meth:`wait`)."""
        return self.wait(self.send(message), timeout)

    def send(
        self, message: Message, on_reply: ReplyHandler | None = None, *, user: bool = False
    ) -> Sent:
        """Send ``message``, with an id of the client's own when it has none, behind
        those sent before; ``on_reply(reply)`` is called the moment its reply is read, in
        stream order with events and other replies. The commands sent leave together
        when a reply is next waited for (:meth:`wait`). ``user``: a line of the script
        sent it (so the transcript says, for ``--replay``)."""
        if self._failure is not None:
            raise self._failure
        sending, key = self._ids.key_for(message)
        while "id" not in message and key in self._waiting:  # an id a raw line took
            sending, key = self._ids.key_for(message)
        message = sending
        sent = Sent(key, asks_to_quit(message), time.monotonic(), on_reply)
        self._record("send", message, user)
        self._outbox.append(encode_line(message))
        self._waiting[key] = sent
        self.quitting = self.quitting or sent.quit  # its end is expected from now on
        return sent

    def in_flight(self, ident: Any) -> bool:
        """Whether a command with id ``ident`` waits for its reply."""
        return id_key(ident) in self._waiting

    def wait(self, sent: Sent, timeout: float | None) -> Message:
        """The reply to what was sent (:meth:`send`), reading (and handing on) what
        comes first; :class:`ReplyTimeout` ``timeout`` seconds after it was sent (its
        reply is dropped when it comes), or :class:`ConnectionLost`
        (:class:`SessionEnded` after a ``quit``)."""
        deadline = None if timeout is None else sent.at + timeout
        while sent.reply is None:
            self._flush()
            try:
                message = self._next(deadline)
            except ReplyTimeout:
                if self._waiting.pop(sent.key, None) is not None:
                    self._abandoned.add(sent.key)
                raise ReplyTimeout(f"no reply within {timeout:g}s") from None
            self._dispatch(message)
        return sent.reply

    def _dispatch(self, message: Message) -> None:
        if "event" in message:
            if self.on_event is not None:
                self.on_event(message)
            return
        if "return" not in message and "error" not in message:
            return  # neither reply nor event: in the transcript, nothing waits for it
        # Without id, QEMU could not parse a request: its answer is for the oldest.
        key = id_key(message["id"]) if "id" in message else next(iter(self._waiting), None)
        if key in self._abandoned:
            self._abandoned.discard(key)
            return
        sent = self._waiting.pop(key, None)
        if sent is None:
            return  # nobody's
        if sent.quit and "error" in message:
            self.quitting = False  # refused: QEMU stays
        sent.reply = message
        if sent.on_reply is not None:
            sent.on_reply(message)

    def execute(self, command: str, timeout: float | None) -> Any:
        """Run a command without arguments; its ``return`` value, or :class:`CommandError`."""
        reply = self.request({"execute": command}, timeout)
        if "error" in reply:
            raise CommandError(command, reply)
        return plain(reply.get("return"))

    def wait_closed(self, timeout: float | None) -> None:
        """After an accepted ``quit``: read (events to ``on_event``) until QEMU has
        closed the connection, or for ``timeout`` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            while True:
                self._dispatch(self._next(deadline))
        except (ReplyTimeout, ConnectionLost):
            return

    def attach(self, transcript: Transcript | None) -> None:
        """Record every message in ``transcript`` from now on, and what came before."""
        held, self._held = self._held or [], None
        if transcript is not None:
            for direction, message in held:
                transcript.record(direction, message)
        self.transcript = transcript

    def close(self) -> None:
        sock, self._socket = self._socket, None
        if sock is not None:
            sock.close()

    # -- the socket --------------------------------------------------------------

    def _flush(self) -> None:
        """Write the commands sent since the last write, in one write."""
        if not self._outbox:
            return
        data = b"".join(self._outbox)
        self._outbox.clear()
        if self._failure is not None:
            raise self._failure
        assert self._socket is not None
        try:
            self._set_timeout(None)
            self._socket.sendall(data)
        except OSError as exc:
            raise self._lost(exc) from None

    def _next(self, deadline: float | None) -> Message:
        """The next message from the peer, in order; :class:`ReplyTimeout` when none has
        come by ``deadline`` (the clock of :func:`time.monotonic`)."""
        while not self._received:
            if self._failure is not None:
                raise self._failure
            assert self._socket is not None
            if self.before_waiting is not None:
                self.before_waiting()
            if deadline is None:
                self._set_timeout(None)
            else:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ReplyTimeout("time is up")
                self._set_timeout(left)
            try:
                data = self._socket.recv(_READ_SIZE)
            except SocketTimeout:
                raise ReplyTimeout("time is up") from None
            except OSError as exc:
                raise self._lost(exc) from None
            if not data:
                raise self._lost(None)
            try:
                self._received = self._decoder.feed(data)
            except ProtocolError as exc:
                self._failure = unusable(self.address, exc, greeted=self.greeting is not None)
                self.close()
                raise self._failure from None
            self._received.reverse()  # popped from the end, in order
        message = self._received.pop()
        self._record("recv", message)
        return message

    def _record(self, direction: str, message: Message, user: bool = False) -> None:
        if self.transcript is not None:
            self.transcript.record(direction, message, user=user)
        elif self._held is not None:
            self._held.append((direction, message))

    def _set_timeout(self, timeout: float | None) -> None:
        assert self._socket is not None
        if timeout is not None or self._timeout is not None:
            self._socket.settimeout(timeout)
            self._timeout = timeout

    def _lost(self, exc: Exception | None) -> QMPShellError:
        self._failure = ended(
            self.address,
            exc,
            unfinished(self._decoder.pending),
            greeted=self.greeting is not None,
            quitting=self.quitting,
        )
        self.close()
        return self._failure
