"""Input highlighting: the shorthand lexer, the prompt_toolkit lexer that marks the fault,
and the two inside a real prompt."""

from __future__ import annotations

import time
from typing import Any

import pytest
from conftest import FUZZ_EXAMPLES
from hypothesis import given, settings
from hypothesis import strategies as st
from prompt_toolkit import PromptSession
from prompt_toolkit.document import Document
from prompt_toolkit.formatted_text import StyleAndTextTuples
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from prompt_toolkit.styles import Style
from pygments.token import (  # type: ignore[import-untyped]
    Comment,
    Error,
    Keyword,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    Text,
    Whitespace,
)

from qmpshell.ui.lexer import INPUT_STYLE, ShorthandLexer, highlight_fragments, input_lexer

ERROR = "class:input-error"


def tokens(text: str) -> list[tuple[Any, str]]:
    """The tokens of ``text`` without whitespace, each with its most general useful type."""
    lexer = ShorthandLexer(stripnl=False, ensurenl=False)
    return [
        (token, value)
        for _, token, value in lexer.get_tokens_unprocessed(text)
        if token not in Whitespace
    ]


def kinds(text: str) -> list[tuple[Any, str]]:
    """Like :func:`tokens`, with String.Double and such folded into their parent kind."""
    general = (String, Number, Name.Tag, Name.Attribute, Keyword.Constant, Keyword)
    folded = []
    for token, value in tokens(text):
        folded.append((next((g for g in general if token in g), token), value))
    return folded


def line_texts(fragments: list[StyleAndTextTuples]) -> list[str]:
    return ["".join(fragment[1] for fragment in line) for line in fragments]


def lex(text: str, check: Any = lambda text: None) -> list[StyleAndTextTuples]:
    document = Document(text)
    get_line = input_lexer(check).lex_document(document)
    return [get_line(number) for number in range(len(document.lines))]


def marked(lines: list[StyleAndTextTuples]) -> str:
    """The text of the fragments marked as the fault."""
    return "".join(text for line in lines for style, text, *_ in line if ERROR in style)


# -- the shorthand lexer ------------------------------------------------------------------


def test_command_with_arguments() -> None:
    assert kinds('blockdev-add driver=raw node-name="n 0" file.size=1048576') == [
        (Name.Function, "blockdev-add"),
        (Name.Attribute, "driver"),
        (Operator, "="),
        (String, "raw"),
        (Name.Attribute, "node-name"),
        (Operator, "="),
        (String, '"n 0"'),
        (Name.Attribute, "file.size"),
        (Operator, "="),
        (Number, "1048576"),
    ]


@pytest.mark.parametrize("value", ["0", "-1", "2.5", "1e3", "-0.5E-7"])
def test_numbers(value: str) -> None:
    assert kinds(f"c k={value}")[-1] == (Number, value)


@pytest.mark.parametrize("value", ["true", "false", "null", "True", "False", "None"])
def test_constants(value: str) -> None:
    assert kinds(f"c k={value}")[-1] == (Keyword.Constant, value)


@pytest.mark.parametrize("value", ["1x", "0x10", "truely", "01a", "-", "a=b"])
def test_values_that_are_strings(value: str) -> None:
    assert kinds(f"c k={value}")[-1] == (String, value)


def test_quoted_values_with_escapes() -> None:
    assert kinds(r"""c a="x \" y" b='it\'s' c="unclosed""") == [
        (Name.Function, "c"),
        (Name.Attribute, "a"),
        (Operator, "="),
        (String, r'"x \" y"'),
        (Name.Attribute, "b"),
        (Operator, "="),
        (String, r"'it\'s'"),
        (Name.Attribute, "c"),
        (Operator, "="),
        (String, '"unclosed'),
    ]


def test_quoted_key() -> None:
    assert kinds('c "a=b"=1')[1:3] == [(Name.Attribute, '"a=b"'), (Operator, "=")]


