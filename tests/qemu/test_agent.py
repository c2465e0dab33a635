"""Guest agent mode against a real qemu-ga running on this machine.

The agent runs with every command that would act on the host itself (shutdown, suspend,
freezing filesystems, setting the clock...) blocked, so tests cannot harm the machine.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from guest_agent import AgentProcess
from waiting import stop

from qmpshell.protocol.address import UnixAddress
from qmpshell.protocol.agent import AgentCommand, connect_agent
from qmpshell.protocol.client import QMPClient
from qmpshell.session.events import EventLog
from qmpshell.session.meta import MetaCommands
from qmpshell.session.runner import LineRunner
from qmpshell.ui.console import Console
from qmpshell.ui.output import Output


def test_ping_info_time(run_shell: Any, agent: AgentProcess) -> None:
    before = time.time_ns()
    result = run_shell(
        "--ga", agent.path, "-c", "guest-ping", "-c", "guest-info", "-c", "guest-get-time"
    )
    assert result.status == 0, result.stderr
    ping, info, clock = result.messages()
    assert ping == {"return": {}}
    names = {c["name"]: c for c in info["return"]["supported_commands"]}
    assert names["guest-ping"]["enabled"] and not names["guest-shutdown"]["enabled"]
    assert before <= clock["return"] <= time.time_ns()


def test_shorthand_uses_the_untyped_rules(run_shell: Any, agent: AgentProcess) -> None:
    result = run_shell("--ga", agent.path, "-c", "guest-sync id=42", "-c", 'guest-sync id="42"')
    assert result.messages()[0] == {"return": 42}
    assert result.messages()[1]["error"]["class"] == "GenericError"  # an int is wanted


def test_disabled_command_is_waited_for(run_shell: Any, agent: AgentProcess) -> None:
    # guest-shutdown is disabled here, and a disabled command replies with an error.
    result = run_shell("--ga", agent.path, "-c", "guest-shutdown")
    assert result.status == 1
    assert "disabled" in result.messages()[0]["error"]["desc"]


def test_no_reply_commands_are_not_waited_for(agent: AgentProcess) -> None:
    """The commands that send no reply on success shut down or suspend the machine the
    agent runs on, which a test on this host must not do; so the agent's own list is
    edited to say guest-ping sends none, and the real path is run against it."""

    async def body() -> tuple[bool, bool]:
        async with QMPClient(guest_agent=True) as client:
            await client.connect(UnixAddress(agent.path), timeout=5)
            ga = await connect_agent(client, 5)
            assert ga.commands["guest-shutdown"].replies is False  # as qemu-ga says
            ga.commands["guest-ping"] = AgentCommand("guest-ping", True, replies=False)
            notes = io.StringIO()
            output = Output(Console(io.StringIO(), notes))
            runner = LineRunner(
                client, output, EventLog(output.event), agent=ga, timeout=5, meta=MetaCommands
            )
            sent = await runner.run_line("guest-ping")
            assert "guest-ping sent; the guest agent does not reply" in notes.getvalue()
            # Its reply comes anyway and is dropped by id; the next command gets its own.
            ok = await runner.run_line("guest-get-time")
            return sent, ok

    assert asyncio.run(body()) == (True, True)


def test_resync_after_stale_bytes(
    shell_env: dict[str, str], agent: AgentProcess, tmp_path: Path
) -> None:
    """A reply that comes after its command timed out is stale: the resync after the
    timeout discards it (everything before the agent's 0xFF), and the next command gets
    its own reply."""
    log = tmp_path / "ga.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "qmpshell", "--timeout", "2", "--ga", agent.path, "-l", str(log)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=shell_env,
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    try:
        proc.stdin.write(b"guest-ping\n")
        proc.stdin.flush()
        first = proc.stdout.readline()  # the first ping is answered
        stop(agent.proc.pid)
        proc.stdin.write(b"guest-info\n")  # the agent cannot answer now
        proc.stdin.flush()
        assert b"guest-info: no reply within 2s" in proc.stderr.readline()
        os.kill(agent.proc.pid, signal.SIGCONT)  # its late reply now lands in the stream
        out, err = proc.communicate(b"guest-get-time\n", timeout=20)
    finally:
        os.kill(agent.proc.pid, signal.SIGCONT)
        proc.kill()
        proc.wait()
    replies = [json.loads(line) for line in [first, *out.splitlines()]]
    assert replies[0] == {"return": {}}
    assert isinstance(replies[1]["return"], int)  # the time, not the stale guest-info
    assert len(replies) == 2, err
    received = [json.loads(line)["msg"] for line in log.read_text().splitlines()]
    received = [m for m in received if "return" in m]
    assert not any("supported_commands" in str(m["return"]) for m in received[2:]), (
        "the stale guest-info reply was decoded instead of discarded"
    )
    # Resync replies return the random id they were given: integers, like the time.
    syncs = [m for m in received[:-1] if isinstance(m["return"], int)]
    assert len(syncs) >= 2  # at connect, and after the timeout


def test_agent_not_answering(run_shell: Any, agent: AgentProcess) -> None:
    stop(agent.proc.pid)
    try:
        result = run_shell("--timeout", "0.5", "--ga", agent.path, "-c", "guest-ping")
    finally:
        os.kill(agent.proc.pid, signal.SIGCONT)
    assert result.status == 3
    assert "no guest agent answers at" in result.stderr


# -- guest-exec-status: the program's output decoded --------------------------------------


def test_exec_status_in_a_script_is_the_reply_as_it_came(
    run_shell: Any, exec_agent: AgentProcess, tmp_path: Path
) -> None:
    """stdout stays one JSON line per message (``jq -r '.return["out-data"] | @base64d'``
    decodes it); the transcript keeps what was received."""
    log = tmp_path / "ga.jsonl"
    args = ["--ga", exec_agent.path, "-l", str(log)]
    started = run_shell(*args, "-c", 'guest-exec path=/bin/echo arg=["hello"] capture-output=true')
    pid = started.messages()[0]["return"]["pid"]
    for _ in range(100):  # echo ends at once; the agent notices within its own poll
        result = run_shell(*args, "-c", f"guest-exec-status pid={pid}")
        (reply,) = result.messages()
        if reply["return"]["exited"]:
            break
    assert (result.status, result.stderr) == (0, "")
    assert base64.b64decode(reply["return"]["out-data"]) == b"hello\n"
    assert "decoded" not in result.stdout
    received = [json.loads(line)["msg"] for line in log.read_text().splitlines()]
    assert received[-1]["return"] == reply["return"]
