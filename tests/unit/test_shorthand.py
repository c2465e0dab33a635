"""The shorthand language without a schema: qmpshell.language.shorthand.

Every case asserts the exact message produced (key order and JSON types included), or
for a refused line the exact column of the :class:`InputError` and a part of its message.
Messages never contain the column: the caller adds "column N".
"""

from __future__ import annotations

import json
import string
from typing import Any

import pytest
from conftest import FUZZ_EXAMPLES
from hypothesis import given, settings
from hypothesis import strategies as st

from qmpshell.errors import InputError, QMPShellError
from qmpshell.language.rawjson import parse_raw_json
from qmpshell.language.shorthand import Parser, parse_line
from qmpshell.language.syntax import (
    Word,
    build_tree,
    is_incomplete_json,
    render_arguments,
    render_value,
    split_entries,
    split_words,
    untyped_tree,
)
from qmpshell.language.values import untyped_value


def exact(value: Any) -> str:
    """``value`` as JSON text: equal texts mean equal values, key order and types (1 is
    not 1.0 is not true) included."""
    return json.dumps(value, ensure_ascii=False)


def assert_message(actual: Any, expected: Any) -> None:
    assert actual == expected
    assert exact(actual) == exact(expected)


def refused(line: str, parser: Parser | None = None) -> InputError:
    with pytest.raises(InputError) as info:
        (parser or Parser()).feed(line)
    return info.value


def command(name: str, **arguments: Any) -> dict[str, Any]:
    return {"execute": name, "arguments": arguments}


# -- lines to messages -------------------------------------------------------------------

