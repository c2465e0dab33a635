"""The user's text editor, run on a document in a private file (``/edit``, Ctrl-X Ctrl-E).

Which editor: ``$VISUAL``, else ``$EDITOR``, else ``vi``, as bash chooses for its
Ctrl-X Ctrl-E; the variable may hold arguments (``code --wait``), split as a shell
would. The document is written to ``command.json`` (the suffix lets the editor colour
JSON) in a directory of its own, 0700, the file 0600, both removed afterwards. The
editor gets the terminal as the user's shell would give it: echoing, lines edited
(:func:`~qmpshell.ui.typeahead.cooked`). An editor that cannot start, or exits with
a failure (``:cq`` in vim), is an :class:`EditorError`: nothing is sent.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Mapping

from ..language.editdoc import MAX_DOCUMENT

FILE_NAME = "command.json"


class EditorError(Exception):
    """The editor could not run, or failed: one line to say, nothing to send."""


def editor_command(environ: Mapping[str, str]) -> list[str]:
    """The editor's command line, from ``$VISUAL``, ``$EDITOR``, or ``vi``."""
    chosen = environ.get("VISUAL") or environ.get("EDITOR") or "vi"
    try:
        command = shlex.split(chosen)
    except ValueError as exc:
        raise EditorError(f"cannot read the editor's command {chosen!r}: {exc}") from None
    if not command:
        raise EditorError("the editor's command ($VISUAL or $EDITOR) is blank")
    return command


def edit_text(
    text: str, environ: Mapping[str, str], preexec: Callable[[], None] | None = None
) -> str:
    """Run the editor on ``text`` and return what was saved (blocking: run it on a
    thread). ``preexec`` runs in the child before the editor (signals)."""
    command = editor_command(environ)
    if shutil.which(command[0], path=environ.get("PATH")) is None:
        raise EditorError(f"editor not found: {command[0]} (set $VISUAL or $EDITOR)")
    try:
        directory = tempfile.mkdtemp(prefix="qmpshell-edit-")  # 0700
    except OSError as exc:
        raise EditorError(f"cannot make the editor's file: {exc.strerror}") from None
    path = os.path.join(directory, FILE_NAME)
    try:
        _write(path, text)
        try:
            status = subprocess.run(
                [*command, path], env=dict(environ), check=False, preexec_fn=preexec
            ).returncode
        except OSError as exc:
            raise EditorError(f"the editor {command[0]} could not start: {exc.strerror}") from None
        if status != 0:
            how = (
                f"was killed by signal {-status}" if status < 0 else f"exited with status {status}"
            )
            raise EditorError(f"the editor {how}; nothing sent")
        return _read_back(path)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _write(path: str, text: str) -> None:
    """The document, in a file of the user's alone (0600, never through a link)."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with open(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
    except OSError as exc:
        raise EditorError(f"cannot write the editor's file {path}: {exc.strerror}") from None


def _read_back(path: str) -> str:
    """What the editor saved: bounded, decoded leniently (a stray byte is the check's to
    refuse, not a crash)."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return ""  # the editor removed the file: as if emptied
    try:
        with open(descriptor, encoding="utf-8", errors="replace") as file:
            return file.read(MAX_DOCUMENT + 1).removeprefix("\ufeff")  # an editor's BOM
    except OSError as exc:  # a directory saved in its place, say
        raise EditorError(f"cannot read the editor's file back: {exc.strerror}") from None
