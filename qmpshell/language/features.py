"""Deprecated and unstable: which names of the schema are marked so, and what a message
uses of them.

QEMU's schema gives commands, events, members and enum values ``features``; two of them
say something a user should hear before relying on a name: ``deprecated`` (it is going
away) and ``unstable`` (it may change without notice; QEMU's ``x-`` names, which were
unstable by that prefix alone before the feature existed). :func:`marks` is the one rule
of what is marked, for the completion menu, ``/help`` and the warning a message earns;
:func:`uses` finds what a message about to be sent (shorthand or raw JSON alike) uses
that is marked, walking its arguments along the schema's types. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ..records import Record
from .schema import Schema

TYPE_CHECKING = False  # typing's, without importing typing (docs/architecture.md, start-up)
if TYPE_CHECKING:
    from typing import Any

MARKS = ("deprecated", "unstable")


def features_of(name: str, features: Iterable[str]) -> tuple[str, ...]:
    """A name's features as qmpshell shows them: the schema's, and ``unstable`` for an
    ``x-`` name that does not say it (the prefix meant it before the feature existed)."""
    found = tuple(features)
    if name.startswith("x-") and "unstable" not in found:
        found += ("unstable",)
    return found


def marks(name: str, features: Iterable[str]) -> tuple[str, ...]:
    """Which of ``deprecated`` and ``unstable`` a name is, in that order."""
    found = features_of(name, features)
    return tuple(mark for mark in MARKS if mark in found)


def marked(meta: str, found: tuple[str, ...]) -> str:
    """A menu's meta text with the marks after it: ``command, deprecated``."""
    return ", ".join((meta, *found)) if meta else ", ".join(found)


class Use(Record):
    """Something marked a message uses: its ``command`` itself (``kind`` "command"), an
    argument (``name`` its path, ``backend.data.reconnect``) or an enum value (``name``
    the value, ``path`` the argument it is given to)."""

    command: str
    kind: str
    name: str
    path: str
    marks: tuple[str, ...]


def warning(use: Use) -> str:
    """The line said the first time a session uses it: ``warning: 'nbd-server-add' is
    deprecated``."""
    what = " and ".join(use.marks)
    if use.kind == "command":
        return f"warning: '{use.command}' is {what}"
    if use.kind == "argument":
        return f"warning: argument '{use.name}' of '{use.command}' is {what}"
    return f"warning: value '{use.name}' of '{use.path}' of '{use.command}' is {what}"


def uses(schema: Schema, message: Any) -> list[Use]:
    """What ``message`` (a QMP command, as sent) uses that the schema marks deprecated or
    unstable: the command, then its arguments and values in the order written, each
    once. What the schema does not know (an unknown command or member, a value of the
    wrong type in raw JSON) is passed over: QEMU will say what it thinks of it."""
    name = message.get("execute", message.get("exec-oob"))
    command = schema.command(name) if isinstance(name, str) else None
    if command is None:
        return []
    found: dict[Use, None] = {}
    own = marks(command.name, command.features)
    if own:
        found[Use(command.name, "command", command.name, "", own)] = None
    arguments = message.get("arguments")
    if isinstance(arguments, dict):
        for use in _Walk(schema, command.name).value(command.arg_type, arguments, ""):
            found[use] = None
    return list(found)


class _Walk:
    """One message's arguments walked along their types; only where the value has
    something to walk (a huge array of numbers is not looked into)."""

    def __init__(self, schema: Schema, command: str) -> None:
        self.schema = schema
        self.command = command

    def value(self, type_name: str, value: Any, path: str) -> Iterator[Use]:
        schema = self.schema
        meta = schema.meta_type(type_name)
        if meta == "object":
            if isinstance(value, dict):
                yield from self.object(type_name, value, path)
        elif meta == "array":
            element = schema.element_type(type_name)
            if isinstance(value, list) and schema.meta_type(element) != "builtin":
                for item in value:
                    yield from self.value(element, item, path + "[]")
        elif meta == "enum":
            if isinstance(value, str):
                found = marks(value, schema.value_features(type_name).get(value, ()))
                if found:
                    yield Use(self.command, "value", value, path, found)
        elif meta == "alternate":
            branch = self.branch(type_name, value)
            if branch is not None:
                yield from self.value(branch, value, path)

    def object(self, type_name: str, value: dict[str, Any], path: str) -> Iterator[Use]:
        schema = self.schema
        members = {m.name: m for m in schema.members(type_name)}

        def case_of(tag: str) -> str | None:
            case = value.get(tag)
            return case if isinstance(case, str) else None

        for branch in schema.branches(type_name, case_of):
            members.update((m.name, m) for m in schema.members(branch))
        for name, item in value.items():
            member = members.get(name)
            if member is None:
                continue
            here = f"{path}.{name}" if path else name
            found = marks(name, member.features)
            if found:
                yield Use(self.command, "argument", here, "", found)
            yield from self.value(member.type, item, here)

    def branch(self, type_name: str, value: Any) -> str | None:
        """The branch of an alternate a JSON value takes: an object or an array its
        branch of that meta-type, a string the enum that has it."""
        schema = self.schema
        for branch in schema.alternatives(type_name):
            meta = schema.meta_type(branch)
            if (
                (meta == "object" and isinstance(value, dict))
                or (meta == "array" and isinstance(value, list))
                or (
                    meta == "enum"
                    and isinstance(value, str)
                    and value in schema.enum_values(branch)
                )
            ):
                return branch
        return None
