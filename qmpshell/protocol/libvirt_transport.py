"""A VM that libvirt manages, reached through libvirt rather than a monitor socket.

libvirtd holds the QMP socket of every QEMU it starts, and has negotiated its capabilities
already. :class:`LibvirtTransport` sends each command with libvirt-qemu's
``qemuMonitorCommand`` (HMP lines with its HMP flag), receives events through
``qemuMonitorEventRegister``, and hands both to the client as a socket transport would:
the client's ids on the replies, events shaped as QEMU sends them, and in place of the
greeting (which libvirt read) one built from ``query-version``. Out-of-band execution is
not available: libvirt runs one command at a time per domain.

libvirt's calls block, so they run off the asyncio loop, in two kinds of thread:

- one worker thread per connection runs the blocking calls (connecting, each monitor
  command) one after the other, so that QEMU receives commands in the order they were
  sent. A command that outlives its timeout only delays those behind it (libvirt would
  have queued them anyway); its late reply is dropped by id, as with a socket.
- one daemon thread per process runs libvirt's event loop (``virEventRunDefaultImpl``),
  which calls the event callbacks. Replies are handed over from that thread too: libvirt
  queues an event that came in before a reply for that loop, so the event is handed over
  first, and the output keeps QEMU's order (libvirtd itself may still, rarely, let a
  reply overtake an event).

The connection is lost when the domain stops (libvirt's lifecycle event), when the
connection to libvirtd closes (its close callback) or when a command fails because of
either.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import queue
import re
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import ConnectError, ConnectionLost, QMPShellError
from ..records import Record
from .address import LibvirtAddress
from .message import RawMessage

if TYPE_CHECKING:
    from types import ModuleType

    from .transport import Sink

Message = dict[str, Any]
T = TypeVar("T")

# How long a command whose monitor broke under libvirt (QEMU quit or died) waits for the
# news that the domain stopped, before it is taken for an error of that command alone.
STOP_GRACE = 5.0

MISSING_LIBVIRT = (
    "reaching a VM through libvirt needs libvirt-python: pip install 'qmpshell[libvirt]' "
    "(or apt-get install python3-libvirt)"
)

# virDomainState, as virsh words them.
_STATES = {
    0: "no state",
    1: "running",
    2: "blocked",
    3: "paused",
    4: "shutting down",
    5: "shut off",
    6: "crashed",
    7: "suspended by the guest",
}
# VIR_DOMAIN_EVENT_STOPPED_*: why a domain stopped.
_STOPPED = {
    0: "shut down",
    1: "destroyed",
    2: "crashed",
    3: "migrated",
    4: "saved",
    5: "failed",
    6: "restored from a snapshot",
}
# VIR_CONNECT_CLOSE_REASON_*: why libvirt closed the connection.
_CLOSED = {0: "on an error", 1: "by libvirtd", 2: "after a keepalive timeout"}


def libvirt_modules() -> tuple[ModuleType, ModuleType]:
    """``libvirt`` and ``libvirt_qemu``, imported on first use (only ``--libvirt`` needs
    them); raise :class:`ConnectError` saying what to install when they are missing."""
    try:
        import libvirt
        import libvirt_qemu
    except ImportError:
        raise ConnectError(MISSING_LIBVIRT, "no-libvirt") from None
    _start_event_loop(libvirt)
    return libvirt, libvirt_qemu


@functools.cache
def _start_event_loop(libvirt: ModuleType) -> None:
    """Once per process, before the first connection: libvirt's default event loop, run
    by a daemon thread; and no more error reports printed by libvirt itself (every error
    reaches us as an exception, and is said once, in one line)."""
    libvirt.registerErrorHandler(lambda _context, _error: None, None)
    libvirt.virEventRegisterDefaultImpl()

    def run() -> None:
        try:
            while True:
                libvirt.virEventRunDefaultImpl()
        except libvirt.libvirtError:
            pass  # libvirt's loop broke (never seen): no more events, no traceback

    threading.Thread(target=run, name="libvirt-events", daemon=True).start()


def one_line(error: Exception) -> str:
    """libvirt's message for an error, on one line (some quote JSON over several)."""
    text = error.get_error_message() if hasattr(error, "get_error_message") else None
    return re.sub(r"\s+", " ", str(text or error)).strip()


class Domain(Record):
    """A running domain, as ``--libvirt`` without a name lists it."""

    name: str
    ident: int
    state: str


