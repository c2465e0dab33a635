"""Everything qmpshell shows goes through one :class:`Output`.

It knows where messages go (stdout), where complaints go (stderr), and how messages are
laid out (one compact JSON line each, or indented with ``--pretty``).
"""

from __future__ import annotations

import json
import sys
from typing import IO, Any

from .errors import InputError


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
_PRETTY = json.JSONEncoder(indent=2, ensure_ascii=False)


class Output:
    """Writes messages to ``stream`` and one-line complaints to ``errors``."""

    def __init__(
        self,
        stream: IO[str] | None = None,
        errors: IO[str] | None = None,
        *,
        pretty: bool = False,
    ) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self.errors = errors if errors is not None else sys.stderr
        self.pretty = pretty
        self._encode = (_PRETTY if pretty else _COMPACT).encode
        # Set by the interactive shell: how wide its prompt is, so that a caret can be
        # drawn under the line the user just typed.
        self.prompt_width: int | None = None

    @property
    def is_terminal(self) -> bool:
        return _isatty(self.stream)

    def format(self, message: Any) -> str:
        """The text of one message as this output lays it out."""
        return self._encode(message)

    def message(self, message: Any) -> None:
        """Show one QMP message (reply, event, or a command echoed by ``-v``)."""
        self.stream.write(self._encode(message) + "\n")
        self.stream.flush()

    def text(self, text: str) -> None:
        """Show plain text, such as a banner."""
        self.stream.write(text + "\n")
        self.stream.flush()

    def note(self, text: str) -> None:
        """Say something about the session (not a message) on stderr."""
        self.error(text)

    def input_error(self, line: str, error: InputError, where: str = "") -> None:
        """Report a line that cannot be sent: where (line, column) and what is wrong, and
        on a terminal a caret under the place."""
        place = [where] if where else []
        column = error.column
        if column is not None:
            place.append(f"column {column + 1}")
            if _isatty(self.errors):
                self.stream.flush()
                if self.prompt_width is not None and "\n" not in line:
                    self.errors.write(" " * (self.prompt_width + column) + "^\n")
                else:
                    shown = line.rstrip("\n")
                    self.errors.write(f"  {shown}\n  {' ' * column}^\n")
        self.error(f"{', '.join(place)}: {error}" if place else str(error))

    def error(self, text: str) -> None:
        """Report a problem on stderr, on one line."""
        self.stream.flush()
        self.errors.write(f"qmpshell: {text}\n")
        self.errors.flush()
