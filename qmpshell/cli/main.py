"""The ``qmpshell`` command: options, connecting, choosing a mode, the exit status."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from collections.abc import Sequence

from ..collector import on_for_session
from ..errors import ExitStatus, InputError, QMPShellError
from ..escape import escape_lines
from ..language.mode import Mode
from ..protocol.transcript import Transcript
from ..session.events import EventFilter, EventLog
from ..ui.console import Console
from ..ui.output import Output
from ..ui.outqueue import OutputQueue, QueuedStream
from .config import ConfigError, events_shown, load_settings
from .options import attach_optional_values, build_parser, option_words
from .target import Target, choose_target, fanout_targets
from .transcriptfile import open_transcript

TYPE_CHECKING = False  # typing's, without importing typing (docs/architecture.md, start-up)
if TYPE_CHECKING:
    from typing import Any


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
    not given), it does not return: a session ended by a signal ends by that signal once
    it has cleaned up, so that a shell sees it (and a loop stops at Ctrl-C); else the
    process exits with the status at once."""
    status = _main(argv)
    if argv is not None:
        return status
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.flush()
    signum = _SIGNALS.get(status)  # type: ignore[call-overload]
    if signum is not None:
        signal.signal(signum, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signum})
        os.kill(os.getpid(), signum)
    # Everything is written, closed and stopped by now; tearing the interpreter down
    # (freeing the schema's objects one by one) would take a one-shot script 15 ms more.
    os._exit(status)


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
    if args.ignore and not args.replay:
        parser.error(
            "--ignore goes with --replay: it leaves parts of replies out of its comparison"
        )
    console = Console()  # the terminal: streams, isatty, colour, width, the pager
    try:
        settings = load_settings(args)  # the config file's defaults, where options are unset
    except ConfigError as exc:
        console.error(str(exc))
        return ExitStatus.USAGE
    if args.print_config or args.targets:
        from .printconfig import describe, list_targets

        text = list_targets(settings) if args.targets else describe(args, settings)
        sys.stdout.write(escape_lines(text))
        return ExitStatus.OK
    try:
        several = fanout_targets(parser, args, qemu, settings)
    except QMPShellError as exc:  # libvirt could not list its domains, or none matched
        console.error(str(exc))
        return ExitStatus.CONNECTION
    if several is not None:
        return _fanout(parser, args, several, console)
    try:
        target = choose_target(parser, args, qemu, console, settings)
    except QMPShellError as exc:  # no QEMU to launch, no libvirt-python
        console.error(str(exc))  # libvirt's words too, escaped
        return ExitStatus.CONNECTION
    except KeyboardInterrupt:  # while choosing a domain
        return ExitStatus.INTERRUPTED
    if target is None:
        return ExitStatus.OK
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="backslashreplace")
    replay = _replay_plan(parser, args, console) if args.replay else None
    if replay is not None and not isinstance(replay, tuple):
        return replay  # the transcript could not be read
    scripted = bool(args.commands) or not console.stdin_is_terminal or replay is not None
    try:
        event_filter = EventFilter(events_shown(args, settings, scripted))
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
    transcript = None
    try:
        try:
            transcript = open_transcript(args.logfile, output, args.log_secrets, args.target_name)
            status = None
            script: list[str] | None = None
            read = b""
            if scripted and replay is None:
                script, read = _script_at_hand(args)
                status = _oneshot(args, target, script, output, queue, event_filter, transcript)
            if status is None:
                # Everything else: the asyncio session (imported only now: see oneshot.py).
                from .session import run_session

                on_for_session()
                status = run_session(
                    args,
                    target,
                    output,
                    queue,
                    event_filter,
                    transcript,
                    script,
                    read,
                    replay,
                    settings,
                )
        finally:
            if transcript is not None:
                transcript.close()
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


