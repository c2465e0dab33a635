"""What a typed line means: raw JSON, or the shorthand ``command key=value ...``.

:func:`parse_line` is the one entry point the shell uses; the full shorthand language
(quoting, dotted keys, transactions, schema typing) replaces its insides, not its
signature.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .errors import InputError

Message = dict[str, Any]

_TOKEN = re.compile(r"\S+")
_LITERAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?\Z|true\Z|false\Z|null\Z|[\[{]")


def parse_line(line: str) -> Message:
    """Turn one line into the QMP command message it stands for.

    A line starting with ``{`` is a raw JSON object, sent as written. Otherwise the first
    word is the command and each further word is ``key=value``, the value a JSON literal
    where it reads as one (numbers, ``true``, ``null``, arrays, objects), else a string.
    Raises :class:`InputError` with the column of the fault.
    """
    text = line.strip()
    offset = len(line) - len(line.lstrip())
    if not text:
        raise InputError("empty command", 0)
    if text.startswith("{"):
        return _parse_json(text, offset)
    words = list(_TOKEN.finditer(line))
    command = words[0].group()
    arguments: Message = {}
    for word in words[1:]:
        key, sep, value = word.group().partition("=")
        if not sep or not key:
            raise InputError(
                f"expected key=value, got '{word.group()}' at column {word.start() + 1}",
                word.start(),
            )
        if key in arguments:
            raise InputError(f"argument '{key}' given twice", word.start())
        arguments[key] = _value(value)
    message: Message = {"execute": command}
    if arguments:
        message["arguments"] = arguments
    return message


def _parse_json(text: str, offset: int) -> Message:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"invalid JSON: {exc.msg} at column {offset + exc.pos + 1}", offset + exc.pos
        ) from None
    except RecursionError:
        raise InputError("invalid JSON: nested too deeply", offset) from None
    if not isinstance(value, dict):
        raise InputError("a raw QMP message must be a JSON object", offset)
    return value


def _value(text: str) -> Any:
    if _LITERAL.match(text):
        try:
            return json.loads(text)
        except (ValueError, RecursionError):
            pass
    return text
