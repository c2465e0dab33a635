"""Interactive mode: the prompt on a terminal for the session's connections, with the
history files of their kinds (QMP, the guest agent's, HMP's), run by
:mod:`qmpshell.ui.repl`."""

from __future__ import annotations

from ..errors import ExitStatus
from ..session.fleet import Fleet
from ..ui.output import Output


async def run_interactive(
    fleet: Fleet,
    output: Output,
    *,
    keep_history: bool,
    history_file: str | None,
    complete_while_typing: bool,
) -> ExitStatus:
    """Read, run and show lines until Ctrl-D, ``/quit`` or the last connection ends."""
    from ..ui import repl

    settings = repl.Settings(
        keep_history=keep_history,
        history_file=history_file,
        complete_while_typing=complete_while_typing,
    )
    return await repl.run_interactive(fleet, output, settings)