CASES = [
    # commands and words
    pytest.param("query-status", {"execute": "query-status"}, id="no-arguments"),
    pytest.param("  query-status \t ", {"execute": "query-status"}, id="outer-whitespace"),
    pytest.param("query-status\n", {"execute": "query-status"}, id="trailing-newline"),
    pytest.param("cmd \t a=1    b=x  ", command("cmd", a=1, b="x"), id="any-whitespace"),
    pytest.param("cmd b=1 a=2", {"execute": "cmd", "arguments": {"b": 1, "a": 2}}, id="key-order"),
    # quoting: the quotes are removed
    pytest.param(
        'human-monitor-command command-line="info version"',
        {"execute": "human-monitor-command", "arguments": {"command-line": "info version"}},
        id="hmp-quotes-removed",
    ),
    pytest.param("cmd a='x y'", command("cmd", a="x y"), id="single-quotes"),
    pytest.param('cmd a="x\ty"', command("cmd", a="x\ty"), id="tab-inside-quotes"),
    pytest.param('cmd a=x"y z"w', command("cmd", a="xy zw"), id="quote-mid-word"),
    pytest.param("cmd 'a'=1", command("cmd", a=1), id="quoted-key"),
    pytest.param("cmd a='say \"hi\"'", command("cmd", a='say "hi"'), id="other-quote-inside"),
    pytest.param('cmd a="it\'s"', command("cmd", a="it's"), id="apostrophe-in-double"),
    pytest.param(r"cmd a='it\'s'", command("cmd", a="it's"), id="escaped-apostrophe"),
    pytest.param(r'cmd a="x\"y"', command("cmd", a='x"y'), id="escaped-double-quote"),
    pytest.param(r'cmd a="\n\t\r\b\f\0"', command("cmd", a="\n\t\r\b\f\0"), id="escapes"),
    pytest.param(r"cmd a='\n\t\r\b\f\0'", command("cmd", a="\n\t\r\b\f\0"), id="escapes-single"),
    pytest.param(r'cmd a="\/\\"', command("cmd", a="/\\"), id="escape-slash-backslash"),
    pytest.param(r'cmd a="\u00e9\u263A"', command("cmd", a="é☺"), id="escape-unicode"),
    pytest.param(r'cmd a="\q\x41"', command("cmd", a=r"\q\x41"), id="unknown-escape-kept"),
    pytest.param(r'cmd a="\u12"', command("cmd", a=r"\u12"), id="short-unicode-escape-kept"),
    pytest.param('cmd a=""', command("cmd", a=""), id="quoted-empty"),
    pytest.param("cmd a=", command("cmd", a=""), id="empty-value"),
    pytest.param('cmd a="1"', command("cmd", a="1"), id="quoted-number-is-string"),
    pytest.param("cmd a='true'", command("cmd", a="true"), id="quoted-true-is-string"),
    pytest.param('cmd a="null"', command("cmd", a="null"), id="quoted-null-is-string"),
    pytest.param('cmd a="[1]"', command("cmd", a="[1]"), id="quoted-array-is-string"),
    pytest.param("cmd a='{}'", command("cmd", a="{}"), id="quoted-object-is-string"),
    pytest.param("cmd a=b=c", command("cmd", a="b=c"), id="first-equals-splits"),
    pytest.param("cmd a==b", command("cmd", a="=b"), id="value-starting-with-equals"),
    # dotted keys: nested objects, siblings stay siblings
    pytest.param(
        "cmd file.driver=file file.filename=/x node-name=n",
        {
            "execute": "cmd",
            "arguments": {"file": {"driver": "file", "filename": "/x"}, "node-name": "n"},
        },
        id="dotted-siblings",
    ),
    pytest.param(
        "cmd a.b.c=1 a.b.d=2 a.e=3 f=4",
        command("cmd", a={"b": {"c": 1, "d": 2}, "e": 3}, f=4),
        id="dotted-deep",
    ),
    pytest.param(
        "cmd a.x=1 b=2 a.y=3",
        {"execute": "cmd", "arguments": {"a": {"x": 1, "y": 3}, "b": 2}},
        id="dotted-interleaved",
    ),
    # untyped values
    pytest.param(
        "cmd a=1 b=-5 c=0 d=123456789012345678901234567890",
        command("cmd", a=1, b=-5, c=0, d=123456789012345678901234567890),
        id="integers",
    ),
    pytest.param(
        "cmd a=1.5 b=1e3 c=-0.25 d=2E-2",
        command("cmd", a=1.5, b=1000.0, c=-0.25, d=0.02),
        id="floats",
    ),
    pytest.param(
        "cmd a=true b=false c=null d=True e=False f=None",
        command("cmd", a=True, b=False, c=None, d=True, e=False, f=None),
        id="literal-words",
    ),
    pytest.param(
        "cmd a=str b=/dev/null c=01 d=1x e=--5 f=0x10 g=+1 h=1. i=.5",
        command(
            "cmd", a="str", b="/dev/null", c="01", d="1x", e="--5", f="0x10", g="+1", h="1.", i=".5"
        ),
        id="not-numbers-are-strings",
    ),
    pytest.param(
        "cmd a=TRUE b=nulls c=truex d=NaN e=Infinity f=x[1]",
        command("cmd", a="TRUE", b="nulls", c="truex", d="NaN", e="Infinity", f="x[1]"),
        id="not-literals-are-strings",
    ),
    pytest.param("cmd a=[1, 2]", command("cmd", a=[1, 2]), id="array-with-spaces-one-argument"),
    pytest.param("cmd a=[1,2] b=3", command("cmd", a=[1, 2], b=3), id="array-then-argument"),
    pytest.param("cmd a=[] b={}", command("cmd", a=[], b={}), id="empty-literals"),
    pytest.param(
        'cmd a={"x": 1, "y": [true, null]}',
        command("cmd", a={"x": 1, "y": [True, None]}),
        id="json-object",
    ),
    pytest.param(
        "cmd a={'k': True, 'l': [None, False,],}",
        command("cmd", a={"k": True, "l": [None, False]}),
        id="python-object-trailing-commas",
    ),
    pytest.param(
        'cmd a=["x y", "]", "}"]', command("cmd", a=["x y", "]", "}"]), id="brackets-in-strings"
    ),
    pytest.param(
        'cmd a={"b": [1, {"c": null}]} d=e',
        command("cmd", a={"b": [1, {"c": None}]}, d="e"),
        id="nested-literal",
    ),
    pytest.param(
        "cmd a=['x', \"y\", 1.5, -2]",
        command("cmd", a=["x", "y", 1.5, -2]),
        id="mixed-quotes-in-array",
    ),
    # raw JSON, sent unchanged
    pytest.param(
        '{"id": 7, "execute": "x", "arguments": {"b": 1, "a": "1"}}',
        {"id": 7, "execute": "x", "arguments": {"b": 1, "a": "1"}},
        id="raw-json-key-order-and-id",
    ),
    pytest.param('  {"execute": "x"}  ', {"execute": "x"}, id="raw-json-whitespace"),
    pytest.param("{}", {}, id="raw-json-empty"),
    pytest.param(
        '{"anything": ["goes", 1.0]}', {"anything": ["goes", 1.0]}, id="raw-json-anything"
    ),
    pytest.param(
        '{"exec-oob": "migrate-pause", "id": {"nested": [1, "{"]}}',
        {"exec-oob": "migrate-pause", "id": {"nested": [1, "{"]}},
        id="raw-json-oob",
    ),
    # transactions on one line
    pytest.param(
        "transaction( block-dirty-bitmap-add node=n0 name=b1"
        " | block-dirty-bitmap-clear node=n0 name=b0 )",
        {
            "execute": "transaction",
            "arguments": {
                "actions": [
                    {"type": "block-dirty-bitmap-add", "data": {"node": "n0", "name": "b1"}},
                    {"type": "block-dirty-bitmap-clear", "data": {"node": "n0", "name": "b0"}},
                ]
            },
        },
        id="transaction-one-line",
    ),
    pytest.param(
        "  transaction( abort )",
        {"execute": "transaction", "arguments": {"actions": [{"type": "abort", "data": {}}]}},
        id="transaction-action-without-arguments",
    ),
    pytest.param(
        "transaction( )",
        {"execute": "transaction", "arguments": {"actions": []}},
        id="transaction-empty",
    ),
    pytest.param(
        "transaction( | a x.y=1 | | b z='1 | 2' | )",
        {
            "execute": "transaction",
            "arguments": {
                "actions": [
                    {"type": "a", "data": {"x": {"y": 1}}},
                    {"type": "b", "data": {"z": "1 | 2"}},
                ]
            },
        },
        id="transaction-empty-groups-and-quoted-bar",
    ),
    # out of band
    pytest.param("!oob migrate-pause", {"exec-oob": "migrate-pause"}, id="oob"),
    pytest.param(
        "!oob cmd a=1 b.c=x",
        {"exec-oob": "cmd", "arguments": {"a": 1, "b": {"c": "x"}}},
        id="oob-arguments",
    ),
]


