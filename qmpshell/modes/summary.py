"""What a session says at its end: which lines of a script failed, or the signal that
ended it. Shared by the asyncio session and the one-shot run (no asyncio here)."""

from __future__ import annotations

import signal

from ..errors import ExitStatus

TYPE_CHECKING = False  # typing's, without importing typing (docs/architecture.md, start-up)
if TYPE_CHECKING:
    from ..session.display import Display


def ended_by(signum: int, output: Display) -> ExitStatus:
    """A session SIGTERM or SIGHUP ended (as cleanly as Ctrl-D): said, and its status."""
    if signum == signal.SIGHUP:
        return ExitStatus.HANGUP  # nobody is there to read a message
    output.error(f"terminated by {signal.Signals(signum).name}")
    return ExitStatus.TERMINATED


def summary(failed: list[int], commands: int, exit_on_error: bool) -> str | None:
    """The last line on stderr of a script whose lines ``failed`` (of ``commands`` run),
    or None when it says nothing more."""
    if not failed:
        return None
    if exit_on_error:
        return f"stopped at line {failed[-1]}, which failed (-e)"
    if commands > 1:
        count = len(failed)
        which = "line" if count == 1 else "lines"
        return f"{count} of {commands} failed: {which} {ranges(sorted(failed))}"
    return None


def unanswered(numbers: list[int]) -> str:
    """The lines whose reply a lost connection took, as "line 4" or "lines 4-9"."""
    which = "line" if len(numbers) == 1 else "lines"
    return f"{which} {ranges(numbers)}"


def ranges(numbers: list[int]) -> str:
    """1, 2, 3, 5 as '1-3, 5'."""
    spans: list[list[int]] = []
    for number in numbers:
        if spans and number == spans[-1][1] + 1:
            spans[-1][1] = number
        else:
            spans.append([number, number])
    return ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in spans)
