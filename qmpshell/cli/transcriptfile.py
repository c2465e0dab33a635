"""``-l``'s transcript file, opened for a connection of the session."""

from __future__ import annotations

from ..protocol.transcript import Transcript
from ..ui.output import Output


def open_transcript(
    path: str | None, output: Output, secrets: bool, target: str | None
) -> Transcript | None:
    if not path:
        return None
    try:
        from ..language.redaction import redact

        return Transcript(
            path, redact=None if secrets else redact, warn=output.error, target=target
        )
    except OSError as exc:
        output.error(f"cannot write transcript {path}: {exc.strerror}; going on without it")
        return None
