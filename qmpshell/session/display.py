"""What the session shows, and to whom it says it: the interface the UI layer implements.

The session (the line runner, the meta-commands, reconnecting) decides *what* the user is
told; how it looks, and where it goes, is the UI's (:class:`qmpshell.ui.output.Output`).
This protocol is the whole of what the session may ask of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from ..errors import InputError

if TYPE_CHECKING:
    from .watching import Frame


class Display(Protocol):
    """Where replies, events, notes and errors go."""

    pretty: bool  # replies indented (/pretty)
    verbose: bool  # each command echoed as sent
    interactive: bool  # the interactive shell, not a script
    return_only: bool  # -r: a reply as its return value only
    # Columns of the prompt before the line typed, for a caret right under a fault in
    # it; None: the faulty line is shown again above the caret (a line within a line).
    prompt_width: int | None

    @property
    def width(self) -> int:
        """Columns to lay text out in."""

    def set_pretty(self, pretty: bool) -> None:
        """Indent replies from now on, or not."""

    def message(self, message: Any) -> None:
        """A QMP message, as sent (``-v``)."""

    def reply(self, reply: Any) -> None:
        """A reply to a command."""

    def return_value(self, reply: Any, what: str) -> None:
        """The return value of ``reply`` only (``-r``); ``what`` names the command."""

    def exec_status(self, reply: Any) -> None:
        """A guest agent's ``guest-exec-status``, its output decoded."""

    def hmp(self, text: str) -> None:
        """What an HMP command printed."""

    def event(self, event: Any, target: str | None = None) -> None:
        """An event, as it arrives; ``target``: the connection's name, of several."""

    def heading(self, text: str) -> None:
        """A line above the output that follows (the name of a target)."""

    def matched(self, event: Any) -> None:
        """The event a ``/wait`` waited for."""

    def watch_frame(self, frame: Frame) -> None:
        """A run of ``/watch`` in the interactive shell, drawn in place of the run before."""

    async def edit(self, text: str) -> str | None:
        """The user's editor run on ``text`` (``/edit``): what was saved, or None when
        it could not run or failed (said already). The interactive shell's only."""

    def long_text(self, text: str) -> None:
        """Text that may be taller than the screen (help): paged when it is."""

    async def settle(self) -> None:
        """Until what was shown is on the screen (text taller than the screen paged)."""

    @property
    def progress_width(self) -> int:
        """Columns a :meth:`progress` line has (stderr's terminal's, in a script)."""

    def progress(self, text: str | None) -> None:
        """A line of progress redrawn in place (a script's ``/job wait``, on a terminal's
        stderr); None takes it away."""

    def piped(self, text: str) -> None:
        """What a pipe's command wrote to its stdout, as it comes (a script's), any part
        of a line: escaped, to stdout, as it is."""

    def relay(self, text: str) -> None:
        """What another program wrote to its stderr for the user (a pipe's command's),
        a line or part of one, as it comes: escaped, to stderr."""

    def note(self, text: str) -> None:
        """Something the user should know (stderr in scripts)."""

    def error(self, text: str) -> None:
        """A problem, on one line."""

    def input_error(self, line: str, error: InputError, where: str = "") -> None:
        """A line refused before sending, with a mark under the column at fault."""
