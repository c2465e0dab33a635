"""Highlighting of the line being typed at the prompt, and of the fault in it.

:class:`ShorthandLexer` is a pygments lexer for the shorthand language (see
:mod:`qmpshell.language.shorthand`); :func:`input_lexer` wraps it for prompt_toolkit and underlines
the span a checker reports as wrong, so a mistake shows before Enter is pressed.
:data:`INPUT_STYLE` gives every token class a colour.

pygments and prompt_toolkit are imported at module level, so only the interactive shell
imports this module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cache
from typing import Any, ClassVar, Optional

from prompt_toolkit.document import Document
from prompt_toolkit.formatted_text import StyleAndTextTuples
from prompt_toolkit.formatted_text.utils import split_lines
from prompt_toolkit.lexers import Lexer
from prompt_toolkit.styles.pygments import pygments_token_to_classname
from pygments.lexer import RegexLexer, bygroups, default, using  # type: ignore[import-untyped]
from pygments.lexers.data import JsonLexer  # type: ignore[import-untyped]
from pygments.token import (  # type: ignore[import-untyped]
    Comment,
    Keyword,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    Text,
    Whitespace,
)

#: What the prompt asks of the rest of the shell: the (start, end) character offsets of
#: the fault in the whole text, or None when the text is fine.
Checker = Callable[[str], Optional[tuple[int, int]]]

# A word's pieces as split_words reads them: plain characters, and quoted runs with
# backslash escapes. Where an unclosed quote is allowed, it runs to the end of the line;
# a key or an object key must be closed, so that the pattern cannot stop at an '=' or a
# ':' inside the quotes.
_DQ = r'"(?:\\.|[^"\\\n])*"'
_SQ = r"'(?:\\.|[^'\\\n])*'"
_DQ_OPEN = _DQ + "?"
_SQ_OPEN = _SQ + "?"
_WORD = rf"""(?:[^\s"']|{_DQ_OPEN}|{_SQ_OPEN})+"""
_KEY = rf"""((?:[^\s"'=]|{_DQ}|{_SQ})+)(=)"""
_END = r"(?=\s|\Z)"
_NUMBER = r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?"
_CONSTANT = r"(?:true|false|null|True|False|None)"
_BLANK = r"[^\S\n]+"


class ShorthandLexer(RegexLexer):  # type: ignore[misc]
    """The shorthand language: ``command key=value ...``, ``!oob``, ``transaction( ... |
    ... )``, ``/meta`` commands, ``#`` comments, and raw JSON when the text starts with
    ``{``.

    Every line starts afresh (pygments returns to ``root`` at a newline no rule takes),
    and every character is matched by some rule, so any text lexes.
    """

    name = "QMP shorthand"
    aliases: ClassVar[list[str]] = ["qmp-shorthand"]
    filenames: ClassVar[list[str]] = []

    tokens: ClassVar[dict[str, list[Any]]] = {
        "root": [
            (r"\A(\s*)(\{[\s\S]*)", bygroups(Whitespace, using(JsonLexer))),
            (r"\s+", Whitespace),
            (r"#.*", Comment.Single),
            (r"/\S*", Name.Builtin, "meta"),
            default("head"),
        ],
        "meta": [
            (r"[^\n]+", Text),
        ],
        # Where a command (or transaction action) name is expected.
        "head": [
            (_BLANK, Whitespace),
            (rf"!oob{_END}", Keyword),
            (rf"transaction\({_END}", Keyword),
            (rf"\|{_END}", Keyword),
            (rf"\){_END}", Keyword, ("#pop", "args")),
            (_KEY, bygroups(Name.Attribute, Operator), ("#pop", "args", "value-start")),
            (_WORD, Name.Function, ("#pop", "args")),
        ],
        "args": [
            (_BLANK, Whitespace),
            (rf"\|{_END}", Keyword, ("#pop", "head")),
            (rf"\){_END}", Keyword),
            (_KEY, bygroups(Name.Attribute, Operator), "value-start"),
            (_WORD, Text),
        ],
        # Right after '=': only here do brackets open a literal that may hold spaces.
        "value-start": [
            (r"[{\[]", Punctuation, ("#pop", "value", "literal")),
            (_NUMBER + _END, Number, "#pop"),
            (_CONSTANT + _END, Keyword.Constant, "#pop"),
            default(("#pop", "value")),
        ],
        "value": [
            (_DQ_OPEN, String.Double),
            (_SQ_OPEN, String.Single),
            (r"""[^\s"']+""", String),
            default("#pop"),
        ],
        # A JSON or Python-style literal, brackets nested by pushing this state again.
        "literal": [
            (_BLANK, Whitespace),
            (r"[{\[]", Punctuation, "#push"),
            (r"[}\]]", Punctuation, "#pop"),
            (rf"(?:{_DQ}|{_SQ})(?=[^\S\n]*:)", Name.Tag),
            (_DQ_OPEN, String.Double),
            (_SQ_OPEN, String.Single),
            (r"[,:]", Punctuation),
            (_NUMBER, Number),
            (_CONSTANT + r"\b", Keyword.Constant),
            (r"""[^\s"'{}\[\],:]+""", Text),
        ],
    }


# Plain ANSI colours (readable on dark and light backgrounds), matching the colours of
# rendered replies where the tokens mean the same thing.
_TOKEN_STYLES: dict[Any, str] = {
    Name.Function: "bold",
    Name.Builtin: "bold ansicyan",
    Name.Attribute: "ansiblue",
    Name.Tag: "bold ansiblue",
    Keyword: "bold ansimagenta",
    Keyword.Constant: "nobold ansimagenta",
    String: "ansigreen",
    Number: "ansicyan",
    Comment: "italic ansibrightblack",
}

INPUT_ERROR = "input-error"

#: prompt_toolkit style rules for the fragments of :func:`input_lexer`: every token class
#: it emits, and ``input-error`` for the fault. ``Style.from_dict(INPUT_STYLE)`` is
#: enough; merge it after any other style whose rules it should override.
INPUT_STYLE: dict[str, str] = {
    **{pygments_token_to_classname(token): style for token, style in _TOKEN_STYLES.items()},
    INPUT_ERROR: "underline fg:ansired",
}


@cache
def _style_class(token: Any) -> str:
    return "class:" + pygments_token_to_classname(token)


def _fragments(text: str) -> list[tuple[int, str, str]]:
    """(offset, style, text) of every token of ``text``, covering it exactly."""
    lexer = ShorthandLexer(stripnl=False, stripall=False, ensurenl=False)
    return [
        (index, _style_class(token), value)
        for index, token, value in lexer.get_tokens_unprocessed(text)
        if value
    ]


def _mark(fragments: Iterable[tuple[int, str, str]], start: int, end: int) -> StyleAndTextTuples:
    """The fragments with the characters in ``[start, end)`` given the error class too."""
    marked: StyleAndTextTuples = []
    error = f" class:{INPUT_ERROR}"
    for offset, style, value in fragments:
        stop = offset + len(value)
        if stop <= start or offset >= end:
            marked.append((style, value))
            continue
        cut_in, cut_out = max(start - offset, 0), min(end - offset, len(value))
        for piece, piece_style in (
            (value[:cut_in], style),
            (value[cut_in:cut_out], style + error),
            (value[cut_out:], style),
        ):
            if piece:
                marked.append((piece_style, piece))
    return marked


def _fault(check: Checker, text: str) -> tuple[int, int] | None:
    """The span to mark, clamped to the text; an empty span inside the text grows to one
    character so that it can be seen. A checker that fails marks nothing: highlighting
    must never stop the user typing."""
    try:
        span = check(text)
    except Exception:
        return None
    if span is None:
        return None
    start = min(max(span[0], 0), len(text))
    end = min(max(span[1], start), len(text))
    if start == end:
        end = min(start + 1, len(text))
    return (start, end) if start < end else None


def highlight_fragments(text: str, fault: tuple[int, int] | None = None) -> StyleAndTextTuples:
    """The whole of ``text`` as prompt_toolkit fragments, ``fault`` marked."""
    fragments = _fragments(text)
    if fault is None:
        return [(style, value) for _, style, value in fragments]
    return _mark(fragments, *fault)


class InputLexer(Lexer):
    """A prompt_toolkit lexer: the document highlighted as shorthand, and the span that
    ``check`` reports (character offsets in the whole text) marked as ``input-error``."""

    def __init__(self, check: Checker) -> None:
        self.check = check

    def lex_document(self, document: Document) -> Callable[[int], StyleAndTextTuples]:
        text = document.text
        lines = list(split_lines(highlight_fragments(text, _fault(self.check, text))))

        def get_line(number: int) -> StyleAndTextTuples:
            return lines[number] if 0 <= number < len(lines) else []

        return get_line


def input_lexer(check: Checker) -> Lexer:
    """The prompt's lexer; ``check(text)`` returns the (start, end) of the fault in the
    text, or None when it is fine."""
    return InputLexer(check)
