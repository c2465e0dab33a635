"""How a connection fails to open, or ends, in the words the user reads.

One home for these words, used by both clients: the asyncio :class:`QMPClient` and the
blocking client of one-shot scripts (:mod:`qmpshell.protocol.blocking`).
"""

from __future__ import annotations

import os
import stat

from ..errors import (
    ConnectError,
    ConnectionLost,
    NotQMPError,
    ProtocolError,
    QMPShellError,
    SessionEnded,
)
from .address import Address, TcpAddress, UnixAddress

# The largest message taken from a peer: QEMU's largest replies (the schema, a big VM's
# HMP "info mtree") are a few MB; a peer that sends more is refused, not held in memory.
MAX_MESSAGE_SIZE = 256 << 20


def connect_error(address: UnixAddress | TcpAddress, exc: OSError) -> ConnectError:
    """Say which of the usual reasons kept us from reaching ``address``."""
    import socket  # here, not at start-up: a one-shot script on a UNIX socket needs none of it

    if isinstance(exc, socket.gaierror):
        host = getattr(address, "host", address)
        return ConnectError(f"cannot resolve host '{host}': {exc.strerror}", "resolve")
    if isinstance(address, UnixAddress):
        path = address.path
        if isinstance(exc, FileNotFoundError):
            return ConnectError(f"no such socket: {path}", "not-found")
        if isinstance(exc, PermissionError):
            return ConnectError(f"permission denied: {path}", "permission")
        if isinstance(exc, ConnectionRefusedError):
            try:
                is_socket = stat.S_ISSOCK(os.stat(path).st_mode)
            except OSError:
                is_socket = True
            if not is_socket:
                return ConnectError(f"not a socket: {path}", "not-a-socket")
            return ConnectError(
                f"connection refused: {path} (nothing is listening; is QEMU running?)",
                "refused",
            )
    elif isinstance(exc, ConnectionRefusedError):
        return ConnectError(f"connection refused: {address} (nothing is listening)", "refused")
    reason = exc.strerror or str(exc)
    return ConnectError(f"cannot connect to {address}: {reason}", "os")


def connect_timeout(address: Address, timeout: float) -> ConnectError:
    return ConnectError(f"timed out connecting to {address} after {timeout:g}s", "timeout")


def unfinished(pending: int) -> str:
    """What a connection that ended mid-message left behind (``pending`` bytes of a
    message), said for the user."""
    if not pending:
        return ""
    return f" in the middle of a message ({pending} bytes of it received)"


def unusable(address: Address | None, error: ProtocolError, *, greeted: bool) -> QMPShellError:
    """The stream cannot be read on (``error``): before the greeting, the peer is no QMP
    server; after it, the connection is dropped."""
    if not greeted:
        return NotQMPError(f"{address} is not a QMP server: {error}")
    return ConnectionLost(f"connection to {address} dropped: {error}")


def ended(
    address: Address | None,
    exc: Exception | None,
    left: str = "",
    *,
    greeted: bool,
    quitting: bool,
) -> QMPShellError:
    """Why the connection ended, when the peer ended it or the socket failed: ``exc``
    (None: closed by the peer; a :class:`ConnectionLost` says it in its own words),
    ``left`` what was left of a message cut short (:func:`unfinished`)."""
    if quitting:
        return SessionEnded("QEMU quit; session ended")
    if not greeted:
        return NotQMPError(f"{address} closed the connection without a QMP greeting")
    if isinstance(exc, ConnectionLost):
        return exc
    if exc is not None:
        return ConnectionLost(f"connection to {address} lost: {exc}{left}")
    return ConnectionLost(f"connection to {address} closed by peer{left}")
