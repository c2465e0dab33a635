"""A misbehaving QMP peer, for the few tests that a real QEMU cannot play.

The project's tests talk to real QEMU processes. This helper exists only for peers QEMU
never imitates: an HTTP server, a peer that sends garbage, one that stalls, one that cuts
its messages into tiny pieces, and so on.

A peer listens on a UNIX socket under a fresh short directory in /tmp (socket paths must
fit in 108 bytes) and runs a *behaviour*, a plain callable taking the accepted connection
socket, in a background thread for each connection. It uses only ``socket`` and
``threading``, so it serves sync tests, tests that run their own asyncio loop, and
subprocesses alike::

    def behaviour(conn):
        send_greeting(conn)
        reply(conn, recv_json(conn))  # qmp_capabilities
        wait_for_close(conn)

    with fake_peer(behaviour) as path:
        ...  # connect to path

Leaving the ``with`` block shuts every connection down, joins the threads and removes the
directory, also when the block raised. An exception the behaviour raised (a failed
``assert`` about what the client sent, say) is raised there too, unless the block failed
already or the exception only says the client went away (:class:`ClientGone`,
``BrokenPipeError``, ``ConnectionResetError``, or any ``OSError`` once stopping began).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

Behaviour = Callable[[socket.socket], None]

GREETING: dict[str, Any] = {
    "QMP": {
        "version": {"qemu": {"major": 7, "minor": 2, "micro": 0}, "package": ""},
        "capabilities": ["oob"],
    }
}

HTTP_400 = (
    b"HTTP/1.1 400 Bad Request\r\n"
    b"Content-Type: text/plain\r\n"
    b"Content-Length: 11\r\n"
    b"Connection: close\r\n"
    b"\r\n"
    b"Bad Request"
)

# How long a peer's socket operation may block before it gives up (a safety net only:
# stopping the peer unblocks everything at once).
IO_TIMEOUT = 10.0
JOIN_TIMEOUT = 5.0
# The longest line recv_json accepts, so a confused test cannot eat memory.
MAX_LINE = 1 << 20


class ClientGone(Exception):
    """The client closed its end while the peer still expected something from it."""


def short_tempdir() -> str:
    """A new empty directory with a short path, for sockets (the caller removes it)."""
    return tempfile.mkdtemp(prefix="qs-", dir="/tmp")


class FakePeer:
    """A listening UNIX socket running ``behaviour`` on each connection in a thread."""

    def __init__(self, behaviour: Behaviour, *, io_timeout: float = IO_TIMEOUT) -> None:
        self.behaviour = behaviour
        self.io_timeout = io_timeout
        self.directory = short_tempdir()
        self.path = os.path.join(self.directory, "qmp.sock")
        assert len(os.fsencode(self.path)) < 108, self.path
        self.errors: list[BaseException] = []
        self.accepted = 0
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._connections: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._listener: socket.socket | None = None
        self._acceptor: threading.Thread | None = None

    def start(self) -> FakePeer:
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            listener.bind(self.path)
            listener.listen(8)
            # stop() wakes accept() up by connecting; the timeout is only a safety net.
            listener.settimeout(1.0)
        except BaseException:
            listener.close()
            shutil.rmtree(self.directory, ignore_errors=True)
            raise
        self._listener = listener
        self._acceptor = threading.Thread(
            target=self._accept_loop, name=f"fakepeer-accept {self.path}", daemon=True
        )
        self._acceptor.start()
        return self

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                if self._stopping.is_set():
                    return
                raise
            conn.settimeout(self.io_timeout)
            with self._lock:
                if self._stopping.is_set():
                    conn.close()
                    return
                self.accepted += 1
                self._connections.append(conn)
                thread = threading.Thread(
                    target=self._serve,
                    args=(conn,),
                    name=f"fakepeer-conn{self.accepted} {self.path}",
                    daemon=True,
                )
                self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            self.behaviour(conn)
        except (ClientGone, BrokenPipeError, ConnectionResetError):
            pass
        except OSError as exc:
            if not self._stopping.is_set():
                self.errors.append(exc)
        except BaseException as exc:
            self.errors.append(exc)
        finally:
            conn.close()

    def stop(self) -> None:
        """Shut every connection down, join the threads, remove the directory."""
        self._stopping.set()
        # Wake the acceptor at once: it sees the stop request and closes this connection.
        with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX) as waker:
            waker.connect(self.path)
        with self._lock:
            connections = list(self._connections)
            threads = list(self._threads)
        for conn in connections:
            # Wakes up a behaviour blocked in recv() (it reads EOF) or send() (EPIPE).
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._acceptor is not None:
            self._acceptor.join(JOIN_TIMEOUT)
        for thread in threads:
            thread.join(JOIN_TIMEOUT)
        if self._listener is not None:
            self._listener.close()
        shutil.rmtree(self.directory, ignore_errors=True)
        stuck = [t.name for t in threads if t.is_alive()]
        if self._acceptor is not None and self._acceptor.is_alive():
            stuck.append(self._acceptor.name)
        if stuck:
            self.errors.append(RuntimeError(f"fake peer threads did not stop: {stuck}"))

    def raise_errors(self) -> None:
        if self.errors:
            raise self.errors[0]


@contextlib.contextmanager
def running_peer(behaviour: Behaviour, *, io_timeout: float = IO_TIMEOUT) -> Iterator[FakePeer]:
    """Like :func:`fake_peer`, but yields the :class:`FakePeer` itself."""
    peer = FakePeer(behaviour, io_timeout=io_timeout).start()
    try:
        yield peer
    finally:
        peer.stop()
    peer.raise_errors()


@contextlib.contextmanager
def fake_peer(behaviour: Behaviour, *, io_timeout: float = IO_TIMEOUT) -> Iterator[str]:
    """Run a misbehaving peer for the duration of the block; yield its socket path."""
    with running_peer(behaviour, io_timeout=io_timeout) as peer:
        yield peer.path


# -- building blocks for behaviours ------------------------------------------------------


def encode(message: Any, *, pretty: bool = False, ensure_ascii: bool = True) -> bytes:
    """A message as QEMU writes it: compact or ``pretty=on`` (indent 4, CRLF), then CRLF."""
    if pretty:
        text = json.dumps(message, indent=4, ensure_ascii=ensure_ascii).replace("\n", "\r\n")
    else:
        text = json.dumps(message, ensure_ascii=ensure_ascii)
    return (text + "\r\n").encode("utf-8")


def send_json(conn: socket.socket, message: Any, **layout: bool) -> None:
    conn.sendall(encode(message, **layout))


def send_greeting(conn: socket.socket, greeting: Any = None) -> None:
    """Send the QMP greeting (:data:`GREETING` unless told otherwise)."""
    send_json(conn, GREETING if greeting is None else greeting)


def send_slowly(conn: socket.socket, data: bytes, *, chunk: int = 1, pause: float = 0.005) -> None:
    """Send ``data`` in writes of ``chunk`` bytes with a ``pause`` after each."""
    for start in range(0, len(data), chunk):
        conn.sendall(data[start : start + chunk])
        time.sleep(pause)


def recv_line(conn: socket.socket) -> bytes:
    """Read up to and including the next b"\\n"; raise :class:`ClientGone` at EOF.

    It reads a byte at a time, so nothing after the line is taken from the socket.
    """
    line = bytearray()
    while not line.endswith(b"\n"):
        byte = conn.recv(1)
        if not byte:
            raise ClientGone(f"client closed the connection (after {bytes(line)!r})")
        line += byte
        if len(line) > MAX_LINE:
            raise ValueError("client line too long")
    return bytes(line)


def recv_json(conn: socket.socket) -> dict[str, Any]:
    """Read one message the client sent (one JSON object per line)."""
    message = json.loads(recv_line(conn))
    assert isinstance(message, dict), message
    return message


def reply_to(request: dict[str, Any], result: Any = None) -> dict[str, Any]:
    """A success reply to ``request``, echoing its id as QEMU does."""
    message: dict[str, Any] = {"return": {} if result is None else result}
    if "id" in request:
        message["id"] = request["id"]
    return message


def reply(conn: socket.socket, request: dict[str, Any], result: Any = None) -> None:
    send_json(conn, reply_to(request, result))


def error_reply_to(
    request: dict[str, Any], desc: str, error_class: str = "GenericError"
) -> dict[str, Any]:
    message: dict[str, Any] = {"error": {"class": error_class, "desc": desc}}
    if "id" in request:
        message["id"] = request["id"]
    return message


def expect_command(conn: socket.socket, command: str) -> dict[str, Any]:
    """Read a message and check that it runs ``command``; return it."""
    message = recv_json(conn)
    assert message.get("execute") == command, f"expected {command}, client sent {message}"
    return message


def handshake(conn: socket.socket) -> None:
    """Greet and accept ``qmp_capabilities``, as a well-behaved QEMU would."""
    send_greeting(conn)
    reply(conn, expect_command(conn, "qmp_capabilities"))


def wait_for_close(conn: socket.socket) -> None:
    """Keep the connection open, reading and ignoring input, until the client closes."""
    while conn.recv(4096):
        pass


def stall(conn: socket.socket) -> None:
    """A behaviour: accept, then say nothing until the client gives up."""
    wait_for_close(conn)
