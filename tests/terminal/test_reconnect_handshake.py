"""``--reconnect`` survives a drop at any step of the reconnection's handshake.

A real QEMU cannot drop at a chosen step, so a fake peer plays one that does: its first
connection behaves until the test cuts it; each of the next ones drops at one step of the
handshake in turn (before the greeting, half-way through it, at ``qmp_capabilities``,
``query-commands``, ``query-qmp-schema``, ``query-status``, or leaves ``query-status``
unanswered until the reply times out), or for a guest agent at its resync or
``guest-info``; then it refuses connections until the test lets it behave (or a real
QEMU takes the path over). The shell must keep trying, say so in the
toolbar, and end up connected with a command that works.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import QemuFactory
from fakepeer import (
    GREETING,
    encode,
    error_reply_to,
    recv_json,
    recv_line,
    reply,
    reply_to,
    running_peer,
    send_greeting,
    wait_for_close,
)
from script_shell import Script, stderr_line
from waiting import wait_for

COMMANDS = ["qmp_capabilities", "query-commands", "query-qmp-schema", "query-status", "query-name"]
SCHEMA = [
    {"name": "0", "meta-type": "object", "members": []},
    {"name": "str", "meta-type": "builtin", "json-type": "string"},
    {"name": "any", "meta-type": "builtin", "json-type": "value"},
    {"name": "NameInfo", "meta-type": "object", "members": [{"name": "name", "type": "str"}]},
    *(
        {"name": name, "meta-type": "command", "arg-type": "0", "ret-type": "any"}
        for name in COMMANDS
    ),
]
RESULTS: dict[str, Any] = {
    "qmp_capabilities": {},
    "query-commands": [{"name": name} for name in COMMANDS],
    "query-qmp-schema": SCHEMA,
    "query-status": {"status": "running", "running": True},
    "query-name": {"name": "flaky"},
}
SILENT = "query-status, no reply"  # "COMMAND, no reply": left unanswered
# Where a connection drops: before the greeting, in its middle, at a command's arrival.
SHELL_STEPS = ["connect", "greeting", *COMMANDS[:4], SILENT]
SCRIPT_STEPS = ["connect", "greeting", *COMMANDS[:3]]  # a script reads no run state
AGENT_STEPS = ["connect", "guest-sync-delimited", "guest-info"]
AGENT_RESULTS: dict[str, Any] = {
    "guest-info": {
        "version": "9.9.9",
        "supported_commands": [{"name": "guest-ping", "enabled": True, "success-response": True}],
    },
    "guest-ping": {},
}


class FlakyQemu:
    """The fake peer's behaviour: see the module docstring."""

    def __init__(self, steps: list[str], *, agent: bool = False) -> None:
        self.steps = steps
        self.agent = agent  # a guest agent: no greeting, 0xFF around a resync
        self.reached: list[str] = []  # the steps dropped at, in order
        self.go = threading.Event()
        self.first: socket.socket | None = None
        self._count = 0
        self._lock = threading.Lock()

    def __call__(self, conn: socket.socket) -> None:
        with self._lock:
            number = self._count
            self._count += 1
        if number == 0:
            self.first = conn
            self._serve(conn, None)
        elif number <= len(self.steps):
            self._serve(conn, self.steps[number - 1])
        elif self.go.is_set():
            self._serve(conn, None)
        # else: closed at once, until the test says go

    def _serve(self, conn: socket.socket, drop_at: str | None) -> None:
        if drop_at == "connect":
            self.reached.append(drop_at)
            return
        if drop_at == "greeting":
            conn.sendall(encode(GREETING)[:25])
            self.reached.append(drop_at)
            return
        if not self.agent:
            send_greeting(conn)
        while True:
            request = json.loads(recv_line(conn).lstrip(b"\xff"))  # the resync's 0xFF
            command = request.get("execute", "")
            if command == drop_at:
                self.reached.append(drop_at)
                return
            if drop_at == f"{command}, no reply":
                self.reached.append(drop_at)
                wait_for_close(conn)  # until the shell's timeout gives up on it
                return
            if self.agent and command == "guest-sync-delimited":
                conn.sendall(b"\xff" + encode(reply_to(request, request["arguments"]["id"])))
            elif command in (AGENT_RESULTS if self.agent else RESULTS):
                reply(conn, request, (AGENT_RESULTS if self.agent else RESULTS)[command])
            else:
                conn.sendall(encode(error_reply_to(request, "no", "CommandNotFound")))

    def drop_first(self) -> None:
        assert self.first is not None
        self.first.shutdown(socket.SHUT_RDWR)

    def wait_all_reached(self) -> None:
        wait_for(lambda: len(self.reached) == len(self.steps), f"drops at {self.steps}", 30)
        assert self.reached == self.steps


OPTIONS = ("--reconnect=60", "--no-schema-cache", "--timeout=2")


