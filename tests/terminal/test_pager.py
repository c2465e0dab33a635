"""Journey: a reply taller than the screen goes through less, and stays on the screen
after q; events that came meanwhile are shown after it."""

from __future__ import annotations

from typing import Any

from conftest import QemuFactory


def test_pager_leaves_the_text_and_then_shows_the_events(
    newcomer: Any, qemu_factory: QemuFactory
) -> None:
    qemu = qemu_factory.start(("-machine", "q35,accel=tcg", "-m", "128", "-S"))
    screen = newcomer(qemu=qemu, height=12)
    screen.type("query-commands", "Enter")
    screen.wait_for(r"(?m)^:\s*$")  # less's prompt: the reply is paged
    other = qemu.other_client()
    try:
        other.cmd("cont")  # an event while the pager is up
    finally:
        other.close()
    screen.type("q")
    text = screen.wait_for(r"(?s)RESUME.*\(QEMU\)")
    # The page last seen is still there above the event.
    assert '"name":' in text.split("RESUME")[0], text


def test_short_output_is_not_paged(newcomer: Any) -> None:
    screen = newcomer(height=40)
    screen.type("query-status", "Enter")
    screen.wait_for(r'(?s)"status": "prelaunch".*\(QEMU\)')
