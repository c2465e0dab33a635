"""What counts as a secret, in QMP messages and in QMP and HMP lines: the one rule that
keeps secrets off disk.

In QMP: a member named like a password or a secret (``password``, ``passphrase``,
``secret``, ``key-secret``...), the ``data`` of an ``object-add qom-type=secret``, the
``value`` of a ``qom-set`` whose ``property`` is secret (named so, or ``data``), and the
secret part of a ``human-monitor-command``'s ``command-line`` (by the HMP rule).

In HMP (QEMU 7.2 to 10.0, from ``hmp-commands.hx``): the password of ``set_password
PROTOCOL PASSWORD``, ``change vnc password PASSWORD`` and ``block_passwd DEVICE PASSWORD``
(older QEMUs); in the options of ``object_add``, ``netdev_add``, ``device_add``,
``drive_add``, ``chardev-add`` and ``chardev-change``, an option named like a secret and
the ``data`` of a ``secret`` object; the value of ``qom-set PATH PROPERTY VALUE`` for a
secret property. Migration URIs carry no password in QEMU; a shell command in an
``exec:`` URI, or keys typed with ``sendkey``, cannot be told from any other.

History leaves out the lines that carry a secret (:func:`line_has_secret`); the
transcript writes the message with the secret replaced by ``"<redacted>"``
(:func:`redact`), the ``command-line`` with only its secret part replaced, unless
``--log-secrets``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from ..errors import InputError
from ..records import Record
from .mode import Mode
from .rawjson import as_typed
from .syntax import split_words

SECRET_NAME = re.compile(r"pass(word|phrase)?|secret|passwd|credential|private", re.IGNORECASE)
REDACTED = "<redacted>"


# -- QMP messages ---------------------------------------------------------------------


def is_secret(key: str, container: dict[str, Any]) -> bool:
    """Whether member ``key`` of the object ``container`` holds a secret."""
    if SECRET_NAME.search(key):
        return True
    if key == "data":
        return container.get("qom-type") == "secret"
    if key == "value":  # qom-set's arguments: path, property, value
        prop = container.get("property")
        return "path" in container and isinstance(prop, str) and is_secret_property(prop)
    if key == "command-line":  # human-monitor-command's
        line = container[key]
        return isinstance(line, str) and bool(hmp_secrets(line))
    return False


def is_secret_property(name: str) -> bool:
    """Whether a QOM property holds a secret: named like one, or a ``secret``'s ``data``
    (which ``qom-set`` cannot tell from another object's ``data`` without asking QEMU)."""
    return name == "data" or bool(SECRET_NAME.search(name))


def has_secret(value: Any) -> bool:
    # A walk without recursion; _redacted recurses, one level at two frames (MAX_DEPTH
    # in message.py bounds how deep a message may be).
    stack = [value]
    while stack:
        item = stack.pop()
        if item is None or type(item) in _SCALARS:
            continue  # most of a message: no ABC isinstance for each (_is_big_array's)
        if isinstance(item, dict):
            if any(is_secret(str(k), item) for k in item):
                return True
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif _is_big_array(item) and any(has_secret(element) for element in item):
            return True  # walked an element at a time, never all held at once
    return False


_SCALARS = frozenset({str, int, float, bool})


def _is_big_array(value: Any) -> bool:
    """A sequence that is not a list: the protocol's array of a big reply kept as text
    (:class:`qmpshell.protocol.packed.PackedList`), which is not the language's to
    know by name."""
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def redact(value: Any) -> Any:
    """``value`` with every secret replaced by ``"<redacted>"`` (in an HMP command line,
    only the secret part); the very same object when it holds none (the common case
    costs one walk, no copy)."""
    if not has_secret(value):
        return value
    return _redacted(value)


def _redacted(value: Any) -> Any:
    if isinstance(value, dict):
        redacted = {}
        for key in value:
            redacted[key] = _redacted_member(str(key), value)
        return redacted
    if isinstance(value, list) or _is_big_array(value):
        listed = []
        for item in value:
            listed.append(_redacted(item))
        return listed
    return value


def _redacted_member(key: str, container: dict[str, Any]) -> Any:
    value = container[key]
    if not is_secret(key, container):
        return _redacted(value)
    if key == "command-line" and not SECRET_NAME.search(key):
        return redact_hmp(value)
    return REDACTED


# -- lines as typed -------------------------------------------------------------------


def line_has_secret(line: str, mode: Mode = Mode.QMP) -> bool:
    """Whether a line typed in ``mode`` (a guest agent's lines are QMP's) passes a secret,
    so that it must not be written to history. ``/hmp LINE`` and ``/qmp LINE`` are
    judged by the rule of the monitor they go to."""
    text = line.strip()
    for meta, target in (("/hmp", Mode.HMP), ("/qmp", Mode.QMP)):
        if text == meta or text.startswith(meta + " "):
            return line_has_secret(text[len(meta) :], target)
    if mode is Mode.HMP and not text.startswith("/"):
        return bool(hmp_secrets(text))
    return _qmp_line_has_secret(text)


def _qmp_line_has_secret(text: str) -> bool:
    text = as_typed(text).strip()
    if text.startswith("{"):
        try:
            return has_secret(json.loads(text))
        except (ValueError, RecursionError):
            return bool(SECRET_NAME.search(text))
    try:
        words = split_words(text)
    except InputError:
        return bool(SECRET_NAME.search(text) or hmp_secrets(text))
    keys = [w.key for w in words if w.key is not None]
    if any(SECRET_NAME.search(part) for key in keys for part in key.split(".")):
        return True
    if hmp_secrets(text):  # HMP typed at the QMP prompt by habit
        return True
    arguments = {w.key: w.value for w in words if w.key is not None}
    if "data" in (k.split(".")[-1] for k in keys) and arguments.get("qom-type") == "secret":
        return True
    return has_secret(arguments)


# -- HMP command lines ----------------------------------------------------------------


class Span(Record):
    """Characters ``start:end`` of a line are a secret."""

    start: int
    end: int


class _Token(Record):
    text: str  # quotes removed
    start: int
    end: int
    quoted: bool


def redact_hmp(line: str) -> str:
    """``line`` with each secret part replaced by ``<redacted>``."""
    for span in reversed(hmp_secrets(line)):
        line = f"{line[: span.start]}{REDACTED}{line[span.end :]}"
    return line


def hmp_secrets(line: str) -> list[Span]:
    """Where the secrets are in an HMP command line, in order (none: an empty list)."""
    tokens = _tokens(line)
    if not tokens:
        return []
    name, args = tokens[0].text, tokens[1:]
    if name in ("set_password", "block_passwd"):  # NAME PROTOCOL|DEVICE PASSWORD
        return [_whole(args[1])] if len(args) > 1 else []
    if name == "change":  # change vnc [-f] password|passwd PASSWORD
        positional = [t for t in args if not t.text.startswith("-")]
        if (
            len(positional) > 2
            and positional[0].text == "vnc"
            and positional[1].text in ("password", "passwd")
        ):
            return [_whole(positional[2])]
        return []
    if name == "qom-set":  # qom-set [-j] PATH PROPERTY VALUE (the rest of the line)
        rest = args[1:] if args and args[0].text == "-j" else args
        if len(rest) > 2 and is_secret_property(rest[1].text.split(".")[-1]):
            return [Span(rest[2].start, len(line.rstrip()))]
        return []
    options = _OPTIONS_AT.get(name)
    if options is None:
        return []
    if name == "drive_add" and args and args[0].text == "-n":
        args = args[1:]
    if len(args) <= options:
        return []
    if name == "object_add":  # the rest of the line, taken as it is
        start = args[0].start
        return _option_secrets(line[start:].rstrip(), start, typed=True)
    token = args[options]
    offset = token.start + (1 if token.quoted else 0)
    return _option_secrets(line[offset : token.end - (1 if token.quoted else 0)], offset)


# Which argument (after the name, flags left out) is a QemuOpts string.
_OPTIONS_AT = {
    "object_add": 0,
    "netdev_add": 0,
    "device_add": 0,
    "drive_add": 1,  # drive_add [-n] PCI_ADDR OPTS
    "chardev-add": 0,
    "chardev-change": 1,  # chardev-change ID ARGS
}


def _whole(token: _Token) -> Span:
    return Span(token.start, token.end)


def _tokens(line: str) -> list[_Token]:
    """HMP's words: split on whitespace, a word in double quotes kept whole (as HMP's
    ``get_str`` reads it, backslash escapes included)."""
    tokens: list[_Token] = []
    i, n = 0, len(line)
    while i < n:
        if line[i].isspace():
            i += 1
            continue
        start = i
        if line[i] == '"':
            i += 1
            chars: list[str] = []
            while i < n and line[i] != '"':
                if line[i] == "\\" and i + 1 < n:
                    i += 1
                chars.append(line[i])
                i += 1
            i = min(i + 1, n)
            tokens.append(_Token("".join(chars), start, i, True))
        else:
            while i < n and not line[i].isspace():
                i += 1
            tokens.append(_Token(line[start:i], start, i, False))
    return tokens


def _option_secrets(opts: str, offset: int, *, typed: bool = False) -> list[Span]:
    """The secret values in a QemuOpts string (``secret,id=s,data=X``; ``,,`` is a comma)
    found at ``offset`` of the line; ``typed``: its first bare word or ``qom-type`` names
    an object type (``object_add``), which may also be given as JSON."""
    if typed and opts.startswith("{"):
        try:
            parsed = json.loads(opts)
        except (ValueError, RecursionError):
            return [Span(offset, offset + len(opts))] if SECRET_NAME.search(opts) else []
        return [Span(offset, offset + len(opts))] if has_secret(parsed) else []
    parts: list[tuple[str, str, int]] = []  # key, value, where the value starts
    start = i = 0
    while i <= len(opts):
        if i < len(opts) and opts[i] == "," and opts[i + 1 : i + 2] == ",":
            i += 2
            continue
        if i == len(opts) or opts[i] == ",":
            part = opts[start:i]
            key, eq, value = part.partition("=")
            parts.append((key, value, start + len(key) + 1) if eq else ("", part, start))
            start = i + 1
        i += 1
    kind = next((v for k, v, _ in parts if k == "qom-type"), None)
    if kind is None and typed and parts and parts[0][0] == "":
        kind = parts[0][1]
    spans = []
    for key, value, at in parts:
        names = key.split(".")
        secret_data = names[-1] == "data" and kind == "secret"
        if key and (secret_data or any(SECRET_NAME.search(name) for name in names)):
            spans.append(Span(offset + at, offset + at + len(value)))
    return spans