@pytest.mark.parametrize(("line", "expected"), CASES)
def test_line(line: str, expected: dict[str, Any]) -> None:
    assert_message(Parser().feed(line), expected)
    assert_message(parse_line(line), expected)


# -- refused lines ----------------------------------------------------------------------

ERRORS = [
    pytest.param("", 0, "empty command", id="empty"),
    pytest.param(" \t\r\n ", 0, "empty command", id="blank"),
    # quotes
    pytest.param('cmd a="abc', 6, 'unclosed "', id="unclosed-double-quote"),
    pytest.param("cmd  a='abc", 7, "unclosed '", id="unclosed-single-quote"),
    pytest.param('cmd a=x"y', 7, 'unclosed "', id="unclosed-quote-mid-word"),
    pytest.param(r'cmd a="x\"', 6, 'unclosed "', id="escaped-quote-does-not-close"),
    pytest.param('"cmd', 0, 'unclosed "', id="unclosed-quote-in-command"),
    pytest.param('cmd a=["x]', 7, 'unclosed "', id="unclosed-quote-in-literal"),
    # words and keys
    pytest.param("cmd novalue", 4, "expected key=value, got 'novalue'", id="no-equals"),
    pytest.param(
        "  cmd a=1 novalue", 10, "expected key=value, got 'novalue'", id="no-equals-later"
    ),
    pytest.param("a=1", 0, "expected a command name, got 'a=1'", id="no-command"),
    pytest.param(")", 0, "expected a command name, got ')'", id="close-without-transaction"),
    pytest.param("|", 0, "expected a command name, got '|'", id="bar-without-transaction"),
    pytest.param("cmd =x", 4, "empty name in key ''", id="empty-key"),
    pytest.param("cmd a..b=1", 4, "empty name in key 'a..b'", id="empty-middle-segment"),
    pytest.param("cmd .a=1", 4, "empty name in key '.a'", id="empty-first-segment"),
    pytest.param("cmd a.=1", 4, "empty name in key 'a.'", id="empty-last-segment"),
    pytest.param("cmd a=1 b=2 a=3", 12, "'a' is given twice", id="key-twice"),
    pytest.param('cmd a=1 a="1"', 8, "'a' is given twice", id="key-twice-quoted"),
    pytest.param("cmd a.b=1 a.b=2", 10, "'a.b' is given twice", id="dotted-key-twice"),
    pytest.param(
        "cmd a=1 a.b=2",
        8,
        "'a' is given a value and also used as a parent of 'a.b'",
        id="leaf-then-parent",
    ),
    pytest.param("cmd a.b=2 a=1", 10, "'a' is also a parent key", id="parent-then-leaf"),
    pytest.param("cmd a.b.c=1 a.b=2", 12, "'a.b' is also a parent key", id="deep-parent-then-leaf"),
    pytest.param(
        "cmd a.b=1 a.b.c=2",
        10,
        "'a.b' is given a value and also used as a parent of 'a.b.c'",
        id="deep-leaf-then-parent",
    ),
    # bracket literals
    pytest.param("cmd a=[1,", 6, "unclosed '['", id="unclosed-array"),
    pytest.param('cmd a={"x": 1', 6, "unclosed '{'", id="unclosed-object"),
    pytest.param("cmd a=[1]]", 9, "invalid JSON value", id="extra-close-bracket"),
    pytest.param("cmd a={1: 2}", 7, "object keys must be strings", id="number-key"),
    pytest.param("cmd a=[x]", 7, "'x' is not a value (quote strings)", id="bare-word-in-array"),
    pytest.param(
        "cmd a=[__import__('os')]", 7, "only JSON or Python literals are allowed", id="call"
    ),
    pytest.param("cmd a=[1+1]", 7, "only JSON or Python literals are allowed", id="arithmetic"),
    pytest.param(
        "cmd a={'k': f(x)}", 12, "only JSON or Python literals are allowed", id="call-in-object"
    ),
    # raw JSON: the column is exc.pos in the line as typed
    pytest.param('{"a": tru}', 6, "invalid JSON", id="raw-bad-literal"),
    pytest.param('  {"a": tru}', 8, "invalid JSON", id="raw-bad-literal-indented"),
    pytest.param('{"a" 1}', 5, "invalid JSON: Expecting ':' delimiter", id="raw-missing-colon"),
    pytest.param('{"a": 1,}', 8, "invalid JSON", id="raw-trailing-comma"),
    pytest.param("{'a': 1}", 1, "invalid JSON", id="raw-single-quotes"),
    pytest.param('{"a": 1} x', 9, "invalid JSON: Extra data", id="raw-extra-data"),
    pytest.param('\t{"a": 1}}', 9, "invalid JSON: Extra data", id="raw-extra-brace"),
    pytest.param("{", 1, "invalid JSON", id="raw-unterminated"),
    pytest.param('  {"a": [1,', 11, "invalid JSON", id="raw-unterminated-indented"),
    # transactions
    pytest.param("transaction( a ) b )", 15, "')'", id="close-mid-line"),
    pytest.param("transaction( a x=1 ) y=2", 19, "')'", id="close-before-argument"),
    pytest.param(
        "transaction( x=1 )", 13, "expected an action name, got 'x=1'", id="action-without-name"
    ),
    pytest.param(
        "transaction( a x=1 | y=2 )",
        21,
        "expected an action name, got 'y=2'",
        id="second-action-without-name",
    ),
    pytest.param(
        "transaction( a x=1 | b c )", 23, "expected key=value, got 'c'", id="action-bad-argument"
    ),
    pytest.param("cmd a=1 )", 8, "expected key=value, got ')'", id="close-after-command"),
    pytest.param("cmd a=1 |", 8, "expected key=value, got '|'", id="bar-after-command"),
    # out of band
    pytest.param("!oob", 4, "!oob needs a command after it", id="oob-alone"),
    pytest.param("  !oob  ", 6, "!oob needs a command after it", id="oob-alone-spaces"),
    pytest.param("!oob a=1", 5, "expected a command name, got 'a=1'", id="oob-without-command"),
]


