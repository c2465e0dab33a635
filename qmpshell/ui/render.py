"""How QMP messages look on a terminal: colours, one-line events, a short "OK".

Everything here returns text and writes nothing, so the interactive shell decides where
it goes. QEMU's replies are untrusted: no character that could drive the terminal (C0,
DEL, C1) or reorder what it shows (bidi controls) survives rendering, and neither does a
lone surrogate, which no terminal encoding can carry (:mod:`qmpshell.escape`). The only
escape sequences in the output are the colours added here, which ``Output`` keeps.

pygments is imported at module level, so only the interactive shell imports this module.
"""

from __future__ import annotations

import functools
import json
import re
import time
from collections.abc import Mapping
from typing import Any

from pygments import format as format_tokens  # type: ignore[import-untyped]
from pygments.console import ansiformat  # type: ignore[import-untyped]
from pygments.formatters.terminal import TerminalFormatter  # type: ignore[import-untyped]
from pygments.token import Keyword, Name, Number, String, Token  # type: ignore[import-untyped]

from ..escape import escape_json, escape_text
from ..protocol.packed import as_list, unpacked
from .jsonpaint import Palette, paint_json

# Plain (not "bright") ANSI colours, which stay readable on dark and light backgrounds
# alike; object keys are bold blue, as in jq. Punctuation and whitespace stay uncoloured,
# which also keeps big replies small.
_JSON_COLORS: dict[Any, str] = {
    Token: "",
    Name.Tag: "*blue*",
    String: "green",
    Number: "cyan",
    Keyword.Constant: "magenta",
}
_OK_COLOR = "green"
_ERROR_HEAD_COLOR = "*red*"
_ERROR_TEXT_COLOR = "red"
_EVENT_COLOR = "*magenta*"

TERMINAL_COLORS = {token: (color, color) for token, color in _JSON_COLORS.items()}


