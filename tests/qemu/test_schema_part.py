"""The part of a cached schema a one-shot script reads: every command and event, and the
types its lines' commands' arguments lead to. Typing a line with that part gives what
typing it with the whole schema gives, for every command of the real QEMU; and the part
is what the line needs (``commands_named``), no matter how the line is written."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from qmpshell.errors import InputError
from qmpshell.language.features import uses
from qmpshell.language.schema import Schema
from qmpshell.language.shorthand import Parser, commands_named
from qmpshell.session.introspection import read_cache, write_cache

pytest_plugins = ["schema_fixture"]

KEY = "k" * 64


def _sample_value(schema: Schema, type_name: str) -> str:
    meta = schema.meta_type(type_name)
    if meta == "enum":
        return schema.enum_values(type_name)[0]
    if meta == "array":
        return "[]"
    if meta == "builtin":
        return {"boolean": "true", "int": "1", "number": "1.5"}.get(
            schema.json_type(type_name), "x"
        )
    return "x"  # an object or an alternate given a word: refused, or taken by a branch


def _lines(schema: Schema, command: str) -> Iterator[str]:
    """Lines that make the typer read the command's argument types: each member alone,
    each member's members (dotted), each branch of a flat union, a misspelt member."""
    yield command
    yield f"{command} nmae=1"
    arg_type = schema.commands[command].arg_type
    members = schema.members(arg_type)
    for member in members:
        yield f"{command} {member.name}={_sample_value(schema, member.type)}"
        for inner in schema.members(schema.object_type(member.type) or ""):
            value = _sample_value(schema, inner.type)
            yield f"{command} {member.name}.{inner.name}={value} {member.name}.bogus=1"
    tag = schema.tag(arg_type)
    if tag is not None:
        kind = next(m.type for m in members if m.name == tag)
        for case in schema.enum_values(kind):
            branch = schema.variant(arg_type, case)
            rest = [m for m in schema.members(branch)] if branch else []
            more = " ".join(f"{m.name}={_sample_value(schema, m.type)}" for m in rest[:2])
            yield f"{command} {tag}={case} {more} nope=2"


def _typed(schema: Schema, line: str) -> Any:
    try:
        return Parser(schema).feed(line)
    except InputError as exc:
        return (str(exc), exc.column)


@pytest.fixture(scope="module")
def cached(schema_entries: list[dict[str, Any]], tmp_path_factory: Any) -> Path:
    path = tmp_path_factory.mktemp("cache") / f"schema-{KEY}.json"
    path.parent.chmod(0o700)
    write_cache(str(path), KEY, schema_entries)
    return path


def test_a_part_types_as_the_whole_does(
    schema: Schema, schema_entries: list[dict[str, Any]], cached: Path
) -> None:
    names = set(schema.commands)
    whole = read_cache(str(cached), KEY, names)
    assert whole is not None and whole.commands == schema.commands
    lines = marked = 0
    for command in sorted(names):
        part = read_cache(str(cached), KEY, names, {command})
        assert part is not None
        assert part.commands == schema.commands and part.events == schema.events
        for line in _lines(schema, command):
            assert commands_named(line) == [command]
            typed = _typed(part, line)
            assert typed == _typed(schema, line), line
            lines += 1
            if isinstance(typed, dict):  # the deprecated and unstable names, as sent
                assert commands_named(json.dumps(typed)) == [command]
                found = uses(part, typed)
                assert found == uses(schema, typed) == uses(whole, typed), line
                marked += len(found)
    assert lines > 4 * len(names)  # the lines reach far into the types
    assert marked > 10  # and meet what the schema marks (features survive the cache)


def test_a_part_is_a_part(schema: Schema, cached: Path) -> None:
    names = set(schema.commands)
    part = read_cache(str(cached), KEY, names, {"query-status"})
    assert part is not None
    index = json.loads(cached.read_text().split("\n")[1])["names"]
    types = [name for name in index if part.entry(name).get("name") == name]
    # query-status takes nothing: its (empty) argument type, and the commands and events.
    assert types == [schema.commands["query-status"].arg_type]
    assert part.commands == schema.commands and part.events == schema.events
    assert read_cache(str(cached), KEY, names, set()) is not None  # HMP: the commands only


@pytest.mark.parametrize(
    "line, named",
    [
        ("query-status", ["query-status"]),
        ("  device_del   id=nic0 ", ["device_del"]),
        ('"query-name"', ["query-name"]),
        ("!oob migrate-recover uri=tcp:127.0.0.1:1", ["migrate-recover"]),
        ("!oob", []),
        ("transaction( abort | abort )", ["transaction"]),
        # Raw JSON is never typed, but what it uses of the schema is looked at.
        ('{"execute": "query-status"}', ["query-status"]),
        ('-> {"execute": "query-status"}', ["query-status"]),
        ('{"exec-oob": "migrate-pause"}', ["migrate-pause"]),
        ('{"execute": 5}', []),
        ('{"execute": "query-status"', []),  # refused
        ('<- {"return": {}}', []),
        ("", []),
        ("   ", []),
        ('device_del id="nic0', []),  # refused before anything is typed
    ],
)
def test_the_command_a_line_names(line: str, named: list[str]) -> None:
    assert commands_named(line) == named