def test_bracketed_values_are_json_like() -> None:
    assert kinds("""c o={"a": [1, 'x', True], "b c": null} l=[]""") == [
        (Name.Function, "c"),
        (Name.Attribute, "o"),
        (Operator, "="),
        (Punctuation, "{"),
        (Name.Tag, '"a"'),
        (Punctuation, ":"),
        (Punctuation, "["),
        (Number, "1"),
        (Punctuation, ","),
        (String, "'x'"),
        (Punctuation, ","),
        (Keyword.Constant, "True"),
        (Punctuation, "]"),
        (Punctuation, ","),
        (Name.Tag, '"b c"'),
        (Punctuation, ":"),
        (Keyword.Constant, "null"),
        (Punctuation, "}"),
        (Name.Attribute, "l"),
        (Operator, "="),
        (Punctuation, "["),
        (Punctuation, "]"),
    ]


def test_brackets_only_open_a_literal_right_after_the_equals_sign() -> None:
    assert kinds("c k=a[1 2]") == [
        (Name.Function, "c"),
        (Name.Attribute, "k"),
        (Operator, "="),
        (String, "a[1"),
        (Text, "2]"),
    ]


def test_raw_json_spanning_lines() -> None:
    text = '  {"execute": "query-block",\n   "arguments": {"flat": true}}'
    assert kinds(text) == [
        (Punctuation, "{"),
        (Name.Tag, '"execute"'),
        (Punctuation, ":"),
        (String, '"query-block"'),
        (Punctuation, ","),
        (Name.Tag, '"arguments"'),
        (Punctuation, ":"),
        (Punctuation, "{"),
        (Name.Tag, '"flat"'),
        (Punctuation, ":"),
        (Keyword.Constant, "true"),
        (Punctuation, "}}"),
    ]


def test_transaction_on_one_line() -> None:
    assert kinds("transaction( abort | block-dirty-bitmap-add node=n0 name=b )") == [
        (Keyword, "transaction("),
        (Name.Function, "abort"),
        (Keyword, "|"),
        (Name.Function, "block-dirty-bitmap-add"),
        (Name.Attribute, "node"),
        (Operator, "="),
        (String, "n0"),
        (Name.Attribute, "name"),
        (Operator, "="),
        (String, "b"),
        (Keyword, ")"),
    ]


def test_transaction_block_lines() -> None:
    assert kinds("transaction(") == [(Keyword, "transaction(")]
    assert kinds("  abort") == [(Name.Function, "abort")]
    assert kinds(")") == [(Keyword, ")")]
    assert kinds("a|b c)")[0] == (Name.Function, "a|b")  # only standalone | and ) count


def test_oob() -> None:
    assert kinds("!oob migrate-recover uri=tcp:0:4444")[:2] == [
        (Keyword, "!oob"),
        (Name.Function, "migrate-recover"),
    ]
    assert kinds("!oobx")[0] == (Name.Function, "!oobx")


def test_meta_commands_and_comments() -> None:
    assert tokens("/cancel now") == [(Name.Builtin, "/cancel"), (Text, " now")]
    assert tokens("  # query-status x=1") == [(Comment.Single, "# query-status x=1")]
    assert kinds("c k=#1")[-1] == (String, "#1")


def test_the_line_a_watch_runs_is_coloured_as_a_line() -> None:
    assert kinds("/watch -n 1 device_del id=d0")[:3] == [
        (Name.Builtin, "/watch"),
        (Text, " -n 1 "),
        (Name.Function, "device_del"),
    ]
    assert tokens("/watch -n 1") == [(Name.Builtin, "/watch"), (Text, " -n 1")]
    assert tokens('/watch {"execute": "x"}')[1:] == [(Text, ' {"execute": "x"}')]


def test_each_line_starts_afresh() -> None:
    assert kinds('a k="open\nb j=1') == [
        (Name.Function, "a"),
        (Name.Attribute, "k"),
        (Operator, "="),
        (String, '"open'),
        (Name.Function, "b"),
        (Name.Attribute, "j"),
        (Operator, "="),
        (Number, "1"),
    ]


def test_a_word_without_equals_after_the_command_is_text() -> None:
    assert kinds("c stray") == [(Name.Function, "c"), (Text, "stray")]


def test_a_pipe_and_its_shell_command_are_a_thing_apart() -> None:
    assert tokens("query-block |! jq -r '.[].device'") == [
        (Name.Function, "query-block"),
        (Operator, "|!"),
        (String.Backtick, " jq -r '.[].device'"),
    ]
    # the line before it is lexed as it is alone; a |! inside a value is the value's
    assert tokens("c a=1 |! wc")[:-2] == tokens("c a=1")
    assert (Operator, "|!") not in tokens("c a='x |! y'")
    assert tokens('{"execute": "x"} |! cat')[-2:] == [(Operator, "|!"), (String.Backtick, " cat")]
    assert tokens("query-status |!") == [(Name.Function, "query-status"), (Operator, "|!")]


