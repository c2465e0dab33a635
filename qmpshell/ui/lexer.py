"""Highlighting of the line being typed at the prompt, and of the fault in it.

:class:`ShorthandLexer` is a pygments lexer for the shorthand language (see
:mod:`qmpshell.language.shorthand`); :func:`input_lexer` wraps it for prompt_toolkit and underlines
the span a checker reports as wrong, so a mistake shows before Enter is pressed.
:data:`INPUT_STYLE` gives every token class a colour.

pygments and prompt_toolkit are imported at module level, so only the interactive shell
imports this module.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from functools import cache
from typing import Any, ClassVar, Optional

from prompt_toolkit.document import Document
from prompt_toolkit.formatted_text import StyleAndTextTuples
from prompt_toolkit.formatted_text.utils import split_lines
from prompt_toolkit.lexers import Lexer
from prompt_toolkit.styles.pygments import pygments_token_to_classname
from pygments.lexer import Lexer as PygmentsLexer  # type: ignore[import-untyped]
from pygments.lexer import RegexLexer
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

from ..language.mode import Mode
from ..language.pipe import PIPE, pipe_column
from ..language.syntax import BAR, CLOSE, OOB, TRANSACTION, literal_end, quoted_end, split_words
from ..language.watchline import line_start

#: What the prompt asks of the rest of the shell: the (start, end) character offsets of
#: the fault in the whole text, or None when the text is fine.
Checker = Callable[[str], Optional[tuple[int, int]]]

# The literal after ``=[`` or ``={``: JSON or Python-style (the rules of
# :mod:`qmpshell.language.values`), brackets nested by pushing the state again. Its words
# and its span are the shorthand's, found by ``split_words``; only its inside is lexed here.
_DQ = r'"(?:\\.|[^"\\\n])*"'
_SQ = r"'(?:\\.|[^'\\\n])*'"
_NUMBER = r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?"
_CONSTANT = r"(?:true|false|null|True|False|None)"
_BLANK = r"[^\S\n]+"
_SCALAR = re.compile(rf"(?:({_NUMBER})|({_CONSTANT}))\Z")


class _LiteralLexer(RegexLexer):  # type: ignore[misc]
    """The inside of a bracketed value, from its opening bracket."""

    tokens: ClassVar[dict[str, list[Any]]] = {
        "root": [
            (r"[{\[]", Punctuation, "literal"),
            (r"[\s\S]", Text),
        ],
        "literal": [
            (_BLANK, Whitespace),
            (r"[{\[]", Punctuation, "#push"),
            (r"[}\]]", Punctuation, "#pop"),
            (rf"(?:{_DQ}|{_SQ})(?=[^\S\n]*:)", Name.Tag),
            (_DQ + "?", String.Double),
            (_SQ + "?", String.Single),
            (r"[,:]", Punctuation),
            (_NUMBER, Number),
            (_CONSTANT + r"\b", Keyword.Constant),
            (r"""[^\s"'{}\[\],:]+""", Text),
        ],
    }


Tokens = Iterator[tuple[int, Any, str]]


class ShorthandLexer(PygmentsLexer):  # type: ignore[misc]
    """The shorthand language: ``command key=value ...``, ``!oob``, ``transaction( ... |
    ... )``, ``/meta`` commands, ``#`` comments, and raw JSON when the text starts with
    ``{``.

    The words are the parser's own: each line is cut by
    :func:`qmpshell.language.syntax.split_words` (tolerant of what is still being
    typed), so what is highlighted as a key, a value or a literal is what the parser
    reads as one. Every line starts afresh, and every character is in some token, so any
    text lexes.
    """

    name = "QMP shorthand"
    aliases: ClassVar[list[str]] = ["qmp-shorthand"]
    filenames: ClassVar[list[str]] = []

    def get_tokens_unprocessed(self, text: str) -> Tokens:
        pipe = pipe_column(text, Mode.QMP)
        if pipe < 0:
            yield from self._line_tokens(text)
            return
        # LINE |! COMMAND: the line as it is alone, the shell command a thing apart
        yield from self._line_tokens(text[:pipe])
        yield pipe, Operator, PIPE
        if len(text) > pipe + len(PIPE):
            yield pipe + len(PIPE), String.Backtick, text[pipe + len(PIPE) :]

    def _line_tokens(self, text: str) -> Tokens:
        stripped = text.lstrip()
        if stripped.startswith("{"):  # raw JSON, over as many lines as it takes
            offset = len(text) - len(stripped)
            if offset:
                yield 0, Whitespace, text[:offset]
            for index, token, value in JsonLexer().get_tokens_unprocessed(stripped):
                yield offset + index, token, value
            return
        offset = 0
        for line in text.splitlines(keepends=True):
            yield from _line_tokens(line, offset)
            offset += len(line)


