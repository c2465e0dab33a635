"""Unit tests for qmpshell.shorthand.parse_line: raw JSON or ``command key=value ...``."""

from __future__ import annotations

import json
import os
import string
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qmpshell.errors import InputError, QMPShellError
from qmpshell.shorthand import parse_line

FUZZ_EXAMPLES = int(os.environ.get("QMPSHELL_FUZZ_EXAMPLES", "300"))
# Building structured lines costs more than random text: the round trips run a third
# of the fuzz budget, still scaled by QMPSHELL_FUZZ_EXAMPLES.
ROUND_TRIP_EXAMPLES = max(10, FUZZ_EXAMPLES // 3)


def input_error(line: str) -> InputError:
    with pytest.raises(InputError) as info:
        parse_line(line)
    return info.value


# -- shorthand -----------------------------------------------------------------------


def test_command_without_arguments() -> None:
    assert parse_line("query-status") == {"execute": "query-status"}


def test_arguments_typed_as_json_literals_else_strings() -> None:
    line = 'cmd a=1 b=true c=null d=str e=[1,2] f={"x":1}'
    assert parse_line(line) == {
        "execute": "cmd",
        "arguments": {"a": 1, "b": True, "c": None, "d": "str", "e": [1, 2], "f": {"x": 1}},
    }


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("-5", -5),
        ("0", 0),
        ("4444", 4444),
        ("123456789012345678901234567890", 123456789012345678901234567890),
        ("false", False),
        ("true", True),
        ("null", None),
        ("[]", []),
        ("{}", {}),
        ('["a","b"]', ["a", "b"]),
        ('{"a":{"b":[null]}}', {"a": {"b": [None]}}),
        ("str", "str"),
        ("/dev/null", "/dev/null"),
        ("True", "True"),
        ("nulls", "nulls"),
        ("truex", "truex"),
        ("01", "01"),  # not valid JSON: kept as written
        ("1x", "1x"),
        ("--5", "--5"),
        ("[1,2", "[1,2"),  # unbalanced: kept as written
        ("{x}", "{x}"),
        ('"quoted"', '"quoted"'),  # a JSON string literal is not unquoted
        ("", ""),
        ("a=b", "a=b"),  # only the first '=' separates key and value
    ],
)
def test_value_typing(text: str, value: Any) -> None:
    assert parse_line(f"cmd k={text}") == {"execute": "cmd", "arguments": {"k": value}}


@pytest.mark.parametrize(("text", "value"), [("1.5", 1.5), ("-0.25", -0.25), ("1e3", 1000.0)])
def test_float_values_are_numbers(text: str, value: float) -> None:
    assert parse_line(f"cmd k={text}") == {"execute": "cmd", "arguments": {"k": value}}


@pytest.mark.parametrize(
    "line",
    [
        "  query-status",
        "\tquery-status",
        "query-status  ",
        "  query-status \t ",
        "query-status\n",
    ],
)
def test_surrounding_whitespace_is_ignored(line: str) -> None:
    assert parse_line(line) == {"execute": "query-status"}


def test_words_separated_by_any_whitespace() -> None:
    assert parse_line("  cmd \t a=1    b=x  ") == {
        "execute": "cmd",
        "arguments": {"a": 1, "b": "x"},
    }


def test_line_starting_with_bracket_is_a_command_name() -> None:
    # Only '{' starts raw JSON; '[' is not special to the current parser.
    assert parse_line("[1]") == {"execute": "[1]"}


# -- raw JSON ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        '{"execute": "x", "id": 3}',
        '  {"execute": "x", "id": 3}  ',
        '{"execute": "qmp_capabilities", "arguments": {"enable": ["oob"]}}',
        '{"exec-oob": "migrate-pause", "id": {"nested": [1, "{"]}}',
        "{}",
        '{"anything": "goes"}',
    ],
)
def test_raw_json_returned_unchanged(line: str) -> None:
    assert parse_line(line) == json.loads(line)


def test_raw_json_example() -> None:
    assert parse_line('{"execute": "x", "id": 3}') == {"execute": "x", "id": 3}


@pytest.mark.parametrize(
    ("line", "column"),
    [
        ('{"a": tru}', 6),
        ('  {"a": tru}', 8),
        ('{"a" 1}', 5),
        ('{"a": 1,}', 8),
        ("{'a': 1}", 1),
        ('{"a": 1} x', 9),
        ('\t{"a": 1}}', 9),
    ],
)
def test_invalid_raw_json_column(line: str, column: int) -> None:
    error = input_error(line)
    assert error.column == column
    assert 0 <= error.column < len(line)
    assert f"column {column + 1}" in str(error)
    assert "invalid JSON" in str(error)


@pytest.mark.parametrize("line", ["{", '{"a": 1', '  {"a": [1, 2'])
def test_unterminated_raw_json_column_is_end_of_text(line: str) -> None:
    error = input_error(line)
    assert error.column == len(line.rstrip())


def test_deeply_nested_raw_json_is_an_input_error() -> None:
    error = input_error("{" + '"a":[' * 100_000)
    assert error.column is not None


def test_deeply_nested_shorthand_value_is_a_string() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    assert parse_line(f"cmd a={deep}") == {"execute": "cmd", "arguments": {"a": deep}}