def test_long_hostile_lines_lex_quickly() -> None:
    lexer = ShorthandLexer(stripnl=False, ensurenl=False)
    started = time.perf_counter()
    for text in (
        "c " + '"a' * 5000,
        "c " + 'a"' * 5000 + "=",
        "c " + '"a"' * 5000,
        "c k=" + "[" * 5000,
        "c k={" + '"k' * 3000,
        "c k={" + '"a" ' * 3000,
    ):
        assert "".join(value for _, _, value in lexer.get_tokens_unprocessed(text)) == text
    assert time.perf_counter() - started < 2.0  # about 0.02 s: no quadratic backtracking


# -- properties of the shorthand lexer ----------------------------------------------------

SHORTHAND_TEXT = st.lists(
    st.sampled_from([*"ab1-.=\"'\\{}[](),:|!#/ \n\t", "true", "None", "!oob", "transaction("]),
    max_size=30,
).map("".join)
ANY_TEXT = st.one_of(st.text(max_size=60), SHORTHAND_TEXT)


def normalized(text: str) -> str:
    """What pygments' get_tokens lexes with default options: newlines normalized, a
    leading BOM and surrounding newlines removed, and one newline at the end."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.removeprefix("\ufeff").strip("\n")
    return text if text.endswith("\n") else text + "\n"


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(ANY_TEXT)
def test_any_text_lexes_completely(text: str) -> None:
    lexer = ShorthandLexer(stripnl=False, ensurenl=False)
    position = 0
    for index, _, value in lexer.get_tokens_unprocessed(text):
        assert index == position
        position += len(value)
    assert position == len(text)
    assert "".join(value for _, value in ShorthandLexer().get_tokens(text)) == normalized(text)


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(ANY_TEXT)
def test_shorthand_never_yields_error_tokens(text: str) -> None:
    if text.lstrip().startswith("{"):
        return  # raw JSON: the JSON lexer's own opinion of invalid JSON
    assert not [value for token, value in tokens(text) if token in Error]


# -- the prompt_toolkit lexer -------------------------------------------------------------


def test_fragments_carry_pygments_classes() -> None:
    (line,) = lex("query-block flat=true")
    assert line == [
        ("class:pygments.name.function", "query-block"),
        ("class:pygments.text.whitespace", " "),
        ("class:pygments.name.attribute", "flat"),
        ("class:pygments.operator", "="),
        ("class:pygments.keyword.constant", "true"),
    ]


def test_fault_is_marked() -> None:
    lines = lex("device_del idd=nic0", lambda text: (11, 14))
    assert marked(lines) == "idd"
    assert ("class:pygments.name.attribute class:input-error", "idd") in lines[0]


def test_fault_inside_a_token_splits_it() -> None:
    (line,) = lex("c key=value", lambda text: (7, 9))
    assert line[-3:] == [
        ("class:pygments.literal.string", "v"),
        ("class:pygments.literal.string class:input-error", "al"),
        ("class:pygments.literal.string", "ue"),
    ]


def test_multi_line_json_with_fault_across_lines() -> None:
    text = '{"execute":\n  "query-status",\n  "x": }'
    start = text.index('"query')
    lines = lex(text, lambda text: (start, len(text)))
    assert line_texts(lines) == Document(text).lines
    assert marked(lines) == '"query-status",  "x": }'
    assert lines[0][0] == ("class:pygments.punctuation", "{")


def test_lines_outside_the_document_are_empty() -> None:
    get_line = input_lexer(lambda text: None).lex_document(Document("a\nb"))
    assert get_line(2) == [] and get_line(-1) == []
    assert input_lexer(lambda text: None).lex_document(Document(""))(0) == []


@pytest.mark.parametrize(
    ("span", "expected"),
    [
        ((4, 4), "x"),  # an empty span shows as one character
        ((-5, 1), "c"),
        ((4, 99), "x=1"),
        ((7, 7), ""),  # at the very end: nothing to show it on
        ((9, 12), ""),
        ((3, 1), " "),  # end before start: one character at start
    ],
)
def test_fault_spans_are_clamped(span: tuple[int, int], expected: str) -> None:
    assert marked(lex("cmd x=1", lambda text: span)) == expected


def test_a_checker_that_fails_marks_nothing() -> None:
    def broken(text: str) -> tuple[int, int] | None:
        raise RuntimeError("bug")

    (line,) = lex("query-status", broken)
    assert line == [("class:pygments.name.function", "query-status")]


def test_the_checker_sees_the_whole_text() -> None:
    seen: list[str] = []
    lex("a\nb", lambda text: seen.append(text))
    assert seen == ["a\nb"]


def test_highlight_fragments_without_fault() -> None:
    assert highlight_fragments("/cancel") == [("class:pygments.name.builtin", "/cancel")]


SPANS = st.one_of(st.none(), st.tuples(st.integers(-5, 70), st.integers(-5, 70)))


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(ANY_TEXT, SPANS)
def test_any_document_keeps_its_text_and_marks_only_the_span(
    text: str, span: tuple[int, int] | None
) -> None:
    document = Document(text)
    lines = lex(text, lambda _: span)
    assert line_texts(lines) == document.lines
    shown = marked(lines)
    if span is None:
        assert shown == ""
    else:
        start = min(max(span[0], 0), len(text))
        end = min(max(span[1], start + 1), len(text))
        assert shown == text[start:end].replace("\n", "")


# -- the style ----------------------------------------------------------------------------


def test_style_gives_the_fault_red_underline_over_any_token() -> None:
    style = Style.from_dict(INPUT_STYLE)
    attrs = style.get_attrs_for_style_str("class:pygments.name.attribute class:input-error")
    assert attrs.underline and attrs.color == "ansired"
    constant = style.get_attrs_for_style_str("class:pygments.keyword.constant")
    assert constant.color == "ansimagenta" and not constant.bold
    string = style.get_attrs_for_style_str("class:pygments.literal.string.double")
    assert string.color == "ansigreen"


def test_every_coloured_kind_has_a_rule() -> None:
    style = Style.from_dict(INPUT_STYLE)
    text = 'c k="s" n=1 t=true o={"a": 1} | ) !oob transaction('
    classes = {fragment[0] for line in lex(text) for fragment in line}
    plain = {"class:pygments.text.whitespace", "class:pygments.operator"}
    plain |= {"class:pygments.punctuation", "class:pygments.text"}
    for name in classes - plain:
        assert style.get_attrs_for_style_str(name) != style.get_attrs_for_style_str(""), name


# -- inside a real prompt -----------------------------------------------------------------


@pytest.mark.parametrize(
    "typed", ["query-status", "blockdev-add driver=raw x={'a': [1]}", "/cancel", "!oob a"]
)
def test_prompt_with_the_lexer_returns_what_was_typed(typed: str) -> None:
    seen: list[str] = []

    def check(text: str) -> tuple[int, int] | None:
        seen.append(text)
        return (0, 1) if text else None

    with create_pipe_input() as pipe:
        pipe.send_text(typed + "\r")
        session: PromptSession[str] = PromptSession(
            input=pipe,
            output=DummyOutput(),
            lexer=input_lexer(check),
            style=Style.from_dict(INPUT_STYLE),
            include_default_pygments_style=False,
        )
        assert session.prompt("(QEMU) ") == typed
    assert typed in seen  # the lexer ran on the finished line


def test_prompt_with_multi_line_json() -> None:
    from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent

    bindings = KeyBindings()

    @bindings.add("c-j")
    def _(event: KeyPressEvent) -> None:
        event.current_buffer.insert_text("\n")

    text = '{"execute":\n "query-status"}'
    seen: list[str] = []

    def check(text: str) -> tuple[int, int]:
        seen.append(text)
        return (1, 12)

    with create_pipe_input() as pipe:
        pipe.send_text(text + "\r")  # "\n" is Ctrl-J, bound to a new line here
        session: PromptSession[str] = PromptSession(
            input=pipe, output=DummyOutput(), lexer=input_lexer(check), key_bindings=bindings
        )
        assert session.prompt("(QEMU) ") == text
    assert text in seen
