"""Rendering for the terminal: colour choice, replies, events, JSON, and that nothing
QEMU sends can drive the terminal."""

from __future__ import annotations

import io
import json
import re
import time
import types
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import FUZZ_EXAMPLES
from hypothesis import given, settings
from hypothesis import strategies as st

from qmpshell.escape import escape_json, escape_text
from qmpshell.ui import render
from qmpshell.ui.console import Console
from qmpshell.ui.render import Renderer


def color_enabled(choice: str, stream: Any, environ: dict[str, str]) -> bool:
    return Console(stream, environ=environ).color(choice)


SGR = re.compile(r"\x1b\[[0-9;]*m")
CONTROL = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)
# pygments' codes, each run as one sequence (render.short_sgr)
RESET = "\x1b[0m"
BOLD_BLUE = "\x1b[01;34m"
GREEN = "\x1b[32m"
CYAN = "\x1b[36m"
MAGENTA = "\x1b[35m"
RED = "\x1b[31m"
BOLD_RED = "\x1b[01;31m"
BOLD_MAGENTA = "\x1b[01;35m"

PLAIN = Renderer(color=False)
COLOR = Renderer(color=True)


def strip(text: str) -> str:
    return SGR.sub("", text)


def assert_inert(text: str) -> None:
    """No character that could drive a terminal, once our own colours are gone."""
    bare = strip(text)
    assert not CONTROL.search(bare), repr(bare)
    bare.encode("utf-8")  # no lone surrogates


class Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


# -- colour choice ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("choice", "tty", "environ", "expected"),
    [
        ("always", False, {}, True),
        ("always", False, {"NO_COLOR": "1"}, True),
        ("never", True, {}, False),
        ("auto", True, {}, True),
        ("auto", False, {}, False),
        ("auto", True, {"NO_COLOR": "1"}, False),
        ("auto", True, {"NO_COLOR": ""}, True),
        ("auto", True, {"TERM": "dumb"}, False),
        ("auto", True, {"TERM": "xterm-256color"}, True),
    ],
)
def test_color_enabled(choice: str, tty: bool, environ: dict[str, str], expected: bool) -> None:
    assert color_enabled(choice, Stream(tty), environ) is expected


def test_color_auto_on_a_stream_without_isatty_or_closed() -> None:
    closed = io.StringIO()
    closed.close()
    assert color_enabled("auto", closed, {}) is False
    assert color_enabled("auto", object(), {}) is False  # type: ignore[arg-type]


def test_color_choice_must_be_known() -> None:
    with pytest.raises(ValueError, match="auto, always, never"):
        color_enabled("sometimes", Stream(True), {})


# -- replies ------------------------------------------------------------------------------


def test_empty_success_is_ok() -> None:
    assert PLAIN.reply({"return": {}}) == "OK"
    assert COLOR.reply({"return": {}}) == f"{GREEN}OK{RESET}"


def test_verbose_shows_empty_success_in_full() -> None:
    assert Renderer(color=False, verbose=True).reply({"return": {}}) == '{\n  "return": {}\n}'


@pytest.mark.parametrize("value", [[], "", 0, None, {"a": 1}])
def test_other_successes_are_json(value: Any) -> None:
    message = {"return": value}
    assert PLAIN.reply(message) == json.dumps(message, indent=2, ensure_ascii=False)


def test_error_reply() -> None:
    message = {"error": {"class": "GenericError", "desc": "Device 'x' not found"}}
    assert PLAIN.reply(message) == "Error (GenericError): Device 'x' not found"
    assert COLOR.reply(message) == (
        f"{BOLD_RED}Error (GenericError):{RESET} {RED}Device 'x' not found{RESET}"
    )


def test_error_reply_without_class_or_with_odd_fields() -> None:
    assert PLAIN.reply({"error": {"desc": "no class"}}) == "Error: no class"
    assert PLAIN.reply({"error": {"class": 7, "desc": ["a"]}}) == 'Error (7): ["a"]'


def test_error_without_desc_is_shown_as_json() -> None:
    message = {"error": {"class": "GenericError"}}
    assert json.loads(PLAIN.reply(message)) == message


def test_error_text_is_escaped() -> None:
    message = {"error": {"class": "A\x1b[2J", "desc": "line\nnext\r\x9b31m\x7f\x00"}}
    assert PLAIN.reply(message) == "Error (A\\u001b[2J): line\\nnext\\r\\u009b31m\\u007f\\u0000"
    assert_inert(COLOR.reply(message))


