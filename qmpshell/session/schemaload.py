"""The schema of the session's QEMU, loaded once and shared: started in the background
by the interactive shell at connect (so that completion works from the first keystroke),
awaited by a line that needs it for no longer than the timeout (the line goes untyped,
said once, until it comes), read afresh after a reconnection."""

from __future__ import annotations

import asyncio

from ..errors import ConnectionLost
from ..language.shorthand import Parser
from ..protocol.client import QMPClient
from .display import Display
from .introspection import late_note, load_schema, unusable_note, usable


class SchemaLoad:
    """Loads the schema into ``parser`` (its ``schema``), once, when first wanted."""

    def __init__(
        self,
        client: QMPClient,
        parser: Parser,
        output: Display,
        *,
        timeout: float | None,
        wanted: bool = True,
        cache: bool = True,
    ) -> None:
        self.client = client
        self.parser = parser
        self.output = output
        self.timeout = timeout
        self.wanted_at_all = wanted  # False: a guest agent has no schema
        self._cache = cache  # False: --no-schema-cache
        self._wanted = wanted
        self._load_task: asyncio.Future[None] | None = None
        self._late = False  # the load outlived the timeout; lines go untyped

    async def ensure(self) -> None:
        """Load the schema once, when first needed (a failed attempt is not repeated).

        One load serves every caller: the interactive shell starts it in the background
        at connect (:meth:`preload`), and a line typed meanwhile waits for it.
        """
        if self._wanted:
            self._wanted = False
            self._load_task = self._start()
        load = self._load_task
        if load is not None and not load.done() and not self._late:
            # Shielded: Ctrl-C on the line that waits must not cancel the shared load.
            # No longer than a reply may take: then the line goes untyped.
            try:
                await asyncio.wait_for(asyncio.shield(load), self.timeout)
            except asyncio.TimeoutError:
                self._overdue(load)
            except asyncio.CancelledError:
                if not load.cancelled():
                    raise  # this line was cancelled
                # The load was dropped with the connection it read (--reconnect).
                raise ConnectionLost(f"connection to {self.client.address} lost") from None

    def preload(self) -> asyncio.Future[None] | None:
        """Start loading the schema now, without waiting for it (the interactive shell, so
        that completion works from the first keystroke); the load, or None when there is
        nothing to load."""
        if self._wanted and self.client.negotiated:
            self._wanted = False
            self._load_task = self._start()
        return self._load_task

    def _start(self) -> asyncio.Future[None]:
        self._late = False
        load = asyncio.ensure_future(self._load())
        # Awaited by whoever needs it; when nobody does any more (the line that waited
        # was cancelled, the session ends), its failure is still retrieved here.
        load.add_done_callback(lambda done: done.cancelled() or done.exception())
        if self.timeout is not None:
            # Said when the time is up, whether or not a line waits for it.
            timer = asyncio.get_running_loop().call_later(self.timeout, self._overdue, load)
            load.add_done_callback(lambda _: timer.cancel())
        return load

    def _overdue(self, load: asyncio.Future[None]) -> None:
        """The schema did not come within the timeout (QEMU stopped, or busy): say so
        once; lines go untyped meanwhile, and the load goes on, to be used once QEMU
        answers."""
        if load.done() or self._late or load is not self._load_task:
            return
        self._late = True
        self.output.note(late_note(self.timeout))
        load.add_done_callback(self._arrived)

    def _arrived(self, load: asyncio.Future[None]) -> None:
        self._late = False
        if not load.cancelled() and load.exception() is None and self.parser.schema is not None:
            self.output.note("the schema has come: lines are typed by it again")

    async def _load(self) -> None:
        # No time limit of its own: a QEMU stopped for a while sends it when it resumes
        # (the lines meanwhile wait no longer than the timeout, see ensure).
        try:
            self.parser.schema = usable(await load_schema(self.client, cache=self._cache))
        except (TypeError, ValueError, AttributeError) as exc:
            # What the peer answered to query-commands or query-qmp-schema makes no
            # schema (SchemaInvalid says why): go on without one.
            self.output.note(unusable_note(exc))

    def negotiated(self) -> None:
        """Capabilities were negotiated by hand (``-N``, then ``qmp_capabilities``): the
        schema can be read now, if it has not been."""
        self._wanted = self.wanted_at_all and self.parser.schema is None

    def forget(self) -> None:
        """The connection was made again, maybe to another QEMU build: forget the
        schema, and load it afresh when next wanted."""
        self.parser.schema = None
        self._wanted = True
        if self._load_task is not None and not self._load_task.done():
            self._load_task.cancel()  # it was reading the old connection
        self._load_task = None