def running_domains(uri: str | None) -> tuple[str, list[Domain]]:
    """The URI libvirt connected to and its running domains, by name (blocking)."""
    libvirt, _ = libvirt_modules()
    conn = _open_connection(libvirt, uri)
    try:
        found = conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)
        domains = [Domain(d.name(), d.ID(), _STATES.get(d.state()[0], "?")) for d in found]
        return str(conn.getURI()), sorted(domains)
    except libvirt.libvirtError as exc:
        raise ConnectError(f"cannot list the domains: {one_line(exc)}", "libvirt") from None
    finally:
        _quietly(libvirt, conn.close)


def _open_connection(libvirt: ModuleType, uri: str | None) -> Any:
    try:
        return libvirt.open(uri)
    except libvirt.libvirtError as exc:
        permission = exc.get_error_code() in (
            libvirt.VIR_ERR_AUTH_FAILED,
            libvirt.VIR_ERR_AUTH_CANCELLED,
            libvirt.VIR_ERR_AUTH_UNAVAILABLE,
        ) or "Permission denied" in one_line(exc)
        where = uri or "libvirt's default URI"
        raise ConnectError(
            f"cannot connect to {where}: {one_line(exc)}",
            "permission" if permission else "libvirt",
        ) from None


def _quietly(libvirt: ModuleType, call: Callable[..., object], *args: object) -> None:
    """A clean-up call that may fail on a connection already gone."""
    with contextlib.suppress(libvirt.libvirtError):
        call(*args)


def _lookup(libvirt: ModuleType, conn: Any, name: str) -> Any:
    """The domain called ``name``, or with that id or UUID, as virsh finds it."""
    lookups = [conn.lookupByName]
    if name.isdigit():
        lookups.append(lambda text: conn.lookupByID(int(text)))
    if len(name) == 36 and name.count("-") == 4:
        lookups.append(conn.lookupByUUIDString)
    for lookup in lookups:
        try:
            return lookup(name)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
                raise
    raise ConnectError(f"no domain '{name}' on {conn.getURI()}", "not-found")


class _Worker:
    """One daemon thread running blocking calls one after the other, in order."""

    def __init__(self, name: str) -> None:
        self._jobs: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        # A daemon: a call stuck in libvirt must not keep the process from exiting.
        threading.Thread(target=self._run, name=name, daemon=True).start()

    def submit(self, job: Callable[[], None]) -> None:
        self._jobs.put(job)

    def stop(self) -> None:
        """End the thread once the jobs submitted so far are done."""
        self._jobs.put(None)

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            job()


