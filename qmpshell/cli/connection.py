"""One target's connection as the options make it: the client (a QEMU launched for it
first, where asked), the guest agent, the event log, the line runner and
``--reconnect``'s reconnector; and its closing. The session's first connection is made
here, and so is each one ``/connect`` opens (session/fleet.py)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import InputError, QMPShellError
from ..language.mode import Mode
from ..protocol.address import Address, LibvirtAddress, UnixAddress
from ..protocol.client import QMPClient, Runstate
from ..protocol.transcript import Transcript
from ..session.events import EventFilter, EventLog
from ..session.lines import NO_HMP
from ..session.runner import LineRunner
from ..ui.output import Output
from .target import Target
from .transcriptfile import open_transcript

if TYPE_CHECKING:
    from ..session.fleet import Fleet, Member
    from ..session.reconnect import Reconnector
    from .config import Settings

# Said once per session: users should know what libvirt does about a shell like this one.
TAINTED = (
    "note: libvirt marks domain {domain} as tainted (custom-monitor) because monitor "
    "commands are used; see 'libvirt' in the README"
)

# What to add to a connection's failure when the peer speaks the other protocol.
_HINT = {"qmp": ": drop --ga", "agent": ": try --ga"}


class Connection:
    """A target's client and runner, made as the options say; :meth:`close` ends it."""

    def __init__(
        self,
        args: argparse.Namespace,
        target: Target,
        output: Output,
        event_filter: EventFilter,
        transcript: Transcript | None,
        meta: Callable[[LineRunner], Any],
        *,
        owns_transcript: bool = False,
    ) -> None:
        self.args = args
        self.target = target
        self.output = output
        self.event_filter = event_filter
        self.transcript = transcript
        self.owns_transcript = owns_transcript  # closed with it (a /connect's own)
        self.meta = meta
        self.timeout = args.timeout or None
        self.client = QMPClient(transcript=transcript, guest_agent=target.agent)
        self.launched: Any = None  # a LaunchedQemu
        self.runner: LineRunner | None = None
        self.reconnect: Reconnector | None = None
        self.closed = False

    async def open(self) -> None:
        """Connect (launching QEMU first where asked) and make the runner. Raises
        QMPShellError, its text with a hint where the peer speaks the other protocol."""
        args, target, output, timeout = self.args, self.target, self.output, self.timeout
        client = self.client
        try:
            if target.launch is not None:
                from ..protocol.launch import LaunchedQemu

                raw = args.raw_console
                self.launched = LaunchedQemu(
                    target.launch, lambda text: output.relay(text, raw=raw), raw=raw
                )
                target.address = await self.launched.start(timeout)
                await self.launched.connect(
                    client, negotiate=not args.skip_negotiation, timeout=timeout
                )
            else:
                assert target.address is not None
                await client.connect(
                    target.address,
                    negotiate=not args.skip_negotiation,
                    enable_oob=True,
                    timeout=timeout,
                    on_silence=_busy_note(output, timeout, target.address),
                )
            agent = None
            if target.agent:
                from ..protocol.agent import connect_agent

                agent = await connect_agent(client, timeout)
        except QMPShellError as exc:  # ConnectError, NotQMPError, NegotiationError...
            reason = getattr(exc, "reason", "")
            raise QMPShellError(f"{exc}{_HINT.get(reason, '')}") from exc
        if isinstance(target.address, LibvirtAddress):
            output.note(TAINTED.format(domain=target.address.domain))
        events = EventLog(output.event, self.event_filter)
        client.add_event_handler(events)
        runner = self.runner = LineRunner(
            client,
            output,
            events,
            verbose=args.verbose,
            timeout=timeout,
            use_schema=agent is None,
            schema_cache=not args.no_schema_cache,
            agent=agent,
            meta=self.meta,
        )
        if args.hmp:
            if await runner.hmp_available():
                runner.mode = Mode.HMP
            else:
                output.error(NO_HMP)
        if args.reconnect is not None and target.launch is None:
            from ..session.reconnect import Reconnector

            self.reconnect = Reconnector(
                client,
                target.address,
                limit=args.reconnect or None,
                negotiate=not args.skip_negotiation,
                timeout=timeout,
                after=runner.reconnected,
                output=output,
            )

    @property
    def shown_address(self) -> str:
        """How the toolbar and /targets name it: the address, or the QEMU launched."""
        if self.target.launch:
            return f"{os.path.basename(self.target.launch[0])} (launched)"
        return str(self.target.address)

    async def close(self) -> None:
        """Stop the job polls, quit a launched QEMU, close the connection and a
        transcript of its own (once)."""
        if self.closed:
            return
        self.closed = True
        try:
            await self._close()
        finally:
            if self.owns_transcript and self.transcript is not None:
                self.transcript.close()

    async def _close(self) -> None:
        client = self.client
        if self.runner is not None:
            await self.runner.jobs.close()  # no poll left for asyncio.run to cancel
        if self.launched is not None:
            client.clear_event_handlers()  # the events of quitting it are not the user's
            await self.launched.stop(
                client if client.state is Runstate.RUNNING else None, self.timeout
            )
        await client.close()


