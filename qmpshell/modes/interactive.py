"""Interactive mode: the prompt on a terminal, with the history files of the session's
kind (QMP, the guest agent's, HMP's), run by :mod:`qmpshell.ui.repl`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import ExitStatus
from ..protocol.client import QMPClient
from ..session.runner import LineRunner
from ..ui.output import Output

if TYPE_CHECKING:
    from ..session.reconnect import Reconnector


async def run_interactive(
    runner: LineRunner,
    client: QMPClient,
    output: Output,
    *,
    keep_history: bool,
    history_file: str | None,
    complete_while_typing: bool,
    target: str | None,
    reconnect: Reconnector | None,
) -> ExitStatus:
    """Read, run and show lines until Ctrl-D, ``/quit`` or the connection ends.
    ``target`` names what the toolbar shows in place of the address (a launched QEMU)."""
    from ..ui import repl
    from ..ui.history import history_path

    kind = "qga" if runner.agent is not None else "qmp"
    settings = repl.Settings(
        history_path(kind, history_file) if keep_history else None,
        complete_while_typing=complete_while_typing,
        hmp_history=history_path("hmp", history_file) if keep_history else None,
        target=target,
        reconnect=reconnect,
    )
    return await repl.run_interactive(runner, client, output, settings)
