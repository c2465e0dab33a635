"""Journeys: what a newcomer does first, on a fresh QEMU and a fresh HOME, with nothing
typed before it. The schema (and HMP's catalogue) must be there without a warm-up line."""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import QemuFactory, SyncQMP

# SGR with 4 (underline) among its parameters, then maybe more SGRs, then the text.
UNDERLINED = r"\x1b\[[0-9;]*4[0-9;]*m(?:\x1b\[[0-9;]*m)*"


def test_tab_completes_a_command_name_at_once(newcomer: Any) -> None:
    screen = newcomer()
    screen.type("query-sta", "Tab")
    screen.wait_for(r"query-status\s+command")
    screen.type("C-u", "query-statu")
    screen.wait_for(r"query-status\s+command")  # the menu, as you type
    screen.type("Tab")
    screen.wait_for(r"\(QEMU\) query-status\n")
    screen.type("Enter")
    screen.wait_for(r'"status": "prelaunch"')


@pytest.mark.parametrize("start", ["socket", "launch"])
def test_tab_typed_with_the_word_completes_it(newcomer: Any, start: str) -> None:
    """A fast typist's Tab comes while the menu of what was typed is still being made."""
    screen = newcomer("--launch", address=False) if start == "launch" else newcomer()
    screen.type("query-statu", "Tab")
    screen.wait_for(r"\(QEMU\) query-status\n")
    screen.type("Enter")
    screen.wait_for(r'"status": "prelaunch"')
    screen.type("C-u", "blockdev-add driver=qco", "Tab")
    screen.wait_for(r"\(QEMU\) blockdev-add driver=qcow\s.*\n.*qcow2")  # and the menu of the rest
    screen.type("Tab", "Tab")
    screen.wait_for(r"\(QEMU\) blockdev-add driver=qcow2\s")  # then its entries in turn


def test_toolbar_describes_the_argument_from_the_first_keystroke(newcomer: Any) -> None:
    screen = newcomer()
    screen.type("blockdev-add driver=file aio=")
    screen.wait_for(r"aio: enum — threads \| native")


def test_bad_argument_is_marked_from_the_first_keystroke(newcomer: Any) -> None:
    screen = newcomer("--color", "always")
    screen.type("query-status bogus=1")
    screen.wait_for(UNDERLINED + "bogus=1", escapes=True)


def test_hmp_completes_from_the_first_keystroke(newcomer: Any) -> None:
    screen = newcomer("-H")
    screen.type("info sta", "Tab")
    screen.wait_for(r"status\s+show the current VM status")


def test_hmp_switched_to_completes_at_once(newcomer: Any) -> None:
    screen = newcomer()
    screen.type("/hmp", "Enter")
    screen.wait_for(r"\(qemu\)")
    screen.type("info mt", "Tab")
    screen.wait_for(r"mtree\s+")
    screen.type("C-u", "/qmp", "Enter")
    screen.wait_for(r"(?m)^\(QEMU\)\s*$")
    screen.type("query-sta", "Tab")
    screen.wait_for(r"query-status\s+command")


def test_completion_after_a_reconnection(newcomer: Any, qemu_factory: QemuFactory) -> None:
    qemu = qemu_factory.start()
    screen = newcomer("--reconnect", qemu=qemu)
    qemu.stop()
    screen.wait_for("reconnecting")
    qemu_factory.start(reuse=qemu.directory)
    screen.wait_for("reconnected to")
    screen.type("query-sta", "Tab")
    screen.wait_for(r"query-status\s+command")


@contextlib.contextmanager
def slow_schema(path: str) -> Iterator[tuple[str, threading.Event]]:
    """A misbehaving peer in front of a real QEMU: it relays both ways, but holds back
    ``query-qmp-schema`` until the test sets the event it yields."""
    release = threading.Event()
    directory = tempfile.mkdtemp(prefix="qs-slow-")
    front = os.path.join(directory, "slow.sock")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(front)
    listener.listen(1)
    threads: list[threading.Thread] = []

    def pump(source: socket.socket, sink: socket.socket, hold: bool) -> None:
        with contextlib.suppress(OSError):
            for line in source.makefile("rb"):
                if hold and b"query-qmp-schema" in line:
                    release.wait(30)
                sink.sendall(line)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def serve() -> None:
        with contextlib.suppress(OSError):
            client, _ = listener.accept()
            qemu = socket.socket(socket.AF_UNIX)
            qemu.connect(path)
            for args in ((client, qemu, True), (qemu, client, False)):
                thread = threading.Thread(target=pump, args=args, daemon=True)
                thread.start()
                threads.append(thread)

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    try:
        yield front, release
    finally:
        release.set()
        listener.close()
        with contextlib.suppress(OSError):
            os.unlink(front)
        os.rmdir(directory)


def test_tab_while_the_schema_loads(newcomer: Any, qemu_factory: QemuFactory) -> None:
    qemu = qemu_factory.start()
    with slow_schema(qemu.qmp) as (front, release):
        screen = newcomer(front, address=False)
        screen.type("/he", "Tab")  # meta-commands are known at once
        screen.wait_for(r"(?m)\(QEMU\) /help\s*$")
        screen.type("C-u", "query-sta", "Tab")  # waits for the schema...
        release.set()
        screen.wait_for(r"query-status\s+command")  # ...and offers it when it comes
        screen.type("C-u", "query-name", "Enter")
        screen.wait_for("OK|return")
    other = SyncQMP(qemu.aux)
    other.close()


def test_a_tiny_terminal_still_has_a_prompt(newcomer: Any) -> None:
    screen = newcomer(width=40, height=8)  # the fixture waits for the prompt itself
    assert "Window too small" not in screen.screen()
    screen.wait_for(r"prelaunch │ QMP")  # the state and mode stay; the path gives way
    screen.type("query-sta")
    screen.wait_for(r"query-stats\s+command")
    screen.type("tus", "Enter")
    screen.wait_for(r'"status": "prelaunch"')
