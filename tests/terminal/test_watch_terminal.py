"""Journeys: /watch in the interactive shell, from a cold start, in a real terminal."""

from __future__ import annotations

import re
from typing import Any

from conftest import QemuFactory

# The value in reverse video (what tmux's capture-pane -e writes for it: the attributes
# may come in one sequence or several).
SGR = r"(?:\x1b\[[0-9;]*m)"
REVERSED = r"(?:\x1b\[(?:[0-9;]*;)?7(?:;[0-9;]*)?m)"
NOT_REVERSED = r"(?:\x1b\[(?!(?:[0-9;]*;)?7[;m])[0-9;]*m)"
REVERSED_RUNNING = rf'{REVERSED}{SGR}*"running"'


def test_watch_redraws_in_place_highlights_a_change_and_ctrl_c_returns(
    newcomer: Any, qemu_factory: QemuFactory
) -> None:
    qemu = qemu_factory.start(("-machine", "q35,accel=tcg", "-m", "128", "-S"))
    screen = newcomer(qemu=qemu)
    screen.type("/watch -n 0.5 query-status", "Enter")
    screen.wait_for(r'(?s)Every 0\.5s: query-status +run 1 · .*"status": "prelaunch"')
    text = screen.wait_for(r"Every 0\.5s: query-status +run 3 ·")
    # Drawn in place: one header, one reply, however many runs.
    assert text.count("Every 0.5s") == 1 and text.count('"status"') == 1, text
    assert "Ctrl-C stops" in text
    other = qemu.other_client()
    try:
        other.cmd("cont")
    finally:
        other.close()
    shown = screen.wait_for(REVERSED_RUNNING, escapes=True)
    assert not re.search(REVERSED + r'[^\n]*"status"', shown), shown  # the value, not the key
    # The next run has nothing new: the highlight goes.
    screen.wait_for(rf'(?m)^ +{SGR}*"status"{SGR}*: {NOT_REVERSED}*"running"', escapes=True)
    screen.type("C-c")
    text = screen.wait_for(r"(?s)stopped watching\s*\n\(QEMU\)")
    assert "Traceback" not in text
    assert text.count("Every 0.5s") == 1, text  # the last run stays, above the prompt
    screen.type("query-name", "Enter")
    screen.wait_for(r"(?s)stopped watching.*\(QEMU\) query-name\s*\n(OK|\{\})\s*\n\(QEMU\)")
    screen.type("Up", "Up")  # the /watch line is in the history
    screen.wait_for(r"\(QEMU\) /watch -n 0\.5 query-status\s*\n")


def test_watch_shows_an_error_in_place_and_goes_on(newcomer: Any) -> None:
    screen = newcomer()
    screen.paste('/watch -n 0.2 {"execute": "query-nosuch"}\n')
    text = screen.wait_for(r"(?s)run 3 ·.*Error \(CommandNotFound\): The command query-nosuch")
    assert text.count("CommandNotFound") == 1, text
    screen.type("C-c")
    screen.wait_for(r"stopped watching\s*\n\(QEMU\)")


def test_watch_with_a_count_ends_by_itself_and_bad_input_is_one_line(newcomer: Any) -> None:
    screen = newcomer()
    screen.type("/watch -n 0.1 -c 2 /hmp info status", "Enter")
    text = screen.wait_for(
        r"(?s)run 2 of 2 · \d\d:\d\d:\d\d\s*\nVM status: paused \(prelaunch\)\s*\n\(QEMU\)"
    )
    assert "Ctrl-C stops" not in text  # it ended: the header says no more
    screen.type("/watch -n never query-status", "Enter")
    screen.wait_for(
        r"column 11: /watch -n: expected seconds between runs \(at least 0\.1\), got 'never'"
    )
    screen.type("/watch -n 1 query-hotp", "Tab")  # the watched line completes as a line
    screen.wait_for(r"\(QEMU\) /watch -n 1 query-hotpluggable-cpus")


def test_qemu_gone_ends_the_watch_at_once(newcomer: Any, qemu_factory: QemuFactory) -> None:
    qemu = qemu_factory.start()
    screen = newcomer(qemu=qemu)
    screen.type("/watch -n 60 query-name", "Enter")
    screen.wait_for(r"Every 60s: query-name +run 1")
    qemu.stop()
    assert screen.wait_exit(timeout=5) == 3
    shown = screen.screen(scrollback=True)
    assert "Traceback" not in shown and "closed by peer" in shown, shown


def test_watch_in_hmp_mode_completes_and_runs_hmp_lines(newcomer: Any) -> None:
    screen = newcomer()
    screen.type("/hmp", "Enter")
    screen.wait_for(r"\(qemu\)")
    screen.type("/watch -c 1 info mt", "Tab")  # completed as an HMP line
    screen.wait_for(r"\(qemu\) /watch -c 1 info mtree")
    screen.type("C-u", "/watch -n 0.2 -c 2 info status", "Enter")
    screen.wait_for(r"(?s)run 2 of 2 · .*\nVM status: paused \(prelaunch\)\s*\n\(qemu\)")