def _as_text(value: Any) -> str:
    """A field shown as text: a string as it is, anything else as compact JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=as_list)


def _qemu_time(timestamp: Any) -> tuple[int, int] | None:
    """(seconds, microseconds) of a QEMU timestamp, or None when it is not one."""
    if not isinstance(timestamp, Mapping):
        return None
    seconds = timestamp.get("seconds")
    micros = timestamp.get("microseconds", 0)
    if type(seconds) is int and type(micros) is int and 0 <= micros < 1_000_000:
        return seconds, micros
    return None


def _clock(timestamp: Any) -> str:
    """A QEMU timestamp as local ``HH:MM:SS.mmm``; the current time when it is missing or
    not a time this system can show."""
    moment = _qemu_time(timestamp)
    if moment is not None:
        try:
            return _hms(time.localtime(moment[0]), moment[1])
        except (OverflowError, OSError, ValueError):
            pass
    now = time.time()
    return _hms(time.localtime(now), int(now % 1 * 1_000_000))


def _hms(local: time.struct_time, micros: int) -> str:
    return time.strftime("%H:%M:%S", local) + f".{micros // 1000:03d}"


# What json.dumps writes: strings (keys when a colon follows), numbers, literals.
_JSON_TOKEN = re.compile(
    r'("[^"\\]*(?:\\.[^"\\]*)*")(\s*:)?|(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)|(true|false|null)'
)
_FLOATY = re.compile(r"[.eE]")
_JSON_TOKENS = {
    "key": Name.Tag,
    "string": String.Double,
    "integer": Number.Integer,
    "floating": Number.Float,
    "constant": Keyword.Constant,
}


def _codes_for(token: Any, formatter: Any) -> tuple[str, str]:
    """The escape codes pygments puts before and after a token of this type, each as
    :func:`short_sgr` writes it."""
    sample = format_tokens([(token, "\x00")], formatter)
    start, _, end = str(sample).partition("\x00")
    return short_sgr(start), short_sgr(end)


@functools.cache
def _color_codes(color: str) -> tuple[str, str]:
    """The codes pygments' ``ansiformat`` puts around text in ``color``, each as
    :func:`short_sgr` writes it."""
    start, _, end = ansiformat(color, "\x00").partition("\x00")
    return short_sgr(start), short_sgr(end)


def short_sgr(codes: str) -> str:
    """Escape codes that set colours and attributes (SGR) in one sequence, with the
    same effect: pygments writes bold blue as ``ESC[01m ESC[34m`` and ends each token
    with ``ESC[39;49;00m``, whose reset (0) alone says all three. The schema reply's
    text is 22% shorter so, and quicker to write to a terminal."""
    parameters: list[str] = []
    for sequence in codes.split("\x1b[")[1:]:
        if not sequence.endswith("m"):
            return codes  # not SGR alone: kept as it is
        parameters += sequence[:-1].split(";")
    if not parameters:
        return codes
    last_reset = max((i for i, p in enumerate(parameters) if p in ("", "0", "00")), default=-1)
    if last_reset >= 0:  # what comes before a reset is undone by it
        parameters = ["0", *parameters[last_reset + 1 :]]
    return "\x1b[" + ";".join(parameters) + "m"


class Renderer:
    """Turns replies, events and values into terminal text, coloured or plain.

    ``verbose`` shows an empty success reply in full instead of "OK"; ``pretty_indent``
    is the indentation of multi-line JSON, or None to keep JSON on one line (with the
    ``", "`` and ``": "`` separators of event data).
    """

    def __init__(self, color: bool, verbose: bool = False, pretty_indent: int | None = 2) -> None:
        self.color = color
        self.verbose = verbose
        self.pretty_indent = pretty_indent
        self._codes: Palette | None = None
        self._formatter = TerminalFormatter(colorscheme=TERMINAL_COLORS)

    def reply(self, message: Mapping[str, Any]) -> str:
        """A reply (its id already removed): "OK" for an empty success, "Error (class):
        desc" for an error, and the indented JSON of anything else."""
        message = unpacked(message)  # a terminal shows it whole: it is walked as lists
        if not self.verbose and dict(message) == {"return": {}}:
            return self._paint(_OK_COLOR, "OK")
        error = message.get("error")
        if isinstance(error, Mapping) and "desc" in error:
            head = "Error:"
            if "class" in error:
                head = f"Error ({escape_text(_as_text(error['class']))}):"
            desc = escape_text(_as_text(error["desc"]))
            return f"{self._paint(_ERROR_HEAD_COLOR, head)} {self._paint(_ERROR_TEXT_COLOR, desc)}"
        return self.json(message)

    def event(self, event: Mapping[str, Any]) -> str:
        """An event on one line: the local time of its timestamp, its name, and its data
        as compact JSON when there is any."""
        name = escape_text(_as_text(event.get("event", "?")))
        parts = [_clock(event.get("timestamp")), self._paint(_EVENT_COLOR, name)]
        data = event.get("data")
        if data is not None and data != {} and data != []:
            compact = json.dumps(data, ensure_ascii=False, separators=(", ", ": "))
            parts.append(self._highlight(escape_json(compact)))
        return " ".join(parts)

    def json(self, value: Any) -> str:
        """Any JSON value, indented as ``pretty_indent`` says, coloured when colour is on."""
        value = unpacked(value)
        if self.color and self.pretty_indent is not None:
            # Coloured as it is written (the colours are outside the strings, which alone
            # escaping changes).
            return escape_json(paint_json(value, self.pretty_indent, self._palette()))
        text = json.dumps(value, indent=self.pretty_indent, ensure_ascii=False)
        return self._highlight(escape_json(text))

    def _palette(self) -> Palette:
        """The codes pygments puts around each kind of JSON token, asked of it once."""
        if self._codes is None:
            self._codes = Palette(
                **{kind: _codes_for(token, self._formatter) for kind, token in _JSON_TOKENS.items()}
            )
        return self._codes

    def _paint(self, color: str, text: str) -> str:
        if not self.color:
            return text
        start, end = _color_codes(color)
        return start + text + end

    def _highlight(self, json_text: str) -> str:
        """Colour JSON text as pygments' JsonLexer and TerminalFormatter would, at regex
        speed: the text comes from json.dumps, so a regex finds its tokens exactly, and
        the codes for each kind of token are asked of pygments once. (The 200 KB schema
        reply takes ~40 ms this way, ~150 ms token by token through pygments.)"""
        if not self.color:
            return json_text
        codes = self._palette()._asdict()

        def paint(match: re.Match[str]) -> str:
            string, colon, number, constant = match.groups()
            if string is not None:
                start, end = codes["key" if colon else "string"]
                return f"{start}{string}{end}{colon or ''}"
            if number is not None:
                start, end = codes["floating" if _FLOATY.search(number) else "integer"]
                return f"{start}{number}{end}"
            start, end = codes["constant"]
            return f"{start}{constant}{end}"

        return _JSON_TOKEN.sub(paint, json_text)
