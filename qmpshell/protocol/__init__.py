"""The protocol layer: an asyncio QMP client, usable on its own as a library.

    from qmpshell.protocol import QMPClient, parse_address

    async with QMPClient() as qmp:
        await qmp.connect(parse_address("/tmp/qmp.sock"))
        status = await qmp.execute("query-status")

It knows nothing of terminals: importing it loads neither prompt_toolkit, pygments nor
libvirt (libvirt only when a ``libvirt:`` address is connected). See docs/library.md.
The client (and with it asyncio) is imported when first named, so that a module of this
package can be used without it (the blocking client of one-shot scripts).
"""

from __future__ import annotations

import importlib

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

TYPE_CHECKING = False  # typing's, without importing typing (docs/architecture.md, start-up)
if TYPE_CHECKING:
    from typing import Any

    from .client import QMPClient, Runstate
    from .greeting import Greeting
    from .transcript import Transcript

_LAZY = {"QMPClient": "client", "Runstate": "client", "Greeting": "greeting"}
_LAZY["Transcript"] = "transcript"


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)


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
