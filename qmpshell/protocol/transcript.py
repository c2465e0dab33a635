"""The JSON Lines transcript (``-l PATH``): every message sent and received, as it passes.

Each line is ``{"time": <unix seconds>, "dir": "send" | "recv", "msg": <message>}``, with
``"user": true`` on a command one of the session's lines sent (not one the shell sent of
its own accord: the negotiation, the schema, the names completion offers), and a line
``{"time": ..., "dir": "wait", "wait": {...}}`` where the session waited (``/wait``,
``/job wait``), so that ``--replay`` can send the lines' commands again and wait where
they waited (the README, "The transcript"); in a run of a script on several targets,
``"target": NAME`` after ``"dir"``. A line
is written the moment its message passes, with one whole write, so a crash loses nothing
and a full disk never leaves half a line. The file is opened as :mod:`qmpshell.protocol.privatefile`
says: not through a symbolic link, not when another user owns it, and with mode 0600. What
is written of each message is what ``redact`` makes of it: the shell passes its secret rule
(:func:`qmpshell.language.redaction.redact`), which writes secrets as ``"<redacted>"``.

Every line is valid JSON whatever passed: a raw line whose object says less than its
text (a key given twice, a number like 1E400 beyond a double) is written as
``"raw": <the text sent>`` instead of ``"msg"`` (as ``"msg"`` after all when it holds a
secret, redacted); a number JSON cannot write (a peer's 1e999) becomes "Infinity".
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Callable

from .message import RawMessage, dump_pieces
from .packed import as_list
from .privatefile import open_private, write_whole

TYPE_CHECKING = False  # typing's, without importing typing (docs/architecture.md, start-up)
if TYPE_CHECKING:
    from typing import Any

# ASCII with \u escapes: any string (a lone surrogate too) is written faithfully.
_ASCII = json.JSONEncoder(allow_nan=False, default=as_list)


def _warn(text: str) -> None:
    print(f"qmpshell: {text}", file=sys.stderr)


class Transcript:
    """Appends messages to a JSON Lines file of mode 0600.

    A write that fails (disk full, file too large) is reported once on stderr, the part of
    the line written is cut off again, and the transcript stops; the session goes on.
    """

    def __init__(
        self,
        path: str,
        *,
        redact: Callable[[Any], Any] | None = None,
        warn: Callable[[str], None] = _warn,
        target: str | None = None,
    ) -> None:
        self.path = path
        # What is written of a message: the message itself when it holds nothing to
        # leave out, else a copy with the secrets replaced. None: everything as it is.
        self.redact = redact
        self.warn = warn
        self.target = target  # a fan-out's run: each line says which target it is of
        self._fd: int | None = open_private(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)

    def record(self, direction: str, message: Any, *, user: bool = False) -> None:
        """Write one message; ``direction`` is ``"send"`` or ``"recv"``; ``user``: a
        command a line of the session sent."""
        if self._fd is None:
            return
        entry: dict[str, Any] = {"time": time.time(), "dir": direction}
        if self.target is not None:
            entry["target"] = self.target
        written = message if self.redact is None else self.redact(message)
        if isinstance(message, RawMessage) and not message.faithful and written is message:
            entry["raw"] = message.wire  # what the object cannot say (a key twice, 1E400)
        else:
            entry["msg"] = written
        if user:
            entry["user"] = True
        self._write(entry)

    def record_wait(self, wait: dict[str, Any]) -> None:
        """Write where the session waited: ``{"event": PATTERN, "data": {...}, "timeout":
        SECONDS}`` for ``/wait``, ``{"job": ID, "timeout": SECONDS}`` for ``/job wait``."""
        if self._fd is not None:
            self._write({"time": time.time(), "dir": "wait", "wait": wait})

    def _write(self, entry: dict[str, Any]) -> None:
        assert self._fd is not None
        line = bytearray()
        for piece in dump_pieces(entry, _ASCII):  # a 50 MB reply is not copied whole
            line += piece.encode("ascii")
        line += b"\n"
        try:
            write_whole(self._fd, line)
        except OSError as exc:
            self.warn(f"transcript {self.path} no longer written: {exc.strerror}")
            self.close()

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)
