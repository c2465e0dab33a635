"""/watch's screen: the header, the reply with what changed highlighted, escaped, and the
application that draws each run in place until the watch ends or Ctrl-C."""

from __future__ import annotations

import asyncio
import io
import json
import re
from contextlib import ExitStack
from typing import Any

from conftest import FUZZ_EXAMPLES
from hypothesis import given, settings
from hypothesis import strategies as st
from prompt_toolkit.application import create_app_session
from prompt_toolkit.data_structures import Size
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output.vt100 import Vt100_Output

from qmpshell.escape import escape_json, unsafe
from qmpshell.session.watching import Frame, changed_leaves, leaves, next_frame
from qmpshell.ui.output import Output
from qmpshell.ui.watchscreen import CHANGED, body, header, json_fragments, show_watch

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=4),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(JSON, JSON)
def test_json_is_laid_out_as_the_shell_lays_it_out_with_the_changes_marked(
    old: Any, new: Any
) -> None:
    changed = changed_leaves(old, new)
    fragments = json_fragments(new, changed)
    text = "".join(piece for _, piece, *_ in fragments)
    assert text == escape_json(json.dumps(new, indent=2, ensure_ascii=False))
    marked = [piece for style, piece, *_ in fragments if CHANGED in style]
    assert len(marked) == len(changed)
    assert marked == [
        escape_json(json.dumps(value, ensure_ascii=False))
        for path, value in leaves(new)
        if path in changed
    ]
    assert not any(unsafe().search(piece.replace("\n", "")) for _, piece, *_ in fragments)


def _frame(**fields: Any) -> Frame:
    common: dict[str, Any] = dict(line="query-status", interval=0.5, count=None, run=3, at=0.0)
    common.update(fields)
    return Frame(**common)


def test_the_header_says_what_runs_how_often_which_run_and_when() -> None:
    line = header(_frame(), 80)
    assert len(line) == 80
    assert re.fullmatch(r"Every 0\.5s: query-status +run 3 · \d\d:\d\d:\d\d · Ctrl-C stops", line)
    assert "run 3 of 10" in header(_frame(count=10), 80, running=False)
    assert "Ctrl-C" not in header(_frame(), 80, running=False)
    long = header(_frame(line="qom-get path=/machine/" + "x" * 200 + " property=type"), 80)
    assert len(long) == 80 and "…" in long and long.endswith("Ctrl-C stops")
    hostile = header(_frame(line="query-status\x1b]0;PWNED\x07\u202e"), 100)
    assert not unsafe().search(hostile)


def test_a_reply_shows_as_the_shell_shows_it() -> None:
    assert body(_frame(reply={"return": {}})) == [("class:watch.ok", "OK")]
    error = {"error": {"class": "GenericError", "desc": "no\x1b[2J way"}}
    before = next_frame(
        None, **_common(), run=1, reply={"error": {"class": "GenericError", "desc": "x"}}
    )
    shown = body(next_frame(before, **_common(), run=2, reply=error))
    assert "".join(piece for _, piece in shown) == "Error (GenericError): no\\u001b[2J way"
    assert any(CHANGED in style for style, piece in shown if "way" in piece)
    assert body(_frame(note="no reply within 5s", ok=False)) == [
        ("class:watch.error", "no reply within 5s")
    ]


def test_hmp_text_shows_its_changed_words_escaped() -> None:
    first = next_frame(None, **_common(), run=1, reply={"return": ""}, text="VM status: paused")
    frame = next_frame(
        first, **_common(), run=2, reply={"return": ""}, text="VM status: running\u202e"
    )
    shown = body(frame)
    assert ("class:watch.changed", "running\\u202e") in shown
    assert "".join(piece for _, piece in shown) == "VM status: running\\u202e"


def _common() -> dict[str, Any]:
    return dict(line="query-status", interval=0.5, count=None, at=0.0)


def test_each_run_is_drawn_in_place_and_ctrl_c_stops() -> None:
    screen = io.StringIO()
    terminal = Vt100_Output(screen, lambda: Size(24, 80), term="xterm")
    output = Output(color=True, interactive=True)

    async def scenario() -> bool:
        with ExitStack() as stack:
            keys = stack.enter_context(create_pipe_input())
            stack.enter_context(create_app_session(input=keys, output=terminal))
            runs = [{"return": {"status": "prelaunch"}}, {"return": {"status": "running"}}]

            async def watching() -> None:
                last = None
                for number, reply in enumerate(runs, 1):
                    last = next_frame(last, **_common(), run=number, reply=reply)
                    output.watch_frame(last)
                    while '"running"' not in screen.getvalue() and number == 2:
                        await asyncio.sleep(0.001)
                keys.send_text("zzz\x03")  # typed keys are dropped; Ctrl-C stops
                await asyncio.Future()  # until cancelled

            task = asyncio.ensure_future(watching())
            await show_watch(task, output, task.cancel)
            await asyncio.gather(task, return_exceptions=True)
            return task.cancelled()

    assert asyncio.run(scenario())
    shown = screen.getvalue()
    assert "Every 0.5s: query-status" in shown and "run 2" in shown
    # The changed value in reverse video, in the colour of strings.
    assert re.search(r"\x1b\[0(;[0-9]+)*;7(;[0-9]+)*m\"running\"", shown), repr(shown)
    assert not re.search(r"\x1b\[0(;[0-9]+)*;7(;[0-9]+)*m\"prelaunch\"", shown)
    assert "zzz" not in shown
    assert output.watched is None and output.on_watched is None


def test_a_reply_taller_than_the_terminal_is_cut_at_its_bottom_and_scrolls() -> None:
    screen = io.StringIO()
    terminal = Vt100_Output(screen, lambda: Size(10, 80), term="xterm")
    output = Output(color=False, interactive=True)
    reply = {"return": [*(f"item{number:02}" for number in range(29)), "LAST-ONE"]}

    async def scenario() -> None:
        with ExitStack() as stack:
            keys = stack.enter_context(create_pipe_input())
            stack.enter_context(create_app_session(input=keys, output=terminal))

            async def one_run() -> None:
                output.watch_frame(next_frame(None, **_common(), run=1, reply=reply))
                while "item00" not in screen.getvalue():
                    await asyncio.sleep(0.001)
                assert "LAST-ONE" not in screen.getvalue()  # past the bottom of the terminal
                keys.send_text("\x1b[6~" * 3)  # PageDown: 8 lines each (10 rows, header)
                while "LAST-ONE" not in screen.getvalue():  # (the screen is drawn by its
                    await asyncio.sleep(0.001)  # changes: a name of its own, wholly new)

            task = asyncio.ensure_future(one_run())
            await show_watch(task, output, task.cancel)
            await task

    asyncio.run(scenario())
    shown = screen.getvalue()
    assert "Every 0.5s: query-status" in shown and "from line 25" in shown
