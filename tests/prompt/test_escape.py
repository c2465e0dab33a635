"""escape.py: nothing that could drive a terminal survives any of its functions, safe
text goes through unchanged, escaping twice is escaping once, JSON stays the same JSON."""

from __future__ import annotations

import json
import re

from conftest import FUZZ_EXAMPLES
from hypothesis import given, settings
from hypothesis import strategies as st

from qmpshell.escape import escape_json, escape_lines, escape_painted, escape_text, unsafe

# What each must never let through, listed here rather than taken from escape.py: C0
# (tab and newline aside, for the multi-line ones), DEL, C1, the bidi controls, the line
# and paragraph separators, lone surrogates.
BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
DANGEROUS = [chr(c) for c in range(0x20)] + [chr(c) for c in range(0x7F, 0xA0)]
DANGEROUS += [*BIDI, "\u2028", "\u2029", "\ud800", "\udfff"]
IN_LINES = [c for c in DANGEROUS if c not in "\t\n"]
SGR = re.compile("\x1b\\[[0-9;]*m")

ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=40)
SAFE_TEXT = st.text(
    st.characters(exclude_categories=("Cc", "Cs"), exclude_characters=BIDI + "\u2028\u2029"),
    max_size=40,
)
HOSTILE = st.lists(
    st.sampled_from(
        ["\x1b]0;PWNED\x07", "\x1b[2J", "\x1b]52;c;aGk=\x07", "\x9b", "\u202e", "\x1b[31m", "a"]
    )
    | ANY_TEXT,
    max_size=6,
).map("".join)


def test_every_dangerous_character_is_unsafe() -> None:
    for char in DANGEROUS:
        assert unsafe().fullmatch(char), repr(char)


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(HOSTILE)
def test_escape_text_lets_nothing_through(text: str) -> None:
    shown = escape_text(text)
    assert not any(char in shown for char in DANGEROUS), repr(shown)
    assert escape_text(shown) == shown


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(HOSTILE)
def test_escape_lines_keeps_only_tabs_and_newlines(text: str) -> None:
    shown = escape_lines(text)
    assert not any(char in shown for char in IN_LINES), repr(shown)
    assert shown.count("\n") == text.count("\n")
    assert escape_lines(shown) == shown


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(HOSTILE)
def test_escape_painted_keeps_only_colours(text: str) -> None:
    shown = escape_painted(text)
    bare = SGR.sub("", shown)
    assert not any(char in bare for char in IN_LINES), repr(shown)
    assert "\x1b]" not in shown and "\x1b[2J" not in shown
    assert escape_painted(shown) == shown


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(
    st.lists(HOSTILE | st.sampled_from(["\x1b[01m\x1b[34m", "\x1b[39;49;00m", "\x1b["]), max_size=8)
)
def test_escape_painted_is_escape_lines_between_the_colours(parts: list[str]) -> None:
    text = "".join(parts)
    pieces = re.split(f"({SGR.pattern})", text)
    expected = "".join(p if i % 2 else escape_lines(p) for i, p in enumerate(pieces))
    assert escape_painted(text) == expected


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(SAFE_TEXT)
def test_safe_text_is_unchanged(text: str) -> None:
    assert escape_text(text) == text
    assert escape_lines(text) == text
    assert escape_painted(text) == text
    assert escape_json(text) == text


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(st.recursive(ANY_TEXT | st.integers(), lambda c: st.lists(c) | st.dictionaries(ANY_TEXT, c)))
def test_escaped_json_is_the_same_json(value: object) -> None:
    text = json.dumps(value, ensure_ascii=False)
    shown = escape_json(text)
    assert not any(char in shown for char in DANGEROUS), repr(shown)
    assert json.loads(shown) == json.loads(text)


def test_the_forms_of_the_escapes() -> None:
    assert escape_text("\x1b]0;t\x07\u202e") == "\\u001b]0;t\\u0007\\u202e"
    assert (
        escape_lines("a\tb\r\n\x1b[2J\x9b\u2066\udc80") == "a\tb\\x0d\n\\x1b[2J\\x9b\\u2066\\udc80"
    )
    assert escape_painted("\x1b[32mOK\x1b[39m \x1b[2J") == "\x1b[32mOK\x1b[39m \\x1b[2J"
    assert escape_json('"\u2028\x85"') == '"\\u2028\\u0085"'


def test_output_escapes_all_it_writes_but_its_own_colours() -> None:
    import io

    from qmpshell.ui.console import Console
    from qmpshell.ui.output import Output

    out, err = io.StringIO(), io.StringIO()
    output = Output(Console(out, err), interactive=True, color=True)
    hostile = "\x1b]0;PWNED\x07\u202e"
    output.text(f"banner {hostile}")
    output.error(f"refused {hostile}")
    output.relay(f"guest {hostile}\r\nlogin: ")
    output.reply({"error": {"class": "X", "desc": hostile}})
    output.event({"event": hostile, "data": {"d": hostile}})
    output.flush()
    written = out.getvalue() + err.getvalue()
    assert "banner \\x1b]0;PWNED\\x07\\u202e\n" in written
    assert "qmpshell: refused \\x1b]0;PWNED\\x07\\u202e\n" in written
    assert "guest \\x1b]0;PWNED\\x07\\u202e\\x0d\nlogin: " in written
    assert "\x1b]" not in written and "\u202e" not in written
    assert SGR.search(out.getvalue())  # the renderer's colours are kept
    raw = io.StringIO()
    Output(Console(out, raw)).relay(f"guest {hostile}", raw=True)
    assert raw.getvalue() == f"guest {hostile}"


def test_the_input_line_shows_invisible_characters_escaped() -> None:
    from prompt_toolkit.layout.processors import TransformationInput

    from qmpshell.ui.screen import escaping_processor

    processor = escaping_processor()
    line = TransformationInput(None, None, 0, lambda i: i, [("", "ab\u202ec")], 80, 1)  # type: ignore[arg-type]
    shown = processor.apply_transformation(line)
    assert "".join(text for _, text, *_ in shown.fragments) == "ab\\u202ec"
    assert [shown.source_to_display(i) for i in range(5)] == [0, 1, 2, 8, 9]
    assert [shown.display_to_source(i) for i in (2, 5, 8, 9)] == [2, 2, 3, 4]
    plain = TransformationInput(None, None, 0, lambda i: i, [("", "a\x1bé")], 80, 1)  # type: ignore[arg-type]
    assert processor.apply_transformation(plain).fragments == [("", "a\x1bé")]  # ^[ is pt's
