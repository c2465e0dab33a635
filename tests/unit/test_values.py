"""The untyped rules: qmpshell.language.values.untyped_value and parse_literal.

Values typed after ``key=`` with no schema (or for a member of type ``any``): numbers,
``true``/``false``/``null`` and their Python spellings, JSON or Python-style object and
array literals, and strings for everything else and for anything quoted. Literals are
read, never evaluated.
"""

from __future__ import annotations

import builtins
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import FUZZ_EXAMPLES
from hypothesis import given, settings
from hypothesis import strategies as st

from qmpshell.errors import InputError
from qmpshell.language.shorthand import Parser
from qmpshell.language.values import parse_literal, untyped_value


def exact(value: Any) -> str:
    """JSON text that tells 1 from 1.0 from true, and keeps key order."""
    return json.dumps(value, ensure_ascii=False)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        pytest.param("1", 1, id="int"),
        pytest.param("0", 0, id="zero"),
        pytest.param("-5", -5, id="negative"),
        pytest.param("-0", 0, id="negative-zero-int"),
        pytest.param("123456789012345678901234567890", 123456789012345678901234567890, id="big"),
        pytest.param("1.5", 1.5, id="float"),
        pytest.param("-0.25", -0.25, id="negative-float"),
        pytest.param("1e3", 1000.0, id="exponent"),
        pytest.param("2E-2", 0.02, id="exponent-upper-negative"),
        pytest.param("1.5e+2", 150.0, id="fraction-exponent"),
        pytest.param("true", True, id="true"),
        pytest.param("false", False, id="false"),
        pytest.param("null", None, id="null"),
        pytest.param("True", True, id="python-true"),
        pytest.param("False", False, id="python-false"),
        pytest.param("None", None, id="python-none"),
        pytest.param("", "", id="empty"),
        pytest.param("str", "str", id="word"),
        pytest.param("/dev/null", "/dev/null", id="path"),
        pytest.param("01", "01", id="leading-zero"),
        pytest.param("+1", "+1", id="plus-sign"),
        pytest.param("1.", "1.", id="trailing-dot"),
        pytest.param(".5", ".5", id="leading-dot"),
        pytest.param("0x10", "0x10", id="hex"),
        pytest.param("1_000", "1_000", id="underscore"),
        pytest.param("--5", "--5", id="double-minus"),
        pytest.param("1x", "1x", id="number-then-letter"),
        pytest.param("TRUE", "TRUE", id="upper-true"),
        pytest.param("nulls", "nulls", id="null-prefix"),
        pytest.param("NaN", "NaN", id="nan-word"),
        pytest.param("Infinity", "Infinity", id="infinity-word"),
        pytest.param("on", "on", id="on"),
        pytest.param("x[1]", "x[1]", id="bracket-not-first"),
        pytest.param("[1, 2]", [1, 2], id="array"),
        pytest.param('{"a": 1}', {"a": 1}, id="object"),
        pytest.param("{'a': None}", {"a": None}, id="python-object"),
    ],
)
def test_untyped_value(text: str, value: Any) -> None:
    assert exact(untyped_value(text)) == exact(value)
    assert exact(untyped_value(text, False, 7)) == exact(value)


@pytest.mark.parametrize("text", ["", "1", "-2.5", "true", "None", "[1]", "{", "[1", "{'a': f(x)}"])
def test_quoted_text_is_always_a_string(text: str) -> None:
    assert untyped_value(text, quoted=True) == text
    assert untyped_value(text, True, 5) == text


@pytest.mark.parametrize(
    ("text", "value"),
    [
        pytest.param("[]", [], id="empty-array"),
        pytest.param("{}", {}, id="empty-object"),
        pytest.param(
            '[1, -2, 1.5, "x", true, false, null]',
            [1, -2, 1.5, "x", True, False, None],
            id="json-array",
        ),
        pytest.param(
            '{"b": 1, "a": {"c": [null]}}', {"b": 1, "a": {"c": [None]}}, id="json-object-order"
        ),
        pytest.param('["\\u00e9\\n"]', ["é\n"], id="json-escapes"),
        pytest.param("  [1]  ", [1], id="outer-whitespace"),
        pytest.param("[\n1,\n2\n]", [1, 2], id="newlines"),
        pytest.param("['a', \"b\"]", ["a", "b"], id="single-quotes"),
        pytest.param("[True, False, None]", [True, False, None], id="python-words"),
        pytest.param("[true, None]", [True, None], id="mixed-words"),
        pytest.param("[1, 2,]", [1, 2], id="trailing-comma-array"),
        pytest.param("{'a': 1,}", {"a": 1}, id="trailing-comma-object"),
        pytest.param("[(1, 2), ()]", [[1, 2], []], id="tuples-are-arrays"),
        pytest.param("[-1, +2, -1.5, -(3)]", [-1, 2, -1.5, -3], id="signs"),
        pytest.param("[0x10, 0o10, 0b10, 1_000]", [16, 8, 2, 1000], id="python-int-syntax"),
        pytest.param("[1e3, 2.]", [1000.0, 2.0], id="python-floats"),
        pytest.param("['\\x41\\n', u'x', r'\\d']", ["A\n", "x", "\\d"], id="python-strings"),
        pytest.param(
            "{'k': {'l': ['m', {'n': 1}]}}", {"k": {"l": ["m", {"n": 1}]}}, id="python-nested"
        ),
    ],
)
def test_parse_literal(text: str, value: Any) -> None:
    assert exact(parse_literal(text)) == exact(value)