def _fanout(
    parser: argparse.ArgumentParser,
    args: argparse.Namespace,
    targets: list[tuple[str, list[str]]],
    console: Console,
) -> ExitStatus:
    """One script on several targets, each run by a qmpshell of its own (modes/fanout.py)."""
    if not args.commands and not args.replay and console.stdin_is_terminal:
        parser.error("several targets take a script: -c LINE, or lines on stdin")
    script = None if args.commands or args.replay else sys.stdin.buffer.read()
    import asyncio

    from ..modes.fanout import FanTarget, run_fanout

    # Each run is given the options as given (the config file's are its own to read).
    options = option_words(parser, args, {"address", "libvirt", "connect", "jobs", "target_name"})
    json_lines = not (args.pretty or args.hmp or args.return_value)
    runs = [FanTarget(name, words) for name, words in targets]
    on_session = run_fanout(runs, options, script, jobs=args.jobs, json_lines=json_lines)
    return asyncio.run(on_session)


def _replay_plan(
    parser: argparse.ArgumentParser, args: argparse.Namespace, console: Console
) -> tuple[list[Any], Any] | ExitStatus:
    """What ``--replay`` does: the transcript's steps and the parts of replies ignored;
    USAGE (said on one line) when the transcript cannot be read."""
    from ..language.replydiff import IgnoredPaths
    from ..session.transcriptread import NotReplayable, TranscriptError, read_transcript

    if args.commands:
        parser.error("--replay sends a transcript's commands; -c cannot go with it")
    try:
        ignored = IgnoredPaths(args.ignore)
    except InputError as exc:
        parser.error(str(exc))
    try:
        with open(args.replay, encoding="utf-8", errors="surrogateescape") as file:
            steps = read_transcript(file)
    except OSError as exc:
        console.error(f"cannot read transcript {args.replay}: {exc.strerror}")
        return ExitStatus.USAGE
    except NotReplayable as exc:
        console.error(f"{args.replay} cannot be replayed: {exc}")
        return ExitStatus.USAGE
    except TranscriptError as exc:
        console.error(f"{args.replay} is not a transcript (-l writes one): {exc}")
        return ExitStatus.USAGE
    if not steps:  # a replay of nothing would pass whatever QEMU does
        console.error(f"{args.replay} holds nothing to replay: no command sent, no wait")
        return ExitStatus.USAGE
    return steps, ignored


def _script_at_hand(args: argparse.Namespace) -> tuple[list[str] | None, bytes]:
    from ..modes.oneshot import script_at_hand

    return script_at_hand(args.commands, sys.stdin)


def _oneshot(
    args: argparse.Namespace,
    target: Target,
    script: list[str] | None,
    output: Output,
    queue: OutputQueue | None,
    event_filter: EventFilter,
    transcript: Transcript | None,
) -> ExitStatus | None:
    """A script at hand whole, of plain lines, on a socket: run without asyncio
    (modes/oneshot.py); None when the asyncio session is to run it."""
    from ..modes.oneshot import plain, run_oneshot, simple_target

    address = target.address
    if (
        script is None
        or os.environ.get("QMPSHELL_NO_ONESHOT")  # tests compare both ways
        or not simple_target(address)
        or target.launch is not None
        or target.agent
        or args.reconnect is not None
        or args.skip_negotiation
        or not plain(script, Mode.HMP if args.hmp else Mode.QMP)
    ):
        return None
    assert address is not None and queue is not None
    output.flush_by_caller = True
    status = run_oneshot(
        address,  # type: ignore[arg-type]
        script,
        output,
        EventLog(output.event, event_filter),
        transcript=transcript,
        mode=Mode.HMP if args.hmp else Mode.QMP,
        timeout=args.timeout or None,
        exit_on_error=args.exit_on_error,
        verbose=args.verbose,
        schema_cache=not args.no_schema_cache,
        output_failure=lambda: queue.failure,
        flush=output.flush,
    )
    output.flush_by_caller = False  # the asyncio session flushes at each turn of its loop
    return status