# -- errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "column"),
    [
        ("cmd novalue", 4),
        ("cmd =x", 4),
        ("  cmd a=1 novalue", 10),
        ("cmd a=1\t=", 8),
    ],
)
def test_argument_without_key_or_value_sign(line: str, column: int) -> None:
    error = input_error(line)
    assert error.column == column
    assert f"column {column + 1}" in str(error)
    assert line.split()[-1] in str(error)


def test_repeated_key_is_an_error() -> None:
    error = input_error("cmd a=1 b=2 a=3")
    assert error.column == 12
    assert "'a'" in str(error)


def test_repeated_key_is_an_error_even_with_equal_values() -> None:
    assert input_error("cmd a=1 a=1").column == 8


@pytest.mark.parametrize("line", ["", " ", "   ", "\t", "\n", " \t\r\n "])
def test_empty_line_is_an_error(line: str) -> None:
    error = input_error(line)
    assert error.column == 0
    assert "empty" in str(error)


def test_input_error_is_a_qmpshell_error() -> None:
    assert issubclass(InputError, QMPShellError)


# -- properties ----------------------------------------------------------------------

_LINES = st.one_of(
    st.text(),
    st.text().map(lambda text: "{" + text),
    st.text(alphabet=st.sampled_from(list(' \t={}[]":,-01tnfaeulrsx\\')), max_size=40),
    st.text(alphabet=st.sampled_from(list(' \t={}[]":,-01tnfaeulrsx\\')), max_size=40).map(
        lambda text: "cmd " + text
    ),
)


@given(_LINES)
@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
def test_any_text_gives_a_dict_or_input_error(line: str) -> None:
    try:
        message = parse_line(line)
    except InputError as exc:
        assert exc.column is None or 0 <= exc.column <= len(line)
        return
    assert isinstance(message, dict)
    if not line.lstrip().startswith("{"):
        assert isinstance(message["execute"], str)
        assert message["execute"]
        assert set(message) <= {"execute", "arguments"}


# Command names matching [a-z][a-z0-9_-]*.
_COMMANDS = st.builds(
    str.__add__,
    st.sampled_from(string.ascii_lowercase),
    st.text(alphabet=string.ascii_lowercase + string.digits + "_-", max_size=20),
)
# Any character but whitespace and '='.
_SAFE_CHARS = st.characters(
    exclude_categories=["Cc", "Cs", "Zs", "Zl", "Zp"], exclude_characters="="
).filter(lambda char: not char.isspace())
_KEYS = st.text(alphabet=_SAFE_CHARS, min_size=1, max_size=10)
# Values that never read as a JSON literal: no digits, no leading bracket.
_STRING_VALUES = st.text(
    alphabet=st.sampled_from(string.ascii_letters + "._/:,-+@%~^*!?'\"()<>|"), max_size=10
).filter(lambda value: value not in ("true", "false", "null"))
_SEPARATORS = st.sampled_from([" ", "  ", "\t", " \t "])


def _join(command: str, pairs: list[tuple[str, str]], seps: list[str]) -> str:
    words = [command] + [f"{key}={value}" for key, value in pairs]
    line = seps[0]
    for i, word in enumerate(words):
        line += word + seps[(i + 1) % len(seps)]
    return line


@given(
    command=_COMMANDS,
    arguments=st.dictionaries(_KEYS, _STRING_VALUES, max_size=6),
    seps=st.lists(_SEPARATORS, min_size=1, max_size=4),
)
@settings(max_examples=ROUND_TRIP_EXAMPLES, deadline=None)
def test_shorthand_round_trip_strings(
    command: str, arguments: dict[str, str], seps: list[str]
) -> None:
    line = _join(command, list(arguments.items()), seps)
    expected: dict[str, Any] = {"execute": command}
    if arguments:
        expected["arguments"] = arguments
    assert parse_line(line) == expected


@given(
    command=_COMMANDS,
    arguments=st.dictionaries(
        _KEYS,
        st.integers() | st.booleans() | st.none() | st.lists(st.integers(), max_size=3),
        max_size=6,
    ),
)
@settings(max_examples=ROUND_TRIP_EXAMPLES, deadline=None)
def test_shorthand_round_trip_literals(command: str, arguments: dict[str, Any]) -> None:
    pairs = [(key, json.dumps(value, separators=(",", ":"))) for key, value in arguments.items()]
    message = parse_line(_join(command, pairs, [" "]))
    assert message["execute"] == command
    assert message.get("arguments", {}) == arguments


@given(
    command=_COMMANDS,
    keys=st.lists(_KEYS, min_size=1, max_size=5, unique=True),
    data=st.data(),
)
@settings(max_examples=ROUND_TRIP_EXAMPLES, deadline=None)
def test_shorthand_keys_survive_any_values(
    command: str, keys: list[str], data: st.DataObject
) -> None:
    values = data.draw(
        st.lists(st.text(alphabet=_SAFE_CHARS, max_size=10), min_size=len(keys), max_size=len(keys))
    )
    message = parse_line(_join(command, list(zip(keys, values)), [" "]))
    assert message["execute"] == command
    assert list(message["arguments"]) == keys
