"""The guest agent (qemu-ga): resynchronising its stream, and what it says it supports.

The agent has no greeting and no negotiation, and a stream to it may hold stale bytes (a
reply to a command the shell gave up on, a half-written request). Before the first
command and after a timeout, :meth:`GuestAgent.sync` sends 0xFF (the agent resets its
parser) and ``guest-sync-delimited`` with a random id; everything before the agent's own
0xFF and the reply carrying that id is discarded.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from ..errors import CommandError, ConnectError, ProtocolError, QMPShellError
from ..escape import escape_lines
from ..records import Record
from .client import QMPClient

# How much of a program's output (decoded bytes per stream) guest-exec-status shows; the
# reply itself holds up to 16 MB of it.
EXEC_OUTPUT_SHOWN = 64 * 1024


class AgentCommand(Record):
    name: str
    enabled: bool
    replies: bool  # False: the agent sends nothing back on success (guest-shutdown)


class GuestAgent:
    """What one agent supports, and keeping its stream in step."""

    def __init__(self, client: QMPClient) -> None:
        self.client = client
        self.version = ""
        self.commands: dict[str, AgentCommand] = {}

    async def sync(self, timeout: float | None) -> None:
        """Resynchronise the stream (see the module docstring)."""
        import random  # only the guest agent needs it; scripted start-up stays lean

        ident = random.randrange(1, 2**31)
        self.client.begin_resync()
        reply = await self.client.request(
            {"execute": "guest-sync-delimited", "arguments": {"id": ident}}, timeout=timeout
        )
        if reply.get("return") != ident:
            raise ProtocolError(f"the guest agent answered the resync with {reply!r:.80}")

    async def load_info(self, timeout: float | None) -> None:
        """Read ``guest-info``: the agent's version and its commands."""
        try:
            info = await self.client.execute("guest-info", timeout=timeout)
        except CommandError:
            return
        self.version = str(info.get("version", ""))
        for entry in info.get("supported_commands", []):
            command = AgentCommand(
                str(entry.get("name")),
                bool(entry.get("enabled", True)),
                bool(entry.get("success-response", True)),
            )
            self.commands[command.name] = command

    def sends_no_reply(self, name: str) -> bool:
        """Whether ``name`` sends nothing on success (a disabled one replies with an
        error, so that is waited for)."""
        command = self.commands.get(name)
        return command is not None and command.enabled and not command.replies

    def completions(self) -> list[tuple[str, str]]:
        """Command names with what the menu should say about them."""
        return [
            (c.name, "disabled" if not c.enabled else "no reply" if not c.replies else "command")
            for c in sorted(self.commands.values(), key=lambda c: c.name)
        ]


async def connect_agent(client: QMPClient, timeout: float | None) -> GuestAgent:
    """A :class:`GuestAgent` for a connected client, in step and with its command list."""
    agent = GuestAgent(client)
    try:
        await agent.sync(timeout)
    except ConnectError:  # not an agent at all (a QMP monitor): said as it is
        raise
    except QMPShellError as exc:
        raise ProtocolError(f"no guest agent answers at {client.address}: {exc}") from None
    await agent.load_info(timeout)
    return agent


def exec_output(reply: dict[str, Any], limit: int = EXEC_OUTPUT_SHOWN) -> str:
    """What ``guest-exec-status`` caught of a program's output (``out-data``,
    ``err-data``: base64), decoded as text to show beneath the reply: control characters
    escaped, at most ``limit`` bytes of each stream; "" when there is none."""
    value = reply.get("return")
    if not isinstance(value, dict):
        return ""
    blocks = []
    for stream in ("out", "err"):
        data = value.get(f"{stream}-data")
        if not isinstance(data, str) or not data:
            continue
        try:
            raw = base64.b64decode(data[: -(-limit // 3) * 4], validate=True)
        except (binascii.Error, ValueError):
            blocks.append(f"{stream}-data: not valid base64")
            continue
        text = escape_lines(raw[:limit].decode("utf-8", "replace")).rstrip("\n")
        notes = []
        left = len(data) // 4 * 3 - data[-2:].count("=") - min(len(raw), limit)
        if left > 0:
            notes.append(f"{left} more bytes not shown")
        if value.get(f"{stream}-truncated") is True:
            notes.append("qemu-ga cut it short")
        tail = f"\n({'; '.join(notes)})" if notes else ""
        blocks.append(f"{stream}-data (decoded):\n{text}{tail}")
    return "\n".join(blocks)