@pytest.mark.parametrize(("line", "column", "message"), ERRORS)
def test_refused(line: str, column: int, message: str) -> None:
    error = refused(line)
    assert error.column == column
    assert message in str(error)
    assert "column" not in str(error)


@pytest.mark.parametrize("line", ["transaction( a ) b )", "transaction( a x=1 ) y=2"])
def test_close_mid_line_says_it_must_end_the_line(line: str) -> None:
    assert "')' must end the line" in str(refused(line))


def test_invalid_literal_syntax_points_into_the_value() -> None:
    # The exact column comes from Python's parser and varies between versions.
    line = "cmd a=[1 2]"
    error = refused(line)
    assert "invalid JSON value" in str(error)
    assert error.column is not None and 6 <= error.column < len(line)


def test_deep_nesting_is_an_input_error() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    error = refused(f"cmd a={deep}")
    assert (error.column, str(error)) == (6, "value nested too deeply")
    error = refused('  {"a": ' + deep + "}")
    assert (error.column, str(error)) == (2, "invalid JSON: nested too deeply")


def test_input_error_is_a_qmpshell_error() -> None:
    assert issubclass(InputError, QMPShellError)


# -- transaction blocks and parser state ------------------------------------------------


def test_transaction_block() -> None:
    parser = Parser()
    assert not parser.in_transaction
    assert parser.feed("transaction(") is None
    assert parser.in_transaction
    assert parser.feed("block-dirty-bitmap-add node=n0 name=b1") is None
    assert parser.feed("  block-dirty-bitmap-clear node=n0 name='b 0' | abort") is None
    assert parser.in_transaction
    assert_message(
        parser.feed(")"),
        {
            "execute": "transaction",
            "arguments": {
                "actions": [
                    {"type": "block-dirty-bitmap-add", "data": {"node": "n0", "name": "b1"}},
                    {"type": "block-dirty-bitmap-clear", "data": {"node": "n0", "name": "b 0"}},
                    {"type": "abort", "data": {}},
                ]
            },
        },
    )
    assert not parser.in_transaction
    # The parser is ready for the next command.
    assert_message(parser.feed("cont"), {"execute": "cont"})


