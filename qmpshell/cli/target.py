"""What the command line says to talk to: a monitor address, a guest agent, a QEMU to
launch, or a domain libvirt manages (chosen from a list when none is named); or one of
these by the name the config file gives it (``@web1``, cli/namedtargets.py)."""

from __future__ import annotations

import argparse
import os

from ..escape import escape_text
from ..protocol.address import Address, AddressError, LibvirtAddress, parse_address
from .namedtargets import unknown_target

TYPE_CHECKING = False  # typing's, without importing typing (docs/architecture.md, start-up)
if TYPE_CHECKING:
    from ..ui.console import Console
    from .config import Settings


class Target:
    """What to talk to: a monitor address, a guest agent, or a QEMU to launch."""

    def __init__(
        self, address: Address | None = None, launch: list[str] | None = None, agent: bool = False
    ) -> None:
        self.address = address
        self.launch = launch
        self.agent = agent


def choose_target(
    parser: argparse.ArgumentParser,
    args: argparse.Namespace,
    qemu: list[str],
    console: Console,
    settings: Settings,
) -> Target | None:
    """What the options say to talk to; None when there is nothing to talk to (the
    domains were only listed). ``settings`` hold the config file's named targets."""
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
        text = args.address or os.environ.get("QMP_SOCKET")
        if not text:
            parser.error("no address given and QMP_SOCKET is not set")
        if text.startswith("@"):
            return _named_target(parser, text[1:], settings, console)
        return Target(parse_address(text))
    except AddressError as exc:
        parser.error(str(exc))


def _named_target(
    parser: argparse.ArgumentParser, name: str, settings: Settings, console: Console
) -> Target | None:
    """What ``@name`` names in the config file; one line and exit 2 when nothing."""
    config = settings.config
    named = config.targets.get(name) if config is not None else None
    if named is None:
        if settings.path is None:
            why = f"no target named {name!r}: --no-config reads no config file"
        elif config is None:
            why = f"no target named {name!r}: there is no config file {settings.path}"
        else:
            why = unknown_target(name, config.targets, settings.path)
        parser.exit(2, f"qmpshell: error: {escape_text(why)}\n")
    if named.libvirt is not None:
        return _libvirt_target(named.libvirt, named.connect, console)
    if named.ga is not None:
        return Target(parse_address(named.ga), agent=True)
    assert named.address is not None
    return Target(parse_address(named.address))


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
