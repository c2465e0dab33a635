"""One line of input, start to finish: parse it, send it, wait, show the reply.

Scripted mode and the interactive shell both run lines through :class:`LineRunner`, so a
line means the same thing wherever it was typed. The runner owns the parser (and with it
an open transaction block), the meta-commands, and the point in the event log that
``/wait`` looks from; it loads the schema the first time a line needs typing.
"""

from __future__ import annotations

from typing import Any

from .client import QMPClient
from .errors import InputError, ReplyTimeout
from .events import EventLog
from .introspection import load_schema
from .meta import MetaCommands
from .output import Output
from .shorthand import Parser

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
        events: EventLog,
        *,
        verbose: bool = False,
        timeout: float | None = None,
        use_schema: bool = True,
    ) -> None:
        self.client = client
        self.output = output
        self.events = events
        self.verbose = verbose
        self.timeout = timeout
        self.parser = Parser()
        self.meta = MetaCommands(self)
        # /wait looks at events numbered from here: set when a command is sent, moved
        # past each event a /wait consumes.
        self.wait_from = 0
        self._schema_wanted = use_schema

    @property
    def in_transaction(self) -> bool:
        return self.parser.in_transaction

    async def ensure_schema(self) -> None:
        """Load the schema once, when first needed (a failed attempt is not repeated)."""
        if self._schema_wanted:
            self._schema_wanted = False
            self.parser.schema = await load_schema(self.client, timeout=self.timeout)

    async def run_line(self, line: str, where: str = "") -> bool:
        """Run one line; True when it succeeded (or was taken into an open block).

        Input errors, error replies and reply timeouts are shown and return False.
        :class:`~qmpshell.errors.ConnectionLost` propagates: the session cannot go on,
        and so does :class:`~qmpshell.meta.Quit`.
        """
        text = line.strip()
        try:
            if text.startswith("/"):
                return await self.meta.run(text)
            if self.parser.in_transaction or not text.startswith("{"):
                await self.ensure_schema()
            message = self.parser.feed(line)
            if message is not None and "exec-oob" in message and not self.client.oob_enabled:
                raise InputError(
                    "out-of-band execution needs the oob capability, which was not "
                    "negotiated (the server does not offer it, or -N was given)",
                    0,
                )
        except InputError as exc:
            self.output.input_error(line, exc, where)
            return False
        if message is None:
            return True  # an action taken into the open transaction block
        return await self.run_message(message, where)

    async def run_message(self, message: Message, where: str = "") -> bool:
        """Send a parsed message, show its reply; True when it succeeded."""
        if self.verbose:
            self.output.message(message)
        self.wait_from = self.events.total
        try:
            reply = await self.client.request(message, timeout=self.timeout)
        except ReplyTimeout as exc:
            command = message.get("execute", message.get("exec-oob", "command"))
            self.output.error(f"{where}: {command}: {exc}" if where else f"{command}: {exc}")
            return False
        if "id" not in message:
            reply = {k: v for k, v in reply.items() if k != "id"}
        self.output.reply(reply)
        if message.get("execute") == "qmp_capabilities" and "return" in reply:
            # Negotiated by hand (-N): the schema can be read now.
            self._schema_wanted = self.parser.schema is None
        return "error" not in reply