def test_shell_survives_a_drop_at_each_step(newcomer: Any) -> None:
    flaky = FlakyQemu(SHELL_STEPS)
    with running_peer(flaky) as peer:
        screen = newcomer(*OPTIONS, peer.path, address=False)
        screen.wait_for(r"flaky.sock|running │ QMP")
        flaky.drop_first()
        screen.wait_for("closed by peer; waiting for")
        screen.wait_for(r"disconnected, reconnecting \(attempt \d+\)")
        flaky.wait_all_reached()
        # Still trying after every kind of drop: the attempt count has gone past them.
        screen.wait_for(rf"reconnecting \(attempt ([{len(SHELL_STEPS) + 1}-9]|\d\d+)\)")
        flaky.go.set()
        screen.wait_for(f"reconnected to {peer.path}")
        screen.wait_for(r"QEMU 7\.2\.0 │ running │ QMP")  # the run state read again
        screen.type("query-name", "Enter")
        screen.wait_for(r'"name": "flaky"')
        shown = screen.screen(scrollback=True)
        assert "may have run or not" not in shown and "Traceback" not in shown, shown
        screen.type("C-d")
        assert screen.wait_exit() == 0


@pytest.mark.parametrize("then", ["the peer behaves", "a real QEMU takes over"])
def test_script_survives_a_drop_at_each_step(
    then: str, shell_env: dict[str, str], qemu_factory: QemuFactory
) -> None:
    flaky = FlakyQemu(SCRIPT_STEPS)
    with running_peer(flaky) as peer:
        script = Script(shell_env, *OPTIONS, peer.path)
        script.send("query-name")
        assert script.reply() == {"return": {"name": "flaky"}}
        flaky.drop_first()
        stderr_line(script.proc.stderr, "closed by peer; waiting for")
        flaky.wait_all_reached()
        if then == "the peer behaves":
            flaky.go.set()
            script.send("query-name")
            assert script.reply() == {"return": {"name": "flaky"}}
    if then == "a real QEMU takes over":
        os.makedirs(os.path.dirname(peer.path), exist_ok=True)
        qemu = qemu_factory.start(reuse=os.path.dirname(peer.path))
        try:
            script.send("query-name")
            assert script.reply() == {"return": {}}
        finally:
            Path(qemu.directory, "qmp.sock").unlink(missing_ok=True)
    status, stderr = script.finish()
    assert status == 0, stderr
    assert f"reconnected to {peer.path}" in stderr
    assert "Traceback" not in stderr


def test_a_handshake_slower_than_the_limit_is_cut_short(shell_env: dict[str, str]) -> None:
    """Each step has the session's timeout (30 s here), but the limit of --reconnect (1 s)
    bounds the attempt."""
    flaky = FlakyQemu(["query-commands, no reply"])
    with running_peer(flaky) as peer:
        script = Script(shell_env, "--reconnect=1", "--no-schema-cache", peer.path)
        script.send("query-name")
        assert script.reply() == {"return": {"name": "flaky"}}
        flaky.drop_first()
        started = time.monotonic()
        stderr_line(script.proc.stderr, "closed by peer; waiting for")
        gave_up = stderr_line(script.proc.stderr, f"gave up waiting for {peer.path} after 1s")
        assert "did not finish the handshake in time" in gave_up
        assert script.proc.wait(timeout=10) == 3
        assert time.monotonic() - started < 5
        assert flaky.reached == ["query-commands, no reply"]


def test_agent_script_survives_a_drop_at_each_step(shell_env: dict[str, str]) -> None:
    flaky = FlakyQemu(AGENT_STEPS, agent=True)
    with running_peer(flaky) as peer:
        script = Script(shell_env, "--reconnect=60", "--timeout=2", "--ga", peer.path)
        script.send("guest-ping")
        assert script.reply() == {"return": {}}
        flaky.drop_first()
        stderr_line(script.proc.stderr, "closed by peer; waiting for")
        flaky.wait_all_reached()
        flaky.go.set()
        script.send("guest-ping")
        assert script.reply() == {"return": {}}
        status, stderr = script.finish()
    assert status == 0, stderr
    assert f"reconnected to {peer.path}" in stderr


def test_a_line_waiting_for_a_schema_load_the_reconnection_drops() -> None:
    """A line that waits for the schema while a reconnection replaces the load (it read
    the old connection) is told the connection was lost; it is not cancelled itself."""
    import asyncio
    import io

    from qmpshell.errors import ConnectionLost
    from qmpshell.protocol.address import UnixAddress
    from qmpshell.protocol.client import QMPClient
    from qmpshell.session.events import EventLog
    from qmpshell.session.meta import MetaCommands
    from qmpshell.session.runner import LineRunner
    from qmpshell.ui.console import Console
    from qmpshell.ui.output import Output

    asked = threading.Event()

    def stalls_on_query_commands(conn: socket.socket) -> None:
        send_greeting(conn)
        reply(conn, recv_json(conn))  # qmp_capabilities
        while recv_json(conn).get("execute") == "query-commands":
            asked.set()  # and no reply

    async def body() -> None:
        async with QMPClient() as client:
            await client.connect(UnixAddress(peer.path), timeout=5)
            output = Output(Console(io.StringIO(), io.StringIO()))
            runner = LineRunner(
                client, output, EventLog(output.event), timeout=30, meta=MetaCommands
            )
            line = asyncio.ensure_future(runner.schema_load.ensure())
            await asyncio.get_running_loop().run_in_executor(None, asked.wait, 10)
            reload = asyncio.ensure_future(runner.reconnected())
            with pytest.raises(ConnectionLost):
                await line
            reload.cancel()

    with running_peer(stalls_on_query_commands) as peer:
        asyncio.run(body())
