"""/edit's documents from the schema of the QEMU under test: the skeleton of every
command, filled in, passes the check; blockdev-add's branches; what the checker refuses
on QEMU's own commands; /edit in a script."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import QemuFactory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qmpshell.language.candidates import argument_candidates
from qmpshell.language.editdoc import (
    DocumentError,
    check_document,
    is_placeholder,
    uncommented,
    without_trailing_commas,
)
from qmpshell.language.schema import Schema
from qmpshell.language.skeleton import skeleton
from qmpshell.language.suggest import Kind, suggest

pytest_plugins = ["schema_fixture"]


class First:
    """The choices a filler makes: the first of each (hypothesis draws them instead)."""

    def pick(self, options: list[str]) -> str:
        return options[0]

    def scalar(self, kind: str) -> Any:
        return {"string": "x", "int": 0, "number": 0.5, "boolean": True, "null": None}.get(
            kind, "x"
        )


class Drawn(First):
    def __init__(self, data: Any) -> None:
        self.data = data

    def pick(self, options: list[str]) -> str:
        return str(self.data.draw(st.sampled_from(options)))

    def scalar(self, kind: str) -> Any:
        strategies = {
            "string": st.text().filter(lambda text: not is_placeholder(text)),
            "int": st.integers(0, 2**31),
            "number": st.floats(allow_nan=False, allow_infinity=False),
            "boolean": st.booleans(),
            "null": st.none(),
        }
        return self.data.draw(strategies.get(kind, st.text()))


FIRST = First()


def valid_value(schema: Schema, type_name: str, depth: int = 0, choose: First = FIRST) -> Any:
    """A value of ``type_name`` QEMU's visitor would take: the first enum value, the
    required members of an object (a union's first branch), an empty array."""
    meta = schema.meta_type(type_name)
    if meta == "enum":
        return choose.pick(schema.enum_values(type_name))
    if meta == "array":
        return []
    if meta == "alternate":
        branches = schema.alternatives(type_name)  # a scalar one ends the recursion
        scalar = [b for b in branches if schema.meta_type(b) not in ("object", "array")]
        return valid_value(schema, (scalar or branches)[0], depth, choose)
    if meta == "object":
        assert depth < 30, type_name
        tags: dict[str, str] = {}
        tag = schema.tag(type_name)
        if tag is not None:
            member = next(m for m in schema.members(type_name) if m.name == tag)
            tags[tag] = schema.enum_values(member.type)[0]
        members = schema.object_members(type_name, tags)
        return {
            m.name: tags.get(m.name) or valid_value(schema, m.type, depth + 1, choose)
            for m in members
            if not m.optional
        }
    return choose.scalar(schema.json_type(type_name))


def filled(schema: Schema, type_name: str, value: Any, choose: First = FIRST) -> Any:
    """``value`` with each placeholder given a valid value of its type; an object
    whose union tag is a placeholder (its branch unknown to the skeleton) given whole."""
    if is_placeholder(value):
        return valid_value(schema, type_name, 0, choose)
    meta = schema.meta_type(type_name)
    if meta == "alternate":
        for branch in schema.alternatives(type_name):
            shape = schema.meta_type(branch)
            if (shape == "object" and isinstance(value, dict)) or (
                shape == "array" and isinstance(value, list)
            ):
                return filled(schema, branch, value, choose)
        return value
    if meta == "array" and isinstance(value, list):
        return [filled(schema, schema.element_type(type_name), item, choose) for item in value]
    if meta == "object" and isinstance(value, dict):
        union = type_name
        while (tag := schema.tag(union)) is not None:
            if is_placeholder(value.get(tag)):
                return valid_value(schema, type_name, 0, choose)
            union = schema.variant(union, str(value.get(tag))) or ""
        members = {m.name: m.type for m in schema.object_members(type_name, value)}
        return {
            key: filled(schema, members.get(key, "any"), item, choose)
            for key, item in value.items()
        }
    return value


def tagged_line(schema: Schema, name: str, choose: First = FIRST) -> str:
    """``name`` with the arguments' union tags typed (each the first value that has a
    branch), as a user who knows which branch they want types them."""
    command = schema.command(name)
    assert command is not None
    words, union = [name], command.arg_type
    while (tag := schema.tag(union)) is not None:
        member = next(
            m
            for m in schema.object_members(
                command.arg_type, dict(w.split("=", 1) for w in words[1:])
            )
            if m.name == tag
        )
        case = choose.pick([v for v in schema.enum_values(member.type) if schema.variant(union, v)])
        words.append(f"{tag}={case}")
        union = schema.variant(union, case) or ""
    return " ".join(words)


def test_every_commands_skeleton_filled_in_passes_the_check(schema: Schema) -> None:
    for name in sorted(schema.commands):
        filled_in_passes(schema, name, FIRST)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.data())
