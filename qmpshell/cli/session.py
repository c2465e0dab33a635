"""The asyncio session: connecting, the line runner, and scripted or interactive mode.

Imported by the command line only when a session needs it: a one-shot script runs
without asyncio (modes/oneshot.py).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable

from ..errors import ExitStatus, QMPShellError
from ..language.mode import Mode
from ..language.replydiff import IgnoredPaths
from ..modes.scripted import PIPELINE, iterate, read_lines, run_script
from ..modes.summary import ended_by
from ..protocol.address import Address, LibvirtAddress
from ..protocol.client import QMPClient, Runstate
from ..protocol.transcript import Transcript
from ..session.events import EventFilter, EventLog
from ..session.lines import NO_HMP
from ..session.meta import MetaCommands
from ..session.runner import LineRunner
from ..session.transcriptread import Step
from ..ui.output import Output
from ..ui.outqueue import OutputQueue
from .target import Target

# --replay's plan: the transcript's steps, the parts of replies not compared.
Replay = tuple[list[Step], IgnoredPaths]

# Said once per session: users should know what libvirt does about a shell like this one.
TAINTED = (
    "note: libvirt marks domain {domain} as tainted (custom-monitor) because monitor "
    "commands are used; see 'libvirt' in the README"
)


def run_session(
    args: argparse.Namespace,
    target: Target,
    output: Output,
    queue: OutputQueue | None,
    event_filter: EventFilter,
    transcript: Transcript | None,
    script: list[str] | None,
    read: bytes,
    replay: Replay | None = None,
) -> ExitStatus:
    """Run the session to its end; its exit status. In scripted mode (``queue`` given),
    ``script`` is the script when it was read whole already, else ``read`` is what was
    read of stdin to find out. ``replay``: a transcript's steps to send again instead."""
    lines: AsyncIterator[str] | None = None
    if queue is not None and replay is None:
        lines = iterate(script) if script is not None else read_lines(sys.stdin, read)
    session = _session(args, target, output, lines, event_filter, transcript, replay)
    return asyncio.run(session if queue is None else queue.guard(session))


async def _session(
    args: argparse.Namespace,
    target: Target,
    output: Output,
    lines: AsyncIterator[str] | None,
    event_filter: EventFilter,
    transcript: Transcript | None,
    replay: Replay | None,
) -> ExitStatus:
    """The session, ended early by SIGTERM or SIGHUP as cleanly as by Ctrl-D: the
    connection closed, a launched QEMU quit, the transcript and history complete."""
    received: list[signal.Signals] = []
    closing: list[bool] = []  # the session has begun to close down
    task = asyncio.current_task()
    assert task is not None

    def stop(signum: signal.Signals) -> None:
        if not received:
            received.append(signum)
            cancel()

    def cancel() -> None:
        # Again until the session is closing down: asyncio.wait_for (before Python 3.12)
        # drops a cancellation that comes as what it waits for is done (a greeting just
        # read); 4 runs in 15 went on waiting. Not once it closes down, which is what the
        # cancellation is for (a launched QEMU quit, the transcript complete).
        if not task.done() and not closing:
            task.cancel()
            loop.call_later(0.2, cancel)

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(signum, stop, signum)
    try:
        return await _run_session(
            args,
            target,
            output,
            lines,
            event_filter,
            transcript,
            replay,
            lambda: closing.append(True),
        )
    except asyncio.CancelledError:
        if not received:
            raise
        return ended_by(received[0], output)
    finally:
        for signum in (signal.SIGTERM, signal.SIGHUP):
            loop.remove_signal_handler(signum)


async def _run_session(
    args: argparse.Namespace,
    target: Target,
    output: Output,
    lines: AsyncIterator[str] | None,
    event_filter: EventFilter,
    transcript: Transcript | None,
    replay: Replay | None,
    closing: Callable[[], None],
) -> ExitStatus:
    """The session proper; ``closing()`` is called as it begins to close down."""
    timeout = args.timeout or None
    client = QMPClient(transcript=transcript, guest_agent=target.agent)
    launched = None
    runner: LineRunner | None = None
    try:
        try:
            if target.launch is not None:
                from ..protocol.launch import LaunchedQemu

                raw = args.raw_console
                launched = LaunchedQemu(
                    target.launch, lambda text: output.relay(text, raw=raw), raw=raw
                )
                target.address = await launched.start(timeout)
                await launched.connect(client, negotiate=not args.skip_negotiation, timeout=timeout)
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
            hint = {"qmp": ": drop --ga", "agent": ": try --ga"}  # the other protocol
            output.error(f"{exc}{hint.get(getattr(exc, 'reason', ''), '')}")
            return ExitStatus.CONNECTION
        if isinstance(target.address, LibvirtAddress):
            output.note(TAINTED.format(domain=target.address.domain))
        events = EventLog(output.event, event_filter)
        client.add_event_handler(events)
        runner = LineRunner(
            client,
            output,
            events,
            verbose=args.verbose,
            timeout=timeout,
            use_schema=agent is None,
            schema_cache=not args.no_schema_cache,
            agent=agent,
            meta=MetaCommands,
        )
        if args.hmp:
            if await runner.hmp_available():
                runner.mode = Mode.HMP
            else:
                output.error(NO_HMP)
        reconnect = None
        if args.reconnect is not None:
            from ..session.reconnect import Reconnector

            reconnect = Reconnector(
                client,
                target.address,
                limit=args.reconnect or None,
                negotiate=not args.skip_negotiation,
                timeout=timeout,
                after=runner.reconnected,
                output=output,
            )
        if replay is not None:
            from ..modes.replay import run_replay

            return await run_replay(runner, *replay)
        if lines is not None:
            # Echoes (-v) read best next to their replies, and an agent resyncs after a
            # timeout: both one command at a time.
            window = 1 if args.verbose or agent is not None else PIPELINE
            script = run_script(
                runner,
                lines,
                exit_on_error=args.exit_on_error,
                window=window,
                reconnect=reconnect.back if reconnect else None,
            )
            return await (script if reconnect is None else reconnect.run_script(script))
        from ..modes.interactive import run_interactive

        return await run_interactive(
            runner,
            client,
            output,
            keep_history=args.history,
            history_file=args.history_file,
            complete_while_typing=args.complete_while_typing,
            target=f"{os.path.basename(target.launch[0])} (launched)" if target.launch else None,
            reconnect=reconnect,
        )
    finally:
        closing()
        if runner is not None:
            await runner.jobs.close()  # no poll left for asyncio.run to cancel
        if launched is not None:
            client.clear_event_handlers()  # the events of quitting it are not the user's
            await launched.stop(client if client.state is Runstate.RUNNING else None, timeout)
        await client.close()
        if transcript is not None:
            transcript.close()


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
