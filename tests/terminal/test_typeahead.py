"""Typing ahead while a line runs, as with bash and readline: the keys are neither echoed
nor lost; the next prompt shows them as typed, and each reply comes under the line that
asked for it, in order.

The reply is held back by stopping QEMU (SIGSTOP) until the next line has been typed and
waits, unread, at the shell's terminal."""

from __future__ import annotations

import os
import re
import signal
from typing import Any

from conftest import NEWCOMER_MACHINE, QemuFactory, QemuProcess
from waiting import stop, unread_at, wait_for, wait_queued_to

PROMPT = r"\(QEMU\)"


def _typed_while_a_reply_waits(screen: Any, qemu: QemuProcess, *keys: str) -> None:
    """``query-status`` Enter, then ``keys`` typed while its reply waits (QEMU stopped),
    until they wait unread at the shell's terminal; then QEMU goes on."""
    stop(qemu.proc.pid)
    try:
        screen.type("query-status", "Enter")
        wait_queued_to(qemu.proc.pid)
        tty = screen.tty()
        screen.type(*keys)
        typed = sum(1 if key == "Enter" else len(key) for key in keys)
        wait_for(lambda: unread_at(tty) >= typed, "the keys typed ahead at the terminal")
        assert keys[0] not in screen.screen()  # not echoed by the terminal
    finally:
        os.kill(qemu.proc.pid, signal.SIGCONT)


def test_a_line_typed_while_a_reply_is_pending_runs_after_it(
    newcomer: Any, qemu_factory: QemuFactory
) -> None:
    qemu = qemu_factory.start((*NEWCOMER_MACHINE, "-name", "vm9"))
    screen = newcomer(qemu=qemu)
    screen.type("query-name", "Enter")  # the schema is loaded, and nothing else in flight
    screen.wait_for(rf'"vm9"\s*}}\s*}}\s*\n{PROMPT}')
    _typed_while_a_reply_waits(screen, qemu, "query-kvm", "Enter")
    shown = screen.wait_for(rf'"present": \w+\s*}}\s*}}\s*\n{PROMPT}\s*\n')
    lines = shown.splitlines()
    asked = lines.index("(QEMU) query-status")
    # Each reply under its line, the line typed ahead shown once, after its prompt.
    assert [line for line in lines[asked:] if "query-" in line or '"status"' in line] == [
        "(QEMU) query-status",
        '    "status": "prelaunch",',
        "(QEMU) query-kvm",
    ], shown
    assert re.search(r'query-kvm\n\{\n  "return": \{\n.*"enabled"', shown), shown


def test_a_half_typed_line_waits_at_the_next_prompt(
    newcomer: Any, qemu_factory: QemuFactory
) -> None:
    qemu = qemu_factory.start(NEWCOMER_MACHINE)
    screen = newcomer(qemu=qemu)
    screen.type("query-name", "Enter")
    screen.wait_for(rf"OK\s*\n{PROMPT}")
    _typed_while_a_reply_waits(screen, qemu, "query-k")
    shown = screen.wait_for(rf'(?s)"status": "prelaunch".*\n{PROMPT} query-k\s*\n')
    assert shown.count("(QEMU) query-k") == 1, shown
    screen.type("vm", "Enter")  # the rest of the line, and Enter, at the prompt
    screen.wait_for(rf'"present": \w+\s*}}\s*}}\s*\n{PROMPT}')


def test_a_line_typed_during_a_wait_runs_after_the_event(
    newcomer: Any, qemu_factory: QemuFactory
) -> None:
    qemu = qemu_factory.start(NEWCOMER_MACHINE)
    screen = newcomer(qemu=qemu)
    screen.type("/wait RESUME 60", "Enter")
    screen.wait_for(r"waiting for RESUME")
    screen.type("query-status", "Enter")  # read by the status line, kept for the prompt
    other = qemu.other_client()
    other.cmd("cont")
    other.close()
    shown = screen.wait_for(rf'(?s)RESUME\s*\n{PROMPT} query-status\n.*"status": "running"')
    assert shown.count("(QEMU) query-status") == 1, shown
