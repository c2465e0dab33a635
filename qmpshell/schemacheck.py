"""Whether a list is a well-formed ``query-qmp-schema`` reply, before anything uses it.

The schema comes from QEMU or from the cache on disk, which anything running as the same
user can write. :func:`check_entries` accepts only what the introspection format allows:
every entry a JSON object with a string ``name`` (unique) and a known ``meta-type``, the
members each meta-type has of the right JSON types, and every type an entry names
(``arg-type``, ``element-type``, a member's ``type``...) present in the list. A cache
entry that fails is fetched again; so :class:`~qmpshell.schema.Schema` never meets a
shape it does not expect. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
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
    kinds: dict[str, str] = {}
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise SchemaInvalid(f"entry {index} is not an object")
        name, meta = entry.get("name"), entry.get("meta-type")
        if not isinstance(name, str) or not name:
            raise SchemaInvalid(f"entry {index} has no name")
        if meta not in META_TYPES:
            raise SchemaInvalid(f"{name!r} has an unknown meta-type {meta!r}")
        if name in kinds:
            raise SchemaInvalid(f"{name!r} appears twice")
        kinds[name] = meta
    for entry in entries:
        _check_entry(entry, kinds)
    return entries


def _check_entry(entry: Mapping[str, Any], kinds: Mapping[str, str]) -> None:
    name, meta = entry["name"], entry["meta-type"]

    def fail(what: str) -> SchemaInvalid:
        return SchemaInvalid(f"{meta} {name!r}: {what}")

    def type_ref(key: str, holder: Mapping[str, Any] = entry, kind: str | None = None) -> str:
        value = holder.get(key)
        if not isinstance(value, str):
            raise fail(f"{key} is not a type name")
        if value not in kinds or (kind is not None and kinds[value] != kind):
            raise fail(f"{key} {value!r} is not a{'n ' + kind if kind else ''} type it lists")
        return value

    def objects(key: str, required: bool) -> list[Mapping[str, Any]]:
        value = entry.get(key)
        if value is None and not required:
            return []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise fail(f"{key} is not a list of objects")
        return value

    def text(holder: Mapping[str, Any], key: str) -> str:
        value = holder.get(key)
        if not isinstance(value, str):
            raise fail(f"{key} is not a string")
        return value

    features = entry.get("features", [])
    if not isinstance(features, list) or not all(isinstance(f, str) for f in features):
        raise fail("features is not a list of strings")
    if meta == "builtin":
        if entry.get("json-type") not in JSON_TYPES:
            raise fail("json-type is not a JSON type")
    elif meta == "enum":
        values = entry.get("values", [])
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise fail("values is not a list of strings")
        for member in objects("members", required=False):
            text(member, "name")
    elif meta == "array":
        type_ref("element-type")
    elif meta == "object":
        names = set()
        for member in objects("members", required=True):
            names.add(text(member, "name"))
            type_ref("type", member)
        tag = entry.get("tag")
        if tag is not None and tag not in names:
            raise fail(f"tag {tag!r} is not one of its members")
        for variant in objects("variants", required=False):
            text(variant, "case")
            type_ref("type", variant, "object")
    elif meta == "alternate":
        for member in objects("members", required=True):
            type_ref("type", member)
    elif meta == "command":
        type_ref("arg-type", kind="object")
        type_ref("ret-type")
        if not isinstance(entry.get("allow-oob", False), bool):
            raise fail("allow-oob is not a boolean")
    elif "arg-type" in entry:  # an event with data
        type_ref("arg-type", kind="object")
