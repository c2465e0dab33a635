"""The ``qmpshell`` command: options, connecting, choosing a mode, the exit status."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Callable, Sequence

from .address import Address, LibvirtAddress
from .client import QMPClient, Runstate
from .errors import InputError, QMPShellError
from .events import EventFilter, EventLog
from .meta import NO_HMP
from .output import Output
from .outqueue import OutputQueue, QueuedStream
from .runner import LineRunner
from .scripted import (
    PIPELINE,
    ExitStatus,
    iterate,
    read_lines,
    run_script,
    stdin_is_terminal,
)
from .target import Target, choose_target
from .transcript import Transcript

DEFAULT_TIMEOUT = 30.0

# Said once per session: users should know what libvirt does about a shell like this one.
TAINTED = (
    "note: libvirt marks domain {domain} as tainted (custom-monitor) because monitor "
    "commands are used; see 'libvirt' in the README"
)

EXAMPLES = """\
examples:
  qmpshell /tmp/qmp.sock                    interactive shell on a UNIX socket
  qmpshell localhost:4444                   ... on TCP (also [::1]:4444)
  qmpshell -c query-status /tmp/qmp.sock    run one command, print the reply, exit
  echo 'query-block' | qmpshell -p SOCK     commands from stdin, indented replies
  qmpshell -l session.jsonl SOCK            keep a JSON Lines transcript
  qmpshell -c 'device_del id=nic0' -e SOCK  stop at the first failed command
  qmpshell -H -c 'info status' SOCK         the human monitor (HMP)
  qmpshell --launch                         a throwaway paused QEMU to try things on
  qmpshell -- qemu-system-x86_64 -M q35 -S  launch this QEMU, quit it at the end
  qmpshell --ga /run/vm/qga.sock            the guest agent of a VM
  qmpshell --libvirt vm1                    a VM that libvirt manages (qemu:///system...)
  qmpshell --libvirt vm1 --connect qemu+ssh://host/system    ... on another host
  qmpshell --libvirt                        list the running domains, choose one

input lines:
  query-status                              a command without arguments
  device_del id=nic0                        command key=value ...
  {"execute": "query-status"}               raw JSON, sent as written

exit status:
  0 every command succeeded, 1 a command failed or could not be parsed,
  2 bad usage, 3 the connection could not be made or was lost (or --libvirt
  lacks libvirt-python); ended by a signal (after closing down cleanly),
  qmpshell dies of it: 130 Ctrl-C, 129 SIGHUP, 143 SIGTERM, 141 the reader of
  stdout went away (| head -1), as a shell reports them.

environment:
  QMP_SOCKET   the address to use when none is given
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qmpshell",
        usage=(
            "%(prog)s [OPTIONS] [ADDRESS]\n"
            "       %(prog)s [OPTIONS] --libvirt [DOMAIN] [--connect URI]\n"
            "       %(prog)s [OPTIONS] -- QEMU_BINARY [QEMU_ARGS...]"
        ),
        description="An interactive shell for QEMU's QMP monitor.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "address",
        nargs="?",
        metavar="ADDRESS",
        help="a UNIX socket: unix:PATH or a plain path (/tmp/qmp.sock); TCP: tcp:HOST:PORT, "
        "HOST:PORT or [IPV6]:PORT, e.g. [::1]:4444 (default: $QMP_SOCKET)",
    )
    parser.add_argument(
        "-H", "--hmp", action="store_true", help="start in HMP mode (the human monitor)"
    )
    parser.add_argument("-p", "--pretty", action="store_true", help="indent JSON output")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="echo each message sent before its reply"
    )
    parser.add_argument(
        "-N",
        "--skip-negotiation",
        action="store_true",
        help="do not send qmp_capabilities after the greeting",
    )
    parser.add_argument(
        "-l", "--logfile", metavar="PATH", help="append a JSON Lines transcript to PATH"
    )
    parser.add_argument(
        "--log-secrets",
        action="store_true",
        help="write passwords and secrets to the transcript too (redacted by default)",
    )
    parser.add_argument(
        "-c",
        "--command",
        dest="commands",
        action="append",
        metavar="LINE",
        help="run LINE (repeatable), then exit instead of reading stdin",
    )
    parser.add_argument(
        "-e", "--exit-on-error", action="store_true", help="stop at the first failed command"
    )
    parser.add_argument(
        "-r",
        "--return-value",
        action="store_true",
        help="scripts: print only the return value of each reply (errors go to stderr) and "
        "no events unless --events is given",
    )
    parser.add_argument(
        "--timeout",
        type=_seconds,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"limit for connecting, the greeting and each reply "
        f"(default {DEFAULT_TIMEOUT:g}; 0 waits forever)",
    )
    reconnect = parser.add_argument(
        "--reconnect",
        type=_seconds,
        nargs="?",
        const=0.0,
        metavar="SECONDS",
        help="when the connection is lost, wait for the monitor to come back (QEMU "
        "restarted on the same socket) and go on; --reconnect alone waits as long as it takes, "
        "--reconnect=SECONDS that long at most (default: exit with status 3)",
    )
    # Its value is only ever attached (--reconnect=5), so that `--reconnect SOCKET` reads
    # as it looks; main() and the completion scripts both go by this mark.
    reconnect.attached_only = True  # type: ignore[attr-defined]
    parser.add_argument(
        "--events",
        metavar="FILTER",
        help="which events to show: all, none, or NAME,GLOB,... (default all, none with "
        "-r; all are logged either way, see /events)",
    )
    parser.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour replies and events: auto (on a terminal, unless NO_COLOR is set), "
        "always, never",
    )
    parser.add_argument(
        "--complete-while-typing",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="show completion menus as you type (default); with --no-complete-while-typing "
        "only Tab does",
    )
    parser.add_argument(
        "--pager",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="page replies taller than the screen through $PAGER (default); "
        "--no-pager prints them straight",
    )
    parser.add_argument(
        "--history-file",
        metavar="PATH",
        help="keep the input history in PATH (default $XDG_STATE_HOME/qmpshell/history)",
    )
    parser.add_argument(
        "--no-history", action="store_true", help="do not read or write an input history"
    )
    parser.add_argument(
        "--launch",
        action="store_true",
        help="start a throwaway QEMU (paused, diskless, headless) and connect to it; "
        "or give the QEMU command line after --",
    )
    parser.add_argument(
        "--ga",
        metavar="ADDRESS",
        help="talk to a guest agent (qemu-ga) at ADDRESS (UNIX socket or HOST:PORT)",
    )
    parser.add_argument(
        "--libvirt",
        nargs="?",
        const="",
        metavar="DOMAIN",
        help="talk to DOMAIN (name, id or UUID), a VM that libvirt manages, through "
        "libvirt (needs libvirt-python); without DOMAIN, list the running domains",
    )
    parser.add_argument(
        "--connect",
        metavar="URI",
        help="the libvirt URI for --libvirt, e.g. qemu:///system or qemu+ssh://HOST/system "
        "(default: libvirt's, as for virsh)",
    )
    parser.add_argument(
        "--completions",
        choices=("bash", "zsh", "fish"),
        metavar="SHELL",
        help="print the completion script for SHELL (bash, zsh, fish) and exit",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    return parser


def _attach_optional_values(parser: argparse.ArgumentParser, words: list[str]) -> list[str]:
    """An option marked ``attached_only`` given alone takes its default value attached,
    so that argparse cannot take the next word (an address) for its value."""
    alone = {
        name: action
        for action in parser._actions
        if getattr(action, "attached_only", False)
        for name in action.option_strings
    }
    return [f"{word}={alone[word].const}" if word in alone else word for word in words]


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: '{text}'") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"not a number of seconds: '{text}'")
    return value


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
    args = parser.parse_args(_attach_optional_values(parser, words))
    if args.version:
        print(f"qmpshell {_version()}")
        return ExitStatus.OK
    if args.completions:
        from .shellcomplete import completion_script

        sys.stdout.write(completion_script(args.completions))
        return ExitStatus.OK
    try:
        target = choose_target(parser, args, qemu)
    except QMPShellError as exc:  # no QEMU to launch, no libvirt-python
        print(f"qmpshell: {exc}", file=sys.stderr)
        return ExitStatus.CONNECTION
    except KeyboardInterrupt:  # while choosing a domain
        return ExitStatus.INTERRUPTED
    if target is None:
        return ExitStatus.OK
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="backslashreplace")
    scripted = bool(args.commands) or not stdin_is_terminal()
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
            QueuedStream(queue, sys.stdout),
            QueuedStream(queue, sys.stderr),
            pretty=args.pretty,
            verbose=args.verbose,
        )
        output.return_only = args.return_value
    else:
        from .render import color_enabled

        output = Output(
            pretty=True,
            verbose=args.verbose,
            interactive=True,
            color=color_enabled(args.color, sys.stdout),
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
                from .launch import LaunchedQemu

                launched = LaunchedQemu(target.launch, output.relay)
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
                from .agent import connect_agent

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
            agent=agent,
        )
        if args.hmp:
            if await runner.hmp_available():
                runner.mode = "hmp"
            else:
                output.error(NO_HMP)
        reconnect = None
        if args.reconnect is not None:
            from .reconnect import Reconnector

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
        from .history import history_path
        from .repl import Settings, run_interactive

        keep = not args.no_history
        mode = "qga" if agent is not None else "qmp"
        settings = Settings(
            history_path(mode, args.history_file) if keep else None,
            complete_while_typing=args.complete_while_typing,
            hmp_history=history_path("hmp", args.history_file) if keep else None,
            target=f"{os.path.basename(target.launch[0])} (launched)" if target.launch else None,
            reconnect=reconnect,
        )
        return await run_interactive(runner, client, settings)
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
        return Transcript(path, secrets=secrets)
    except OSError as exc:
        output.error(f"cannot write transcript {path}: {exc.strerror}; going on without it")
        return None