def test_any_branch_filled_with_any_values_passes_the_check(schema: Schema, data: Any) -> None:
    name = data.draw(st.sampled_from(sorted(schema.commands)))
    filled_in_passes(schema, name, Drawn(data))


def filled_in_passes(schema: Schema, name: str, choose: First) -> None:
    """The skeleton of ``name`` (its tags typed), every placeholder filled, passes."""
    line = tagged_line(schema, name, choose)
    text = skeleton(schema, line)
    document = json.loads(without_trailing_commas(uncommented(text)))
    arg_type = schema.commands[name].arg_type
    if "arguments" in document:
        document["arguments"] = filled(schema, arg_type, document["arguments"], choose)
    try:
        checked = check_document(schema, json.dumps(document, indent=2))
    except DocumentError as exc:
        pytest.fail(f"{line}: {exc}\n{text}")
    assert checked["execute"] == name
    for member in schema.object_members(arg_type, checked.get("arguments", {})):
        if not member.optional:
            assert member.name in checked["arguments"], (line, member.name)


def test_blockdev_add_qcow2_shows_its_branch(schema: Schema) -> None:
    text = skeleton(schema, "blockdev-add driver=qcow2")
    rows = [row.strip() for row in text.split("\n")]
    assert '"driver": "qcow2",' in rows
    assert '"node-name": "<str>",' in rows  # optional in the schema, required by QEMU
    assert '"file": "<object or str>",' in rows  # the branch's required member
    assert '// "backing": "<object or str or null>",' in rows  # its optional one
    assert '// "discard": "<ignore|unmap>",' in rows  # the enum's values listed
    assert '// "cache": {"direct": "<bool>", "no-flush": "<bool>"},' in rows  # inline
    assert rows.index('"file": "<object or str>",') < rows.index('// "discard": "<ignore|unmap>",')
    # Without a driver, the driver's values are listed above its placeholder.
    bare = skeleton(schema, "blockdev-add")
    assert "//   " in bare and " qcow2," in bare
    assert '"file"' not in bare


def test_a_nested_tree_typed_is_laid_out_with_its_branch(schema: Schema) -> None:
    text = skeleton(schema, "blockdev-add driver=qcow2 file.driver=file file.filename=/tmp/x.qcow2")
    assert '    "file": {\n      "driver": "file",\n      "filename": "/tmp/x.qcow2",\n' in text
    assert '      // "aio": "<threads|native|io_uring>",' in text or '"aio"' in text
    with pytest.raises(DocumentError, match="'node-name' still holds its placeholder"):
        check_document(schema, text)
    good = text.replace('"node-name": "<str>"', '"node-name": "disk0"')
    assert check_document(schema, good)["arguments"]["file"] == {
        "driver": "file",
        "filename": "/tmp/x.qcow2",
    }


def test_the_line_after_edit_is_completed_as_a_line(schema: Schema) -> None:
    context = suggest("/edit blockdev-add driver=qcow2 fi", schema)
    assert (context.kind, context.command, context.prefix) == (Kind.ARGUMENT, "blockdev-add", "fi")
    assert "file" in {c.text.rstrip("=") for c in argument_candidates(schema, context)}
    assert suggest("/edit blockd", schema).kind is Kind.COMMAND
    assert suggest("/edit /he", schema).kind is Kind.NOTHING


def test_the_checker_refuses_what_qemu_would(schema: Schema) -> None:
    arguments = {"driver": "qcow2", "node-name": "d", "file": "f", "cache-size": "big"}
    text = json.dumps({"execute": "blockdev-add", "arguments": arguments}, indent=2)
    with pytest.raises(
        DocumentError, match=r"^line 7: 'cache-size' expects an integer, got the string 'big'"
    ):
        check_document(schema, text)
    with pytest.raises(
        DocumentError,
        match=r"^line 6: unknown argument 'fil' for this command; did you mean 'file'",
    ):
        check_document(schema, text.replace('"file"', '"fil"'))


def test_edit_in_a_script_is_one_line_and_fails(qemu_factory: QemuFactory, run_shell: Any) -> None:
    qemu = qemu_factory.start()
    result = run_shell(qemu.qmp, stdin="/edit blockdev-add\nquery-status\n")
    assert result.status == 1
    assert (
        result.stderr.splitlines()[0]
        == "qmpshell: line 1: /edit needs a terminal: it runs in the interactive shell only"
    )
    assert '"status"' in result.stdout