@pytest.mark.parametrize(
    ("text", "column", "message"),
    [
        pytest.param("[x]", 1, "'x' is not a value (quote strings)", id="bare-word"),
        pytest.param("[NULL]", 1, "'NULL' is not a value", id="upper-null"),
        pytest.param("{1: 2}", 1, "object keys must be strings", id="int-key"),
        pytest.param("{None: 2}", 1, "object keys must be strings", id="none-key"),
        pytest.param("{**x}", 0, "object keys must be strings", id="dict-unpacking"),
        pytest.param("{1}", 0, "only JSON or Python literals are allowed", id="set"),
        pytest.param("[*x]", 1, "only JSON or Python literals are allowed", id="star"),
        pytest.param("[1+1]", 1, "only JSON or Python literals are allowed", id="arithmetic"),
        pytest.param("[--1]", 1, "only JSON or Python literals are allowed", id="double-minus"),
        pytest.param("[-True]", 1, "only JSON or Python literals are allowed", id="minus-bool"),
        pytest.param("[-'x']", 1, "only JSON or Python literals are allowed", id="minus-string"),
        pytest.param("[not 1]", 1, "only JSON or Python literals are allowed", id="not"),
        pytest.param(
            "[1 if 1 else 2]", 1, "only JSON or Python literals are allowed", id="ternary"
        ),
        pytest.param("[f'x']", 1, "only JSON or Python literals are allowed", id="f-string"),
        pytest.param("[[].pop]", 1, "only JSON or Python literals are allowed", id="attribute"),
        pytest.param(
            "[x for x in ()]", 0, "only JSON or Python literals are allowed", id="comprehension"
        ),
        pytest.param("[lambda: 0]", 1, "only JSON or Python literals are allowed", id="lambda"),
        pytest.param(
            "{'k': [1, f(x)]}", 10, "only JSON or Python literals are allowed", id="nested-call"
        ),
        pytest.param("[1j]", 1, "complex is not a JSON value", id="complex"),
        pytest.param("[b'x']", 1, "bytes is not a JSON value", id="bytes"),
        pytest.param("[...]", 1, "ellipsis is not a JSON value", id="ellipsis"),
        pytest.param("[-1e999,]", 2, "float is not a JSON value", id="python-infinity"),
    ],
)
def test_parse_literal_refuses(text: str, column: int, message: str) -> None:
    with pytest.raises(InputError) as info:
        parse_literal(text)
    assert info.value.column == column
    assert f"invalid JSON value: {message}" in str(info.value)
    # The column passed in is where the value starts on the line.
    with pytest.raises(InputError) as info:
        parse_literal(text, 20)
    assert info.value.column == 20 + column
    with pytest.raises(InputError) as info:
        untyped_value(text, False, 20)
    assert info.value.column == 20 + column


@pytest.mark.parametrize(
    "text", ["[", "{", "[1 2]", "[1,,2]", "{'a' 1}", "[1]]", "[1] x", "[\x00]"]
)
def test_parse_literal_refuses_bad_syntax(text: str) -> None:
    # The column comes from Python's parser, and differs between its versions.
    with pytest.raises(InputError) as info:
        parse_literal(text, 10)
    assert "invalid JSON value" in str(info.value)
    assert info.value.column is not None and 10 <= info.value.column <= 10 + len(text)


def test_deep_nesting_is_an_input_error() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    with pytest.raises(InputError) as info:
        parse_literal(deep, 3)
    assert (info.value.column, str(info.value)) == (3, "value nested too deeply")
    # Not JSON, so read as Python: still an InputError.
    for text in ("[x, " + deep + "]", "[" * 100_000 + "1,," + "]" * 100_000):
        with pytest.raises(InputError) as info:
            parse_literal(text, 3)
        assert info.value.column is not None and info.value.column >= 3


def test_long_integers_are_input_errors_not_crashes() -> None:
    # Python refuses to convert integers of more than sys.get_int_max_str_digits() digits
    # (4300 by default) with ValueError; that must not escape as a crash.
    digits = "9" * 5000
    limited = hasattr(sys, "get_int_max_str_digits") and sys.get_int_max_str_digits() != 0
    for function, text in [
        (untyped_value, digits),
        (untyped_value, f"-{digits}"),
        (parse_literal, f"[{digits}]"),
        (parse_literal, f"[{digits},]"),
    ]:
        if limited:
            with pytest.raises(InputError) as info:
                function(text, column=4)
            assert info.value.column is not None and info.value.column >= 4
        else:
            assert function(text, column=4) in (int(digits), -int(digits), [int(digits)])
    if limited:
        with pytest.raises(InputError) as info:
            untyped_value(digits, column=4)
        assert (info.value.column, str(info.value)) == (4, "number too long")