def test_reply_colours_each_kind_of_token() -> None:
    shown = COLOR.reply({"return": {"s": "x", "n": 1.5, "t": True, "z": None}})
    assert f'{BOLD_BLUE}"return"{RESET}: {{' in shown
    assert f'{BOLD_BLUE}"s"{RESET}: {GREEN}"x"{RESET},' in shown
    assert f"{CYAN}1.5{RESET}," in shown
    assert f"{MAGENTA}true{RESET}," in shown
    assert f"{MAGENTA}null{RESET}" in shown


def test_colour_adds_only_colour() -> None:
    message = {"return": [{"name": "a", "n": [1, 2, {"x": False}]}, "s\u2028t"]}
    assert strip(COLOR.reply(message)) == PLAIN.reply(message)


def test_unsafe_characters_in_strings_are_escaped_and_still_json() -> None:
    value = {"k\x9b": "a\x7fb\x85c\ud800d\x1b"}
    shown = PLAIN.json(value)
    assert "\\u009b" in shown and "\\u007f" in shown and "\\u0085" in shown
    assert "\\ud800" in shown and "\\u001b" in shown
    assert json.loads(shown) == value
    assert_inert(COLOR.json(value))


def test_indentation() -> None:
    assert Renderer(color=False, pretty_indent=4).json({"a": [1]}) == (
        '{\n    "a": [\n        1\n    ]\n}'
    )
    assert Renderer(color=False, pretty_indent=None).json({"a": [1, "b"]}) == '{"a": [1, "b"]}'


def test_json_of_scalars() -> None:
    assert PLAIN.json("é") == '"é"'
    assert PLAIN.json(3) == "3"
    assert COLOR.json("x") == f'{GREEN}"x"{RESET}'
    assert COLOR.json(None) == f"{MAGENTA}null{RESET}"


# -- events -------------------------------------------------------------------------------


def test_event_line(utc: None) -> None:
    event = {
        "event": "BLOCK_JOB_COMPLETED",
        "data": {"device": "job0", "len": 1048576, "offset": 1048576, "speed": 0},
        "timestamp": {"seconds": 1700000000, "microseconds": 123456},
    }
    assert PLAIN.event(event) == (
        "22:13:20.123 BLOCK_JOB_COMPLETED "
        '{"device": "job0", "len": 1048576, "offset": 1048576, "speed": 0}'
    )
    shown = COLOR.event(event)
    assert shown.startswith(f"22:13:20.123 {BOLD_MAGENTA}BLOCK_JOB_COMPLETED{RESET} {{")
    assert strip(shown) == PLAIN.event(event)
    assert "\n" not in shown


@pytest.mark.parametrize("data", [None, {}, []])
def test_event_without_data(utc: None, data: Any) -> None:
    event: dict[str, Any] = {"event": "STOP", "timestamp": {"seconds": 0, "microseconds": 999}}
    if data is not None:
        event["data"] = data
    assert PLAIN.event(event) == "00:00:00.000 STOP"


def test_event_time_is_local(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "IST-5:30")  # POSIX form: no tz database needed
    time.tzset()
    try:
        event = {"event": "STOP", "timestamp": {"seconds": 1700000000, "microseconds": 5000}}
        assert PLAIN.event(event) == "03:43:20.005 STOP"
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.mark.parametrize(
    "timestamp",
    [
        None,
        "yesterday",
        {},
        {"seconds": "1", "microseconds": 0},
        {"seconds": True, "microseconds": 0},
        {"seconds": 1.5, "microseconds": 0},
        {"seconds": 1, "microseconds": 1_000_000},
        {"seconds": 1, "microseconds": -1},
        {"seconds": 10**30, "microseconds": 0},
    ],
)
def test_event_without_a_valid_timestamp_shows_now(
    utc: None, monkeypatch: pytest.MonkeyPatch, timestamp: Any
) -> None:
    clock = types.SimpleNamespace(
        time=lambda: 1700000000.25,
        localtime=time.localtime,
        strftime=time.strftime,
        struct_time=time.struct_time,
    )
    monkeypatch.setattr(render, "time", clock)
    event: dict[str, Any] = {"event": "RESUME"}
    if timestamp is not None:
        event["timestamp"] = timestamp
    assert PLAIN.event(event) == "22:13:20.250 RESUME"


def test_event_name_and_data_are_escaped(utc: None) -> None:
    event = {
        "event": "EVIL\x1b]0;pwned\x07\x9b",
        "data": {"msg": "\x9b2J\x7f"},
        "timestamp": {"seconds": 0, "microseconds": 0},
    }
    assert PLAIN.event(event) == (
        '00:00:00.000 EVIL\\u001b]0;pwned\\u0007\\u009b {"msg": "\\u009b2J\\u007f"}'
    )
    assert_inert(COLOR.event(event))