def test_transaction_closed_at_end_of_action_line() -> None:
    parser = Parser()
    assert parser.feed("transaction( a x=1") is None
    assert parser.in_transaction
    assert parser.feed("b y=2") is None
    assert_message(
        parser.feed("c z=3 )"),
        {
            "execute": "transaction",
            "arguments": {
                "actions": [
                    {"type": "a", "data": {"x": 1}},
                    {"type": "b", "data": {"y": 2}},
                    {"type": "c", "data": {"z": 3}},
                ]
            },
        },
    )
    assert not parser.in_transaction


def test_transaction_opened_and_closed_on_own_lines() -> None:
    parser = Parser()
    assert parser.feed("transaction(") is None
    assert_message(parser.feed(" ) "), {"execute": "transaction", "arguments": {"actions": []}})


def test_failed_line_leaves_the_block_and_its_actions() -> None:
    parser = Parser()
    parser.feed("transaction(")
    parser.feed("a x=1")
    for line, column in [
        ('b y="oops', 4),  # unclosed quote
        ("b y=1 y=2", 6),  # key twice
        ("b y=[1", 4),  # unclosed literal
        ("x=1", 0),  # no action name
        ("b y=1 | c z=1 z=2 )", 14),  # the second action is bad: the first is not kept
        ("", 0),
        (") b=1", 0),
    ]:
        error = refused(line, parser)
        assert error.column == column, line
        assert parser.in_transaction
    # Raw JSON is not recognised inside a block: it is a bad action line.
    refused('{"execute": "x"}', parser)
    assert parser.in_transaction
    assert_message(
        parser.feed("d w=4 )"),
        {
            "execute": "transaction",
            "arguments": {
                "actions": [{"type": "a", "data": {"x": 1}}, {"type": "d", "data": {"w": 4}}]
            },
        },
    )


