"""Typing shorthand arguments by the live schema, and refusing what QEMU would refuse.

A value typed after ``key=`` is text; its member's declared type decides what JSON it
becomes: ``device_del id=123`` sends the string ``"123"``, ``size=1024`` the number.
Unknown names are refused with the closest valid names suggested; missing required
members are named. Every error carries the column of the text at fault.
"""

from __future__ import annotations

from ..errors import InputError
from ..patterns import compiled
from .schema import OPEN_ARGUMENTS, Schema
from .spelling import close_names, did_you_mean
from .syntax import Tree, Value, untyped_tree
from .values import parse_literal, untyped_value

TYPE_CHECKING = False  # typing's, without importing typing (docs/architecture.md, start-up)
if TYPE_CHECKING:
    from typing import Any

_INT = r"[-+]?(?:0[xX][0-9a-fA-F]+|[0-9]+)\Z"  # compiled when first used
_FLOAT = r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?\Z"
_BOOL = {"true": True, "on": True, "yes": True, "false": False, "off": False, "no": False}
_NULL = ("null", "None")


def _list(names: list[str]) -> str:
    return ", ".join(names)


class Typer:
    """Types argument trees of one schema; stateless between calls."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema

    def command(self, name: str, column: int, tree: Tree) -> dict[str, Any]:
        """The ``arguments`` object of ``name`` from its argument tree."""
        command = self.schema.command(name)
        if command is None:
            hint = did_you_mean(close_names(name, self.schema.commands))
            raise InputError(f"unknown command '{name}'{hint}", column)
        return self._object(
            command.arg_type, tree, "", f"for {name}", column, open_=name in OPEN_ARGUMENTS
        )

    def action(self, name: str, column: int, tree: Tree) -> dict[str, Any]:
        """One transaction action ``{"type": name, "data": {...}}`` from its tree."""
        data = self.schema.action_data_type(name)
        if data is None:
            kinds = self.schema.action_names()
            raise InputError(
                f"unknown transaction action '{name}'; "
                f"expected one of: {_list(kinds)}{_suggest(name, kinds)}",
                column,
            )
        return {"type": name, "data": self._object(data, tree, "", f"for action {name}", column)}

    def value(self, type_name: str, value: Value, path: str) -> Any:
        """One value typed on a line as the JSON of ``type_name`` (``path`` names it in
        an error)."""
        return self._value(type_name, value, path)

    # -- objects ------------------------------------------------------------------------

    def _object(
        self, type_name: str, tree: Tree, prefix: str, owner: str, column: int, open_: bool = False
    ) -> dict[str, Any]:
        members = {m.name: m for m in self.schema.members(type_name)}
        result: dict[str, Any] = {}
        # A flat union's branch follows from its tag, wherever on the line the tag was typed.

        def case_of(tag: str) -> str | None:
            if tag not in tree:
                return None
            node = tree[tag]
            if not isinstance(node, Value):
                raise InputError(
                    f"'{prefix}{tag}' must be a value, not an object", _first_column(node)
                )
            case = self._value(members[tag].type, node, prefix + tag) if tag in members else None
            result[tag] = case
            return str(case) if case is not None else None

        union = type_name
        for branch in self.schema.branches(type_name, case_of):
            members.update((m.name, m) for m in self.schema.members(branch))
            union = branch
        tag = self.schema.tag(union)
        if tag is not None and tag not in tree and tag in members:
            # Without the tag the branch is unknown, so name it before anything else.
            raise InputError(
                f"missing required argument '{prefix}{tag}' {owner}", column, incomplete=True
            )
        for name, node in tree.items():
            if name in result:
                continue
            member = members.get(name)
            if member is None:
                if open_:
                    result[name] = (
                        untyped_tree(node)
                        if isinstance(node, dict)
                        else untyped_value(node.text, node.quoted, node.column)
                    )
                    continue
                if not members:
                    raise InputError(
                        f"unknown argument '{prefix}{name}': '{prefix[:-1]}' has no members"
                        if prefix
                        else f"unknown argument '{name}': {owner[4:]} takes no arguments",
                        _first_column(node),
                    )
                raise InputError(
                    f"unknown argument '{prefix}{name}' {owner}"
                    f"{_suggest(name, list(members), prefix)}",
                    _first_column(node),
                )
            result[name] = self._node(member.type, node, prefix + name)
        missing = [
            f"'{prefix}{m.name}'" for m in members.values() if not m.optional and m.name not in tree
        ]
        if missing:
            plural = "s" if len(missing) > 1 else ""
            raise InputError(
                f"missing required argument{plural} {', '.join(missing)} {owner}",
                column,
                incomplete=True,
            )
        return result

    def _node(self, type_name: str, node: Tree | Value, path: str) -> Any:
        if isinstance(node, Value):
            return self._value(type_name, node, path)
        meta = self.schema.meta_type(type_name)
        if meta == "alternate":
            branch = next(
                (
                    t
                    for t in self.schema.alternatives(type_name)
                    if self.schema.meta_type(t) == "object"
                ),
                None,
            )
            if branch is not None:
                type_name, meta = branch, "object"
        if meta == "object":
            return self._object(type_name, node, path + ".", f"in '{path}'", _first_column(node))
        if self.schema.json_type(type_name) == "value":
            return untyped_tree(node)
        raise InputError(
            f"'{path}' is {_article(self.schema.describe(type_name))}, not an object; "
            f"give it as {path}=VALUE",
            _first_column(node),
        )

    # -- values -------------------------------------------------------------------------

    def _value(self, type_name: str, value: Value, path: str) -> Any:
        text = value.text
        meta = self.schema.meta_type(type_name)
        if meta == "enum":
            allowed = self.schema.enum_values(type_name)
            if text in allowed:
                return text
            raise InputError(
                f"invalid value '{text}' for '{path}'; "
                f"expected one of: {_list(allowed)}{_suggest(text, allowed)}",
                value.column,
            )
        if meta in ("array", "object"):
            if text[:1] != ("[" if meta == "array" else "{"):
                shape = "[...]" if meta == "array" else "{...} or dotted keys"
                raise InputError(
                    f"'{path}' is {_article(self.schema.describe(type_name))}: "
                    f"give it as {shape}, not '{text}'",
                    value.column,
                )
            return parse_literal(text, value.column)
        if meta == "alternate":
            return self._alternate(type_name, value, path)
        kind = self.schema.json_type(type_name)
        if kind == "string":
            return text
        if kind == "value":
            return untyped_value(text, value.quoted, value.column)
        converted = _scalar(kind, text)
        if converted is _NO:
            expected = {
                "int": "an integer",
                "number": "a number",
                "boolean": "a boolean",
                "null": "null",
            }
            raise InputError(
                f"'{path}' expects {expected.get(kind, kind)}, got '{text}'", value.column
            )
        return converted

    def _alternate(self, type_name: str, value: Value, path: str) -> Any:
        branches = self.schema.alternatives(type_name)
        metas = [(t, self.schema.meta_type(t), self.schema.json_type(t)) for t in branches]
        text = value.text
        if text[:1] in ("{", "[") and not value.quoted:
            for branch, meta, _ in metas:
                if meta == ("object" if text[0] == "{" else "array"):
                    return self._value(branch, value, path)
        if not value.quoted:
            for branch, meta, kind in metas:
                if meta == "enum" and text in self.schema.enum_values(branch):
                    return text
                if meta == "builtin" and kind not in ("string", "value"):
                    converted = _scalar(kind, text)
                    if converted is not _NO:
                        return converted
        for branch, _, kind in metas:
            if kind in ("string", "value"):
                return self._value(branch, value, path)
        for branch, meta, _ in metas:
            if meta == "enum":
                return self._value(branch, value, path)  # raises, listing the values
        raise InputError(
            f"'{path}' expects {self.schema.describe(type_name)}, got '{text}'", value.column
        )


_NO = object()


def _scalar(kind: str, text: str) -> Any:
    """Text as a JSON scalar of ``kind``, or ``_NO``."""
    if kind == "int":
        return _int(text) if compiled(_INT).match(text) else _NO
    if kind == "number":
        if compiled(_INT).match(text):
            return _int(text)
        if not compiled(_FLOAT).match(text):
            return _NO
        number = float(text)
        return number if abs(number) != float("inf") else _NO
    if kind == "boolean":
        return _BOOL.get(text.lower(), _NO)
    if kind == "null":
        return None if text in _NULL else _NO
    return _NO


def _int(text: str) -> Any:
    try:
        return int(text, 16 if "x" in text.lower() else 10)
    except ValueError:  # more digits than int() converts (sys.set_int_max_str_digits)
        return _NO


def _suggest(name: str, candidates: list[str], prefix: str = "") -> str:
    return did_you_mean(close_names(name, candidates), prefix)


def _article(description: str) -> str:
    return ("an " if description[:1] in "aeiou" else "a ") + description


def _first_column(node: Tree | Value) -> int:
    """Where the first key under ``node`` was typed."""
    while isinstance(node, dict):
        if not node:
            return 0
        node = next(iter(node.values()))
    return node.key_column
