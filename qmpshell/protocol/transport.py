"""What carries messages between a :class:`~qmpshell.protocol.client.QMPClient` and its server.

A transport moves whole messages. The client opens it (within a time limit), hands it each
message to send, and closes or aborts it; the transport reports to a :class:`Sink`, the
client's side of that one connection: every message it receives (``deliver``, in the order
the server sent them, on the client's event loop), a stream it cannot read on
(``stream_error``), and once, the end of the connection (``lost``). A sink of an earlier
connection (a client that has connected again) passes nothing on.

Two transports implement :class:`Transport`: :class:`SocketTransport` here (a UNIX or TCP
socket, bytes through :class:`~qmpshell.protocol.decoder.MessageDecoder`) and
:class:`~qmpshell.protocol.libvirt_transport.LibvirtTransport` (a VM that libvirt manages, through
libvirt's monitor-command API). The client picks one by the type of the address; nothing
above the client knows which one is in use.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Iterator
from typing import Any, Protocol, Union

from ..errors import ConnectError, ProtocolError
from .address import TcpAddress, UnixAddress
from .decoder import MessageDecoder
from .ending import connect_error, connect_timeout, unfinished
from .greeting import starts_with_greeting
from .message import RawMessage, dump_pieces, raw_errors

Message = dict[str, Any]


class Sink(Protocol):
    """What a transport reports to: the client's side of one connection."""

    def deliver(self, message: Message) -> None:
        """A whole message has arrived."""

    def stream_error(self, error: ProtocolError | ConnectError) -> None:
        """What arrives cannot be read (or is from the wrong kind of server): the
        connection must end, and this is why."""

    def lost(self, exc: Exception | None, unfinished: str = "") -> None:
        """The connection has ended: ``exc`` is why (None: closed by the peer),
        ``unfinished`` what was left of a message cut short, said for the user."""


class Transport(Protocol):
    """The interface between the client and whatever reaches the server."""

    #: The server's capabilities were negotiated before the client came (libvirt did it):
    #: ``connect()`` must not send ``qmp_capabilities``, and out-of-band is not on offer.
    negotiated_already: bool

    async def open(self, timeout: float | None) -> None:
        """Reach the server; raise :class:`ConnectError` (with ``timeout`` passed too)."""

    def send(self, message: Message) -> None:
        """Send one message (its ``id`` set by the client); never blocks. A
        :class:`~qmpshell.protocol.message.RawMessage` goes as its text (``wire``), not
        re-written."""

    def begin_resync(self) -> None:
        """Guest agent resynchronisation: reset the peer's parser and skip what arrives
        until its own mark (see :mod:`qmpshell.protocol.agent`)."""

    def is_closing(self) -> bool:
        """Closed or closing, or not opened yet: nothing can be sent."""

    def close(self) -> None:
        """Send what is queued, then end the connection; the loss is reported soon after."""

    def abort(self) -> None:
        """End the connection at once, dropping what is queued."""


# What goes to the socket in one write at most: a bigger message (a 10 MB line) is
# written a piece at a time as the peer reads it, and a raw line encoded a piece at a
# time, so that neither is held whole once more in a buffer.
CHUNK = 1 << 18

Piece = Union[bytes, bytearray, memoryview]
_Queued = Union[Piece, Iterator[Piece]]  # a message's bytes, or its pieces to come