def test_close_must_end_the_line_in_a_block() -> None:
    parser = Parser()
    parser.feed("transaction(")
    error = refused(") b=1", parser)
    assert (error.column, str(error)) == (0, "')' must end the line")
    assert parser.in_transaction


def test_failed_line_outside_a_block_opens_nothing() -> None:
    parser = Parser()
    refused("transaction( a x=1 x=2", parser)
    assert not parser.in_transaction
    refused("transaction( a ) b )", parser)
    assert not parser.in_transaction


def test_cancel_drops_the_block() -> None:
    parser = Parser()
    assert parser.cancel() is False
    parser.feed("transaction( a x=1")
    parser.feed("b y=2")
    assert parser.cancel() is True
    assert not parser.in_transaction
    assert parser.cancel() is False
    # Lines are commands again, and a new block starts empty.
    assert_message(parser.feed("b y=2"), command("b", y=2))
    parser.feed("transaction(")
    assert_message(
        parser.feed("c )"),
        {"execute": "transaction", "arguments": {"actions": [{"type": "c", "data": {}}]}},
    )


def test_parse_line_refuses_an_unclosed_transaction() -> None:
    for line in ["transaction( a x=1", "transaction("]:
        with pytest.raises(InputError) as info:
            parse_line(line)
        assert info.value.column == len(line)
        assert "the transaction is not closed" in str(info.value)


def test_parse_line_refuses_what_feed_refuses() -> None:
    with pytest.raises(InputError) as info:
        parse_line("cmd a=1 a=2")
    assert info.value.column == 8


# -- the pieces --------------------------------------------------------------------------


def test_split_words() -> None:
    assert split_words('  cmd a="x y" b=[1, 2] c') == [
        Word("cmd", 2, 5),
        Word("a=x y", 6, 13, "a", "x y", 8, True),
        Word("b=[1, 2]", 14, 22, "b", "[1, 2]", 16, False),
        Word("c", 23, 24),
    ]


@pytest.mark.parametrize(
    ("line", "texts"),
    [
        pytest.param("", [], id="empty"),
        pytest.param(" \t ", [], id="blank"),
        pytest.param("a\tb\nc", ["a", "b", "c"], id="any-whitespace"),
        pytest.param("a='x y'z", ["a=x yz"], id="quotes-join"),
        pytest.param("a=[1, [2, 3]] b", ["a=[1, [2, 3]]", "b"], id="nested-brackets"),
        pytest.param("a=[1, ' ]'] b", ["a=[1, ' ]']", "b"], id="bracket-in-quotes"),
        pytest.param("a=x [1, 2]", ["a=x", "[1,", "2]"], id="brackets-only-after-equals"),
        pytest.param("a b=1 | c )", ["a", "b=1", "|", "c", ")"], id="bars-and-parens"),
    ],
)
def test_split_words_texts(line: str, texts: list[str]) -> None:
    assert [word.text for word in split_words(line)] == texts


def test_split_words_quoted_flags() -> None:
    words = split_words("a=1 b='1' c=x'1' 'd'=1")
    assert [(w.key, w.value, w.value_quoted) for w in words] == [
        ("a", "1", False),
        ("b", "1", True),
        ("c", "x1", True),
        ("d", "1", False),  # a quoted key does not make the value quoted
    ]


def test_build_tree_and_untyped_tree() -> None:
    tree = build_tree(split_words("a.b=1 a.c='1' d=[2]"))
    assert untyped_tree(tree) == {"a": {"b": 1, "c": "1"}, "d": [2]}
    assert tree["d"].column == 16  # type: ignore[union-attr]
    assert tree["d"].key_column == 14  # type: ignore[union-attr]


def test_build_tree_needs_key_value_words() -> None:
    with pytest.raises(InputError) as info:
        build_tree(split_words("a=1 b"))
    assert info.value.column == 4


def test_parse_raw_json_needs_an_object() -> None:
    with pytest.raises(InputError) as info:
        parse_raw_json("  [1]")
    assert (info.value.column, str(info.value)) == (2, "a raw QMP message must be a JSON object")


