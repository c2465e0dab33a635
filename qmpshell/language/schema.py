"""A read-only model of ``query-qmp-schema``: commands, their argument types, and types.

QEMU names most types opaquely (``"187"``); what matters is the shape behind the name.
:class:`Schema` resolves names to :class:`SchemaType` records and answers the questions
the shell asks: what are the members of this object (for this union branch), what does
this command take, which values does this enum allow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping

from ..records import Record

TYPE_CHECKING = False  # typing's, without importing typing (docs/architecture.md, start-up)
if TYPE_CHECKING:
    from typing import Any

# Commands whose arguments object accepts members the schema does not declare
# (QAPI 'gen': false with properties passed through to QOM).
OPEN_ARGUMENTS = frozenset({"device_add"})

_EMPTY: dict[str, Any] = {"name": "", "meta-type": "object", "members": []}


class Member(Record):
    """One member of an object type, with its features (``deprecated``, ``unstable``...)."""

    name: str
    type: str
    optional: bool
    features: tuple[str, ...] = ()


class Command(Record):
    name: str
    arg_type: str
    ret_type: str
    allow_oob: bool
    features: tuple[str, ...] = ()


class Schema:
    """The schema of one QEMU, built from the list ``query-qmp-schema`` returns."""

    def __init__(self, entries: Iterable[Mapping[str, Any]]) -> None:
        self._entries: dict[str, Mapping[str, Any]] = {}
        self.commands: dict[str, Command] = {}
        self.events: dict[str, Mapping[str, Any]] = {}
        for entry in entries:
            name = str(entry.get("name", ""))
            meta = entry.get("meta-type")
            if meta == "command":
                self.commands[name] = Command(
                    name,
                    str(entry.get("arg-type", "")),
                    str(entry.get("ret-type", "")),
                    bool(entry.get("allow-oob", False)),
                    tuple(entry.get("features", ())),
                )
            elif meta == "event":
                self.events[name] = entry
            else:
                self._entries[name] = entry

    def event_data_type(self, name: str) -> str | None:
        """The object type of an event's ``data``, or None when it has none."""
        entry = self.events.get(name)
        return str(entry["arg-type"]) if entry is not None and "arg-type" in entry else None

    def command(self, name: str) -> Command | None:
        return self.commands.get(name)

    def entry(self, type_name: str) -> Mapping[str, Any]:
        """The schema entry of a type; an unknown name reads as an empty object."""
        entry: Mapping[str, Any] = self._entries.get(type_name, _EMPTY)
        return entry

    def meta_type(self, type_name: str) -> str:
        return str(self.entry(type_name).get("meta-type", "object"))

    def members(self, type_name: str) -> list[Member]:
        """The members an object type always has (its base, for a union)."""
        return [
            Member(str(m["name"]), str(m["type"]), "default" in m, tuple(m.get("features", ())))
            for m in self.entry(type_name).get("members", ())
        ]

    def tag(self, type_name: str) -> str | None:
        """The discriminator member of a flat union, or None for a plain object."""
        tag = self.entry(type_name).get("tag")
        return str(tag) if tag is not None else None

    def variant(self, type_name: str, case: str) -> str | None:
        """The type whose members a union adds when its tag is ``case``."""
        for variant in self.entry(type_name).get("variants", ()):
            if variant.get("case") == case:
                return str(variant["type"])
        return None

    def branches(self, type_name: str, case_of: Callable[[str], str | None]) -> Iterator[str]:
        """The branches a flat union adds, in order (a branch may be a union itself):
        for each union on the way, ``case_of(tag)`` gives its tag's value, or None when it
        is not known, which ends the walk. The one walk of flat unions: typing,
        completion and help all go through it."""
        union = type_name
        while (tag := self.tag(union)) is not None:
            case = case_of(tag)
            branch = self.variant(union, case) if case is not None else None
            if branch is None:
                return
            yield branch
            union = branch

    def object_members(self, type_name: str, tags: Mapping[str, str] | None = None) -> list[Member]:
        """The members of an object: its base, and for a flat union whose tag value is
        known from ``tags`` (member name to typed value), that branch's members too."""
        members = self.members(type_name)
        for branch in self.branches(type_name, (tags or {}).get):
            members.extend(self.members(branch))
        return members

    def object_type(self, type_name: str) -> str | None:
        """The object type behind ``type_name``: itself, or an alternate's object branch."""
        meta = self.meta_type(type_name)
        if meta == "object":
            return type_name
        if meta == "alternate":
            for branch in self.alternatives(type_name):
                if self.meta_type(branch) == "object":
                    return branch
        return None

    def action_data_type(self, action: str) -> str | None:
        """The type of a transaction action's ``data``, or None for an unknown action."""
        command = self.commands.get("transaction")
        if command is None:
            return None
        actions = next((m.type for m in self.members(command.arg_type) if m.name == "actions"), "")
        branch = self.variant(self.element_type(actions), action)
        if branch is None:
            return None
        return next((m.type for m in self.members(branch) if m.name == "data"), branch)

    def action_names(self) -> list[str]:
        return self.enum_values(self.action_type())

    def action_type(self) -> str:
        """The enum of a transaction's action names; "" when there is no transaction."""
        command = self.commands.get("transaction")
        if command is None:
            return ""
        actions = next((m.type for m in self.members(command.arg_type) if m.name == "actions"), "")
        union = self.element_type(actions)
        tag = self.tag(union)
        member = next((m for m in self.members(union) if m.name == tag), None)
        return member.type if member else ""

    def enum_values(self, type_name: str) -> list[str]:
        entry = self.entry(type_name)
        if "values" in entry:
            return [str(v) for v in entry["values"]]
        return [str(m["name"]) for m in entry.get("members", ())]

    def value_features(self, type_name: str) -> dict[str, tuple[str, ...]]:
        """The features of an enum's values, for those that have some (QEMU 6.2 and later
        list an enum's values as members, each with its features, beside ``values``)."""
        entry = self.entry(type_name)
        if entry.get("meta-type") != "enum":
            return {}
        return {
            str(m["name"]): tuple(m["features"])
            for m in entry.get("members", ())
            if m.get("features")
        }

    def element_type(self, type_name: str) -> str:
        return str(self.entry(type_name).get("element-type", "any"))

    def alternatives(self, type_name: str) -> list[str]:
        """The branch types of an alternate, in schema order."""
        if self.meta_type(type_name) != "alternate":
            return []
        return [str(m["type"]) for m in self.entry(type_name).get("members", ())]

    def json_type(self, type_name: str) -> str:
        """For a builtin: its JSON type (``string``, ``int``, ``number``, ``boolean``,
        ``null``, ``value``); for anything else its meta-type."""
        entry = self.entry(type_name)
        if entry.get("meta-type") == "builtin":
            return str(entry.get("json-type", "value"))
        return str(entry.get("meta-type", "object"))

    def describe(self, type_name: str) -> str:
        """A short human name for a type: ``str``, ``int``, ``enum``, ``array of str``..."""
        meta = self.meta_type(type_name)
        if meta == "builtin":
            return type_name
        if meta == "array":
            return f"array of {self.describe(self.element_type(type_name))}"
        if meta == "alternate":
            return " or ".join(self.describe(t) for t in self.alternatives(type_name))
        return meta
