"""Completion candidates from the schema, pure: what the menu offers for a
:class:`~qmpshell.language.suggest.Context`, and the one-line signature of the argument at
the cursor. :mod:`qmpshell.ui.completer` turns them into prompt_toolkit completions, with
the names only the running QEMU knows.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import suggest as s
from .features import marked, marks
from .schema import Member, Schema
from .suggest import Kind
from .syntax import Tree


@dataclass(frozen=True)
class Candidate:
    text: str
    meta: str = ""
    marks: tuple[str, ...] = ()  # deprecated, unstable: said in the meta text too


def _marked(text: str, meta: str, found: tuple[str, ...]) -> Candidate:
    return Candidate(text, marked(meta, found), found)


def describe_member(schema: Schema, member: Member) -> str:
    """``str, required``, ``enum`` or ``bool, deprecated`` for the meta column."""
    kind = schema.describe(member.type)
    if len(kind) > 30:
        kind = kind[:29] + "…"
    return marked(kind if member.optional else f"{kind}, required", _member_marks(member))


def _member_marks(member: Member) -> tuple[str, ...]:
    return marks(member.name, member.features)


def command_candidates(schema: Schema, oob_only: bool = False) -> list[Candidate]:
    """The commands, in alphabetical order, each said to be one (out of band, when it
    may run so; deprecated or unstable); with ``oob_only`` (after ``!oob``) only those
    that may run out of band."""
    return sorted(
        (
            _marked(
                c.name,
                "command, out of band" if c.allow_oob else "command",
                marks(c.name, c.features),
            )
            for c in schema.commands.values()
            if c.allow_oob or not oob_only
        ),
        key=lambda c: c.text,
    )


def event_candidates(schema: Schema) -> list[Candidate]:
    """The events, in alphabetical order, deprecated ones said so."""
    return [
        _marked(name, "event", marks(name, event.get("features", ())))
        for name, event in sorted(schema.events.items())
    ]


def action_candidates(schema: Schema) -> list[Candidate]:
    """A transaction's actions, in alphabetical order (``drive-backup`` deprecated)."""
    features = schema.value_features(schema.action_type())
    return [
        _marked(name, "transaction action", marks(name, features.get(name, ())))
        for name in sorted(schema.action_names())
    ]


def argument_candidates(schema: Schema, context: s.Context) -> list[Candidate]:
    """Argument names at the context's object: required ones first, given ones left out."""
    assert context.type is not None
    tags = s.tags_of(schema, context.type, _subtree(context))
    members = [m for m in schema.object_members(context.type, tags) if m.name not in context.given]
    members.sort(key=lambda m: m.optional)  # stable: schema order within each group
    found: list[Candidate] = []
    for member in members:
        meta = describe_member(schema, member)
        own = _member_marks(member)
        found.append(Candidate(f"{member.name}=", meta, own))
        if schema.object_type(member.type) is not None:
            found.append(Candidate(f"{member.name}.", "members of " + meta, own))
    return found


def _subtree(context: s.Context) -> Tree:
    tree = context.tree
    for name in context.path:
        child = tree.get(name)
        tree = child if isinstance(child, dict) else {}
    return tree


def value_candidates(schema: Schema, type_name: str | None) -> list[Candidate]:
    """Values the schema allows for ``type_name``, for the menu: enum values in
    alphabetical order (blockdev-add's 40 drivers come in the schema in no order one could
    look one up by), booleans (true, false), null."""
    return _allowed_values(schema, type_name, alphabetical=True)


def _allowed_values(schema: Schema, type_name: str | None, alphabetical: bool) -> list[Candidate]:
    if type_name is None:
        return []
    meta = schema.meta_type(type_name)
    if meta == "enum":
        values = schema.enum_values(type_name)
        features = schema.value_features(type_name)
        return [
            _marked(v, "enum", marks(v, features.get(v, ())))
            for v in (sorted(values) if alphabetical else values)
        ]
    if meta == "alternate":
        found: list[Candidate] = []
        for branch in schema.alternatives(type_name):
            found.extend(_allowed_values(schema, branch, alphabetical))
        return found
    kind = schema.json_type(type_name)
    if kind == "boolean":
        return [Candidate("true", "bool"), Candidate("false", "bool")]
    if kind == "null":
        return [Candidate("null", "null")]
    return []


def signature(schema: Schema | None, context: s.Context) -> str | None:
    """One line about the argument at the cursor, for the toolbar: its name, type, whether
    it is required, and the values an enum allows (in the schema's order)."""
    if schema is None or context.command is None:
        return None
    if context.kind == Kind.VALUE and context.path:
        path = context.path
    elif context.kind == Kind.ARGUMENT and context.type is not None and context.prefix:
        path = (*context.path, context.prefix)
    else:
        return None
    command = schema.command(context.command)
    root = command.arg_type if command else schema.action_data_type(context.command)
    if root is None:
        return None
    parent = s.object_at(schema, root, path[:-1], context.tree)
    if parent is None:
        return None
    object_name, subtree = parent
    members = schema.object_members(object_name, s.tags_of(schema, object_name, subtree))
    member = next((m for m in members if m.name == path[-1]), None)
    if member is None:
        return None
    text = f"{'.'.join(path)}: {describe_member(schema, member)}"
    # In the schema's order, as /help describes the type.
    values = [c.text for c in _allowed_values(schema, member.type, alphabetical=False)]
    if values:
        text += " — " + " | ".join(values)
    return text
