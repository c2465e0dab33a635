"""Monitor addresses as users write them: a UNIX socket path, ``HOST:PORT``, ``[IPV6]:PORT``.

QEMU's own spellings ``unix:PATH`` and ``tcp:HOST:PORT`` are accepted too, so an address
can be copied from a ``-qmp`` option. A VM that libvirt manages is reached by its domain
instead (:class:`LibvirtAddress`, from ``--libvirt DOMAIN [--connect URI]``).
"""

from __future__ import annotations

import os
import sys

from ..errors import QMPShellError
from ..patterns import compiled
from ..records import Record


class AddressError(QMPShellError):
    """An address string that names neither a socket path nor a host and port."""


class UnixAddress(Record):
    path: str

    def __str__(self) -> str:
        return self.path


class TcpAddress(Record):
    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


class LibvirtAddress(Record):
    """A domain (name, id or UUID, as virsh takes them) that libvirt manages, at ``uri``
    (None: libvirt's default, such as ``qemu:///system``)."""

    domain: str
    uri: str | None = None

    def __str__(self) -> str:
        return f"libvirt:{self.domain}" + (f" on {self.uri}" if self.uri else "")


if sys.version_info >= (3, 10):
    Address = UnixAddress | TcpAddress | LibvirtAddress
else:  # typing's, only there
    from typing import Union

    Address = Union[UnixAddress, TcpAddress, LibvirtAddress]

# Each tried only on an address that could match it (a bracket first, a colon in it), and
# compiled then: a socket path needs neither.
_IPV6 = r"\[([0-9A-Fa-f:.]+(?:%[\w.-]+)?)\]:([0-9]+)\Z"
_HOST_PORT = r"([^/:\[\]]*):([0-9]+)\Z"


def _port(text: str, address: str) -> int:
    if not 0 < int(text) < 65536:
        raise AddressError(f"invalid port in address '{address}': expected 1-65535")
    return int(text)


def parse_address(text: str) -> Address:
    """Turn an address the user wrote into a :class:`UnixAddress` or :class:`TcpAddress`.

    ``HOST:PORT`` wins over a path only when no file of that name exists, so a socket
    file that happens to be called ``vm:1`` can still be reached.
    """
    if not text:
        raise AddressError("empty address: give a socket path, HOST:PORT or [IPV6]:PORT")
    if text.startswith("unix:"):
        if len(text) == 5:
            raise AddressError("empty socket path after 'unix:'")
        return UnixAddress(text[5:])
    forced_tcp = text.startswith("tcp:")
    if forced_tcp:
        text = text[4:]
    match = compiled(_IPV6).match(text) if text.startswith("[") else None
    if match:
        return TcpAddress(match.group(1), _port(match.group(2), text))
    match = compiled(_HOST_PORT).match(text) if ":" in text else None
    if forced_tcp and not match:
        raise AddressError(f"invalid TCP address '{text}': expected HOST:PORT or [IPV6]:PORT")
    if match and (forced_tcp or not os.path.exists(text)):
        return TcpAddress(match.group(1) or "localhost", _port(match.group(2), text))
    if text.startswith("["):
        raise AddressError(f"invalid IPv6 address '{text}': expected [ADDRESS]:PORT")
    return UnixAddress(text)
