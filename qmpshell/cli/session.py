"""The asyncio session: connecting, the line runner, and scripted or interactive mode.

Imported by the command line only when a session needs it: a one-shot script runs
without asyncio (modes/oneshot.py).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

from ..errors import ExitStatus, QMPShellError
from ..language.replydiff import IgnoredPaths
from ..modes.scripted import PIPELINE, iterate, read_lines, run_script
from ..modes.summary import ended_by
from ..protocol.address import LibvirtAddress
from ..protocol.transcript import Transcript
from ..session.events import EventFilter
from ..session.fleet import Fleet, short_name
from ..session.meta import MetaCommands
from ..session.transcriptread import Step
from ..ui.output import Output
from ..ui.outqueue import OutputQueue
from .connection import Connection
from .target import Target

if TYPE_CHECKING:
    from .config import Settings

# --replay's plan: the transcript's steps, the parts of replies not compared.
Replay = tuple[list[Step], IgnoredPaths]


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
    settings: Settings | None = None,
) -> ExitStatus:
    """Run the session to its end; its exit status. In scripted mode (``queue`` given),
    ``script`` is the script when it was read whole already, else ``read`` is what was
    read of stdin to find out. ``replay``: a transcript's steps to send again instead."""
    lines: AsyncIterator[str] | None = None
    if queue is not None and replay is None:
        lines = iterate(script) if script is not None else read_lines(sys.stdin, read)
    session = _session(args, target, output, lines, event_filter, transcript, replay, settings)
    return asyncio.run(session if queue is None else queue.guard(session))


async def _session(
    args: argparse.Namespace,
    target: Target,
    output: Output,
    lines: AsyncIterator[str] | None,
    event_filter: EventFilter,
    transcript: Transcript | None,
    replay: Replay | None,
    settings: Settings | None,
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
            settings,
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
    settings: Settings | None,
) -> ExitStatus:
    """The session proper; ``closing()`` is called as it begins to close down."""
    interactive = lines is None and replay is None
    fleet = Fleet() if interactive else None
    connection = Connection(
        args, target, output, event_filter, transcript, lambda r: MetaCommands(r, fleet)
    )
    try:
        try:
            await connection.open()
        except QMPShellError as exc:
            output.error(str(exc))
            return ExitStatus.CONNECTION
        runner = connection.runner
        assert runner is not None
        reconnect = connection.reconnect
        if replay is not None:
            from ..modes.replay import run_replay

            return await run_replay(runner, *replay)
        if lines is not None:
            # Echoes (-v) read best next to their replies, and an agent resyncs after a
            # timeout: both one command at a time.
            window = 1 if args.verbose or runner.agent is not None else PIPELINE
            script = run_script(
                runner,
                lines,
                exit_on_error=args.exit_on_error,
                window=window,
                reconnect=reconnect.back if reconnect else None,
            )
            return await (script if reconnect is None else reconnect.run_script(script))
        from ..modes.interactive import run_interactive
        from .connection import identify, member_of, opener

        assert fleet is not None and settings is not None
        fleet.opener = opener(args, settings, output, event_filter, fleet)
        fleet.identify = identify(settings)
        if settings.config is not None:
            fleet.named = sorted(settings.config.targets)
        fleet.add(member_of(connection, _first_name(args, connection), _spec(args)))
        return await run_interactive(
            fleet,
            output,
            keep_history=args.history,
            history_file=args.history_file,
            complete_while_typing=args.complete_while_typing,
        )
    finally:
        closing()
        if fleet is not None:
            await fleet.close_all()  # those /connect opened, each with its transcript
        await connection.close()
        if transcript is not None:
            transcript.close()


def _first_name(args: argparse.Namespace, connection: Connection) -> str:
    """What the command line's target is called once there are several: its @NAME, the
    address as given, or the QEMU launched."""
    if args.target_name:
        return str(args.target_name)
    if connection.target.launch:
        return "launched"
    if isinstance(connection.target.address, LibvirtAddress):
        return connection.target.address.domain
    return short_name(str(args.address[0]) if args.address else connection.shown_address)


def _spec(args: argparse.Namespace) -> str | None:
    """What /connect opens the first target as again, when it is lost."""
    if args.target_name:
        return f"@{args.target_name}"
    return str(args.address[0]) if args.address else None
