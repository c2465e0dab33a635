"""Indented JSON, coloured as it is written: the text of ``json.dumps(value, indent=N,
ensure_ascii=False)`` with each token between the codes of its kind, in one walk of the
value.

``json.dumps`` writes indented JSON with its pure-Python encoder (the C one only writes
it compact), so writing the text here costs what it costs there; finding the tokens in
that text again to colour them (a regex with a callback for each) would cost as much
once more: the 200 KB schema reply has 200,000 tokens. The text is the same as
``json.dumps``'s, character for character (strings through ``json``'s own encoder,
numbers through ``int.__repr__`` and ``float.__repr__``, ``NaN`` and ``Infinity`` as
``json`` writes them and left uncoloured, as a lexer takes them for no number).
"""

from __future__ import annotations

from json.encoder import encode_basestring
from typing import Any

from ..records import Record

Codes = tuple[str, str]  # what comes before a token, and after it


class Palette(Record):
    """The codes around each kind of token."""

    key: Codes
    string: Codes
    integer: Codes
    floating: Codes
    constant: Codes


_INFINITY = float("inf")


def paint_json(value: Any, indent: int, palette: Palette) -> str:
    """``value`` as ``json.dumps(value, indent=indent, ensure_ascii=False)`` writes it,
    with the codes of ``palette`` around its keys, strings, numbers and constants.
    Raises TypeError for what is no JSON, as ``json.dumps`` does."""
    out: list[str] = []
    put = out.append
    encode = encode_basestring
    key_start, key_end = palette.key
    string_start, string_end = palette.string
    int_start, int_end = palette.integer
    constant_start, constant_end = palette.constant
    null = constant_start + "null" + constant_end
    true = constant_start + "true" + constant_end
    false = constant_start + "false" + constant_end

    def scalar(item: Any) -> str | None:
        """The text of a scalar, None for a container."""
        if isinstance(item, str):
            return string_start + encode(item) + string_end
        if item is None:
            return null
        if item is True:
            return true
        if item is False:
            return false
        if isinstance(item, int):
            return int_start + int.__repr__(item) + int_end
        if isinstance(item, float):
            return _float_text(item, palette.floating)
        if isinstance(item, (list, tuple, dict)):
            return None
        raise TypeError(f"Object of type {type(item).__name__} is not JSON serializable")

    # What comes between a key and its value, when the value is a string (most are).
    key_to_string = key_end + ": " + string_start

    def container(item: Any, level: int) -> None:
        inner = "\n" + " " * (indent * (level + 1))
        if isinstance(item, dict):
            if not item:
                put("{}")
                return
            put("{")
            separator = inner
            for key, member in item.items():
                head = separator + key_start + encode(key if type(key) is str else _key_text(key))
                separator = "," + inner
                kind = type(member)
                if kind is str:
                    put(head + key_to_string + encode(member) + string_end)
                elif kind is dict or kind is list:
                    put(head + key_end + ": ")
                    container(member, level + 1)
                else:
                    text = scalar(member)
                    put(head + key_end + ": ")
                    if text is None:
                        container(member, level + 1)
                    else:
                        put(text)
            put("\n" + " " * (indent * level) + "}")
            return
        if not item:
            put("[]")
            return
        put("[")
        separator = inner
        for member in item:
            kind = type(member)
            if kind is str:
                put(separator + string_start + encode(member) + string_end)
            elif kind is dict or kind is list:
                put(separator)
                container(member, level + 1)
            else:
                text = scalar(member)
                put(separator)
                if text is None:
                    container(member, level + 1)
                else:
                    put(text)
            separator = "," + inner
        put("\n" + " " * (indent * level) + "]")

    text = scalar(value)
    if text is not None:
        return text
    container(value, 0)
    return "".join(out)


def _float_text(number: float, codes: Codes) -> str:
    if number != number:
        return "NaN"
    if number == _INFINITY:
        return "Infinity"
    if number == -_INFINITY:
        return "-Infinity"
    return codes[0] + float.__repr__(number) + codes[1]


def _key_text(key: Any) -> str:
    """A key as ``json.dumps`` turns it into a string."""
    if isinstance(key, str):
        return key
    if isinstance(key, float):
        return _float_text(key, ("", ""))
    if key is True:
        return "true"
    if key is False:
        return "false"
    if key is None:
        return "null"
    if isinstance(key, int):
        return int.__repr__(key)
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")
