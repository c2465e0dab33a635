"""The guest agent (qemu-ga): resynchronising its stream, and what it says it supports.

The agent has no greeting and no negotiation, and a stream to it may hold stale bytes (a
reply to a command the shell gave up on, a half-written request). Before the first
command and after a timeout, :meth:`GuestAgent.sync` sends 0xFF (the agent resets its
parser) and ``guest-sync-delimited`` with a random id; everything before the agent's own
0xFF and the reply carrying that id is discarded.
"""

from __future__ import annotations

from typing import NamedTuple

from .client import QMPClient
from .errors import CommandError, ConnectError, ProtocolError, QMPShellError


class AgentCommand(NamedTuple):
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
