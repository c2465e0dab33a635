"""The ``qmpshell`` command line: its options, their help and examples."""

from __future__ import annotations

import argparse
import os
import sys

TYPE_CHECKING = False  # typing's, without importing typing (docs/architecture.md, start-up)
if TYPE_CHECKING:
    from typing import Any

DEFAULT_TIMEOUT = 30.0
MAX_SECONDS = 86400.0  # a day: more is a slip (and past ~9e9 s sockets refuse it)
DEFAULT_JOBS = 8
COLORS = ("auto", "always", "never")

EXAMPLES = """\
examples:
  qmpshell /tmp/qmp.sock                    interactive shell on a UNIX socket
  qmpshell localhost:4444                   ... on TCP (also [::1]:4444)
  qmpshell -c query-status /tmp/qmp.sock    run one command, print the reply, exit
  echo 'query-block' | qmpshell -p SOCK     commands from stdin, indented replies
  qmpshell -l session.jsonl SOCK            keep a JSON Lines transcript
  qmpshell --replay session.jsonl SOCK      send its commands again, report replies that differ
  qmpshell -c 'device_del id=nic0' -e SOCK  stop at the first failed command
  qmpshell -H -c 'info status' SOCK         the human monitor (HMP)
  qmpshell --launch                         a throwaway paused QEMU to try things on
  qmpshell -- qemu-system-x86_64 -M q35 -S  launch this QEMU, quit it at the end
  qmpshell --ga /run/vm/qga.sock            the guest agent of a VM
  qmpshell --libvirt vm1                    a VM that libvirt manages (qemu:///system...)
  qmpshell --libvirt vm1 --connect qemu+ssh://host/system    ... on another host
  qmpshell --libvirt                        list the running domains, choose one
  qmpshell @web1                            the target [targets.web1] of the config file
  qmpshell -c query-status SOCK1 SOCK2      one script on several QEMUs, tagged by target
  qmpshell -c query-status --libvirt 'web-*'    ... on each running domain the glob matches

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

config file:
  $XDG_CONFIG_HOME/qmpshell/config.toml (default ~/.config/qmpshell/config.toml)
  sets defaults for --color, --pager, --events, --history, --history-file,
  --timeout, --complete-while-typing, --pretty and --verbose; the command line
  wins. qmpshell --print-config shows what is in effect, and where it came from.
  [targets.NAME] tables name what to talk to: address = "ADDRESS", ga = "ADDRESS",
  or libvirt = "DOMAIN" (and connect = "URI"); then qmpshell @NAME.
"""


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """argparse's, told the width: argparse would import shutil (with bz2, lzma and zlib)
    for it, at every option defined, which a one-shot script pays for in start-up."""

    def __init__(self, prog: str, **kwargs: Any) -> None:
        kwargs.setdefault("width", _columns() - 2)  # as argparse does
        super().__init__(prog, **kwargs)


