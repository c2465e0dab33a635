"""The ``qmpshell`` command: options, connecting, choosing a mode, the exit status."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence

from .address import Address, AddressError, parse_address
from .client import QMPClient
from .errors import QMPShellError
from .output import Output
from .runner import LineRunner
from .scripted import ExitStatus, iterate, read_lines, run_script, stdin_is_terminal
from .transcript import Transcript

DEFAULT_TIMEOUT = 30.0

EXAMPLES = """\
examples:
  qmpshell /tmp/qmp.sock                    interactive shell on a UNIX socket
  qmpshell localhost:4444                   ... on TCP (also [::1]:4444)
  qmpshell -c query-status /tmp/qmp.sock    run one command, print the reply, exit
  echo 'query-block' | qmpshell -p SOCK     commands from stdin, indented replies
  qmpshell -l session.jsonl SOCK            keep a JSON Lines transcript
  qmpshell -c 'device_del id=nic0' -e SOCK  stop at the first failed command

input lines:
  query-status                              a command without arguments
  device_del id=nic0                        command key=value ...
  {"execute": "query-status"}               raw JSON, sent as written

exit status:
  0 every command succeeded, 1 a command failed or could not be parsed,
  2 bad usage, 3 the connection could not be made or was lost, 130 interrupted.

environment:
  QMP_SOCKET   the address to use when none is given
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qmpshell",
        description="An interactive shell for QEMU's QMP monitor.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "address",
        nargs="?",
        metavar="ADDRESS",
        help="UNIX socket path, HOST:PORT or [IPV6]:PORT (default: $QMP_SOCKET)",
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
        "--timeout",
        type=_seconds,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"limit for connecting, the greeting and each reply "
        f"(default {DEFAULT_TIMEOUT:g}; 0 waits forever)",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    return parser


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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        print(f"qmpshell {_version()}")
        return ExitStatus.OK
    text = args.address or os.environ.get("QMP_SOCKET")
    if not text:
        parser.error("no address given and QMP_SOCKET is not set")
    try:
        address = parse_address(text)
    except AddressError as exc:
        parser.error(str(exc))
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="backslashreplace")
    scripted = bool(args.commands) or not stdin_is_terminal()
    output = Output(pretty=args.pretty or not scripted)
    try:
        return asyncio.run(_session(args, address, output, scripted))
    except KeyboardInterrupt:
        return ExitStatus.INTERRUPTED
    except BrokenPipeError:
        # The reader of our output went away (``| head``); say nothing more.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return ExitStatus.COMMAND_FAILED


async def _session(
    args: argparse.Namespace, address: Address, output: Output, scripted: bool
) -> ExitStatus:
    transcript = _open_transcript(args.logfile, output)
    timeout = args.timeout or None
    client = QMPClient(transcript=transcript)
    try:
        try:
            await client.connect(
                address, negotiate=not args.skip_negotiation, enable_oob=True, timeout=timeout
            )
        except QMPShellError as exc:  # ConnectError, NotQMPError, NegotiationError
            output.error(str(exc))
            return ExitStatus.CONNECTION
        client.add_event_handler(output.message)
        runner = LineRunner(client, output, verbose=args.verbose, timeout=timeout)
        if scripted:
            lines = iterate(args.commands) if args.commands else read_lines(sys.stdin)
            return await run_script(runner, lines, exit_on_error=args.exit_on_error)
        from .repl import run_interactive

        return await run_interactive(runner, client)
    finally:
        await client.close()
        if transcript is not None:
            transcript.close()


def _open_transcript(path: str | None, output: Output) -> Transcript | None:
    if not path:
        return None
    try:
        return Transcript(path)
    except OSError as exc:
        output.error(f"cannot write transcript {path}: {exc.strerror}; going on without it")
        return None
