"""Whether a list is a well-formed ``query-qmp-schema`` reply, before anything uses it.

The schema comes from QEMU or from the cache on disk, which anything running as the same
user can write. :func:`check_entries` accepts only what the introspection format allows:
every entry a JSON object with a string ``name`` (unique) and a known ``meta-type``, the
members each meta-type has of the right JSON types, and every type an entry names
(``arg-type``, ``element-type``, a member's ``type``...) present in the list. A cache
entry that fails is fetched again; so :class:`~qmpshell.language.schema.Schema` never meets a
shape it does not expect. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping

TYPE_CHECKING = False  # typing's, without importing typing (docs/architecture.md, start-up)
if TYPE_CHECKING:
    from typing import Any

# QEMU 7.2 has about 1000 entries, 10.0 about 1400; far more is no schema.
MAX_ENTRIES = 100_000

JSON_TYPES = frozenset({"string", "number", "int", "boolean", "null", "object", "array", "value"})
META_TYPES = frozenset({"builtin", "enum", "array", "object", "alternate", "command", "event"})


class SchemaInvalid(ValueError):
    """The list is not a schema; the message says which entry and what is wrong."""


def check_entries(entries: Any) -> list[dict[str, Any]]:
    """``entries`` itself when it is a well-formed schema; else :class:`SchemaInvalid`."""
    if not isinstance(entries, list):
        raise SchemaInvalid("not a list")
    if len(entries) > MAX_ENTRIES:
        raise SchemaInvalid(f"{len(entries)} entries, more than {MAX_ENTRIES}")
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise SchemaInvalid(f"entry {index} is not an object")
    kinds = kinds_of([e.get("name") for e in entries], [e.get("meta-type") for e in entries])
    for entry in entries:
        check_entry(entry, kinds)
    return entries


def kinds_of(names: list[Any], metas: list[Any]) -> dict[str, str]:
    """The index of a schema, the meta-type of each of its entries by name, from the
    names and the meta-types in the entries' order (the first of the checks, which every
    other goes by): :class:`SchemaInvalid` unless the names
    are unique strings and the meta-types known ones. A cached schema's index is kept
    apart from its entries, so that a part of them can be read alone."""
    if len(names) > MAX_ENTRIES:
        raise SchemaInvalid(f"{len(names)} entries, more than {MAX_ENTRIES}")
    try:  # the common case, checked at C speed: unique names, all of them strings, none
        kinds = dict(zip(names, metas))  # empty, and known meta-types
    except TypeError:  # a name that cannot be one (a list, an object)
        kinds = {}
    if (
        len(kinds) == len(names)
        and set(map(type, names)) <= {str}
        and "" not in kinds
        and set(map(type, metas)) <= {str}
        and META_TYPES.issuperset(metas)
    ):
        return kinds
    kinds = {}  # the slow way, which says what is wrong
    for index, (name, meta) in enumerate(zip(names, metas)):
        if not isinstance(name, str) or not name:
            raise SchemaInvalid(f"entry {index} has no name")
        if not isinstance(meta, str) or meta not in META_TYPES:
            raise SchemaInvalid(f"{name!r} has an unknown meta-type {meta!r}")
        if name in kinds:
            raise SchemaInvalid(f"{name!r} appears twice")
        kinds[name] = meta
    return kinds


def check_entry(entry: dict[str, Any], kinds: Mapping[str, str]) -> None:
    """One entry (an object named in ``kinds`` with its meta-type there): each of its
    members of the JSON type the format gives it, each type it names listed in
    ``kinds``; else :class:`SchemaInvalid`."""
    if not _plainly_fine(entry, kinds):
        _check_entry(entry, kinds)  # the slow way, which says what is wrong


def referred_types(entry: Mapping[str, Any]) -> list[str]:
    """The types a checked entry names, each of which :func:`check_entry` found listed:
    an object's members' and branches' types, an alternate's branches, an array's
    element type, a command's argument and return types, an event's data type. What
    reading a part of a schema follows from the entries it starts with."""
    meta = entry["meta-type"]
    if meta == "object":
        variants = entry.get("variants") or ()
        return [m["type"] for m in entry["members"]] + [v["type"] for v in variants]
    if meta == "alternate":
        return [m["type"] for m in entry["members"]]
    if meta == "array":
        return [entry["element-type"]]
    if meta == "command":
        return [entry["arg-type"], entry["ret-type"]]
    if meta == "event" and "arg-type" in entry:
        return [entry["arg-type"]]
    return []


def _plainly_fine(entry: dict[str, Any], kinds: Mapping[str, str]) -> bool:
    """The common entries (objects, commands and enums, most of a schema) checked in a few
    steps: True only where :func:`_check_entry` would find nothing wrong; False means
    "look closer", not "wrong". A start-up with a cached schema checks about 1000."""
    if "features" in entry and not _strings(entry["features"]):
        return False
    meta = entry["meta-type"]
    if meta == "enum":
        values, members = entry.get("values", []), entry.get("members", [])
        if type(values) is not list or type(members) is not list:
            return False
        for value in values:
            if type(value) is not str:
                return False
        for member in members:
            if type(member) is not dict or type(member.get("name")) is not str:
                return False
            if "features" in member and not _strings(member["features"]):
                return False
        return True
    if meta == "command":
        args, ret = entry.get("arg-type"), entry.get("ret-type")
        return (
            type(args) is str
            and kinds.get(args) == "object"
            and type(ret) is str
            and ret in kinds
            and type(entry.get("allow-oob", False)) is bool
        )
    if meta != "object":
        return False
    members = entry.get("members")
    if type(members) is not list:
        return False
    names = set()
    for member in members:
        if type(member) is not dict:
            return False
        name, kind = member.get("name"), member.get("type")
        if type(name) is not str or type(kind) is not str or kind not in kinds:
            return False
        if "features" in member and not _strings(member["features"]):
            return False
        names.add(name)
    tag = entry.get("tag")
    if tag is not None and (type(tag) is not str or tag not in names):
        return False
    variants = entry.get("variants")
    if variants is None:
        return True
    if type(variants) is not list:
        return False
    for variant in variants:
        if type(variant) is not dict:
            return False
        kind = variant.get("type")
        if type(variant.get("case")) is not str or type(kind) is not str:
            return False
        if kinds.get(kind) != "object":
            return False
    return True


def _fail(entry: Mapping[str, Any], what: str) -> SchemaInvalid:
    return SchemaInvalid(f"{entry['meta-type']} {entry['name']!r}: {what}")


def _type_ref(
    entry: Mapping[str, Any],
    holder: Mapping[str, Any],
    key: str,
    kinds: Mapping[str, str],
    kind: str | None = None,
) -> None:
    """``holder[key]`` names a type the schema lists (of meta-type ``kind``, if given)."""
    value = holder.get(key)
    if not isinstance(value, str):
        raise _fail(entry, f"{key} is not a type name")
    found = kinds.get(value)
    if found is None or (kind is not None and found != kind):
        raise _fail(entry, f"{key} {value!r} is not a{'n ' + kind if kind else ''} type it lists")


def _objects(entry: Mapping[str, Any], key: str, required: bool) -> list[Mapping[str, Any]]:
    value = entry.get(key)
    if value is None and not required:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise _fail(entry, f"{key} is not a list of objects")
    return value


def _text(entry: Mapping[str, Any], holder: Mapping[str, Any], key: str) -> str:
    value = holder.get(key)
    if not isinstance(value, str):
        raise _fail(entry, f"{key} is not a string")
    return value


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _features(entry: Mapping[str, Any], member: Mapping[str, Any], name: str) -> str:
    """A member's (or an enum value's) features are a list of strings, as the entry's
    are: what marks it deprecated or unstable. Returns ``name``."""
    if "features" in member and not _strings(member["features"]):
        raise _fail(entry, f"the features of {name!r} are not a list of strings")
    return name


def _check_entry(entry: Mapping[str, Any], kinds: Mapping[str, str]) -> None:
    meta = entry["meta-type"]
    if "features" in entry and not _strings(entry["features"]):
        raise _fail(entry, "features is not a list of strings")
    if meta == "builtin":
        if entry.get("json-type") not in JSON_TYPES:
            raise _fail(entry, "json-type is not a JSON type")
    elif meta == "enum":
        if not _strings(entry.get("values", [])):
            raise _fail(entry, "values is not a list of strings")
        for member in _objects(entry, "members", required=False):
            _features(entry, member, _text(entry, member, "name"))
    elif meta == "array":
        _type_ref(entry, entry, "element-type", kinds)
    elif meta == "object":
        names = set()
        for member in _objects(entry, "members", required=True):
            names.add(_features(entry, member, _text(entry, member, "name")))
            _type_ref(entry, member, "type", kinds)
        tag = entry.get("tag")
        if tag is not None and tag not in names:
            raise _fail(entry, f"tag {tag!r} is not one of its members")
        for variant in _objects(entry, "variants", required=False):
            _text(entry, variant, "case")
            _type_ref(entry, variant, "type", kinds, "object")
    elif meta == "alternate":
        for member in _objects(entry, "members", required=True):
            _type_ref(entry, member, "type", kinds)
    elif meta == "command":
        _type_ref(entry, entry, "arg-type", kinds, "object")
        _type_ref(entry, entry, "ret-type", kinds)
        if not isinstance(entry.get("allow-oob", False), bool):
            raise _fail(entry, "allow-oob is not a boolean")
    elif "arg-type" in entry:  # an event with data
        _type_ref(entry, entry, "arg-type", kinds, "object")
