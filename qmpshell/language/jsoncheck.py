"""JSON values checked against the schema, as QEMU's input visitor would check them.

The shorthand is text typed by :mod:`.typecheck`; a document written in an editor
(``/edit``) is JSON already, whose values have their JSON types: ``"5"`` is not an
integer, ``5`` is not a string. :func:`check_value` walks a value along its schema type
and raises :class:`ValueFault` at the first thing QEMU would refuse, with the path to it
(keys and array indexes), so that the editor's file can name the line — pure.
"""

from __future__ import annotations

from .schema import OPEN_ARGUMENTS, Schema
from .spelling import close_names, did_you_mean

TYPE_CHECKING = False  # typing's, without importing typing (docs/architecture.md, start-up)
if TYPE_CHECKING:
    from typing import Any

Path = tuple["str | int", ...]

# The ranges of QAPI's sized integer builtins (``int`` and ``size`` are 64-bit).
_RANGES = {
    "int8": (-(2**7), 2**7 - 1),
    "int16": (-(2**15), 2**15 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "int": (-(2**63), 2**63 - 1),
    "uint8": (0, 2**8 - 1),
    "uint16": (0, 2**16 - 1),
    "uint32": (0, 2**32 - 1),
    "uint64": (0, 2**64 - 1),
    "size": (0, 2**64 - 1),
}

_JSON_NAMES = {
    "string": "a string",
    "int": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "null": "null",
}


class ValueFault(Exception):
    """What is wrong with a value (``str()``), and where: ``path`` from the checked
    value's root, keys and array indexes."""

    def __init__(self, message: str, path: Path) -> None:
        super().__init__(message)
        self.path = path


def dotted(path: Path) -> str:
    """A path as the shorthand writes it: ``file.driver``, ``devices[0].node``."""
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else step)
    return text


def check_arguments(schema: Schema, command: str, arguments: Any, path: Path) -> None:
    """The ``arguments`` of ``command`` (an object, or None when none were given)."""
    found = schema.command(command)
    if found is None:
        hint = did_you_mean(close_names(command, schema.commands))
        raise ValueFault(f"unknown command '{command}'{hint}", (*path[:-1], "execute"))
    if arguments is None:
        arguments = {}
    _object(schema, found.arg_type, arguments, path, open_=command in OPEN_ARGUMENTS)


def check_value(schema: Schema, type_name: str, value: Any, path: Path = ()) -> None:
    """``value`` against ``type_name``; :class:`ValueFault` at the first fault."""
    meta = schema.meta_type(type_name)
    if meta == "object":
        _object(schema, type_name, value, path)
    elif meta == "array":
        if not isinstance(value, list):
            raise ValueFault(f"{_name(path)} expects an array, got {_kind(value)}", path)
        element = schema.element_type(type_name)
        for index, item in enumerate(value):
            check_value(schema, element, item, (*path, index))
    elif meta == "enum":
        allowed = schema.enum_values(type_name)
        if not isinstance(value, str) or value not in allowed:
            shown = repr(value) if isinstance(value, str) else _kind(value)
            hint = did_you_mean(close_names(value, allowed)) if isinstance(value, str) else ""
            listed = ", ".join(allowed[:20]) + (", ..." if len(allowed) > 20 else "")
            raise ValueFault(
                f"invalid value {shown} for {_name(path)}; expected one of: {listed}{hint}", path
            )
    elif meta == "alternate":
        _alternate(schema, type_name, value, path)
    else:
        _builtin(schema, type_name, value, path)


def _object(schema: Schema, type_name: str, value: Any, path: Path, open_: bool = False) -> None:
    if not isinstance(value, dict):
        raise ValueFault(f"{_name(path)} expects an object, got {_kind(value)}", path)
    tags = {key: item for key, item in value.items() if isinstance(item, str)}
    members = {member.name: member for member in schema.object_members(type_name, tags)}
    for key, item in value.items():
        member = members.get(key)
        if member is None:
            if open_:
                continue
            owner = f"in {_name(path)}" if path[-1:] != ("arguments",) else "for this command"
            hint = did_you_mean(close_names(key, members))
            raise ValueFault(f"unknown argument '{key}' {owner}{hint}", (*path, key))
        check_value(schema, member.type, item, (*path, key))
    missing = [name for name, m in members.items() if not m.optional and name not in value]
    if missing:
        plural = "s" if len(missing) > 1 else ""
        names = ", ".join(f"'{name}'" for name in missing)
        raise ValueFault(f"missing required argument{plural} {names} in {_name(path)}", path)


def _alternate(schema: Schema, type_name: str, value: Any, path: Path) -> None:
    """The branch the value's JSON type picks, as QEMU picks it."""
    for branch in schema.alternatives(type_name):
        if _fits(schema, branch, value):
            check_value(schema, branch, value, path)
            return
    raise ValueFault(
        f"{_name(path)} expects {schema.describe(type_name)}, got {_kind(value)}", path
    )


def _fits(schema: Schema, type_name: str, value: Any) -> bool:
    """Whether ``value``'s JSON type is that of ``type_name`` (its contents aside)."""
    meta = schema.meta_type(type_name)
    if meta == "object":
        return isinstance(value, dict)
    if meta == "array":
        return isinstance(value, list)
    if meta == "enum":
        return isinstance(value, str)
    return _json_type_of(value) in (schema.json_type(type_name), "value") or (
        schema.json_type(type_name) == "number" and _json_type_of(value) == "int"
    )


def _builtin(schema: Schema, type_name: str, value: Any, path: Path) -> None:
    kind = schema.json_type(type_name)
    if kind == "value":
        return
    actual = _json_type_of(value)
    if actual != kind and not (kind == "number" and actual == "int"):
        expected = _JSON_NAMES.get(kind, kind)
        raise ValueFault(f"{_name(path)} expects {expected}, got {_kind(value)}", path)
    bounds = _RANGES.get(type_name) if kind == "int" else None
    if bounds is not None and not bounds[0] <= value <= bounds[1]:
        raise ValueFault(
            f"{_name(path)} is {type_name}: {value} is outside {bounds[0]}..{bounds[1]}", path
        )


def _json_type_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _kind(value: Any) -> str:
    """What a value is, for an error: ``the string '5'``, ``an integer``, ``null``."""
    kind = _json_type_of(value)
    if kind == "string":
        text = value if len(value) <= 40 else value[:37] + "..."
        return f"the string {text!r}"
    if kind in ("int", "number", "boolean"):
        return f"{_JSON_NAMES[kind]} ({value!r})" if kind != "boolean" else f"{value!r}".lower()
    return {"null": "null", "array": "an array", "object": "an object"}[kind]


def _name(path: Path) -> str:
    """How an error names the value at ``path``: ``'file.driver'``, or ``arguments``."""
    inner = path[1:] if path[:1] == ("arguments",) else path
    return f"'{dotted(inner)}'" if inner else "arguments"
