"""The document ``/edit COMMAND`` opens: a command laid out from its schema, to fill in.

From the line typed so far (``blockdev-add driver=qcow2``) and the schema: the values
typed (one the prompt would refuse is refused here, with the prompt's error), then
each required argument with a placeholder of its type (``"<str>"``), then
each optional one as a comment line, ready to be uncommented; a flat union shows the
branch its typed tag picks (``driver=qcow2``: ``file``, ``backing``...). A nested object
is laid out to a bounded depth, and inline when optional. The document's rules (comments,
placeholders) are :mod:`.editdoc`'s — pure.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from ..errors import InputError
from ..records import Record
from .editdoc import placeholder
from .schema import Member, Schema
from .spelling import close_names, did_you_mean
from .syntax import Tree, Value, build_tree, split_words, untyped_tree
from .typecheck import Typer
from .values import strict_json

TYPE_CHECKING = False  # typing's, without importing typing (docs/architecture.md, start-up)
if TYPE_CHECKING:
    from typing import Any

HEADER = (  # each line within 78 columns
    "// Edit the command, then save and quit to send it; empty the file to cancel.",
    '// Lines starting with // are comments; a "<...>" value is a placeholder.',
    "// An optional argument is a comment line: remove its // to give it.",
)
# What Ctrl-X Ctrl-E opens on an empty line (as bash opens an empty file): a command to
# write; comments only, so that nothing is sent when it is left as it is.
BLANK = (
    "// Write one command as JSON, then save and quit to send it.\n"
    '// For instance {"execute": "query-status"}. Lines starting // are comments.\n'
)
INDENT = "  "
COMMENTED = "// "  # before an optional member's line
TOP = 2  # the indent of the arguments' members
NESTED_LEVELS = 3  # levels of required objects laid out member by member below them
INLINE_WIDTH = 100  # an optional nested object shown inline when its line fits
ENUM_WIDTH = 60  # an enum's values listed in its placeholder up to this length

# Members QEMU requires although the schema marks them optional (a root node without a
# node-name is refused): laid out as required ones, with a placeholder.
WANTED = {("blockdev-add", "node-name")}


def skeleton(schema: Schema | None, line: str) -> str:
    """The document for the shorthand ``line`` typed so far (a command name at least).
    An unknown command is an :class:`InputError` naming the close ones."""
    words = split_words(line, tolerant=True)
    if not words or words[0].key is not None:
        raise InputError("/edit needs a command name, such as /edit blockdev-add", 0)
    name = words[0].text
    # A half-typed last word (no '=' yet) is left out, as it would be on Tab.
    tree = build_tree([word for word in words[1:] if word.key is not None])
    return _document(schema, name, tree, words[0].start)


def _document(schema: Schema | None, name: str, given: Given, column: int) -> str:
    lines = list(HEADER)
    if schema is None:
        arguments = {key: _plain(node) for key, node in given.items()}
        document = {"execute": name, **({"arguments": arguments} if arguments else {})}
        lines.extend(json.dumps(document, indent=2, ensure_ascii=False).split("\n"))
        return "\n".join(lines) + "\n"
    command = schema.command(name)
    if command is None:
        hint = did_you_mean(close_names(name, schema.commands))
        raise InputError(f"unknown command '{name}'{hint}", column)
    builder = _Builder(schema, name)
    body = builder.members(command.arg_type, given, TOP, "")
    lines.append("{")
    if body:
        lines.append(f'{INDENT}"execute": {_json(name)},')
        lines.append(f'{INDENT}"arguments": {{')
        lines.extend(body)
        lines.append(f"{INDENT}}}")
    else:
        lines.append(f'{INDENT}"execute": {_json(name)}')
    lines.append("}")
    return "\n".join(lines) + "\n"


def raw_document(schema: Schema | None, text: str) -> str:
    """The document for a raw JSON line typed so far: a whole command is laid out as
    shorthand is, its arguments given (its optional arguments listed); an object with
    an id, or text that is not JSON yet (or a number JSON cannot write back, such as
    1E400), as it is (to be finished in the editor)."""
    try:
        value = strict_json(text)
    except (ValueError, RecursionError):
        return text if text.endswith("\n") else text + "\n"
    name = value.get("execute") if isinstance(value, dict) else None
    arguments = value.get("arguments", {}) if isinstance(value, dict) else None
    if (
        isinstance(name, str)
        and isinstance(arguments, dict)
        and set(value) <= {"execute", "arguments"}
        and (schema is None or schema.command(name) is not None)
    ):
        return _document(schema, name, {k: JSONValue(v) for k, v in arguments.items()}, 0)
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


class JSONValue(Record):
    """A value given as JSON (a raw line's), not as shorthand text."""

    value: Any


# What is given of an object: shorthand's tree, or a raw line's JSON values.
Given = Mapping[str, "Tree | Value | JSONValue"]


def _plain(node: Tree | Value | JSONValue) -> Any:
    """A given value's JSON, by the untyped rules for shorthand."""
    if isinstance(node, JSONValue):
        return node.value
    return untyped_tree(node) if isinstance(node, dict) else untyped_tree({"": node})[""]


class _Builder:
    """Lays out one command's members; ``typer`` gives typed values their JSON."""

    def __init__(self, schema: Schema, command: str) -> None:
        self.schema = schema
        self.command = command
        self.typer = Typer(schema)

    def members(self, type_name: str, tree: Given, depth: int, path: str) -> list[str]:
        """The lines of an object's members at ``depth`` indents: given, required,
        optional (commented); every entry ends with a comma (the document allows it)."""
        schema = self.schema
        tags = {key: _tag(node) for key, node in tree.items()}  # a union's branch from its tag
        members = schema.object_members(type_name, tags)
        known = {member.name for member in members}
        pad = INDENT * depth
        typed, required, optional = [], [], []
        for member in members:
            key = f"{pad}{_json(member.name)}: "
            if member.name in tree:
                typed.append(key + self.typed(member, tree[member.name], depth, path) + ",")
            elif not member.optional or (self.command, path + member.name) in WANTED:
                required.extend(self.required(member, depth, path))
            else:
                value = self.inline(member.type, 1)
                optional.append(f"{pad}{COMMENTED}{_json(member.name)}: {value},")
        for name, node in tree.items():  # not members: kept, for the check to name
            if name not in known:
                typed.append(f"{pad}{_json(name)}: {_json(_plain(node))},")
        return typed + required + optional

    def typed(self, member: Member, node: Tree | Value | JSONValue, depth: int, path: str) -> str:
        """A value given, as JSON; a nested tree (or JSON object) laid out as an object."""
        object_type = self.schema.object_type(member.type)
        given: Given
        if isinstance(node, JSONValue):
            if not isinstance(node.value, dict) or object_type is None:
                return _json(node.value)
            given = {key: JSONValue(value) for key, value in node.value.items()}
        elif isinstance(node, Value):
            # A bad value is refused before the editor opens, as the prompt refuses it.
            return _json(self.typer.value(member.type, node, path + member.name))
        elif object_type is None:
            return _json(untyped_tree(node))
        else:
            given = node
        assert object_type is not None
        inner = self.members(object_type, given, depth + 1, f"{path}{member.name}.")
        return "{\n" + "\n".join(inner) + f"\n{INDENT * depth}}}"

    def required(self, member: Member, depth: int, path: str) -> list[str]:
        """A required member's lines: a placeholder, the values of a long enum listed
        above it, a nested object laid out."""
        pad = INDENT * depth
        key = f"{pad}{_json(member.name)}: "
        schema = self.schema
        if schema.meta_type(member.type) == "object" and depth < TOP + NESTED_LEVELS:
            inner = self.members(member.type, {}, depth + 1, f"{path}{member.name}.")
            return [key + "{", *inner, f"{pad}}},"]
        lines = []
        if schema.meta_type(member.type) == "enum":
            values = schema.enum_values(member.type)
            if len("|".join(values)) > ENUM_WIDTH:
                lines.extend(_listed(values, pad))
        lines.append(key + self.inline(member.type, 1) + ",")
        return lines

    def inline(self, type_name: str, depth: int) -> str:
        """A value to give, on one line: a placeholder, an array of one, an object's
        members when they fit (else its required ones only; else ``"<object>"``)."""
        schema = self.schema
        meta = schema.meta_type(type_name)
        if meta == "array":
            return f"[{self.inline(schema.element_type(type_name), depth)}]"
        if meta == "object" and depth <= NESTED_LEVELS:
            members = schema.members(type_name)
            for chosen in (members, [m for m in members if not m.optional]):
                text = self._inline_object(chosen, depth)
                if len(text) <= INLINE_WIDTH:
                    return text
            return _json(placeholder("object"))
        return _json(self.placeholder(type_name))

    def _inline_object(self, members: list[Member], depth: int) -> str:
        entries = [f"{_json(m.name)}: {self.inline(m.type, depth + 1)}" for m in members]
        return "{" + ", ".join(entries) + "}"

    def placeholder(self, type_name: str) -> str:
        """``<str>``, ``<uint64>``, ``<ignore|unmap>``, ``<object or str>``."""
        schema = self.schema
        meta = schema.meta_type(type_name)
        if meta == "enum":
            values = schema.enum_values(type_name)
            shown = "|".join(values)
            if len(shown) > ENUM_WIDTH:
                shown = shown[: ENUM_WIDTH - 1].rsplit("|", 1)[0] + "|..."
            return placeholder(shown)
        if meta == "builtin":
            return placeholder({"any": "value", "number": "number"}.get(type_name, type_name))
        return placeholder(schema.describe(type_name))


def _listed(values: list[str], pad: str) -> list[str]:
    """Comment lines listing an enum's values, wrapped (up to 200 values)."""
    lines, current = [], f"{pad}// one of:"
    shown = values[:200]
    for index, value in enumerate(shown):
        word = f" {value}" + ("," if index < len(shown) - 1 else "")
        if len(current) + len(word) > 78:
            lines.append(current)
            current = f"{pad}//  "
        current += word
    if len(values) > len(shown):
        current += f" ... ({len(values) - len(shown)} more)"
    lines.append(current)
    return lines


def _tag(node: Tree | Value | JSONValue) -> str:
    """A given value as the tag of a union ("" when it cannot be one)."""
    if isinstance(node, Value):
        return node.text
    return node.value if isinstance(node, JSONValue) and isinstance(node.value, str) else ""


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
