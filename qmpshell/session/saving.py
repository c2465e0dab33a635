"""``/save FILE``: the lines this session ran, written as a qmpshell script.

The script runs again with ``qmpshell SOCKET < FILE`` (or ``-c`` each line): each line as
it was typed, in the monitor it went to (``/hmp`` and ``/qmp`` put in where the mode
changed, so that HMP lines go to the human monitor again), with the meta-commands that
matter to what follows (``/wait``, ``/job wait``, ``/cancel``) but not those that only
show things (``/help``, ``/events``, ``/jobs``, ``/watch``...) nor ``/save`` itself; a
line through a pipe (``LINE |! COMMAND``) whole. A line
qmpshell refused (nothing was sent) is left out; a line QEMU refused is kept, as it ran.
A line that passes a secret (:func:`qmpshell.language.redaction.line_has_secret`) is left
out, and a comment says where. The file is private (mode 0600, not through a symbolic
link); one that exists already is overwritten only with ``-f``, or when this session
wrote it. Lines are kept as they ran, up to :data:`KEPT_BYTES` of them (a script piped for
hours must not grow the shell), and judged only when saved: the line's path stays cheap.
"""

from __future__ import annotations

import os
import stat
import time
from typing import TYPE_CHECKING

from ..errors import InputError
from ..escape import escape_text
from ..language.mode import Mode
from ..language.redaction import line_has_secret
from ..protocol.privatefile import open_private, write_whole
from ..records import Record

if TYPE_CHECKING:
    from ..protocol.greeting import Greeting

# The meta-commands a saved script keeps: they change what the lines after them do.
KEPT_META = ("/wait", "/job", "/cancel", "/hmp", "/qmp")

LEFT_OUT = "# (a line that passes a secret was left out here)"


# Past this many characters of lines, a session keeps none and /save says it cannot.
KEPT_BYTES = 8 << 20


class SavedScript(Record):
    """A script as /save writes it: its text, the lines it runs, the lines left out."""

    text: str
    lines: int
    left_out: int


class SessionLines:
    """The lines a session ran, kept for ``/save`` as they were given (the secret rule
    and the choice of meta-commands applied when saving, not on the way of each line)."""

    def __init__(self, max_chars: int = KEPT_BYTES) -> None:
        self._lines: list[tuple[str, Mode]] = []  # each line as given, and its monitor
        self._chars = 0
        self._max_chars = max_chars
        self.overflowed = False  # more was run than is kept
        self._written: set[tuple[int, int]] = set()  # (device, inode) of each file saved

    def ran(self, line: str, mode: Mode) -> None:
        """Keep a line that ran (was sent, or was a meta-command) in ``mode``."""
        if self.overflowed:
            return
        self._chars += len(line)
        if self._chars > self._max_chars:
            self.overflowed = True
            self._lines.clear()
            return
        self._lines.append((line, mode))

    def script(self, header: str) -> SavedScript:
        """The script: ``header`` (comment lines), then each line kept, switching
        monitors where the lines' mode changes (a script starts in QMP mode)."""
        out = [header]
        mode = Mode.QMP
        lines = left_out = 0
        for line, kept_mode in self._lines:
            text = line.strip()
            if not _kept(text):
                continue
            if line_has_secret(text, kept_mode):
                out.append(LEFT_OUT)
                left_out += 1
                continue
            if kept_mode is not mode:
                out.append("/hmp" if kept_mode is Mode.HMP else "/qmp")
                mode = kept_mode
                lines += 1
            out.append(text)
            lines += 1
        return SavedScript("\n".join(out) + "\n", lines, left_out)

    def save(self, path: str, header: str, *, force: bool) -> SavedScript:
        """Write the script to ``path``, a private file; an existing one only when
        ``force`` or this session wrote it. InputError says what went wrong."""
        if self.overflowed:
            limit = self._max_chars >> 20
            raise InputError(f"/save: this session ran more than {limit} MiB of lines; not kept")
        path = os.path.expanduser(path)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
        try:
            known = os.lstat(path)
        except OSError:
            known = None
        if known is not None:
            problem = _not_a_file(path, known.st_mode)
            if problem:
                raise InputError(f"/save: {path} {problem}")
            if force or (known.st_dev, known.st_ino) in self._written:
                flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        try:
            fd = open_private(path, flags)
        except FileExistsError:
            raise InputError(f"/save: {path} exists; /save -f {path} overwrites it") from None
        except OSError as exc:
            raise InputError(f"/save: cannot write {path}: {exc.strerror}") from None
        script = self.script(header)
        try:
            info = os.fstat(fd)
            write_whole(fd, script.text.encode("utf-8", "surrogateescape"))
        except OSError as exc:
            raise InputError(f"/save: cannot write {path}: {exc.strerror}") from None
        finally:
            os.close(fd)
        self._written.add((info.st_dev, info.st_ino))
        return script


def _not_a_file(path: str, mode: int) -> str | None:
    """What ``path`` (whose lstat mode is ``mode``) is instead of a file /save may write,
    ``-f`` or not; None when it is a regular file."""
    if stat.S_ISDIR(mode):
        return "is a directory: give the name of a file to write"
    if stat.S_ISLNK(mode):
        to = "to nothing, " if not os.path.exists(path) else ""
        return f"is a symbolic link ({to}{os.readlink(path)}), which /save does not follow"
    if not stat.S_ISREG(mode):
        return "is not a regular file"
    return None


def _kept(text: str) -> bool:
    """Whether a saved script keeps a line: not a blank one or a comment, and of the
    meta-commands those that change what follows (a mode switch is put back where the
    mode changes)."""
    if not text or text.startswith("#"):
        return False
    if not text.startswith("/"):
        return True
    name, _, rest = text.partition(" ")
    return name in KEPT_META and (name not in ("/hmp", "/qmp") or bool(rest.strip()))


def header(greeting: Greeting | None, address: object) -> str:
    """The saved script's first lines: which qmpshell saved it, when, from which QEMU."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        ours = version("qmpshell")
    except PackageNotFoundError:
        ours = "(not installed)"
    when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    lines = [f"# saved by qmpshell {ours} (/save) on {when}"]
    if greeting is not None and greeting.version != (0, 0, 0):
        qemu = ".".join(map(str, greeting.version))
        package = f" ({greeting.package.strip()})" if greeting.package.strip() else ""
        lines.append(escape_text(f"# against QEMU {qemu}{package} at {address}"))
    lines.append("# run it again: qmpshell SOCKET < this-file")
    return "\n".join(lines)
