"""The human monitor (HMP), as QEMU describes it through ``human-monitor-command``.

Pure functions: reading QEMU's own ``help`` and ``info`` listings into a catalogue of
commands (aliases such as ``cont|c`` understood), deciding which argument of a command a
word is, laying out HMP's text output, and recognising the replies that are failures.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from ..escape import escape_lines
from ..records import Record
from .hostpaths import hmp_host_path

_ENTRY = re.compile(r"^((?:info )?[A-Za-z_][\w-]*(?:\|[\w-]+)*)[ \t]+(.*?)[ \t]*--(?: |$)(.*)$")


# HMP's command names (QEMU 7.2 and 10.0, aliases included) that people type at a QMP
# prompt by habit. Only those that are not also QMP commands get the hint to use /hmp.
HMP_NAMES = frozenset(
    """
    ? announce_self balloon block_job_cancel block_job_complete block_job_pause
    block_job_resume block_job_set_speed block_resize block_set_io_throttle block_stream
    boot_set c calc_dirty_rate cancel_vcpu_dirty_limit change client_migrate_info closefd
    commit cont cpu delvm device_add device_del drive_add drive_backup drive_del
    drive_mirror dumpdtb eject expire_password gdbserver getfd gpa2hpa gpa2hva gva2gpa
    help hostfwd_add hostfwd_remove i info loadvm log logfile mce memsave migrate
    migrate_cancel migrate_continue migrate_incoming migrate_pause migrate_recover
    migrate_set_capability migrate_set_parameter migrate_start_postcopy mouse_button
    mouse_move mouse_set nbd_server_add nbd_server_remove nbd_server_start nbd_server_stop
    netdev_add netdev_del nmi o object_add object_del p pcie_aer_inject_error pmemsave
    print q qemu-io qom-get qom-list qom-set quit replay_break replay_delete_break
    replay_seek ringbuf_read ringbuf_write s savevm screendump sendkey set_link
    set_password set_vcpu_dirty_limit singlestep snapshot_blkdev snapshot_blkdev_internal
    snapshot_delete_blkdev_internal stop stopcapture sum sync-profile system_powerdown
    system_reset system_wakeup trace-event watchdog_action wavcapture x xp
    """.split()  # noqa: SIM905 (a list of words reads better as words)
)


# The first word of a line, and whether another follows (matched, not split: a line may
# be megabytes long).
_FIRST_WORD = re.compile(r"\s*(\S*)\s*(\S?)")


def looks_like_hmp(line: str, qmp_commands: Collection[str]) -> bool:
    """Whether ``line``, refused as QMP, starts with an HMP command that QMP lacks
    (``info status``, ``sendkey ctrl-alt-f1``)."""
    first = _FIRST_WORD.match(line).group(1)  # type: ignore[union-attr]
    return first in HMP_NAMES and first not in qmp_commands


def misdirected(line: str, qmp_commands: Collection[str], has_hmp: bool) -> str | None:
    """What to say instead of "unknown command" when a line refused at the QMP prompt
    was meant for somewhere else: qmpshell's own help or exit, or the human monitor."""
    first, more = _FIRST_WORD.match(line).groups()  # type: ignore[union-attr]
    if first in ("help", "?", "h") and first not in qmp_commands:
        tail = "; HMP's is /hmp help" if has_hmp else ""
        return f"qmpshell's help is /help{tail}"
    if first in ("exit", "logout", "bye") and not more:
        return f"'{first}' is not a QMP command: /quit or Ctrl-D leaves (quit stops QEMU)"
    if has_hmp and looks_like_hmp(line, qmp_commands):
        return f"this looks like an HMP command: /hmp {line.strip()}"
    return None


def unknown_hmp_command(text: str) -> str | None:
    """The name in HMP's ``unknown command: 'NAME'`` reply, if that is what it is."""
    found = re.match(r"unknown command: '([^']*)'", text.strip())
    return found.group(1) if found else None


class HmpCommand(Record):
    """One HMP command: its name, aliases, argument synopsis and description."""

    name: str
    aliases: tuple[str, ...]
    synopsis: str
    text: str

    @property
    def arguments(self) -> list[str]:
        """The positional arguments' names in order, flags (``-f``) left out."""
        words = re.findall(r"[^\s\[\]]+", self.synopsis)
        return [w for w in words if not w.startswith("-") and w != "|"]


def parse_listing(text: str, prefix: str = "") -> dict[str, HmpCommand]:
    """Commands from the text of HMP ``help`` (or ``info``, with ``prefix="info "``),
    keyed by every name they answer to."""
    catalogue: dict[str, HmpCommand] = {}
    entries: list[str] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        # An entry starts at column 0; indented lines and lines starting with "[" (the
        # synopsis of drive_add spans several) continue the one before.
        if (line and not line[0].isspace() and not line.startswith("[")) or not entries:
            entries.append(line)
        else:
            entries[-1] += " " + line.strip()
    for entry in entries:
        match = _ENTRY.match(entry)
        if match is None or not match.group(1).startswith(prefix):
            continue
        names = match.group(1)[len(prefix) :].split("|")
        command = HmpCommand(names[0], tuple(names[1:]), match.group(2), match.group(3).strip())
        for name in names:
            catalogue.setdefault(name, command)
    return catalogue


