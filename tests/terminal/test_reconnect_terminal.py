"""``--reconnect`` in the interactive shell (a pty): QEMU killed and started again on the
same socket, the session goes on."""

from __future__ import annotations

from typing import Any

import pexpect
from conftest import QemuFactory, QemuProcess
from pty_shell import PROMPT, echoed, quit_at_prompt, spawn, type_line
from waiting import stop, wait_queued_to


def test_shell_keeps_the_half_typed_line_and_the_event_log(
    shell_env: dict[str, str], qemu_factory: QemuFactory
) -> None:
    first = qemu_factory.start(("-machine", "q35,accel=tcg", "-m", "128", "-S"))
    child = spawn(shell_env, "--reconnect", first.qmp)
    try:
        child.expect(PROMPT)
        other = first.other_client()
        other.cmd("cont")  # an event in the log of the first connection
        child.expect("RESUME")
        other.close()
        child.send("query-ver")
        child.expect(echoed("query-ver"))
        first.proc.kill()
        child.expect(f"closed by peer; waiting for {first.qmp} to come back")
        second = qemu_factory.start_storage_daemon(reuse=first.directory)
        child.expect(f"reconnected to {second.qmp}")
        child.send("sion")  # the rest of the line typed before QEMU died
        child.send("\r")
        child.expect('"micro"')
        # The schema was read again: the storage daemon has no query-status.
        type_line(child, "query-status")
        child.expect("unknown command 'query-status'")
        type_line(child, "/events")
        child.expect("RESUME")
        quit_at_prompt(child)
    finally:
        child.close()
    assert child.exitstatus == 0


def test_shell_command_waiting_when_qemu_dies(
    shell_env: dict[str, str], qemu_factory: QemuFactory
) -> None:

    first = qemu_factory.start()
    child = spawn(shell_env, "--reconnect=30", first.qmp)
    try:
        child.expect(PROMPT)
        # A first line waits for the schema, which then cannot be what is in flight.
        type_line(child, "query-name")
        child.expect(r"OK|\{\}")
        child.expect(PROMPT)
        stop(first.proc.pid)
        type_line(child, "query-status")
        wait_queued_to(first.proc.pid)  # sent; the stopped QEMU cannot answer
        first.proc.kill()
        child.expect("no reply: the connection was lost; the command may have run or not")
        child.expect(PROMPT)
        type_line(child, "query-name")  # while QEMU is away
        child.expect(r"not connected \(waiting for the monitor to come back\); not sent")
        qemu_factory.start(reuse=first.directory)
        child.expect("reconnected to")
        type_line(child, "query-name")
        child.expect(r"OK|\{\}")
        quit_at_prompt(child)
    finally:
        child.close()
    assert child.exitstatus == 0


def test_shell_gives_up_after_the_limit(shell_env: dict[str, str], qemu: QemuProcess) -> None:
    child = spawn(shell_env, "--reconnect=0.5", qemu.qmp)
    try:
        child.expect(PROMPT)
        qemu.proc.kill()
        child.expect("waiting for")
        child.expect(f"gave up waiting for {qemu.qmp} after 0.5s")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 3


# How often the journey below is run: the attempt it ends fails within a millisecond,
# and about two runs in seven used to hit that moment.
CTRL_D_CYCLES = 6


def test_ctrl_d_while_reconnecting_ends_quietly(newcomer: Any, qemu_factory: QemuFactory) -> None:
    """Ctrl-D while QEMU is away ends the session with nothing but the goodbye: the
    reconnection attempt under way is ended with the session, its failure taken, not
    left for asyncio to report at shutdown."""
    for _ in range(CTRL_D_CYCLES):
        qemu = qemu_factory.start()
        screen = newcomer("--reconnect", qemu=qemu)
        qemu.stop()
        screen.wait_for("reconnecting")
        screen.type("C-d")
        status = screen.wait_exit()
        shown = screen.screen(scrollback=True)
        assert "Traceback" not in shown, shown
        assert "unhandled exception" not in shown, shown
        assert "exception was never retrieved" not in shown, shown
        assert status == 0, shown
        screen.close()
