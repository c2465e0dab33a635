"""The JSON Lines transcript (``-l PATH``): every message sent and received, as it passes.

Each line is ``{"time": <unix seconds>, "dir": "send" | "recv", "msg": <message>}``. A line
is written and flushed the moment its message passes, so a crash loses nothing. Secrets
(see :mod:`qmpshell.redaction`) are written as ``"<redacted>"`` unless asked for.

Every line is valid JSON whatever passed: a raw line whose object says less than its
text (a key given twice, a number like 1E400 beyond a double) is written as
``"raw": <the text sent>`` instead of ``"msg"`` (as ``"msg"`` after all when it holds a
secret, redacted); a number JSON cannot write (a peer's 1e999) becomes "Infinity".
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from typing import IO, Any

from .message import RawMessage, dumps
from .redaction import has_secret, redact


class Transcript:
    """Appends messages to a JSON Lines file created with mode 0600.

    A write that fails (disk full, file removed) is reported once on stderr and the
    transcript stops; the session goes on.
    """

    def __init__(self, path: str, *, secrets: bool = False) -> None:
        self.path = path
        self.secrets = secrets  # False: secrets are written as "<redacted>"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._file: IO[str] | None = os.fdopen(fd, "a", encoding="utf-8")

    def record(self, direction: str, message: Any) -> None:
        """Write one message; ``direction`` is ``"send"`` or ``"recv"``."""
        if self._file is None:
            return
        # ASCII with \u escapes: any string (a lone surrogate too) is written faithfully.
        entry: dict[str, Any] = {"time": time.time(), "dir": direction}
        secret = not self.secrets and has_secret(message)
        if isinstance(message, RawMessage) and not message.faithful and not secret:
            entry["raw"] = message.wire  # what the object cannot say (a key twice, 1E400)
        else:
            entry["msg"] = redact(message) if secret else message
        line = dumps(entry)
        try:
            self._file.write(line + "\n")
            self._file.flush()
        except OSError as exc:
            print(
                f"qmpshell: transcript {self.path} no longer written: {exc.strerror}",
                file=sys.stderr,
            )
            self.close()

    def close(self) -> None:
        file, self._file = self._file, None
        if file is not None:
            # A full disk may refuse the last flush; that was reported already.
            with contextlib.suppress(OSError):
                file.close()
