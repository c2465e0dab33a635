"""The terminal qmpshell talks to: its streams, whether each is a terminal, the
environment, the size of the screen, whether to colour, and the pager.

Every line a user sees is written through one :class:`~qmpshell.ui.output.Output`, and
every question about the terminal is answered here, once: a stream is a terminal when its
``isatty()`` says so (a closed or odd stream is not), colour follows ``--color``,
``NO_COLOR`` and ``TERM=dumb``, the width is the terminal's or 80.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from ..escape import escape_lines

TYPE_CHECKING = False  # typing's, without importing typing (docs/architecture.md, start-up)
if TYPE_CHECKING:
    from typing import Any, Protocol

    class TextStream(Protocol):
        """What is written to: ``sys.stdout``, a ``StringIO``, a ``QueuedStream``."""

        def write(self, text: str, /) -> int: ...

        def flush(self) -> None: ...

        def isatty(self) -> bool: ...


COLOR_CHOICES = ("auto", "always", "never")


def is_terminal(stream: Any) -> bool:
    """Whether ``stream`` is a terminal; a closed stream, or one without ``isatty``, is
    not."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


class Console:
    """stdin, stdout and stderr, and the environment they were started in.

    A stream left as None is whatever ``sys.stdout`` (and so on) is at the time of use,
    so that the interactive shell's ``patch_stdout`` sees every line.
    """

    def __init__(
        self,
        stdout: TextStream | None = None,
        stderr: TextStream | None = None,
        stdin: Any = None,
        environ: Mapping[str, str] = os.environ,
    ) -> None:
        self._stdout = stdout
        self._stderr = stderr
        self._stdin = stdin
        self.environ = environ

    @property
    def stdout(self) -> TextStream:
        return self._stdout if self._stdout is not None else sys.stdout

    @property
    def stderr(self) -> TextStream:
        return self._stderr if self._stderr is not None else sys.stderr

    @property
    def stdin(self) -> Any:
        return self._stdin if self._stdin is not None else sys.stdin

    @property
    def stdin_is_terminal(self) -> bool:
        return is_terminal(self.stdin)

    @property
    def stdout_is_terminal(self) -> bool:
        return is_terminal(self.stdout)

    @property
    def stderr_is_terminal(self) -> bool:
        return is_terminal(self.stderr)

    @property
    def width(self) -> int:
        """Columns to lay text out in: the terminal's, or 80 off a terminal."""
        return _terminal_size().columns if self.stdout_is_terminal else 80

    @property
    def stderr_width(self) -> int:
        """The columns of stderr's terminal (where a script's progress line goes, while
        its stdout may be a file), or 80."""
        try:
            columns = os.get_terminal_size(self.stderr.fileno()).columns  # type: ignore[attr-defined]
        except (AttributeError, OSError, ValueError):
            return 80
        return columns or 80  # a terminal whose size was never set says 0

    @property
    def height(self) -> int:
        return _terminal_size().lines

    def color(self, choice: str) -> bool:
        """Whether to colour what goes to stdout: ``always``, ``never``, or ``auto`` — a
        terminal, unless ``NO_COLOR`` is set (non-empty) or ``TERM`` is ``dumb``."""
        if choice == "always":
            return True
        if choice == "never":
            return False
        if choice != "auto":
            raise ValueError(f"colour choice must be one of {', '.join(COLOR_CHOICES)}: {choice!r}")
        if self.environ.get("NO_COLOR") or self.environ.get("TERM") == "dumb":
            return False
        return self.stdout_is_terminal

    @staticmethod
    def complaint(text: str) -> str:
        """A problem as qmpshell says it, on stderr: one line, escaped."""
        return f"qmpshell: {escape_lines(text)}\n"

    def error(self, text: str) -> None:
        """Say a problem before a session has an :class:`~qmpshell.ui.output.Output`
        (choosing what to talk to)."""
        self.stdout.flush()
        self.stderr.write(self.complaint(text))
        self.stderr.flush()

    def pager(self) -> tuple[list[str], dict[str, str]]:
        """The pager's command line (``$PAGER``, default ``less``) and environment:
        ``LESS`` defaults to ``-R -X -F`` (colours pass, the text stays on the screen
        after ``q``, what fits on one screen is not paged)."""
        import shlex

        command = shlex.split(self.environ.get("PAGER") or "less")
        env = dict(self.environ)
        env.setdefault("LESS", "-R -X -F")
        return command, env


def _terminal_size() -> os.terminal_size:
    import shutil  # with bz2, lzma and zlib: not for a script that never asks

    return shutil.get_terminal_size((80, 24))