class LibvirtTransport:
    """The :class:`~qmpshell.protocol.transport.Transport` to a domain libvirt manages."""

    negotiated_already = True

    def __init__(self, sink: Sink, address: LibvirtAddress) -> None:
        self._sink = sink
        self._address = address
        self._libvirt: Any = None
        self._qemu: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._worker: _Worker | None = None
        # Set and read on the worker thread only (the open call, then commands).
        self._conn: Any = None
        self._domain: Any = None
        self._callbacks: list[Callable[[], None]] = []  # how to deregister each
        self._name = address.domain
        # Set on the loop's thread; read by the worker to skip what is left to do.
        self._closing = False
        self._opened = False
        self._reported = False
        self._stopped = threading.Event()  # set by libvirt's event loop thread

    # -- opening -------------------------------------------------------------------------

    async def open(self, timeout: float | None) -> None:
        self._libvirt, self._qemu = libvirt_modules()
        self._loop = asyncio.get_running_loop()
        self._worker = _Worker(f"libvirt {self._address.domain}")
        try:
            version = await asyncio.wait_for(self._call(self._connect), timeout)
        except asyncio.TimeoutError:
            raise ConnectError(
                f"timed out connecting to {self._address} after {timeout:g}s", "timeout"
            ) from None
        self._opened = True
        # What QEMU greeted libvirt with, as far as it can be told now.
        self._deliver({"QMP": {"version": version, "capabilities": []}})

    def _call(self, function: Callable[[], T]) -> asyncio.Future[T]:
        """Run ``function`` on the worker; its result or exception comes back in a future."""
        assert self._loop is not None and self._worker is not None
        future: asyncio.Future[T] = self._loop.create_future()

        def settle(outcome: T | None, error: BaseException | None) -> None:
            if future.done():  # given up on (timed out)
                return
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(outcome)  # type: ignore[arg-type]

        def job() -> None:
            try:
                outcome = function()
            except Exception as exc:
                self._to_loop(settle, None, exc)
            else:
                self._to_loop(settle, outcome, None)

        self._worker.submit(job)
        return future

    def _connect(self) -> Any:
        """On the worker: reach the domain, ask its version, subscribe to what it says."""
        libvirt, qemu = self._libvirt, self._qemu
        conn = self._conn = _open_connection(libvirt, self._address.uri)
        try:
            domain = self._domain = _lookup(libvirt, conn, self._address.domain)
            self._name = domain.name()
            state = domain.state()[0]
            if not domain.isActive():
                raise ConnectError(
                    f"domain '{self._name}' is not running ({_STATES.get(state, 'not active')})",
                    "not-running",
                )
            reply = json.loads(qemu.qemuMonitorCommand(domain, '{"execute":"query-version"}', 0))
            self._subscribe(conn, domain)
        except libvirt.libvirtError as exc:
            error = one_line(exc)
            raise ConnectError(f"cannot reach {self._address}: {error}", "libvirt") from None
        return reply.get("return", {})

    def _subscribe(self, conn: Any, domain: Any) -> None:
        """Register the callbacks that libvirt's event loop thread will call."""
        libvirt, qemu = self._libvirt, self._qemu
        ident = qemu.qemuMonitorEventRegister(conn, domain, None, self._on_qemu_event, None, 0)
        self._callbacks.append(lambda: qemu.qemuMonitorEventDeregister(conn, ident))
        lifecycle = conn.domainEventRegisterAny(
            domain, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, self._on_lifecycle, None
        )
        self._callbacks.append(lambda: conn.domainEventDeregisterAny(lifecycle))
        conn.registerCloseCallback(self._on_close, None)
        self._callbacks.append(conn.unregisterCloseCallback)

    # -- what libvirt's event loop thread calls ---------------------------------------

    def _on_qemu_event(
        self,
        _conn: Any,
        _domain: Any,
        name: str,
        seconds: int,
        microseconds: int,
        details: str | None,
        _opaque: object,
    ) -> None:
        event: Message = {"event": name}
        if details is not None:
            try:
                event["data"] = json.loads(details)
            except ValueError:
                event["data"] = details
        event["timestamp"] = {"seconds": seconds, "microseconds": microseconds}
        self._to_loop(self._deliver, event)

    def _on_lifecycle(
        self, _conn: Any, _domain: Any, event: int, detail: int, _opaque: object
    ) -> None:
        if event == self._libvirt.VIR_DOMAIN_EVENT_STOPPED:
            self._stopped.set()
            why = _STOPPED.get(detail, "stopped")
            self._to_loop(self._report, ConnectionLost(f"domain {self._name} stopped ({why})"))

    def _on_close(self, _conn: Any, reason: int, _opaque: object) -> None:
        if reason != self._libvirt.VIR_CONNECT_CLOSE_REASON_CLIENT:
            why = _CLOSED.get(reason, "")
            self._to_loop(self._report, ConnectionLost(f"libvirt connection closed {why}"))

    def _hand_over(self, timer: int, reply: Message) -> None:
        """A reply, handed over after the events libvirt had queued before it."""
        self._libvirt.virEventRemoveTimeout(timer)
        self._to_loop(self._deliver, reply)

    def _to_loop(self, callback: Callable[..., None], *args: Any) -> None:
        """Run ``callback`` on the client's loop (from another thread)."""
        assert self._loop is not None
        with contextlib.suppress(RuntimeError):  # the loop has ended: nobody listens
            self._loop.call_soon_threadsafe(callback, *args)

    # -- on the client's loop -------------------------------------------------------------

    def _deliver(self, message: Message) -> None:
        if not self._closing:
            self._sink.deliver(message)

    def _report(self, error: QMPShellError | None) -> None:
        """The connection has ended (closed by us when ``error`` is None): say so, once."""
        if self._reported:
            return
        self._reported = True
        self._shut_down()
        self._sink.lost(error)

    # -- Transport -----------------------------------------------------------------------

    def send(self, message: Message) -> None:
        assert self._worker is not None
        self._worker.submit(functools.partial(self._execute, message))

    def _execute(self, message: Message) -> None:
        """On the worker: one command through libvirt, its reply to the client."""
        if self._closing:
            return
        reply = self._monitor_command({k: v for k, v in message.items() if k != "id"}, message)
        if reply is None:
            return
        if "id" in message:
            reply["id"] = message["id"]
        try:
            self._libvirt.virEventAddTimeout(0, self._hand_over, reply)
        except self._libvirt.libvirtError:
            self._to_loop(self._deliver, reply)

    def _monitor_command(self, command: Message, message: Message) -> Message | None:
        """The reply to ``command`` (``message`` without its id: libvirt sets its own and
        refuses others), or None when the connection turns out to be lost. A raw line
        the client only added its id to goes as written (libvirt parses and re-writes
        every command itself, so QEMU sees libvirt's version of it either way)."""
        libvirt, qemu = self._libvirt, self._qemu
        line = _hmp_line(command)
        if isinstance(message, RawMessage) and message.added_id is not None:
            sent = message.text
        else:
            sent = json.dumps(command)
        try:
            if line is not None:
                flag = qemu.VIR_DOMAIN_QEMU_MONITOR_COMMAND_HMP
                return {"return": qemu.qemuMonitorCommand(self._domain, line, flag)}
            text = qemu.qemuMonitorCommand(self._domain, sent, 0)
        except libvirt.libvirtError as exc:
            if self._gone(exc):
                return None
            return {"error": {"class": "LibvirtError", "desc": one_line(exc)}}
        try:
            reply = json.loads(text)
        except ValueError:
            reply = None
        if not isinstance(reply, dict):
            desc = f"libvirt passed on a reply that is not a JSON object: {text[:80]!r}"
            return {"error": {"class": "LibvirtError", "desc": desc}}
        reply.pop("id", None)
        return reply

    def _gone(self, error: Any) -> bool:
        """Whether a command failed because the domain or libvirt went away; if so, that
        is reported (here, or by the lifecycle event on its way) and fails the command."""
        libvirt = self._libvirt
        if not self._holds(self._conn.isAlive):
            lost = ConnectionLost(f"libvirt connection closed: {one_line(error)}")
            self._to_loop(self._report, lost)
            return True
        monitor_broke = error.get_error_domain() == libvirt.VIR_FROM_QEMU and (
            error.get_error_code() in (libvirt.VIR_ERR_SYSTEM_ERROR, libvirt.VIR_ERR_INTERNAL_ERROR)
        )
        if not monitor_broke and self._holds(self._domain.isActive):
            return False  # an error of this command alone
        # The domain has stopped, or is stopping (libvirt lost QEMU's monitor: QEMU quit
        # or died); libvirt's lifecycle event, on its way, says why.
        if self._stopped.wait(STOP_GRACE):
            return True
        if self._holds(self._domain.isActive):
            return False
        self._to_loop(self._report, ConnectionLost(f"domain {self._name} is no longer running"))
        return True

    def _holds(self, question: Callable[[], int]) -> bool:
        """The answer to a yes/no call to libvirt; no when it cannot be asked."""
        try:
            return bool(question())
        except self._libvirt.libvirtError:
            return False

    def begin_resync(self) -> None:
        raise QMPShellError("a guest agent cannot be reached through libvirt's QEMU monitor")

    def is_closing(self) -> bool:
        return self._closing or not self._opened

    def close(self) -> None:
        self._shut_down()
        if self._opened and self._loop is not None:
            self._loop.call_soon(self._report, None)

    abort = close

    def _shut_down(self) -> None:
        """Stop sending; the worker lets go of libvirt once its current call returns."""
        if self._closing or self._worker is None:
            self._closing = True
            return
        self._closing = True
        self._worker.submit(self._disconnect)
        self._worker.stop()

    def _disconnect(self) -> None:
        """On the worker: deregister the callbacks, close the connection."""
        libvirt = self._libvirt
        for deregister in self._callbacks:
            _quietly(libvirt, deregister)
        self._callbacks.clear()
        if self._conn is not None:
            _quietly(libvirt, self._conn.close)
            self._conn = None


def _hmp_line(command: Message) -> str | None:
    """The HMP line of a ``human-monitor-command`` that libvirt's HMP flag can carry:
    one with a ``command-line`` only (a ``cpu-index`` goes as JSON, as written)."""
    if command.get("execute") != "human-monitor-command":
        return None
    arguments = command.get("arguments")
    if not isinstance(arguments, dict) or set(arguments) != {"command-line"}:
        return None
    line = arguments["command-line"]
    return line if isinstance(line, str) else None