def test_parse_raw_json_deep_nesting_is_an_input_error() -> None:
    with pytest.raises(InputError) as info:
        parse_raw_json('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert "nested too deeply" in str(info.value)


@pytest.mark.parametrize(
    ("text", "incomplete"),
    [
        ("{", True),
        ('{"a": 1', True),
        ('  {"a": [1, 2]', True),
        ('{"a": "}"', True),  # the brace is inside a string
        ('{"a": 1}', False),
        ('{"a": "\\"}"}', False),
        ('{"a": 1}}', False),  # complete, if invalid
        ("x {", False),
        ("cmd a={", False),
        ("", False),
    ],
)
def test_is_incomplete_json(text: str, incomplete: bool) -> None:
    assert is_incomplete_json(text) is incomplete


# -- the way back: render_arguments ------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("x", "x"),
        ("/dev/null", "/dev/null"),
        ("0x10", "0x10"),
        ("é✓", "é✓"),
        ("", '""'),
        ("1", '"1"'),
        ("-2.5", '"-2.5"'),
        ("true", '"true"'),
        ("None", '"None"'),
        ("x y", '"x y"'),
        ("a=b", '"a=b"'),
        ("|", '"|"'),
        (")", '")"'),
        ("{x}", '"{x}"'),
        ("[1", '"[1"'),
        ('it\'s "q"\n\\', '"it\'s \\"q\\"\\n\\\\"'),
        (1, "1"),
        (-0.5, "-0.5"),
        (True, "true"),
        (None, "null"),
        ([1, "x y"], '[1, "x y"]'),
        ({}, "{}"),
    ],
)
def test_render_value(value: Any, text: str) -> None:
    assert render_value(value) == text


@pytest.mark.parametrize(
    ("arguments", "text"),
    [
        ({}, ""),
        ({"id": "nic0"}, "id=nic0"),
        ({"a": {"b": 1, "c": {"d": None}}, "e": []}, "a.b=1 a.c.d=null e=[]"),
        ({"a": {}}, "a={}"),
        ({"command-line": "info version"}, 'command-line="info version"'),
    ],
)
def test_render_arguments(arguments: dict[str, Any], text: str) -> None:
    assert render_arguments(arguments) == text
    message = Parser().feed(f"cmd {text}")
    assert message is not None
    assert_message(message.get("arguments", {}), arguments)


@pytest.mark.parametrize("key", ["", "a.b", "a b", "a=b", "é"])
def test_render_arguments_keys_shorthand_cannot_hold(key: str) -> None:
    # An argument name must be a word of its own; below it, an object whose keys cannot
    # be dotted is written as a literal.
    with pytest.raises(ValueError):
        render_arguments({key: 1})
    text = render_arguments({"a": {"b": {key: 1, "c": 2}}})
    assert text == f"a.b={json.dumps({key: 1, 'c': 2}, ensure_ascii=False)}"
    assert_message(Parser().feed(f"cmd {text}"), command("cmd", a={"b": {key: 1, "c": 2}}))


# -- properties -------------------------------------------------------------------------

_KEYS = st.from_regex(r"[a-z][a-z0-9_-]{0,10}", fullmatch=True)
_TRICKY_STRINGS = st.sampled_from(
    ["", " ", "1", "-1", "1.5", "1e3", "0x10", "true", "False", "null", "None", "NaN",
     "[1]", "{}", '{"a": 1}', "[", "}", "'", '"', "\\", "\\n", "a=b", "|", ")", "(",
     "transaction(", "!oob", "x y", "\t", "é", "\u2028", "\x85", "\x00"]
)  # fmt: skip
_STRINGS = st.one_of(st.text(), _TRICKY_STRINGS)
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    _STRINGS,
)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(_STRINGS, _KEYS), inner, max_size=4),
    ),
    max_leaves=12,
)
_ARGUMENTS = st.recursive(
    st.dictionaries(_KEYS, _JSON, max_size=5),
    lambda inner: st.dictionaries(_KEYS, st.one_of(_JSON, inner), max_size=4),
    max_leaves=8,
)


@given(_ARGUMENTS)
@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
def test_render_arguments_round_trip(arguments: dict[str, Any]) -> None:
    message = Parser().feed("cmd " + render_arguments(arguments))
    expected: dict[str, Any] = {"execute": "cmd"}
    if arguments:  # no "arguments" member at all when there are none
        expected["arguments"] = arguments
    assert message == expected
    assert exact(message) == exact(expected)


