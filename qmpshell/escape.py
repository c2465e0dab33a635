"""Keeping what QEMU sends from driving the terminal: control characters escaped.

QEMU's replies are untrusted text: a device id, an HMP error, a schema's names or a
guest-supplied string may hold ESC, C1 controls (U+009B is a CSI of its own), DEL, or
the invisible characters that reorder or break what is shown (bidi overrides such as
U+202E, the line and paragraph separators U+2028/U+2029). Everything qmpshell shows
passes through here, in scripted mode too, whose output often lands on a terminal:
:class:`~qmpshell.ui.output.Output` escapes what it writes (:func:`escape_lines`,
:func:`escape_painted`), and what prompt_toolkit draws (toolbar, menus) is escaped with
:func:`escape_text`. The escapes are plain ASCII with no control character, so escaping
twice is the same as escaping once; in JSON they are JSON's, so escaped JSON text stays
the same JSON.
"""

from __future__ import annotations

import re

from .patterns import compiled

# Invisible characters that change how text is shown: the bidi controls (ALM, LRM, RLM,
# LRE, RLE, PDF, LRO, RLO, LRI, RLI, FSI, PDI) and the line and paragraph separators.
_INVISIBLE = "\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
# Raw C0 characters never occur in json.dumps output (it escapes them inside strings), so
# only DEL, C1, the invisible ones and lone surrogates need escaping there; plain text
# needs all of them. (Each pattern here is compiled when first used: see patterns.py.)
_UNSAFE_IN_JSON = f"[\x7f-\x9f{_INVISIBLE}\ud800-\udfff]"
_UNSAFE_IN_TEXT = f"[\x00-\x1f\x7f-\x9f{_INVISIBLE}\ud800-\udfff]"
# Lines of text (HMP output) keep their tabs and newlines.
_LINES_UNSAFE_BUT_ESC = f"\x00-\x08\x0b-\x1a\x1c-\x1f\x7f-\x9f{_INVISIBLE}\ud800-\udfff"
_LINES_UNSAFE = _LINES_UNSAFE_BUT_ESC + "\x1b"
_UNSAFE_IN_LINES = f"[{_LINES_UNSAFE}]"
# Text qmpshell coloured itself: its SGR sequences (colours, bold) stay, nothing else
# (ui/rows.py counts them as taking no room).
SGR = "\x1b\\[[0-9;]*m"
_UNSAFE_IN_PAINTED = f"({SGR})|[{_LINES_UNSAFE}]"
# Whether there is anything to escape in such text: an unsafe character but ESC, or an
# ESC that starts no SGR sequence. Two searches at the regex engine's speed (apart, each
# is a fast scan), where the substitution above calls back for each of a big reply's
# 200,000 colours.
_UNSAFE_BUT_ESC_IN_LINES = f"[{_LINES_UNSAFE_BUT_ESC}]"
_ESC_OUTSIDE_SGR = f"\x1b(?!{SGR[1:]})"
# The ASCII characters such text may hold as they are (ESC: where an SGR starts); what
# else an ASCII text holds is found by deleting these, faster than a regex scans it.
_SAFE_ASCII_IN_PAINTED = bytes(range(0x20, 0x7F)) + b"\t\n\x1b"
_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


def unsafe() -> re.Pattern[str]:
    """Every character no escaping function lets through (tab and newline aside, which
    the multi-line ones keep): for tests and for whoever checks text of their own."""
    return compiled(_UNSAFE_IN_TEXT)


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    return _SHORT_ESCAPES.get(char) or f"\\u{ord(char):04x}"


def escape_text(text: str) -> str:
    """``text`` with every control character, bidi control, line separator and lone
    surrogate written as a JSON-style escape (``\\n``, ``\\u009b``, ``\\u202e``), so that
    it shows on one line, as it is, and cannot drive the terminal."""
    return compiled(_UNSAFE_IN_TEXT).sub(_escape_char, text)


def escape_json(text: str) -> str:
    """JSON text with DEL, C1, the invisible characters and lone surrogates escaped; it
    stays equivalent JSON, since they can only occur inside strings."""
    if text.isascii():  # DEL is the only ASCII character to escape, and the rarest
        if "\x7f" not in text:
            return text
    elif compiled(_UNSAFE_IN_JSON).search(text) is None:  # the common case, and the fast one
        return text
    return compiled(_UNSAFE_IN_JSON).sub(_escape_char, text)


def escape_lines(text: str) -> str:
    """Text of several lines, as a monitor printed it: tabs and newlines kept, any other
    control character, invisible character or lone surrogate written as C does
    (``\\x1b``, ``\\u202e``, ``\\udc80``)."""
    if compiled(_UNSAFE_IN_LINES).search(text) is None:
        return text
    return compiled(_UNSAFE_IN_LINES).sub(_c_escape, text)


def escape_painted(text: str) -> str:
    """Text qmpshell coloured (:mod:`qmpshell.ui.render`), whose parts from QEMU were
    escaped before colouring: its SGR sequences kept, anything else escaped as by
    :func:`escape_lines`, so that nothing but colour reaches the terminal."""
    if text.isascii():
        clean = not text.encode("ascii").translate(None, _SAFE_ASCII_IN_PAINTED)
    else:
        clean = compiled(_UNSAFE_BUT_ESC_IN_LINES).search(text) is None
    if clean and compiled(_ESC_OUTSIDE_SGR).search(text) is None:
        return text  # the renderer's own output: as it is
    return compiled(_UNSAFE_IN_PAINTED).sub(_keep_sgr, text)


def _keep_sgr(match: re.Match[str]) -> str:
    return match.group() if match.group(1) else _c_escape(match)


def _c_escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
