"""Named targets: the config file's ``[targets.NAME]`` tables, for ``qmpshell @NAME``.

Each says what to talk to, as the command line would: a monitor ``address``, a guest
agent's (``ga``), or a domain libvirt manages (``libvirt``, with ``connect``, the URI,
if it is not libvirt's default). The table is checked as the config file is read, each
error one line with its line (:class:`~qmpshell.cli.config.ConfigError`); cli/target.py
turns a name into what to talk to. Names are kept to letters, digits, ``.``, ``_`` and
``-``, so that a shell's completion script can offer them as they are.
"""

from __future__ import annotations

import os

from ..language.spelling import close_names, did_you_mean
from ..patterns import compiled
from ..protocol.address import AddressError, parse_address
from ..records import Record

TYPE_CHECKING = False  # typing's, without importing typing (docs/architecture.md, start-up)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

KEYS = ("address", "ga", "libvirt", "connect")
_KINDS = ("address", "ga", "libvirt")  # what to talk to: exactly one of them
_NAME = r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z"


class NamedTarget(Record):
    """One ``[targets.NAME]``: what it names (one of ``address``, ``ga``, ``libvirt``),
    and the libvirt URI."""

    name: str
    address: str | None = None
    ga: str | None = None
    libvirt: str | None = None
    connect: str | None = None

    def describe(self) -> str:
        """What it names, in a few words (``--targets``, completion menus)."""
        if self.libvirt is not None:
            return f"libvirt domain {self.libvirt}" + (
                f" on {self.connect}" if self.connect else ""
            )
        if self.ga is not None:
            return f"guest agent at {self.ga}"
        return f"monitor at {self.address}"


def checked_targets(
    table: Any, fail: Callable[[tuple[str, ...], str], Exception]
) -> dict[str, NamedTarget]:
    """The ``targets`` table read; ``fail(path, what)`` makes the error to raise for the
    key at ``path`` (``("targets", "web1", "address")``), which names its line."""
    if not isinstance(table, dict):
        raise fail(("targets",), "targets must be tables: [targets.NAME] with an address")
    targets = {}
    for name, entry in table.items():
        path = ("targets", name)
        if not compiled(_NAME).match(name):
            raise fail(path, f"target name {name!r}: letters, digits, '.', '_' and '-' only")
        if not isinstance(entry, dict):
            raise fail(path, f"targets.{name} must be a table: [targets.{name}]")
        targets[name] = _target(name, entry, _within(path, fail))
    return targets


def _within(
    path: tuple[str, ...], fail: Callable[[tuple[str, ...], str], Exception]
) -> Callable[[tuple[str, ...], str], Exception]:
    """``fail`` for the keys inside the table at ``path``."""
    return lambda keys, what: fail(path + keys, what)


def _target(
    name: str, entry: dict[str, Any], fail: Callable[[tuple[str, ...], str], Exception]
) -> NamedTarget:
    for key, value in entry.items():
        if key not in KEYS:
            hint = did_you_mean(close_names(key, KEYS)) or f"; the keys are {', '.join(KEYS)}"
            raise fail((key,), f"unknown key {key!r} in targets.{name}{hint}")
        if not isinstance(value, str) or not value:
            raise fail((key,), f"targets.{name}.{key} must be a non-empty string")
    kinds = [key for key in _KINDS if key in entry]
    if not kinds:
        raise fail((), f"targets.{name} needs an address, ga or libvirt")
    if len(kinds) > 1:
        raise fail((kinds[1],), f"targets.{name}: {kinds[0]} and {kinds[1]} exclude each other")
    if "connect" in entry and "libvirt" not in entry:
        raise fail(("connect",), f"targets.{name}: connect goes with libvirt")
    values = {key: _expanded(entry[key]) if key in ("address", "ga") else entry[key]
              for key in entry}  # fmt: skip
    for key in ("address", "ga"):
        if key in values:
            try:
                parse_address(values[key])
            except AddressError as exc:
                raise fail((key,), f"targets.{name}.{key}: {exc}") from None
    return NamedTarget(name, **values)


def _expanded(address: str) -> str:
    """A socket path from ``~`` made absolute, as the shell would on a command line."""
    return os.path.expanduser(address) if address.startswith("~") else address


def unknown_target(name: str, targets: dict[str, NamedTarget], source: str) -> str:
    """The one line for ``@name`` that names no target: the close ones, and the known."""
    known = ", ".join(f"@{known}" for known in sorted(targets)) or "none"
    if not name:
        return f"@ needs the name of a target (in {source}: {known})"
    if not targets:
        return f"no target named {name!r}: {source} names no targets ([targets.{name}])"
    hint = did_you_mean(close_names(name, list(targets)), prefix="@")
    return f"no target named {name!r}{hint} (in {source}: {known})"