@pytest.mark.parametrize(
    ("function", "text"),
    [
        (untyped_value, "1e999"),
        (untyped_value, "-1e999"),
        (parse_literal, "[1e999]"),
        (parse_literal, "[NaN]"),
        (parse_literal, '{"a": Infinity}'),
        (parse_literal, "[-Infinity]"),
    ],
)
def test_values_are_finite_json(function: Any, text: str) -> None:
    try:
        value = function(text)
    except InputError:
        return
    json.dumps(value, allow_nan=False)


# -- never evaluated --------------------------------------------------------------------

_PAYLOADS = [
    "[__import__('os').system('touch {marker}')]",
    "[open('{marker}', 'w')]",
    "{{'k': __import__('pathlib').Path('{marker}').touch()}}",
    "[exec(\"open('{marker}', 'w')\")]",
    "[eval(\"open('{marker}', 'w')\")]",
    "[(lambda: open('{marker}', 'w'))()]",
    "[[open('{marker}', 'w') for _ in [1]]]",
    "[__builtins__['open']('{marker}', 'w')]",
    "[().__class__.__base__.__subclasses__()]",
    "[globals()]",
    "[breakpoint()]",
    "[input()]",
    "[(_ := open('{marker}', 'w'))]",
    "['{marker}'.__class__]",
]


@pytest.fixture
def no_eval(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("input was evaluated")

    monkeypatch.setattr(builtins, "eval", refuse)
    monkeypatch.setattr(builtins, "exec", refuse)
    monkeypatch.setattr(builtins, "breakpoint", refuse)
    monkeypatch.setattr(builtins, "input", refuse)


@pytest.mark.parametrize("payload", _PAYLOADS)
def test_literals_are_never_evaluated(payload: str, tmp_path: Path, no_eval: None) -> None:
    marker = tmp_path / "evaluated"
    text = payload.format(marker=marker)
    for call in (
        lambda: parse_literal(text),
        lambda: untyped_value(text),
        lambda: Parser().feed(f"cmd a={text}"),
        lambda: Parser().feed(f"transaction( act a={text} )"),
    ):
        with pytest.raises(InputError) as info:
            call()
        assert "invalid JSON value" in str(info.value)
    assert not marker.exists()
    assert list(tmp_path.iterdir()) == []


# -- properties -------------------------------------------------------------------------

_FINITE = st.floats(allow_nan=False, allow_infinity=False)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | _FINITE | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=15,
)
_CONTAINERS = st.lists(_JSON, max_size=4) | st.dictionaries(st.text(), _JSON, max_size=4)


@given(_CONTAINERS)
@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
def test_json_literals_read_back(value: Any) -> None:
    for text in (json.dumps(value), json.dumps(value, ensure_ascii=False, indent=1)):
        assert exact(parse_literal(text)) == exact(value)
        assert exact(untyped_value(text)) == exact(value)


@given(_CONTAINERS)
@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
def test_python_literals_read_back(value: Any) -> None:
    # repr() writes True/None, single quotes and Python string escapes.
    assert exact(parse_literal(repr(value))) == exact(value)


@given(st.none() | st.booleans() | st.integers() | _FINITE)
@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
def test_json_scalars_read_back(value: Any) -> None:
    assert exact(untyped_value(json.dumps(value))) == exact(value)


@given(st.text())
@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
def test_quoted_strings_read_back(text: str) -> None:
    assert untyped_value(text, quoted=True) == text


_TEXT = st.one_of(
    st.text(),
    st.text().map(lambda text: "[" + text),
    st.text().map(lambda text: "{" + text),
    st.lists(
        st.sampled_from(
            [*"[]{}(),:'\"-+.0123456789eEjxTNFa_ \\*", "True", "None", "null", "f(", "NaN"]
        ),
        max_size=25,
    ).map("".join),
)  # fmt: skip


def _check(value: Any) -> None:
    """``value`` is made of JSON types only, and its floats are finite."""
    if isinstance(value, dict):
        for key, item in value.items():
            assert isinstance(key, str)
            _check(item)
    elif isinstance(value, list):
        for item in value:
            _check(item)
    else:
        assert value is None or isinstance(value, (bool, int, float, str))
        if isinstance(value, float):
            assert abs(value) != float("inf") and value == value


@given(_TEXT, st.booleans(), st.integers(0, 50))
@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
def test_any_text_gives_a_value_or_input_error(text: str, quoted: bool, column: int) -> None:
    for call in (lambda: untyped_value(text, quoted, column), lambda: parse_literal(text, column)):
        try:
            value = call()
        except InputError as exc:
            assert exc.column is not None and exc.column >= column
            continue
        _check(value)
