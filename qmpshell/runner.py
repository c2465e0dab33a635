"""One line of input, start to finish: parse it, send it, wait, show the reply.

Scripted mode and the interactive shell both run lines through :class:`LineRunner`, so a
line means the same thing wherever it was typed.
"""

from __future__ import annotations

from typing import Any

from .client import QMPClient
from .errors import InputError, ReplyTimeout
from .output import Output
from .shorthand import parse_line

Message = dict[str, Any]


def is_skipped(line: str) -> bool:
    """Blank lines and ``#`` comments do nothing."""
    text = line.strip()
    return not text or text.startswith("#")


class LineRunner:
    """Runs lines against a connected client and shows what comes back."""

    def __init__(
        self,
        client: QMPClient,
        output: Output,
        *,
        verbose: bool = False,
        timeout: float | None = None,
    ) -> None:
        self.client = client
        self.output = output
        self.verbose = verbose
        self.timeout = timeout

    async def run_line(self, line: str, where: str = "") -> bool:
        """Run one line; True when the command succeeded.

        Input errors, error replies and reply timeouts are shown and return False.
        :class:`~qmpshell.errors.ConnectionLost` propagates: the session cannot go on.
        """
        prefix = f"{where}: " if where else ""
        try:
            message = parse_line(line)
        except InputError as exc:
            self.output.error(f"{prefix}{exc}")
            return False
        return await self.run_message(message, prefix)

    async def run_message(self, message: Message, prefix: str = "") -> bool:
        """Send a parsed message, show its reply; True when it succeeded."""
        if self.verbose:
            self.output.message(message)
        try:
            reply = await self.client.request(message, timeout=self.timeout)
        except ReplyTimeout as exc:
            command = message.get("execute", message.get("exec-oob", "command"))
            self.output.error(f"{prefix}{command}: {exc}")
            return False
        if "id" not in message:
            reply = {k: v for k, v in reply.items() if k != "id"}
        self.output.message(reply)
        return "error" not in reply