def test_event_with_odd_name(utc: None) -> None:
    event = {"event": ["X"], "timestamp": {"seconds": 0, "microseconds": 0}}
    assert PLAIN.event(event) == '00:00:00.000 ["X"]'
    assert PLAIN.event({"timestamp": {"seconds": 0, "microseconds": 0}}) == "00:00:00.000 ?"


# -- escaping -----------------------------------------------------------------------------


def test_escape_text() -> None:
    assert escape_text("plain é ✓") == "plain é ✓"
    assert escape_text("\u202e\u2028") == "\\u202e\\u2028"
    assert escape_text("\t\n\r\b\f\x01\x1b\x7f\x80\x9f\udfff") == (
        "\\t\\n\\r\\b\\f\\u0001\\u001b\\u007f\\u0080\\u009f\\udfff"
    )


# -- properties ---------------------------------------------------------------------------


def json_values(text: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    return st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | text,
        lambda children: (
            st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4)
        ),
        max_leaves=20,
    )


# Any character, lone surrogates included: what json.loads can make of QEMU's "\ud800".
TEXT = st.text(st.characters(exclude_categories=()), max_size=20)
JSON_VALUES = json_values(TEXT)
# Without surrogates, which do not round-trip (an escaped pair reads back as one char).
UNICODE_JSON_VALUES = json_values(st.text(max_size=20))
TIMESTAMPS = st.one_of(
    st.fixed_dictionaries(
        {"seconds": st.integers(0, 2**32), "microseconds": st.integers(0, 999_999)}
    ),
    JSON_VALUES,
)


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(UNICODE_JSON_VALUES)
def test_any_json_value_round_trips_when_plain(value: Any) -> None:
    shown = PLAIN.json(value)
    assert json.loads(shown) == value
    assert strip(COLOR.json(value)) == shown
    assert_inert(COLOR.json(value))


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(JSON_VALUES, st.sampled_from([2, None]))
def test_colours_are_those_pygments_gives(value: Any, indent: int | None) -> None:
    """What pygments' JsonLexer and TerminalFormatter make of the escaped JSON text
    (which the renderer makes faster), each of pygments' runs of SGR codes written as one
    sequence of the same effect (test_short_sgr_has_the_same_effect)."""
    from pygments import highlight
    from pygments.formatters.terminal import TerminalFormatter
    from pygments.lexers import JsonLexer

    renderer = Renderer(color=True, pretty_indent=indent)
    text = escape_json(json.dumps(value, indent=indent, ensure_ascii=False))
    formatter = TerminalFormatter(colorscheme=render.TERMINAL_COLORS)
    expected = _SGR_RUN.sub(
        lambda m: render.short_sgr(m.group()), highlight(text, JsonLexer(), formatter)
    )
    assert renderer.json(value) + "\n" == expected


_SGR_RUN = re.compile(r"(?:\x1b\[[0-9;]*m)+")


@pytest.mark.parametrize(
    ("codes", "short"),
    [
        ("\x1b[01m\x1b[34m", "\x1b[01;34m"),  # bold, blue
        ("\x1b[39;49;00m", "\x1b[0m"),  # default colours, and reset: reset
        ("\x1b[32m", "\x1b[32m"),
        ("\x1b[39;49;00m\x1b[33m", "\x1b[0;33m"),
        ("\x1b[1m\x1b[0m\x1b[31m", "\x1b[0;31m"),
        ("\x1b[2J", "\x1b[2J"),  # not SGR: kept
        ("", ""),
    ],
)
def test_short_sgr_has_the_same_effect(codes: str, short: str) -> None:
    assert render.short_sgr(codes) == short


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(
    st.one_of(
        st.fixed_dictionaries({"return": JSON_VALUES}),
        st.fixed_dictionaries(
            {"error": st.fixed_dictionaries({"class": JSON_VALUES, "desc": JSON_VALUES})}
        ),
        st.dictionaries(TEXT, JSON_VALUES, max_size=3),
    ),
    st.booleans(),
)
def test_no_reply_can_drive_the_terminal(message: dict[str, Any], verbose: bool) -> None:
    for color in (False, True):
        assert_inert(Renderer(color=color, verbose=verbose).reply(message))


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(
    st.fixed_dictionaries(
        {"event": st.one_of(TEXT, JSON_VALUES)},
        optional={"data": JSON_VALUES, "timestamp": TIMESTAMPS},
    )
)
def test_no_event_can_drive_the_terminal(event: dict[str, Any]) -> None:
    for renderer in (PLAIN, COLOR):
        shown = renderer.event(event)
        assert "\n" not in shown
        assert_inert(shown)
        assert re.match(r"\d\d:\d\d:\d\d\.\d\d\d ", shown)


# -- the lazy-import rule -----------------------------------------------------------------