_SHORTHAND_ALPHABET = st.sampled_from(
    [
        *" \t={}[]()|\"':,.-01xeTNnulr\\!",
        *["transaction(", "!oob", "a=", "b.c=", "True", "None", "\\u00e9", "\x00", "é", "\u2028"],
    ]
)
_LINES = st.one_of(
    st.text(),
    st.text().map(lambda text: "{" + text),
    st.lists(_SHORTHAND_ALPHABET, max_size=30).map("".join),
    st.lists(_SHORTHAND_ALPHABET, max_size=30).map(lambda parts: "cmd " + "".join(parts)),
)


def _feed(parser: Parser, line: str) -> dict[str, Any] | InputError | None:
    try:
        message = parser.feed(line)
    except InputError as exc:
        assert exc.column is None or 0 <= exc.column <= len(line)
        return exc
    assert message is None or isinstance(message, dict)
    return message


@given(_LINES)
@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
def test_any_text_gives_a_message_none_or_input_error(line: str) -> None:
    result = _feed(Parser(), line)
    if isinstance(result, dict) and not line.lstrip().startswith("{"):
        assert set(result) <= {"execute", "exec-oob", "arguments"}
        json.dumps(result)


@given(st.lists(_LINES, min_size=1, max_size=6))
@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
def test_a_refused_line_changes_nothing(lines: list[str]) -> None:
    # A parser fed every line answers the accepted ones exactly as a parser that never
    # saw the refused ones.
    everything, accepted_only = Parser(), Parser()
    for line in lines:
        result = _feed(everything, line)
        if not isinstance(result, InputError):
            assert _feed(accepted_only, line) == result
            assert accepted_only.in_transaction == everything.in_transaction


@given(_LINES)
@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
def test_split_words_gives_words_or_input_error(line: str) -> None:
    try:
        words = split_words(line)
    except InputError as exc:
        assert exc.column is not None and 0 <= exc.column < len(line)
        assert line[exc.column] in "\"'[{"
        return
    for word in words:
        assert 0 <= word.start < word.end <= len(line)
        assert not line[word.start].isspace()
        if word.key is not None:
            assert word.text == f"{word.key}={word.value}"


_SIMPLE_VALUES = st.text(
    alphabet=string.ascii_letters + "._/:,-+@%~^*!?<>", min_size=1, max_size=10
)


@given(
    name=st.from_regex(r"[a-z][a-z0-9_-]{0,20}", fullmatch=True),
    arguments=st.dictionaries(_KEYS, _SIMPLE_VALUES, max_size=6),
    separators=st.lists(st.sampled_from([" ", "  ", "\t", " \t "]), min_size=1, max_size=4),
)
@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
def test_words_separated_by_any_whitespace(
    name: str, arguments: dict[str, str], separators: list[str]
) -> None:
    words = [name] + [f"{key}={value}" for key, value in arguments.items()]
    line = separators[0] + "".join(
        word + separators[(i + 1) % len(separators)] for i, word in enumerate(words)
    )
    expected: dict[str, Any] = {"execute": name}
    if arguments:
        expected["arguments"] = {key: untyped_value(value) for key, value in arguments.items()}
    assert_message(Parser().feed(line), expected)


@settings(max_examples=FUZZ_EXAMPLES)
@given(
    st.lists(
        st.one_of(
            st.text(alphabet=st.characters(blacklist_characters="\n{\r"), max_size=20),
            st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5)).map(
                lambda value: json.dumps(value, indent=1)
            ),
        ),
        max_size=8,
    ),
    st.text(alphabet=st.characters(blacklist_characters="\n{"), max_size=10),
)
def test_split_entries_keeps_lines_and_json_objects_whole(entries: list[str], rest: str) -> None:
    text = "".join(entry + "\n" for entry in entries) + rest
    found, left = split_entries(text)
    assert found == [entry for entry in entries if entry.strip()]
    assert left == rest


def test_split_entries_leaves_an_open_object_unfinished() -> None:
    assert split_entries('query-name\n{"execute":\n "query-sta') == (
        ["query-name"],
        '{"execute":\n "query-sta',
    )
