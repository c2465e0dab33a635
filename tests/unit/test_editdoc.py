"""The /edit document: comment lines, trailing commas, placeholders, the line at fault,
and the skeleton of a small hand-made schema (tests/qemu/test_edit_schema.py has the
real one's)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qmpshell.errors import InputError
from qmpshell.language.editdoc import (
    DocumentError,
    check_document,
    first_placeholder,
    is_empty,
    key_lines,
    reopened,
    uncommented,
    without_error,
    without_trailing_commas,
)
from qmpshell.language.schema import Schema
from qmpshell.language.skeleton import skeleton

ENTRIES: list[dict[str, Any]] = [
    {"name": "str", "meta-type": "builtin", "json-type": "string"},
    {"name": "int", "meta-type": "builtin", "json-type": "int"},
    {"name": "uint8", "meta-type": "builtin", "json-type": "int"},
    {"name": "bool", "meta-type": "builtin", "json-type": "boolean"},
    {"name": "null", "meta-type": "builtin", "json-type": "null"},
    {"name": "E", "meta-type": "enum", "values": ["ignore", "unmap"]},
    {"name": "D", "meta-type": "enum", "values": ["file", "null-co"]},
    {"name": "[str]", "meta-type": "array", "element-type": "str"},
    {
        "name": "A",
        "meta-type": "object",
        "members": [
            {"name": "driver", "type": "D"},
            {"name": "node-name", "type": "str", "default": None},
            {"name": "discard", "type": "E", "default": None},
        ],
        "tag": "driver",
        "variants": [{"case": "file", "type": "F"}, {"case": "null-co", "type": "N"}],
    },
    {
        "name": "F",
        "meta-type": "object",
        "members": [
            {"name": "filename", "type": "str"},
            {"name": "size", "type": "uint8", "default": None},
        ],
    },
    {"name": "N", "meta-type": "object", "members": [{"name": "size", "type": "int"}]},
    {"name": "Ref", "meta-type": "alternate", "members": [{"type": "A"}, {"type": "str"}]},
    {
        "name": "L",
        "meta-type": "object",
        "members": [
            {"name": "names", "type": "[str]"},
            {"name": "ref", "type": "Ref", "default": None},
        ],
    },
    {"name": "add", "meta-type": "command", "arg-type": "A", "ret-type": "O0"},
    {"name": "list", "meta-type": "command", "arg-type": "L", "ret-type": "O0"},
    {"name": "query-status", "meta-type": "command", "arg-type": "O0", "ret-type": "O0"},
    {"name": "O0", "meta-type": "object", "members": []},
]
SCHEMA = Schema(ENTRIES)

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=8,
)
SLASHY = st.text(
    alphabet=st.sampled_from(["/", " ", "a", '"', "\\", ",", "}", "<", "\n"]), max_size=12
)


@given(st.dictionaries(SLASHY, st.one_of(SLASHY, JSON), max_size=6))
def test_comment_and_comma_rules_never_touch_strings(value: dict[str, Any]) -> None:
    for indent in (None, 2):
        text = json.dumps(value, indent=indent)
        assert uncommented(text) == text
        assert without_trailing_commas(text) == text


@given(st.lists(st.one_of(SLASHY, st.integers()), min_size=1, max_size=5))
def test_a_comma_before_a_closing_bracket_is_allowed(items: list[Any]) -> None:
    text = json.dumps({"a": items}, indent=2)
    loose = text.replace("\n  ]", ",\n  ]").replace("\n}", ",\n}")
    assert json.loads(without_trailing_commas(loose)) == {"a": items}


@given(st.dictionaries(SLASHY, st.dictionaries(SLASHY, JSON, max_size=3), max_size=4))
def test_each_key_is_found_on_its_line(value: dict[str, Any]) -> None:
    text = json.dumps(value, indent=2)
    lines = key_lines(text)
    rows = text.split("\n")
    for key, inner in value.items():
        assert rows[lines[(key,)] - 1].startswith("  " + json.dumps(key) + ":")
        for name in inner:
            assert rows[lines[(key, name)] - 1].startswith("    " + json.dumps(name) + ":")


def test_comment_lines_are_blanked_not_removed() -> None:
    text = '{\n  // "a": 1,\n   //x\n  "b": "// not a comment"\n}'
    assert uncommented(text) == '{\n\n\n  "b": "// not a comment"\n}'
    assert is_empty("  // only\n\n//comments\n")
    assert not is_empty("// c\n{}")


def test_a_json_error_names_its_line() -> None:
    with pytest.raises(DocumentError, match=r"^line 4: not JSON: Expecting ':' delimiter"):
        check_document(None, '{\n  "execute": "x",\n  "arguments": {\n  "a" 1}\n}')


def test_a_placeholder_left_is_named_with_its_line() -> None:
    text = skeleton(SCHEMA, "add driver=file")
    with pytest.raises(DocumentError) as error:
        check_document(SCHEMA, text)
    row = text.split("\n")[error.value.line - 1]
    assert row.strip() == '"filename": "<str>",', text
    assert str(error.value).endswith(
        """'filename' still holds its placeholder "<str>": give it a value"""
    )
    assert first_placeholder({"a": [1, {"b": "<int>"}]}, ()) == (("a", 1, "b"), "<int>")


def test_the_skeleton_lays_out_the_typed_branch() -> None:
    text = skeleton(SCHEMA, "add driver=file discard=unmap  node-na")
    body = text.split("\n")
    assert '    "driver": "file",' in body
    assert '    "discard": "unmap",' in body
    assert '    "filename": "<str>",' in body  # the branch's required member
    assert '    // "size": "<uint8>",' in body  # its optional one, commented
    assert '    // "node-name": "<str>",' in body  # the half-typed word left out
    filled = text.replace('"<str>"', '"/tmp/x"')
    assert check_document(SCHEMA, filled) == {
        "execute": "add",
        "arguments": {"driver": "file", "discard": "unmap", "filename": "/tmp/x"},
    }
    uncommented_size = filled.replace('// "size": "<uint8>"', '"size": 7')
    assert check_document(SCHEMA, uncommented_size)["arguments"]["size"] == 7


def test_a_long_enum_or_a_command_without_arguments() -> None:
    assert '"execute": "query-status"\n}' in skeleton(SCHEMA, "query-status")
    assert check_document(SCHEMA, skeleton(SCHEMA, "query-status")) == {"execute": "query-status"}
    with pytest.raises(InputError, match="unknown command 'ad'; did you mean 'add'"):
        skeleton(SCHEMA, "ad")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ('"driver": "file", "filename": 5', "'filename' expects a string, got an integer (5)"),
        ('"driver": "file", "filename": "x", "size": 300', "'size' is uint8: 300 is outside"),
        (
            '"driver": "fil", "filename": "x"',
            "invalid value 'fil' for 'driver'; expected one of: file, null-co; did you mean 'file'",
        ),
        ('"driver": "null-co"', "missing required argument 'size' in arguments"),
        ('"driver": "null-co", "size": 1, "sise": 2', "unknown argument 'sise' for this command"),
    ],
)
def test_a_value_qemu_would_refuse_is_named_with_its_line(arguments: str, message: str) -> None:
    fields = ",\n    ".join(arguments.split(", "))
    text = f'{{\n  "execute": "add",\n  "arguments": {{\n    {fields}\n  }}\n}}\n'
    with pytest.raises(DocumentError) as error:
        check_document(SCHEMA, text)
    assert message in str(error.value)
    row = text.split("\n")[error.value.line - 1]
    key = message.split("'")[1]
    assert f'"{key}"' in row or (key == "size" and "arguments" in row), (row, text)


def test_alternates_and_arrays() -> None:
    good = {
        "execute": "list",
        "arguments": {"names": ["a"], "ref": {"driver": "null-co", "size": 1}},
    }
    assert check_document(SCHEMA, json.dumps(good)) == good
    also = {"execute": "list", "arguments": {"names": [], "ref": "node0"}}
    assert check_document(SCHEMA, json.dumps(also)) == also
    bad = '{"execute": "list",\n "arguments": {"names": ["a",\n 5]}}'
    with pytest.raises(DocumentError, match=r"^line 3: 'names\[1\]' expects a string"):
        check_document(SCHEMA, bad)
    with pytest.raises(DocumentError, match="'ref' expects object or str, got an integer \\(1\\)"):
        check_document(SCHEMA, '{"execute": "list", "arguments": {"names": [], "ref": 1}}')


def test_the_document_itself_must_be_a_command() -> None:
    with pytest.raises(DocumentError, match=r"^line 2: the file must hold one JSON object"):
        check_document(SCHEMA, "// c\n[1]")
    with pytest.raises(DocumentError, match=r"^line 1: unknown key 'exec'"):
        check_document(SCHEMA, '{"exec": "add"}')
    with pytest.raises(DocumentError, match=r"^line 2: unknown command 'qurey-status'"):
        check_document(SCHEMA, '{\n"execute": "qurey-status"}')
    with pytest.raises(DocumentError, match="NaN is not JSON"):
        check_document(None, '{"execute": "x", "arguments": {"a": NaN}}')


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1e999", "number out of range: 1e999"),
        ("[1, -1E400]", "number out of range: -1E400"),
        ("NaN", "NaN is not JSON"),
        ('{"b": -Infinity}', "-Infinity is not JSON"),
    ],
)
def test_a_number_json_cannot_write_back_is_refused_with_its_line(value: str, message: str) -> None:
    """1e999 reads as infinity: the command could not be written as JSON to send it.
    Refused as the prompt refuses it in shorthand, with its line."""
    text = f'{{\n  "execute": "x",\n  "arguments": {{\n    "a": 1,\n    "z": {value}\n  }}\n}}\n'
    for schema in (None, SCHEMA):
        with pytest.raises(DocumentError) as error:
            check_document(schema, text)
        assert str(error.value) == f"line 5: {message}"
    with pytest.raises(DocumentError, match=r"^line 2: number out of range: 1E400$"):
        check_document(None, '{"execute": "x",\n "id": 1E400}')


def test_an_error_naming_a_key_with_a_newline_stays_one_comment_line() -> None:
    text = '{"execute": "add", "arguments": {"driver": "file", "filename": "x", "a\\nb": 1}}'
    with pytest.raises(DocumentError) as error:
        check_document(SCHEMA, text)
    again = reopened(text, error.value)
    assert again.split("\n")[1] == text and "'a\\nb'" in again.split("\n")[0]


def test_a_reopened_document_has_one_error_on_top_counted_in_it() -> None:
    text = '// header\n{"execute": "add",\n "arguments": {"driver": "<D>"}}'
    with pytest.raises(DocumentError) as first:
        check_document(SCHEMA, text)
    again = reopened(text, first.value)
    assert again.split("\n")[0].startswith("// error: line 4: 'driver' still holds")
    assert '"<D>"' in again.split("\n")[3]
    with pytest.raises(DocumentError) as second:
        check_document(SCHEMA, without_error(again))
    third = reopened(again, second.value)
    assert third.count("// error:") == 1 and without_error(third) == text