def output_text(text: str) -> str:
    """HMP output as it should appear: QEMU's CRLF made newlines, one trailing newline
    dropped, and control characters (other than tab and newline) shown escaped so that
    output cannot drive the terminal."""
    text = text.replace("\r\n", "\n")
    if text.endswith("\n"):
        text = text[:-1]
    return escape_lines(text)


def snapshot_tags(text: str) -> list[str]:
    """The tags in the tables ``info snapshots`` prints (below each ``ID TAG ...`` head)."""
    tags: list[str] = []
    in_table = False
    for line in text.replace("\r\n", "\n").split("\n"):
        fields = line.split()
        if fields[:2] == ["ID", "TAG"]:
            in_table = True
        elif in_table and len(fields) >= 2:
            if fields[1] not in tags:
                tags.append(fields[1])
        else:
            in_table = False
    return tags


def argument_kind(command: str, info: str | None, position: int, name: str) -> str:
    """What the ``position``-th argument (named ``name`` in the synopsis) of ``command``
    takes, for completion: ``devices``, ``block-devices``, ``snapshots``,
    ``device-types``, ``qom-path``, ``qom-properties``, ``file`` (a host path, by the
    table in :mod:`qmpshell.language.hostpaths`), or ``""``. ``info`` is the subcommand
    of ``info``."""
    if command == "device_del":
        return "devices"
    if command == "device_add" and position == 0:
        return "device-types"
    if command in ("loadvm", "delvm") or name == "tag":
        return "snapshots"
    if command in ("eject", "change", "drive_del", "block_resize") and position == 0:
        return "block-devices"
    if info in ("block", "blockstats") or (name == "device" and command.startswith("block")):
        return "block-devices"
    if command in ("qom-list", "qom-get", "qom-set") and position == 0:
        return "qom-path"
    if command in ("qom-get", "qom-set") and position == 1:
        return "qom-properties"
    if hmp_host_path(command, name):
        return "file"
    return ""


# -- failures --------------------------------------------------------------------------
#
# ``human-monitor-command`` answers with success whatever HMP did, so a failure is known
# by its text alone. The rule, and where in QEMU (7.2 and 10.0) each form comes from, is
# written up in docs/hmp-failures.md; keep the two in step.

# A last line that is a failure. monitor/hmp.c ends with "Try ..." after any argument it
# could not parse (a missing or extra argument, a bad number, expression, size, "on"/
# "off", option list ...); the line before says what was wrong, but may have gone to
# QEMU's stderr instead (the options of device_add and netdev_add are parsed before the
# monitor is made current). A memory dump (x, xp: monitor/hmp-cmds-target.c, 7.2
# monitor/misc.c) stops at the first line it cannot read, after those it could.
_LAST_LINE_FAILURE = re.compile(
    r'Try "help [^"]*" for more information$|[0-9a-f]+: Cannot access memory$'
)

