"""What the command line says to talk to: a monitor address, a guest agent, a QEMU to
launch, or a domain libvirt manages (chosen from a list when none is named)."""

from __future__ import annotations

import argparse
import os

from ..protocol.address import Address, AddressError, LibvirtAddress, parse_address

TYPE_CHECKING = False  # typing's, without importing typing (docs/architecture.md, start-up)
if TYPE_CHECKING:
    from ..ui.console import Console


class Target:
    """What to talk to: a monitor address, a guest agent, or a QEMU to launch."""

    def __init__(
        self, address: Address | None = None, launch: list[str] | None = None, agent: bool = False
    ) -> None:
        self.address = address
        self.launch = launch
        self.agent = agent


def choose_target(
    parser: argparse.ArgumentParser, args: argparse.Namespace, qemu: list[str], console: Console
) -> Target | None:
    """What the options say to talk to; None when there is nothing to talk to (the
    domains were only listed)."""
    if args.connect is not None and args.libvirt is None:
        parser.error("--connect goes with --libvirt")
    if args.raw_console and not (qemu or args.launch):
        parser.error("--raw-console goes with a QEMU that qmpshell launches")
    try:
        if args.libvirt is not None:
            if args.address or args.ga or args.launch or qemu:
                parser.error("--libvirt excludes an address, --ga and --launch")
            return _libvirt_target(args.libvirt, args.connect, console)
        if qemu or args.launch:
            if args.address or args.ga:
                parser.error("give an address or a QEMU to launch, not both")
            if args.reconnect is not None:
                parser.error("--reconnect does not apply to a QEMU that qmpshell launches")
            from ..protocol.launch import default_command, refused_option

            if not qemu:
                qemu = default_command()
            reason = refused_option(qemu)
            if reason is not None:  # one line, not the usage: the options were fine
                parser.exit(2, f"qmpshell: error: {reason}\n")
            return Target(launch=qemu)
        if args.ga:
            if args.address:
                parser.error("give either an address or --ga")
            return Target(parse_address(args.ga), agent=True)
        text = args.address[0] if args.address else os.environ.get("QMP_SOCKET")
        if not text:
            parser.error("no address given and QMP_SOCKET is not set")
        return Target(parse_address(text))
    except AddressError as exc:
        parser.error(str(exc))


def _libvirt_target(domain: str, uri: str | None, console: Console) -> Target | None:
    """The domain given, or the one the user chooses from the list of those running."""
    if not domain:
        from ..ui.domains import choose_domain

        chosen = choose_domain(uri, console)
        if chosen is None:
            return None
        domain = chosen
    else:
        from ..protocol.libvirt_transport import libvirt_modules

        libvirt_modules()  # said now, in one line, when libvirt-python is missing
    return Target(LibvirtAddress(domain, uri))


_GLOB = "*?["


def fanout_targets(
    parser: argparse.ArgumentParser, args: argparse.Namespace, qemu: list[str]
) -> list[tuple[str, list[str]]] | None:
    """The targets of a script run on several (``SOCK1 SOCK2``, ``--libvirt 'web-*'``):
    each one's name and the words that name it to a run of its own; None for one target.
    Raises ``ConnectError`` when libvirt cannot list its domains."""
    glob = args.libvirt is not None and any(c in args.libvirt for c in _GLOB)
    if len(args.address) < 2 and not glob:
        return None
    if args.ga or args.launch or qemu:
        parser.error("several targets exclude --ga and --launch")
    if glob:
        if args.address:
            parser.error("--libvirt excludes an address")
        return _matching_domains(args.libvirt, args.connect)
    try:
        for text in args.address:
            parse_address(text)  # each said now, as a usage error, not by its run
    except AddressError as exc:
        parser.error(str(exc))
    return [(text, [text]) for text in args.address]


def _matching_domains(pattern: str, uri: str | None) -> list[tuple[str, list[str]]]:
    """The running domains whose names ``pattern`` matches, in their order by name."""
    from fnmatch import fnmatchcase

    from ..errors import ConnectError
    from ..protocol.libvirt_transport import running_domains

    connected, domains = running_domains(uri)
    names = [d.name for d in domains if fnmatchcase(d.name, pattern)]
    if not names:
        raise ConnectError(f"no running domain on {connected} matches '{pattern}'", "libvirt")
    return [(name, [f"--libvirt={name}", f"--connect={connected}"]) for name in names]