def _columns() -> int:
    """The terminal's columns, as shutil.get_terminal_size says them."""
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    stream = sys.__stdout__
    try:
        return (os.get_terminal_size(stream.fileno()).columns if stream else 0) or 80
    except (ValueError, OSError):
        return 80


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qmpshell",
        usage=(
            "%(prog)s [OPTIONS] [ADDRESS...]\n"
            "       %(prog)s [OPTIONS] --libvirt [DOMAIN] [--connect URI]\n"
            "       %(prog)s [OPTIONS] -- QEMU_BINARY [QEMU_ARGS...]"
        ),
        description="An interactive shell for QEMU's QMP monitor.",
        epilog=EXAMPLES,
        formatter_class=_Formatter,
    )
    parser.add_argument(
        "address",
        nargs="*",
        metavar="ADDRESS",
        help="a UNIX socket: unix:PATH or a plain path (/tmp/qmp.sock); TCP: tcp:HOST:PORT, "
        "HOST:PORT or [IPV6]:PORT, e.g. [::1]:4444; @NAME: a target the config file names "
        "(default: $QMP_SOCKET); several run the script on each (see --jobs)",
    )
    parser.add_argument(
        "-H", "--hmp", action="store_true", help="start in HMP mode (the human monitor)"
    )
    # The options a config file may set default to None: config.apply tells the command
    # line's from what it did not say, and fills in the rest.
    parser.add_argument(
        "-p",
        "--pretty",
        action=argparse.BooleanOptionalAction,
        help="indent JSON output in scripts (the shell always does); --no-pretty: one "
        "line each (the default)",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action=argparse.BooleanOptionalAction,
        help="echo each message sent before its reply; --no-verbose does not (the default)",
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
        "--replay",
        metavar="TRANSCRIPT",
        help="send the commands of a -l transcript again, waiting where it waited for an "
        "event, and report each reply that differs from the recorded one (exit 1 if any)",
    )
    parser.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="[COMMAND:]PATH",
        help="with --replay, leave this part of replies out of the comparison too "
        "(repeatable), e.g. return.*.filename or query-name:return.name",
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
        metavar="SECONDS",
        help=f"limit for connecting, the greeting and each reply "
        f"(default {DEFAULT_TIMEOUT:g}; 0 waits forever; at most {MAX_SECONDS:g}, a day)",
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
        choices=COLORS,
        help="colour replies and events: auto (on a terminal, unless NO_COLOR is set), "
        "always, never",
    )
    parser.add_argument(
        "--complete-while-typing",
        action=argparse.BooleanOptionalAction,
        help="show completion menus as you type (default); with --no-complete-while-typing "
        "only Tab does",
    )
    parser.add_argument(
        "--pager",
        action=argparse.BooleanOptionalAction,
        help="page replies taller than the screen through $PAGER (default); "
        "--no-pager prints them straight",
    )
    parser.add_argument(
        "--history-file",
        metavar="PATH",
        help="keep the input history in PATH (default $XDG_STATE_HOME/qmpshell/history)",
    )
    parser.add_argument(
        "--history",
        action=argparse.BooleanOptionalAction,
        help="read and write an input history (default); --no-history keeps none",
    )
    parser.add_argument(
        "--no-schema-cache",
        action="store_true",
        help="read QEMU's schema afresh, neither reading nor writing the cache in "
        "$XDG_CACHE_HOME/qmpshell",
    )
    parser.add_argument(
        "--launch",
        action="store_true",
        help="start a throwaway QEMU (paused, diskless, headless) and connect to it; "
        "or give the QEMU command line after --",
    )
    parser.add_argument(
        "--raw-console",
        action="store_true",
        help="with a launched QEMU, pass its output (a guest console on -serial stdio) "
        "to the terminal unchanged, control sequences included; by default they are escaped",
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
        "--jobs",
        type=_positive,
        default=DEFAULT_JOBS,
        metavar="N",
        help=f"with several targets (addresses, a --libvirt glob), run the script on N "
        f"of them at a time (default {DEFAULT_JOBS})",
    )
    # A run of a fan-out: its target's name, for the transcript's "target" (fanout.py).
    parser.add_argument("--target-name", help=argparse.SUPPRESS)
    parser.add_argument(
        "--completions",
        choices=("bash", "zsh", "fish"),
        metavar="SHELL",
        help="print the completion script for SHELL (bash, zsh, fish) and exit",
    )
    config = parser.add_mutually_exclusive_group()
    config.add_argument(
        "--config",
        metavar="PATH",
        help="read the settings from the config file PATH "
        "(default $XDG_CONFIG_HOME/qmpshell/config.toml, if it exists)",
    )
    config.add_argument(
        "--no-config", action="store_true", help="read no config file: the defaults only"
    )
    parser.add_argument(
        "--print-config",
        action="store_true",
        help="print the settings in effect, and where each came from, and exit",
    )
    parser.add_argument(
        "--targets",
        action="store_true",
        help="print the config file's named targets (@NAME, a tab, what it names) and exit",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    return parser


def actions(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    """Every option and argument of ``parser``. argparse offers no public way to list
    them; this is the one place that reads its own list."""
    return list(parser._actions)


def attach_optional_values(parser: argparse.ArgumentParser, words: list[str]) -> list[str]:
    """An option marked ``attached_only`` given alone takes its default value attached,
    so that argparse cannot take the next word (an address) for its value."""
    alone = {
        name: action
        for action in actions(parser)
        if getattr(action, "attached_only", False)
        for name in action.option_strings
    }
    return [f"{word}={alone[word].const}" if word in alone else word for word in words]


def seconds_problem(value: float) -> str | None:
    """What is wrong with ``value`` as a time limit (0, none; else more seconds, finite,
    at most :data:`MAX_SECONDS`), or None: the rule of --timeout and --reconnect, and of
    the config file's ``timeout``."""
    if not 0 <= value < float("inf"):  # nan too
        return "must be 0 (wait forever) or more seconds"
    if value > MAX_SECONDS:
        return f"must be at most {MAX_SECONDS:g} seconds (a day; 0 waits forever)"
    return None


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: '{text}'") from None
    problem = seconds_problem(value)
    if problem:
        raise argparse.ArgumentTypeError(f"{problem}, not '{text}'")
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a positive whole number: '{text}'") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"not a positive whole number: '{text}'")
    return value


def option_words(
    parser: argparse.ArgumentParser, args: argparse.Namespace, leave_out: set[str]
) -> list[str]:
    """The options ``args`` holds, as words that give them again (each option that
    differs from its default, its value attached): what a fan-out's runs are given."""
    words: list[str] = []
    for action in actions(parser):
        if not action.option_strings or action.dest in leave_out:
            continue
        value = getattr(args, action.dest, action.default)
        if value == action.default or value is None:
            continue
        flag = next(o for o in action.option_strings if o.startswith("--"))
        if isinstance(action, argparse.BooleanOptionalAction):
            words.append(flag if value else "--no-" + flag[2:])
        elif action.nargs == 0:  # store_true
            words.append(flag)
        elif isinstance(value, list):  # -c LINE, repeated
            words.extend(f"{flag}={item}" for item in value)
        else:
            words.append(f"{flag}={value}")
    return words
