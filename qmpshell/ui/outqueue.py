"""Scripted output that never holds up the reading of QEMU.

In scripted mode every reply and event is a line on stdout, and the reader of that
stdout may be late (a pipe into a program that is busy, or reads at the end). A write
to a full pipe would block the one asyncio loop, and with it the reading of QEMU's
socket: QEMU keeps what it cannot send, and drops it when it exits (a burst of events
and the ``SHUTDOWN`` after it, lost). So in scripted mode stdout and stderr go through
one :class:`OutputQueue`: the loop hands text over and goes on at once; a thread of the
queue's own writes it, in the order it was handed over, as fast as the reader takes it.
One queue for both streams keeps today's order with ``2>&1``: a complaint on stderr
comes after the replies printed before it, and before those printed after it. The
transcript (``-l``) does not wait for any of this: the client writes each message to it
the moment it arrives.

**The limit.** The queue holds up to :data:`LIMIT` (4 MiB) that the reader has not yet
taken. Past it, the loop waits until the reader has taken enough to go below it: the
shell then stops reading QEMU (QEMU in turn holds its output, as it would for any slow
client), and Ctrl-C or SIGTERM take effect once the reader makes room. A
:class:`QueuedStream` hands its text over at the end of each turn of the loop, and
sooner once it holds :data:`HANDOVER` characters, so a single reply larger than the
limit (a 50 MB ``guest-file-read``, which :class:`~qmpshell.ui.output.Output` writes a
piece at a time) goes through in pieces, as fast as the reader takes them, and is never
held whole in the queue.

**The end.** :meth:`OutputQueue.drain`, at the end of the session, waits until
everything handed over is written. When the reader goes away (``| head -1``: EPIPE), or
any other error makes a descriptor unwritable, the queue drops what it holds and what
comes later, and :meth:`OutputQueue.guard` ends the session at once (as a cancellation,
so every ``finally`` runs); the error is raised again by ``guard`` and ``drain``, and the
command line turns a ``BrokenPipeError`` into a quiet exit with status 1.

The descriptors stay blocking: O_NONBLOCK would be shared with whoever else holds them
(the terminal, the parent shell's pipe). The writer thread blocks all signals, so they
reach the main thread, where Python runs their handlers. The interactive shell does not
use any of this: prompt_toolkit's ``patch_stdout`` must see every line as written to
``sys.stdout``.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import threading
from collections import deque
from collections.abc import Awaitable, Callable

from .console import is_terminal

TYPE_CHECKING = False  # typing's, without importing typing (docs/architecture.md, start-up)
if TYPE_CHECKING:
    from typing import IO, TypeVar

    T = TypeVar("T")

# Bytes handed over and not yet taken by the reader, past which the loop waits.
LIMIT = 4 * 1024 * 1024
# Characters a QueuedStream keeps before it hands them over without waiting for flush().
HANDOVER = 1 << 18

_IOV_MAX = 1024  # buffers per writev(); POSIX guarantees at least 16, Linux takes 1024


class OutputQueue:
    """Bytes for several descriptors (stdout, stderr), written in the order given, by a
    thread of their own; see the module docstring for the limit and the end."""

    def __init__(self, limit: int = LIMIT) -> None:
        self.limit = limit
        self._changed = threading.Condition()
        self._chunks: deque[tuple[int, bytes]] = deque()
        self._held = 0  # bytes handed over and not yet written, being written included
        self._failure: OSError | None = None
        self._on_failure: Callable[[], None] | None = None
        self._thread = threading.Thread(target=self._run, name="qmpshell-output", daemon=True)
        self._thread.start()

    @property
    def failure(self) -> OSError | None:
        """The error that stopped the writing (EPIPE: the reader went away), or None."""
        return self._failure

    def put(self, fd: int, data: bytes) -> None:
        """Queue ``data`` for ``fd`` after everything queued before; wait only while the
        queue holds :attr:`limit` bytes or more. Dropped once the writing has failed."""
        if not data:
            return
        with self._changed:
            while self._held >= self.limit and self._failure is None:
                self._changed.wait()
            if self._failure is not None:
                return  # nobody reads any more: the session is being ended
            self._chunks.append((fd, data))
            self._held += len(data)
            self._changed.notify_all()

    def drain(self) -> None:
        """Wait until everything queued is written; raise the error that stopped it."""
        with self._changed:
            while self._held and self._failure is None:
                self._changed.wait()
        if self._failure is not None:
            raise self._failure

    async def guard(self, session: Awaitable[T]) -> T:
        """Await ``session``, cancelled the moment the writing fails; that failure is then
        raised in place of the cancellation."""
        import asyncio

        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None

        def cancel() -> None:  # on the writer thread
            with contextlib.suppress(RuntimeError):  # the loop closed: the session is over
                loop.call_soon_threadsafe(task.cancel)

        with self._changed:
            self._on_failure = cancel
            failed = self._failure is not None
        if failed:
            cancel()
        try:
            return await session
        except asyncio.CancelledError:
            if self._failure is None:
                raise
            raise self._failure from None
        finally:
            with self._changed:
                self._on_failure = None

    # -- the writer thread -----------------------------------------------------------------

    def _run(self) -> None:
        # Signals are for the main thread, where their handlers run; one the kernel
        # delivered here would not interrupt a wait of the main thread.
        signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
        while True:
            with self._changed:
                while not self._chunks:
                    self._changed.wait()
                batch = list(self._chunks)
                self._chunks.clear()
            try:
                for fd, buffers in _runs(batch):
                    _write(fd, buffers)
            except OSError as exc:
                self._fail(exc)
                return
            with self._changed:
                self._held -= sum(len(data) for _, data in batch)
                self._changed.notify_all()

    def _fail(self, exc: OSError) -> None:
        with self._changed:
            self._failure = exc
            self._chunks.clear()
            self._held = 0
            self._changed.notify_all()
            callback = self._on_failure
        if callback is not None:
            callback()


def _runs(batch: list[tuple[int, bytes]]) -> list[tuple[int, list[bytes]]]:
    """Consecutive chunks for the same descriptor together: one writev() each."""
    runs: list[tuple[int, list[bytes]]] = []
    for fd, data in batch:
        if runs and runs[-1][0] == fd:
            runs[-1][1].append(data)
        else:
            runs.append((fd, [data]))
    return runs


def _write(fd: int, buffers: list[bytes]) -> None:
    """Write all of ``buffers`` to ``fd``, however many calls it takes."""
    views = [memoryview(data) for data in buffers]
    at = 0
    while at < len(views):
        try:
            written = os.writev(fd, views[at : at + _IOV_MAX])
        except BlockingIOError:
            # Someone else holding this descriptor (stdin's open file, shared) made it
            # non-blocking: wait until it takes more.
            select.select([], [fd], [])
            continue
        while written:
            if written >= len(views[at]):
                written -= len(views[at])
                at += 1
            else:
                views[at] = views[at][written:]
                written = 0


class QueuedStream:
    """A text stream for :class:`~qmpshell.ui.output.Output` that writes through a queue:
    text written is kept until :meth:`flush`, which hands it over encoded as ``stream``
    (the real stdout or stderr) would encode it."""

    def __init__(self, queue: OutputQueue, stream: IO[str]) -> None:
        stream.flush()  # whatever went straight to it comes first
        self._queue = queue
        self._stream = stream
        self._fd = stream.fileno()
        self._encoding = getattr(stream, "encoding", None) or "utf-8"
        self._errors = getattr(stream, "errors", None) or "strict"
        self._pending: list[str] = []
        self._size = 0  # characters pending

    def write(self, text: str, /) -> int:
        self._pending.append(text)
        self._size += len(text)
        if self._size >= HANDOVER:  # a big message goes on in pieces as it is written
            self.flush()
        return len(text)

    def flush(self) -> None:
        if self._pending:
            data = "".join(self._pending).encode(self._encoding, self._errors)
            self._pending.clear()
            self._size = 0
            self._queue.put(self._fd, data)

    def isatty(self) -> bool:
        return is_terminal(self._stream)

    def fileno(self) -> int:
        return self._fd
