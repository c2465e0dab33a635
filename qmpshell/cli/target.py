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
    from .namedtargets import NamedTarget


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
        text = args.address[0] if args.address else os.environ.get("QMP_SOCKET")
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
    return _of_named(_named(parser, name, settings), console)


def _of_named(named: NamedTarget, console: Console | None) -> Target | None:
    if named.libvirt is not None:
        return _libvirt_target(named.libvirt, named.connect, console)
    if named.ga is not None:
        return Target(parse_address(named.ga), agent=True)
    assert named.address is not None
    return Target(parse_address(named.address))


def _named(parser: argparse.ArgumentParser, name: str, settings: Settings) -> NamedTarget:
    """The config file's target ``name``; one line and exit 2 when there is none."""
    named = _lookup(name, settings)
    if isinstance(named, str):
        parser.exit(2, f"qmpshell: error: {escape_text(named)}\n")
    return named


def _lookup(name: str, settings: Settings) -> NamedTarget | str:
    """The config file's target ``name``, or why there is none."""
    config = settings.config
    named = config.targets.get(name) if config is not None else None
    if named is not None:
        return named
    if settings.path is None:
        return f"no target named {name!r}: --no-config reads no config file"
    if config is None:
        return f"no target named {name!r}: there is no config file {settings.path}"
    return unknown_target(name, config.targets, settings.path)


def connect_target(text: str, settings: Settings) -> Target:
    """What ``/connect``'s argument names: an address, or ``@NAME`` of the config file.
    Raises InputError (one line) when it names nothing."""
    from ..errors import InputError

    try:
        if not text.startswith("@"):
            return Target(parse_address(text))
        named = _lookup(text[1:], settings)
        if isinstance(named, str):
            raise InputError(named)
        if named.libvirt is not None and not named.libvirt:
            raise InputError(f"target {text[1:]!r} names no domain")
        target = _of_named(named, None)
        assert target is not None  # a domain is named: nothing to choose
        return target
    except AddressError as exc:
        raise InputError(str(exc)) from None


def _libvirt_target(domain: str, uri: str | None, console: Console | None) -> Target | None:
    """The domain given, or the one the user chooses from the list of those running."""
    if not domain:
        from ..ui.domains import choose_domain

        assert console is not None  # only the command line leaves the domain to choose
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
    parser: argparse.ArgumentParser,
    args: argparse.Namespace,
    qemu: list[str],
    settings: Settings,
) -> list[tuple[str, list[str]]] | None:
    """The targets of a script run on several (``SOCK1 @web1``, ``--libvirt 'web-*'``):
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
    several = []
    try:
        for text in args.address:  # each said now, as a usage error, not by its run
            if text.startswith("@"):
                several.append((text[1:], _words(_named(parser, text[1:], settings))))
            else:
                parse_address(text)
                several.append((text, [text]))
    except AddressError as exc:
        parser.error(str(exc))
    return several


def _words(named: NamedTarget) -> list[str]:
    """What a named target is, as the words of a command line."""
    if named.libvirt is not None:
        connect = [f"--connect={named.connect}"] if named.connect else []
        return [f"--libvirt={named.libvirt}", *connect]
    if named.ga is not None:
        return [f"--ga={named.ga}"]
    assert named.address is not None
    return [named.address]


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