# A first line that is a failure whatever the command (patterns anchored at its start).
_FAILURE_FORMS = (
    # monitor/hmp.c: the dispatcher.
    r"unknown command: '",
    r"Command '[^']*' not available until machine initialization has completed\.$",
    r'Command "[^"]*" is not available\.$',
    r"terminal does not support password prompting$",
    # monitor/hmp-cmds.c hmp_handle_error(): every HMP command built on a QMP one. Also
    # util/log.c "Error opening logfile ...".
    r"Error\b",
    # error_report()/error_report_err() and monitor_printf() in the handlers (the files
    # are QEMU 10.0's; 7.2 had several in monitor/misc.c and monitor/hmp-cmds.c).
    r"Could not open ",  # block.c (drive_add), monitor/hmp-cmds.c (gdbserver)
    r"[Ff]ailed to ",  # block/file-posix.c locks, audio/audio-hmp-cmds.c, info stats
    r"Device '[^']*' (not found|has no medium)$",  # block/monitor/block-hmp-cmds.c
    r"Deleting device added with blockdev-add is not supported$",  # drive_del
    r"'commit' error for '",  # commit
    r"Can't hot-add drive to type ",  # drive_add
    r"'node-name' needs to be specified$",  # drive_add -n
    r"Must specify either driver or file$",  # block.c (drive_add)
    r"Unknown (driver|protocol):? '",  # block.c (drive_add)
    r"Block format '[^']*' does not support the option '",  # block.c
    r"Duplicate ID '",  # util/qemu-option.c
    r"Parameter '",  # include/qapi/qmp/qerror.h, for util/qemu-option.c and QAPI
    r"[Ii]nvalid ",  # system/bootdevice.c, ui/ui-hmp-cmds.c sendkey, net/slirp.c,
    # target/i386/helper.c mce, stats/stats-hmp-cmds.c, monitor/hmp-cmds.c cpu
    r"Expected 'password' after 'vnc'$",  # 7.2 monitor/hmp-cmds.c change
    r"unknown event \"",  # trace/qmp.c (trace-event, info trace-events)
    r"unexpected (argument|option) ",  # trace/trace-hmp-cmds.c, one-insn-per-tb
    r"argument vcpu must be positive",  # 7.2 monitor/misc.c trace-event
    r"No memory is mapped at address ",  # monitor/hmp-cmds-target.c gpa2hva, gpa2hpa
    r"Memory at address \S+ is not RAM$",  # monitor/hmp-cmds-target.c gpa2hva, gpa2hpa
    r"(Size of memory region at |Cannot (open|read) (/proc/self/)?pagemap|Page not present$)",
    r"(No CPU available|No cpu|CPU#\d+ not available)$",  # hmp-cmds-target.c, memsave
    r"Can not dump without CPU$",  # 7.2 monitor/misc.c memory dumps
    r"Incorrect period length specified!$",  # migration/dirtyrate.c
    r"Either dirty ring or dirty bitmap can be specified!$",  # migration/dirtyrate.c
    r"[Aa]udiodev '[^']*' not found$",  # wavcapture: 7.2 monitor/misc.c, audio/audio.c
    r"Mouse at index '[^']*' not found$",  # 7.2 ui/input.c mouse_set
    r"Input device '[^']*' is not a mouse$",  # 7.2 ui/input.c mouse_set
    r"This accelerator does not support setting one-insn-per-tb$",  # 10.0 only
    r"replay support not available$",  # replay/stubs-system.c
    r"bdrv_snapshot_list: error ",  # block/monitor/block-hmp-cmds.c info snapshots
    r"no block device can store vmstate for snapshot$",  # block/snapshot.c
    r"Path '[^']*' could not be resolved\.$",  # qom/qom-hmp-cmds.c info qom-tree
    r"Warning: Path '[^']*' is ambiguous\.$",  # qom/qom-hmp-cmds.c info qom-tree
    r"user mode network stack not in use$",  # net/slirp.c hostfwd_*
    r"unrecognized netdev id '",  # net/slirp.c hostfwd_*
    r"host forwarding rule for .* not found$",  # net/slirp.c hostfwd_remove
)
_FAILURE_FIRST_LINE = re.compile("|".join(f"(?:{form})" for form in _FAILURE_FORMS))

# Commands whose handlers report failures in free text (error_report_err() of whatever
# the block layer, slirp, trace or log code said), with the only first lines their
# successes print (_NOTHING: they print nothing). Any other first line is a failure.
_NOTHING = r"(?!)"
_SUCCESS_FIRST_LINE = {
    name: re.compile(pattern)
    for name, pattern in {
        "drive_add": r"OK$|Supported formats: ",  # -n prints nothing; format=help lists
        "drive_del": _NOTHING,
        "commit": _NOTHING,
        "log": _NOTHING,  # an item it does not know: it prints its list of items instead
        "logfile": _NOTHING,
        "trace-event": _NOTHING,
        "wavcapture": _NOTHING,
        "hostfwd_add": _NOTHING,
        "hostfwd_remove": r"host forwarding rule for .* removed$",
        "boot_set": r"boot device list now set to ",
        "gpa2hva": r"Host virtual address for ",
        "gpa2hpa": r"Host physical address for ",
        "gva2gpa": r"gpa: ",  # "Unmapped" or "No cpu" otherwise
        "mouse_set": _NOTHING,
        "replay_break": _NOTHING,
        "replay_delete_break": _NOTHING,
        "replay_seek": _NOTHING,
        "calc_dirty_rate": r"Starting dirty rate measurement ",
        "gdbserver": r"Waiting for gdb connection |Disabled gdbserver$",
        "cpu": _NOTHING,
    }.items()
}

# vreport() in util/error-report.c: warn_report() and info_report() lines, which come
# before a success as well as before a failure.
_NOTICE = re.compile(r"(warning|info): ")


def is_failure(text: str, line: str = "") -> bool:
    """Whether HMP's reply ``text`` to the command ``line`` says that the command failed.

    Decided by the first line that is not blank or a warning: a form that only failures
    take (``Error: ...``, ``unknown command: ...``, ``Could not open ...``), or, for
    commands that report failures in free text (``drive_add``, ``drive_del``, ``log``
    ...), anything but what their success prints; and by the last line, which after an
    argument HMP could not parse is ``Try "help CMD" for more information`` (and after
    a memory dump that hit unreadable memory ``ADDRESS: Cannot access memory``). The
    normal outputs of ``info`` and ``help`` take none of these forms. Without ``line``
    only the forms count.
    """
    lines = [each for each in text.replace("\r\n", "\n").split("\n") if each.strip()]
    if lines and _LAST_LINE_FAILURE.match(lines[-1]):
        return True
    significant = [each for each in lines if not _NOTICE.match(each)]
    first = significant[0] if significant else ""
    if _FAILURE_FIRST_LINE.match(first):
        return True
    name = re.match(r"\s*([^\s/]*)", line)
    success = _SUCCESS_FIRST_LINE.get(name.group(1) if name else "")
    if success is None:
        return False
    return bool(first) and not success.match(first)
