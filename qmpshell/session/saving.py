"""``/save FILE``: the lines this session ran, written as a qmpshell script.

The script runs again with ``qmpshell SOCKET < FILE`` (or ``-c`` each line): each line as
it was typed, in the monitor it went to (``/hmp`` and ``/qmp`` put in where the mode
changed, so that HMP lines go to the human monitor again), with the meta-commands that
matter to what follows (``/wait``, ``/job wait``, ``/cancel``) but not those that only
show things (``/help``, ``/events``, ``/jobs``, ``/watch``...) nor ``/save`` itself. A line
qmpshell refused (nothing was sent) is left out; a line QEMU refused is kept, as it ran.
A line that passes a secret (:func:`qmpshell.language.redaction.line_has_secret`) is left
out, and a comment says where. The file is private (mode 0600, not through a symbolic
link); one that exists already is overwritten only with ``-f``, or when this session
wrote it.
"""

from __future__ import annotations

import os
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


class _Kept(Record):
    text: str  # as typed, or LEFT_OUT
    mode: Mode  # the monitor it went to


class SessionLines:
    """The lines a session ran, kept for ``/save``."""

    def __init__(self) -> None:
        self._lines: list[_Kept] = []
        self._written: set[tuple[int, int]] = set()  # (device, inode) of each file saved

    def ran(self, line: str, mode: Mode) -> None:
        """Keep a line that ran (was sent, or a meta-command that matters) in ``mode``."""
        text = line.strip()
        if text.startswith("/"):
            name, _, rest = text.partition(" ")
            if name not in KEPT_META:
                return
            if name in ("/hmp", "/qmp") and not rest.strip():
                return  # a mode switch: put back where the mode changes (script())
        if line_has_secret(text, mode):
            text = LEFT_OUT
        self._lines.append(_Kept(text, mode))

    @property
    def left_out(self) -> int:
        return sum(kept.text == LEFT_OUT for kept in self._lines)

    def script(self, header: str) -> str:
        """The script: ``header`` (comment lines), then each line, switching monitors
        where the lines' mode changes (a script starts in QMP mode)."""
        out = [header]
        mode = Mode.QMP
        for kept in self._lines:
            if kept.mode is not mode and kept.text != LEFT_OUT:
                out.append("/hmp" if kept.mode is Mode.HMP else "/qmp")
                mode = kept.mode
            out.append(kept.text)
        return "\n".join(out) + "\n"

    def save(self, path: str, header: str, *, force: bool) -> int:
        """Write the script to ``path``, a private file; an existing one only when
        ``force`` or this session wrote it; how many lines it runs. InputError says what
        went wrong."""
        path = os.path.expanduser(path)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
        try:
            known = os.lstat(path)
        except OSError:
            known = None
        if known is not None and (force or (known.st_dev, known.st_ino) in self._written):
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
            write_whole(fd, script.encode("utf-8", "surrogateescape"))
        except OSError as exc:
            raise InputError(f"/save: cannot write {path}: {exc.strerror}") from None
        finally:
            os.close(fd)
        self._written.add((info.st_dev, info.st_ino))
        return sum(not line.startswith("#") for line in script.splitlines())


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
