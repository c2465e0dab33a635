"""Keeping what QEMU sends from driving the terminal: control characters escaped.

QEMU's replies are untrusted text: a device id, an HMP error or a guest-supplied string
may hold ESC, C1 controls (U+009B is a CSI of its own) or DEL. Everything qmpshell shows
passes through here, in scripted mode too, whose output often lands on a terminal. The
escapes are JSON's, so escaped JSON text stays the same JSON.
"""

from __future__ import annotations

import re

# Raw C0 characters never occur in json.dumps output (it escapes them inside strings), so
# only DEL, C1 and lone surrogates need escaping there; plain text needs all of them.
_UNSAFE_IN_JSON = re.compile("[\x7f-\x9f\ud800-\udfff]")
_UNSAFE_IN_TEXT = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# Lines of text (HMP output) keep their tabs and newlines.
_UNSAFE_IN_LINES = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    return _SHORT_ESCAPES.get(char) or f"\\u{ord(char):04x}"


def escape_text(text: str) -> str:
    """``text`` with every control character and lone surrogate written as a JSON-style
    escape (``\\n``, ``\\u009b``), so that it shows on one line and cannot drive the
    terminal."""
    return _UNSAFE_IN_TEXT.sub(_escape_char, text)


def escape_json(text: str) -> str:
    """JSON text with DEL, C1 and lone surrogates escaped; it stays equivalent JSON, since
    they can only occur inside strings."""
    if _UNSAFE_IN_JSON.search(text) is None:  # the common case, and the fast one
        return text
    return _UNSAFE_IN_JSON.sub(_escape_char, text)


def escape_lines(text: str) -> str:
    """Text of several lines, as a monitor printed it: tabs and newlines kept, any other
    control character or lone surrogate written as C does (``\\x1b``, ``\\udc80``)."""
    return _UNSAFE_IN_LINES.sub(_c_escape, text)


def _c_escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
