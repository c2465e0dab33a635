"""qmpshell: an interactive shell for QEMU's QMP and HMP monitors.

The protocol layer (:mod:`qmpshell.protocol.client`) is usable on its own as an asyncio library.
"""

from __future__ import annotations

__all__ = ["LibvirtAddress", "QMPClient", "parse_address"]

from .protocol.address import LibvirtAddress, parse_address
from .protocol.client import QMPClient
