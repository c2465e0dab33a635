"""Journeys: pasting several lines, and waiting for an event, as a newcomer does them."""

from __future__ import annotations

import re
from typing import Any

from conftest import QemuFactory


def test_pasting_two_lines_runs_both_in_order(newcomer: Any, qemu_factory: QemuFactory) -> None:
    qemu = qemu_factory.start(("-machine", "q35,accel=tcg", "-m", "128", "-S", "-name", "vm7"))
    screen = newcomer(qemu=qemu)
    screen.paste("query-name\nquery-status\n")
    text = screen.wait_for(r'(?s)"name": "vm7".*"status": "prelaunch".*\n\(QEMU\)\s*\n')
    # Each shown after its prompt, as if typed.
    assert re.search(r"\(QEMU\) query-name\n", text) and re.search(r"\(QEMU\) query-status\n", text)
    screen.type("Up")  # both are in the history, the last one first
    screen.wait_for(r"\(QEMU\) query-status\s*\n.*│", timeout=5)
    screen.type("Up")
    screen.wait_for(r"\(QEMU\) query-name\s*\n.*│", timeout=5)


def test_pasted_unfinished_line_waits_for_enter(newcomer: Any) -> None:
    screen = newcomer()
    screen.paste("query-name\nquery-sta")
    screen.wait_for(r"(?s)OK|\{\}.*\(QEMU\) query-sta")
    screen.type("tus", "Enter")
    screen.wait_for(r'"status": "prelaunch"')


def test_pasted_json_over_several_lines_is_one_message(newcomer: Any) -> None:
    screen = newcomer()
    screen.paste('{"execute": "query-status",\n "id": "mine"}\nquery-name\n')
    text = screen.wait_for(r'(?s)"status": "prelaunch".*\n(OK|\{\})\s*\n\(QEMU\)\s*\n')
    assert "mine" in text and "invalid JSON" not in text


def test_wait_for_an_unknown_event_suggests_names(newcomer: Any) -> None:
    screen = newcomer()
    screen.type("/wait DEVICE_DELETD", "Enter")
    screen.wait_for(r"unknown event 'DEVICE_DELETD'; did you mean 'DEVICE_DELETED'")
    screen.type("/wait RESUMX* 1", "Enter")
    screen.wait_for(r"no event of this QEMU matches 'RESUMX\*'")


def test_wait_completes_data_keys(newcomer: Any) -> None:
    screen = newcomer()
    screen.type("/wait DEVICE_DELETED d")
    screen.wait_for(r"device=\s+str")
    screen.type("Tab")
    screen.wait_for(r"/wait DEVICE_DELETED device=")


def test_wait_shows_what_it_waits_for_then_the_event(
    newcomer: Any, qemu_factory: QemuFactory
) -> None:
    qemu = qemu_factory.start(("-machine", "q35,accel=tcg", "-m", "128", "-S"))
    screen = newcomer(qemu=qemu)
    screen.type("/wait RESUME 60", "Enter")
    screen.wait_for(r"waiting for RESUME, \d+s left \(Ctrl-C stops\)")
    other = qemu.other_client()
    try:
        other.cmd("cont")
    finally:
        other.close()
    text = screen.wait_for(r"(?s)\d\d:\d\d:\d\d\.\d{3} RESUME\s*\n\(QEMU\)")
    assert text.count("RESUME") == 2, text  # typed once, shown once as it came
    screen.wait_for(r"running")  # the toolbar is back


def test_wait_for_an_event_that_came_already_says_which(newcomer: Any) -> None:
    screen = newcomer()  # paused in prelaunch: cont runs it
    screen.type("cont", "Enter")
    screen.wait_for(r"RESUME")
    screen.type("/wait RESUME", "Enter")  # it came after the last command: found at once
    screen.wait_for(r"matched: \d\d:\d\d:\d\d\.\d{3} RESUME")


def test_event_filter_typo_is_said(newcomer: Any) -> None:
    screen = newcomer()
    screen.type("/events filter RESUM,STOP", "Enter")
    screen.wait_for(r"no event of this QEMU matches 'RESUM'; did you mean 'RESUME'")


def test_ctrl_c_stops_waiting_and_keeps_what_was_typed(newcomer: Any) -> None:
    screen = newcomer()
    screen.type("/wait RESUME", "Enter")
    screen.wait_for(r"waiting for RESUME")
    screen.type("query-sta")  # typed ahead, while waiting
    screen.type("C-c")
    screen.wait_for(r"stopped waiting")
    screen.wait_for(r"\(QEMU\) query-sta")
    screen.type("tus", "Enter")
    screen.wait_for(r'"status": "prelaunch"')


def test_qemu_gone_ends_the_wait_at_once(newcomer: Any, qemu_factory: QemuFactory) -> None:
    qemu = qemu_factory.start()
    screen = newcomer(qemu=qemu)
    screen.type("/wait DEVICE_DELETED 600", "Enter")
    screen.wait_for(r"waiting for DEVICE_DELETED")
    qemu.stop()
    assert screen.wait_exit(timeout=5) == 3
    assert "while waiting for an event" in screen.screen().replace("\n", "")