def _line_tokens(line: str, offset: int) -> Tokens:
    body = line.rstrip("\r\n")
    stripped = body.lstrip()
    indent = len(body) - len(stripped)
    if stripped.startswith("#"):
        yield from _gap(body, offset, 0, indent)
        yield offset + indent, Comment.Single, stripped
    elif stripped.startswith("/"):
        yield from _gap(body, offset, 0, indent)
        name = stripped.split(None, 1)[0]
        yield offset + indent, Name.Builtin, name
        start = line_start(stripped) if name == "/watch" else None
        if start is not None and stripped[start : start + 1] not in ("", "/", "{"):
            # /watch's LINE, coloured as the line it is (its options as text)
            yield offset + indent + len(name), Text, stripped[len(name) : start]
            yield from _words(stripped[start:], offset + indent + start)
        elif len(stripped) > len(name):
            yield offset + indent + len(name), Text, stripped[len(name) :]
    else:
        yield from _words(body, offset)
    if len(body) < len(line):
        yield offset + len(body), Whitespace, line[len(body) :]


def _gap(line: str, offset: int, start: int, end: int) -> Tokens:
    if end > start:
        yield offset + start, Whitespace, line[start:end]


def _words(line: str, offset: int) -> Tokens:
    """The words of one line: a command (or an action) where one is expected, the
    language's own words, ``key=value`` pairs, and stray words."""
    expecting_command = True
    position = 0
    for word in split_words(line, tolerant=True):
        yield from _gap(line, offset, position, word.start)
        position = word.end
        raw = line[word.start : word.end]
        if word.key is not None:
            equals = word.value_start - 1
            yield offset + word.start, Name.Attribute, line[word.start : equals]
            yield offset + equals, Operator, "="
            yield from _value(line, offset, word.value_start, word.end)
            expecting_command = False
        elif raw == BAR:
            yield offset + word.start, Keyword, raw
            expecting_command = True
        elif raw == CLOSE:
            yield offset + word.start, Keyword, raw
            expecting_command = False
        elif expecting_command and raw in (OOB, TRANSACTION):
            yield offset + word.start, Keyword, raw
        else:
            yield offset + word.start, Name.Function if expecting_command else Text, raw
            expecting_command = False
    yield from _gap(line, offset, position, len(line))


def _value(line: str, offset: int, start: int, end: int) -> Tokens:
    """A value as typed: a bracketed literal, a number or constant, or text in pieces
    (quoted runs and plain ones)."""
    if start >= end:
        return
    if line[start] in "{[":
        stop = min(literal_end(line, start), end)
        for index, token, value in _LiteralLexer().get_tokens_unprocessed(line[start:stop]):
            yield offset + start + index, token, value
        start = stop
    elif (scalar := _SCALAR.match(line, start, end)) is not None:
        yield offset + start, Number if scalar.group(1) else Keyword.Constant, line[start:end]
        return
    i = start
    while i < end:
        if line[i] in "\"'":
            stop = min(quoted_end(line, i), end)
            yield offset + i, String.Double if line[i] == '"' else String.Single, line[i:stop]
        else:
            stop = i
            while stop < end and line[stop] not in "\"'":
                stop += 1
            yield offset + i, String, line[i:stop]
        i = stop


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
    String.Backtick: "ansiyellow",  # a pipe's shell command (|!)
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
