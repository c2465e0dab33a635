"""The misbehaving servers: QMP peers that do what a real QEMU does only rarely, on cue.

A :class:`Peer` listens on a UNIX socket and plays a real QEMU: it sends that QEMU's
greeting, answers ``qmp_capabilities`` itself and passes every other command on to the
QEMU's spare monitor, relaying the reply (so ``query-commands``, the 200 KB
``query-qmp-schema``, ``query-status``... are QEMU's own, and the tools' schema caches
work as against QEMU). Only the commands it is given answers for are its own:

- :func:`big_reply`: a reply of about N bytes, one string (``ringbuf-read`` of a full ring
  buffer) or many small objects (``qom-list`` of a crowded container);
- :func:`flood_then_pass_on`: N events, then QEMU's own reply (events while a command
  waits: a guest failing writes with ``werror=report``);
- :func:`accept_line`: ``{"return": {}}`` at once, the size of the line kept (QEMU's JSON
  parser takes about 35 s over a 10 MB string: the figure is the tool's, not QEMU's);
- and :meth:`Peer.flood`: N events now, on the connection open, unasked.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

from qemu import RawClient


class Connection:
    """One client of a peer: writes are whole (a reply never cut by a flood)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.lock = threading.Lock()

    def send(self, *parts: bytes) -> None:
        with self.lock:
            for part in parts:
                self.sock.sendall(part)

    def reply(self, request: dict[str, Any], body: bytes) -> None:
        """``{"return": body}`` with the request's id, if it had one."""
        tail = b"}\r\n"
        if "id" in request:
            tail = b', "id": ' + json.dumps(request["id"]).encode() + tail
        self.send(b'{"return": ', body, tail)


# What a peer does with a command it answers itself: (peer, connection, request, raw line).
Answer = Callable[["Peer", Connection, dict[str, Any], bytes], None]


class Peer:
    """A UNIX socket speaking QMP as the QEMU at ``upstream`` does, but for ``answers``."""

    def __init__(self, upstream: str, answers: dict[str, Answer]) -> None:
        self.answers = answers
        self.dir = tempfile.mkdtemp(prefix="qs-peer-", dir="/tmp")  # short: sun_path
        self.path = os.path.join(self.dir, "qmp.sock")
        self._upstream = RawClient(upstream)
        self._upstream_lock = threading.Lock()
        self.greeting = self._upstream.greeting
        self.largest_line = 0  # the longest line a client sent, in bytes
        self.connections: list[Connection] = []
        self._listener = socket.socket(socket.AF_UNIX)
        self._listener.bind(self.path)
        self._listener.listen(4)
        self._stopping = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stopping:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            connection = Connection(sock)
            self.connections.append(connection)
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: Connection) -> None:
        with suppress(OSError):
            connection.send(self.greeting)
            for message in messages(connection.sock):
                self.largest_line = max(self.largest_line, len(message))
                request = json.loads(message)
                name = request.get("execute", "")
                if name == "qmp_capabilities":
                    connection.reply(request, b"{}")
                elif name in self.answers:
                    self.answers[name](self, connection, request, message)
                else:
                    connection.send(self.pass_on(message))
        with suppress(OSError):
            connection.sock.close()

    def pass_on(self, message: bytes) -> bytes:
        """QEMU's reply to ``message`` (which keeps its id, so the reply has it too)."""
        with self._upstream_lock:
            return self._upstream.command(message.strip())

    def flood(self, events: bytes) -> None:
        """Send ``events`` (lines) on the latest connection now."""
        self.connections[-1].send(events)

    def stop(self) -> None:
        self._stopping = True
        self._listener.close()
        for connection in self.connections:
            with suppress(OSError):
                connection.sock.shutdown(socket.SHUT_RDWR)
        self._upstream.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def messages(sock: socket.socket) -> Iterator[bytes]:
    """The JSON objects a client sends, one by one. Clients need not end them with a
    newline (qemu.qmp does not), so an object ends where it parses; a parse is tried
    only when what has come ends with ``}`` (or a newline), so a 10 MB line costs a few
    tries, not one per piece."""
    pending = b""
    while True:
        data = sock.recv(1 << 20)
        if not data:
            return
        pending += data
        while pending.strip() and pending.rstrip()[-1:] in (b"}", b"\n"):
            text = pending.lstrip().decode()
            try:
                _, end = DECODER.raw_decode(text)
            except ValueError:
                break  # not whole yet
            pending = text[end:].encode()
            yield text[:end].encode()


DECODER = json.JSONDecoder()


@contextmanager
def peer(upstream: str, answers: dict[str, Answer] | None = None) -> Iterator[Peer]:
    started = Peer(upstream, answers or {})
    try:
        yield started
    finally:
        started.stop()


# -- what they send -------------------------------------------------------------------------


def console_text(size: int) -> bytes:
    """About ``size`` bytes of a JSON string's inside: lines of a guest's serial console,
    each ending in an escaped CR LF, as ``ringbuf-read`` returns them."""
    line = b"[    1.234567] virtio_blk virtio2: [vdb] 4194304 512-byte logical blocks\\r\\n"
    return line * (size // len(line) + 1)


def qom_objects(size: int) -> bytes:
    """A JSON list of about ``size`` bytes of small objects, as ``qom-list`` returns."""
    items = []
    total = 0
    index = 0
    while total < size:
        item = b'{"name": "dev%d", "type": "child<virtio-blk-pci>"}' % index
        items.append(item)
        total += len(item) + 2
        index += 1
    return b"[" + b", ".join(items) + b"]"


def event_lines(count: int) -> bytes:
    """``count`` BLOCK_IO_ERROR events as QEMU sends them, 10 µs apart from now: a guest
    whose writes fail on a full disk with ``werror=report``."""
    start = time.time()
    lines = []
    for index in range(count):
        stamp = start + index * 1e-5
        seconds = int(stamp)
        lines.append(
            b'{"timestamp": {"seconds": %d, "microseconds": %d}, "event": "BLOCK_IO_ERROR", '
            b'"data": {"device": "", "nospace": true, "node-name": "disk%d", '
            b'"reason": "No space left on device", "operation": "write", "action": "report"}}'
            b"\r\n" % (seconds, int((stamp - seconds) * 1e6), index % 4)
        )
    return b"".join(lines)


def big_reply(body: bytes) -> Answer:
    """Answer with ``{"return": body}`` (``body`` is JSON text)."""

    def answer(_: Peer, connection: Connection, request: dict[str, Any], __: bytes) -> None:
        connection.reply(request, body)

    return answer


def big_string(size: int) -> bytes:
    return b'"' + console_text(size) + b'"'


def flood_then_pass_on(events: bytes) -> Answer:
    """Send ``events``, then pass the command on to QEMU and relay its reply."""

    def answer(peer: Peer, connection: Connection, _: dict[str, Any], line: bytes) -> None:
        connection.send(events)
        connection.send(peer.pass_on(line))

    return answer


def accept_line(_: Peer, connection: Connection, request: dict[str, Any], __: bytes) -> None:
    """``{"return": {}}`` at once, whatever the command's arguments."""
    connection.reply(request, b"{}")