def member_of(connection: Connection, name: str, spec: str | None) -> Member:
    """The open connection as a member of the interactive session."""
    from ..session.fleet import Member

    assert connection.runner is not None
    return Member(
        name,
        connection.shown_address,
        connection.runner,
        connection.close,
        connection.reconnect,
        spec=spec,
        key=monitor_key(connection.target),
    )


def monitor_key(target: Target) -> str:
    """Which monitor ``target`` is, however it was spelt: a socket by its real path."""
    address = target.address
    text = os.path.realpath(address.path) if isinstance(address, UnixAddress) else str(address)
    return f"ga {text}" if target.agent else text


def identify(settings: Settings) -> Callable[[str], str]:
    """Which monitor /connect's argument names (InputError when none), so that one
    open already is not opened again under another spelling (QEMU would not greet it)."""
    from .target import connect_target

    def key(text: str) -> str:
        try:
            return monitor_key(connect_target(text, settings))
        except InputError:
            raise
        except QMPShellError as exc:  # libvirt-python missing
            raise InputError(str(exc)) from None

    return key


def opener(
    args: argparse.Namespace,
    settings: Settings,
    output: Output,
    event_filter: EventFilter,
    fleet: Fleet,
) -> Callable[[str, str], Any]:
    """What ``/connect ADDR|@NAME`` calls: the connection opened as the options say
    (timeout, events shown, a transcript of its own lines in ``-l``'s file), as a member;
    InputError (one line) when it cannot be."""
    from ..session.meta import MetaCommands
    from .target import connect_target

    async def open_member(text: str, name: str) -> Member:
        target = connect_target(text, settings)  # InputError: identify() said it first
        transcript = None
        if args.logfile:
            transcript = open_transcript(args.logfile, output, args.log_secrets, name)
        connection = Connection(
            args,
            target,
            output,
            event_filter,
            transcript,
            lambda r: MetaCommands(r, fleet),
            owns_transcript=True,
        )
        try:
            await connection.open()
        except QMPShellError as exc:  # ConnectionLost too: one line, the session goes on
            await connection.close()
            raise InputError(f"cannot connect to {text}: {exc}") from None
        except BaseException:
            await connection.close()
            raise
        return member_of(connection, name, text)

    return open_member


def _busy_note(
    output: Output, timeout: float | None, address: Address
) -> Callable[[], None] | None:
    """What to say when a monitor's greeting is late: QEMU greets a second client only
    once the first has gone (libvirt's greeting is its own, and may just be slow)."""
    if isinstance(address, LibvirtAddress):
        return None
    wait = f"waiting {timeout:g} s" if timeout else "waiting"
    text = f"no greeting yet: another client may hold this monitor; {wait} (Ctrl-C gives up)"
    return lambda: output.note(text)
