"""The ``qmpshell`` command: options, connecting, choosing a mode, the exit status."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Callable, Sequence

from ..errors import ExitStatus, InputError, QMPShellError
from ..language.mode import Mode
from ..modes.scripted import (
    PIPELINE,
    iterate,
    read_lines,
    run_script,
)
from ..protocol.address import Address, LibvirtAddress
from ..protocol.client import QMPClient, Runstate
from ..protocol.transcript import Transcript
from ..session.events import EventFilter, EventLog
from ..session.meta import NO_HMP, MetaCommands
from ..session.runner import LineRunner
from ..ui.console import Console
from ..ui.output import Output
from ..ui.outqueue import OutputQueue, QueuedStream
from .options import attach_optional_values, build_parser
from .target import Target, choose_target

# Said once per session: users should know what libvirt does about a shell like this one.
TAINTED = (
    "note: libvirt marks domain {domain} as tainted (custom-monitor) because monitor "
    "commands are used; see 'libvirt' in the README"
)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("qmpshell")
    except PackageNotFoundError:
        return "unknown (not installed)"


_SIGNALS = {
    ExitStatus.HANGUP: signal.SIGHUP,
    ExitStatus.INTERRUPTED: signal.SIGINT,
    ExitStatus.READER_GONE: signal.SIGPIPE,
    ExitStatus.TERMINATED: signal.SIGTERM,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status. As the command itself (``argv``
    not given), a session ended by a signal ends by that signal once it has cleaned up,
    so that a shell sees it (and a loop stops at Ctrl-C)."""
    status = _main(argv)
    signum = _SIGNALS.get(status)  # type: ignore[call-overload]
    if signum is not None and argv is None:
        with contextlib.suppress(OSError, ValueError):
            sys.stdout.flush()
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.flush()
        signal.signal(signum, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signum})
        os.kill(os.getpid(), signum)
    return status


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    words = list(sys.argv[1:] if argv is None else argv)
    qemu: list[str] = []
    if "--" in words:  # everything after it is the QEMU command line to launch
        at = words.index("--")
        words, qemu = words[:at], words[at + 1 :]
        if not qemu:
            parser.error("-- must be followed by a QEMU command")
    args = parser.parse_args(attach_optional_values(parser, words))
    if args.version:
        print(f"qmpshell {_version()}")
        return ExitStatus.OK
    if args.completions:
        from .shellcomplete import completion_script

        sys.stdout.write(completion_script(args.completions))
        return ExitStatus.OK
    console = Console()  # the terminal: streams, isatty, colour, width, the pager
    try:
        target = choose_target(parser, args, qemu, console)
    except QMPShellError as exc:  # no QEMU to launch, no libvirt-python
        console.error(str(exc))  # libvirt's words too, escaped
        return ExitStatus.CONNECTION
    except KeyboardInterrupt:  # while choosing a domain
        return ExitStatus.INTERRUPTED
    if target is None:
        return ExitStatus.OK
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="backslashreplace")
    scripted = bool(args.commands) or not console.stdin_is_terminal
    events = args.events
    if events is None:
        events = "none" if args.return_value and scripted else "all"
    try:
        event_filter = EventFilter(events)
    except InputError as exc:
        parser.error(f"--events: {exc}")
    queue: OutputQueue | None = None
    if scripted:
        # Replies and events wait in memory for a late reader, not the loop (outqueue.py).
        queue = OutputQueue()
        output = Output(
            Console(QueuedStream(queue, sys.stdout), QueuedStream(queue, sys.stderr)),
            pretty=args.pretty,
            verbose=args.verbose,
        )
        output.return_only = args.return_value
    else:
        output = Output(
            console,
            pretty=True,
            verbose=args.verbose,
            interactive=True,
            color=console.color(args.color),
            pager=args.pager,
        )
    session = _session(args, target, output, scripted, event_filter)
    try:
        try:
            status = asyncio.run(session if queue is None else queue.guard(session))
        finally:
            output.flush()
            if queue is not None:
                queue.drain()  # what a late reader has not taken yet, before exiting
        return status
    except KeyboardInterrupt:
        return ExitStatus.INTERRUPTED
    except BrokenPipeError:
        # The reader of our output went away (``| head``); say nothing more.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return ExitStatus.READER_GONE
    except OSError as exc:
        if queue is None or exc is not queue.failure:
            raise
        # A stream refused a write (a full disk): say so where it may still be seen.
        with contextlib.suppress(OSError):
            os.write(2, f"qmpshell: cannot write the output: {exc.strerror}\n".encode())
        return ExitStatus.COMMAND_FAILED


async def _session(
    args: argparse.Namespace,
    target: Target,
    output: Output,
    scripted: bool,
    event_filter: EventFilter,
) -> ExitStatus:
    """The session, ended early by SIGTERM or SIGHUP as cleanly as by Ctrl-D: the
    connection closed, a launched QEMU quit, the transcript and history complete."""
    received: list[signal.Signals] = []
    task = asyncio.current_task()
    assert task is not None

    def stop(signum: signal.Signals) -> None:
        if not received:
            received.append(signum)
            task.cancel()

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(signum, stop, signum)
    try:
        return await _run_session(args, target, output, scripted, event_filter)
    except asyncio.CancelledError:
        if not received:
            raise
        if received[0] is signal.SIGHUP:
            return ExitStatus.HANGUP  # nobody is there to read a message
        output.error(f"terminated by {received[0].name}")
        return ExitStatus.TERMINATED
    finally:
        for signum in (signal.SIGTERM, signal.SIGHUP):
            loop.remove_signal_handler(signum)


async def _run_session(
    args: argparse.Namespace,
    target: Target,
    output: Output,
    scripted: bool,
    event_filter: EventFilter,
) -> ExitStatus:
    transcript = _open_transcript(args.logfile, output, args.log_secrets)
    timeout = args.timeout or None
    client = QMPClient(transcript=transcript, guest_agent=target.agent)
    launched = None
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
        if scripted:
            lines = iterate(args.commands) if args.commands else read_lines(sys.stdin)
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
            keep_history=not args.no_history,
            history_file=args.history_file,
            complete_while_typing=args.complete_while_typing,
            target=f"{os.path.basename(target.launch[0])} (launched)" if target.launch else None,
            reconnect=reconnect,
        )
    finally:
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


def _open_transcript(path: str | None, output: Output, secrets: bool) -> Transcript | None:
    if not path:
        return None
    try:
        from ..language.redaction import redact

        return Transcript(path, redact=None if secrets else redact, warn=output.error)
    except OSError as exc:
        output.error(f"cannot write transcript {path}: {exc.strerror}; going on without it")
        return None
