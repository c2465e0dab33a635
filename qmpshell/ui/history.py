"""Persistent input history: where it lives, its file mode, and what is kept out of it.

History is a file per mode under ``$XDG_STATE_HOME/qmpshell/`` (``history`` for QMP,
``history-hmp`` for HMP), created 0600. Lines that carry secrets, by the rule of
:mod:`qmpshell.language.redaction` for QMP and HMP lines alike (``set_password vnc X``, an
argument named like ``password``, the ``data`` of a ``secret`` object), are run but never
written. The file is opened as :mod:`qmpshell.protocol.privatefile` says, each time it is read or
written: never through a symbolic link, never when another user owns it, and tightened
to 0600; each entry goes in with one write.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ..language.mode import Mode
from ..language.redaction import line_has_secret
from ..protocol.privatefile import open_private, write_whole
from ..session.paths import qmpshell_dir
from .console import Console


def history_path(mode: str = "qmp", override: str | None = None) -> Path:
    """The history file of ``mode``; ``override`` (``--history-file``) names the QMP one."""
    if override:
        path = Path(override).expanduser()
        return path if mode == "qmp" else path.with_name(f"{path.name}-{mode}")
    name = "history" if mode == "qmp" else f"history-{mode}"
    return Path(qmpshell_dir("state"), name)


def make_history(
    path: Path, mode: Mode = Mode.QMP, warn: Callable[[str], None] | None = None
) -> Any:
    """A prompt_toolkit history on ``path`` that keeps out the lines of ``mode`` carrying
    secrets, or in-memory history (with a warning) when the file cannot be used. Each
    warning is said once, through ``warn`` (the session's Output; by default the
    console's stderr)."""

    def _warn_once(message: str) -> None:
        if message not in _warned:
            _warned.add(message)
            (warn or Console().error)(message)

    from prompt_toolkit.history import FileHistory, InMemoryHistory

    class PrivateFileHistory(FileHistory):
        # FileHistory's own format ("# date" then "+line"), read and written through
        # open_private rather than open(), which follows symbolic links.
        def load_history_strings(self) -> Iterable[str]:
            try:
                with os.fdopen(open_private(path, os.O_RDONLY), "rb") as file:
                    data = file.read()
            except OSError as exc:
                _warn_once(f"history {path} not read: {exc.strerror}")
                return []
            strings: list[str] = []
            lines: list[str] = []
            for raw in data.decode("utf-8", "replace").splitlines(keepends=True):
                if raw.startswith("+"):
                    lines.append(raw[1:])
                elif lines:
                    strings.append("".join(lines)[:-1])
                    lines = []
            if lines:
                strings.append("".join(lines)[:-1])
            return reversed(strings)  # newest first

        def store_string(self, string: str) -> None:
            if line_has_secret(string, mode):
                return
            entry = f"\n# {datetime.datetime.now()}\n" + "".join(
                f"+{line}\n" for line in string.split("\n")
            )
            try:
                fd = open_private(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
                try:
                    write_whole(fd, entry.encode("utf-8", "replace"))
                finally:
                    os.close(fd)
            except OSError as exc:
                _warn_once(f"history {path} no longer written: {exc.strerror}")

    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.close(open_private(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND))
    except OSError as exc:
        # mkdir says "File exists" when a parent is a file; say what that means.
        reason = (
            f"{path.parent} is not a directory"
            if isinstance(exc, FileExistsError)
            else exc.strerror
        )
        _warn_once(f"cannot use history file {path}: {reason}; history is not saved")
        return InMemoryHistory()
    return PrivateFileHistory(str(path))


_warned: set[str] = set()  # said once per process
