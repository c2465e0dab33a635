"""The protocol layer: an asyncio QMP client, usable on its own as a library.

    from qmpshell.protocol import QMPClient, parse_address

    async with QMPClient() as qmp:
        await qmp.connect(parse_address("/tmp/qmp.sock"))
        status = await qmp.execute("query-status")

It knows nothing of terminals: importing it loads neither prompt_toolkit, pygments nor
libvirt (libvirt only when a ``libvirt:`` address is connected). See docs/library.md.
"""

from __future__ import annotations

from ..errors import (
    CommandError,
    ConnectError,
    ConnectionLost,
    NegotiationError,
    NotQMPError,
    ProtocolError,
    QMPShellError,
    ReplyTimeout,
)
from .address import Address, AddressError, LibvirtAddress, TcpAddress, UnixAddress, parse_address
from .client import QMPClient, Runstate
from .greeting import Greeting
from .transcript import Transcript

__all__ = [
    "Address",
    "AddressError",
    "CommandError",
    "ConnectError",
    "ConnectionLost",
    "Greeting",
    "LibvirtAddress",
    "NegotiationError",
    "NotQMPError",
    "ProtocolError",
    "QMPClient",
    "QMPShellError",
    "ReplyTimeout",
    "Runstate",
    "TcpAddress",
    "Transcript",
    "UnixAddress",
    "parse_address",
]