class SocketTransport(asyncio.Protocol):
    """A UNIX or TCP socket: JSON lines out (those of one turn of the loop in one write;
    a big one in writes of :data:`CHUNK`, each when the socket has room), bytes in through
    the decoder, each decoded message to the client at once."""

    negotiated_already = False

    def __init__(
        self,
        sink: Sink,
        address: UnixAddress | TcpAddress,
        decoder: MessageDecoder,
        *,
        guest_agent: bool = False,
    ) -> None:
        self._sink = sink
        self._guest_agent = guest_agent
        self._address = address
        self._decoder = decoder
        self._wire: asyncio.Transport | None = None
        self._outbox: deque[_Queued] = deque()
        self._paused = False  # the socket's buffer is full: write nothing more for now
        self._closing = False  # close() was called: closed once the outbox is written
        self._heard = False  # anything received yet

    async def open(self, timeout: float | None) -> None:
        loop = asyncio.get_running_loop()
        address = self._address
        try:
            if isinstance(address, UnixAddress):
                opening = loop.create_unix_connection(lambda: self, address.path)
            else:
                opening = loop.create_connection(lambda: self, address.host, address.port)
            await asyncio.wait_for(opening, timeout)
        except asyncio.TimeoutError:
            raise connect_timeout(address, timeout or 0) from None
        except OSError as exc:
            raise connect_error(address, exc) from exc

    # -- asyncio.Protocol ----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # Bytes may arrive before create_connection() returns; the client must be able
        # to close the connection from the very first of them.
        self._wire = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        sink = self._sink
        if not self._heard:
            self._heard = True
            if self._guest_agent and starts_with_greeting(data):
                # An agent says nothing first; this greeting would be lost in a resync.
                sink.stream_error(
                    ConnectError(f"{self._address} is a QMP monitor, not a guest agent", "qmp")
                )
                return
        try:
            messages = self._decoder.feed(data)
        except ProtocolError as exc:
            sink.stream_error(exc)
            return
        for message in messages:
            sink.deliver(message)

    def connection_lost(self, exc: Exception | None) -> None:
        self._sink.lost(exc, self._unfinished())

    def _unfinished(self) -> str:
        """What a connection that ended mid-message left behind, said for the user."""
        return unfinished(self._decoder.pending)

    # -- Transport -----------------------------------------------------------------------

    def send(self, message: Message) -> None:
        # Commands sent in one turn of the loop (a script refilling its pipeline after a
        # burst of replies) leave in one write. A raw line goes as the user wrote it.
        if isinstance(message, RawMessage):
            queued = _raw_line(message)
        else:
            data = bytearray()
            for piece in dump_pieces(message, _ASCII):
                data += piece.encode("ascii")
            data += b"\n"
            queued = data if len(data) <= CHUNK else _slices(data)
        self._outbox.append(queued)
        if len(self._outbox) == 1:
            asyncio.get_running_loop().call_soon(self._flush_outbox)

    def _flush_outbox(self, everything: bool = False) -> None:
        """Write what is queued, up to :data:`CHUNK` at a time, until the socket's buffer
        is full (``everything``: regardless, when closing)."""
        outbox = self._outbox
        wire = self._wire
        if wire is None or wire.is_closing():
            outbox.clear()
            return
        while outbox and (everything or not self._paused):
            batch: list[Piece] = []
            size = 0
            while outbox and size < CHUNK:
                queued = outbox[0]
                if isinstance(queued, (bytes, bytearray, memoryview)):
                    outbox.popleft()
                    batch.append(queued)
                    size += len(queued)
                    continue
                piece = next(queued, None)
                if piece is None:
                    outbox.popleft()
                else:
                    batch.append(piece)
                    size += len(piece)
            if batch:
                wire.write(batch[0] if len(batch) == 1 else b"".join(batch))
        if self._closing and not outbox:
            wire.close()

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        self._flush_outbox()

    def begin_resync(self) -> None:
        assert self._wire is not None
        self._flush_outbox(everything=True)
        self._decoder.discard_until_sync()
        self._wire.write(b"\xff")

    def is_closing(self) -> bool:
        return self._wire is None or self._closing or self._wire.is_closing()

    def close(self) -> None:
        # What is queued still goes as the peer reads it (a 10 MB line that timed out is
        # not copied into the socket's buffer first); the connection closes after it.
        if self._wire is not None and not self._closing:
            self._closing = True
            self._flush_outbox()

    def abort(self) -> None:
        if self._wire is not None:
            self._wire.abort()


def _raw_line(message: RawMessage) -> _Queued:
    """A raw line's bytes as they were read, the client's id put in front, then a newline:
    bytes that were not UTF-8 went through as surrogates (``surrogateescape``) and go
    back to what they were; a line with another lone surrogate is written with every
    surrogate as it is (``surrogatepass``): QEMU will say what it thinks. A long line
    is encoded a piece at a time, as the socket takes it."""
    head, start = message.wire_parts()
    text = message.text
    errors = raw_errors(text)
    if len(text) - start <= CHUNK:
        return (head + text[start:]).encode("utf-8", errors) + b"\n"

    def pieces() -> Iterator[bytes]:
        yield head.encode()
        for at in range(start, len(text), CHUNK):
            yield text[at : at + CHUNK].encode("utf-8", errors)
        yield b"\n"

    return pieces()


# JSON in ASCII (\u escapes): any string, a lone surrogate too, goes as QEMU reads it.
_ASCII = json.JSONEncoder()


def _slices(data: bytearray) -> Iterator[memoryview]:
    """``data`` in pieces of :data:`CHUNK` bytes, none of them a copy."""
    view = memoryview(data)
    for at in range(0, len(data), CHUNK):
        yield view[at : at + CHUNK]
