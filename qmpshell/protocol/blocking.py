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

import socket
import time
from collections.abc import Callable
from typing import Any, NamedTuple

from ..errors import CommandError, ConnectionLost, ProtocolError, QMPShellError, ReplyTimeout
from .address import TcpAddress, UnixAddress
from .decoder import MessageDecoder
from .ending import MAX_MESSAGE_SIZE, connect_error, connect_timeout, ended, unfinished, unusable
from .greeting import PATIENCE, Greeting
from .inflight import InFlight
from .message import asks_to_quit, encode_line, id_key
from .transcript import Transcript

Message = dict[str, Any]
EventHandler = Callable[[Message], None]

_READ_SIZE = 1 << 16


class Unusual(Exception):
    """Something the asyncio client handles and this one does not, found before any
    command was sent: the caller closes this client and uses that one."""


class Sent(NamedTuple):
    key: Any  # of the id the request went with
    quit: bool  # it asks QEMU to quit


class BlockingClient:
    """One connection, used from one thread; see the module docstring."""

    def __init__(
        self,
        address: UnixAddress | TcpAddress,
        *,
        transcript: Transcript | None = None,
        on_event: EventHandler | None = None,
    ) -> None:
        self.address = address
        self.transcript = transcript
        # What happened before a transcript was given (attach): the greeting and the
        # negotiation, kept to be written first, once the caller keeps this client.
        self._held: list[tuple[str, Message]] | None = []
        self.on_event = on_event
        self.greeting: Greeting | None = None
        self.oob_enabled = False
        self.quitting = False  # a quit was sent and not refused: the end is expected
        self._socket: socket.socket | None = None
        self._decoder = MessageDecoder(MAX_MESSAGE_SIZE)
        self._ids = InFlight()  # only for its own ids and their keys
        self._received: list[Message] = []
        self._abandoned: set[Any] = set()  # keys of requests given up on
        self._failure: QMPShellError | None = None

    # -- connecting --------------------------------------------------------------

    def connect(self, timeout: float | None) -> Greeting:
        """Connect and read the greeting: :class:`ConnectError`, or :class:`Unusual`
        when the greeting is late (another client holds the monitor) or not QMP's."""
        address = self.address
        if isinstance(address, UnixAddress):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            where: Any = address.path
        else:
            sock = None
            where = (address.host, address.port)
        try:
            if sock is None:
                sock = socket.create_connection(where, timeout)
            else:
                sock.settimeout(timeout)
                sock.connect(where)
        except socket.timeout:
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
        """Send ``message`` and return its reply (:meth:`send`, :meth:`reply`)."""
        return self.reply(self.send(message), timeout)

    def send(self, message: Message) -> Sent:
        """Send ``message``, with an id of the client's own when it has none;
        :class:`ConnectionLost` when it cannot be."""
        message, key = self._ids.key_for(message)
        self._send(message)
        quit_asked = asks_to_quit(message)
        self.quitting = self.quitting or quit_asked  # its end is expected from now on
        return Sent(key, quit_asked)

    def reply(self, sent: Sent, timeout: float | None) -> Message:
        """The reply to what was :meth:`send`; the events that come first go to
        ``on_event``. Raises :class:`ReplyTimeout` (the late reply is dropped when it
        comes) or :class:`ConnectionLost` (:class:`SessionEnded` after a ``quit``)."""
        key = sent.key
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                reply = self._next(deadline)
            except ReplyTimeout:
                self._abandoned.add(key)
                raise ReplyTimeout(f"no reply within {timeout:g}s") from None
            if "event" in reply:
                if self.on_event is not None:
                    self.on_event(reply)
                continue
            if "return" not in reply and "error" not in reply:
                continue  # neither reply nor event: in the transcript, nothing waits for it
            answers = id_key(reply["id"]) if "id" in reply else key  # without: the oldest
            if answers in self._abandoned:
                self._abandoned.discard(answers)
                continue
            if answers != key:
                continue  # nobody's
            if sent.quit and "error" in reply:
                self.quitting = False  # refused: QEMU stays
            return reply

    def execute(self, command: str, timeout: float | None) -> Any:
        """Run a command without arguments; its ``return`` value, or :class:`CommandError`."""
        reply = self.request({"execute": command}, timeout)
        if "error" in reply:
            raise CommandError(command, reply)
        return reply.get("return")

    def wait_closed(self, timeout: float | None) -> None:
        """After an accepted ``quit``: read (events to ``on_event``) until QEMU has
        closed the connection, or for ``timeout`` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            while True:
                message = self._next(deadline)
                if "event" in message and self.on_event is not None:
                    self.on_event(message)
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

    def _send(self, message: Message) -> None:
        if self._failure is not None:
            raise self._failure
        assert self._socket is not None
        self._record("send", message)
        try:
            self._socket.settimeout(None)
            self._socket.sendall(encode_line(message))
        except OSError as exc:
            raise self._lost(exc) from None

    def _next(self, deadline: float | None) -> Message:
        """The next message from the peer, in order; :class:`ReplyTimeout` when none has
        come by ``deadline`` (the clock of :func:`time.monotonic`)."""
        while not self._received:
            if self._failure is not None:
                raise self._failure
            assert self._socket is not None
            if deadline is None:
                self._socket.settimeout(None)
            else:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ReplyTimeout("time is up")
                self._socket.settimeout(left)
            try:
                data = self._socket.recv(_READ_SIZE)
            except socket.timeout:
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

    def _record(self, direction: str, message: Message) -> None:
        if self.transcript is not None:
            self.transcript.record(direction, message)
        elif self._held is not None:
            self._held.append((direction, message))

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
