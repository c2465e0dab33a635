"""Facts about single QMP messages that the client goes by: pure functions."""

from __future__ import annotations

import json
from typing import Any

Message = dict[str, Any]


def id_key(ident: Any) -> Any:
    """A hashable key for a JSON id that keeps 1 and "1" apart."""
    kind = type(ident)
    if kind is str or kind is int:
        return (kind, ident)
    return ("json", json.dumps(ident, sort_keys=True))


def asks_to_quit(message: Message) -> bool:
    """Whether a command tells QEMU to quit: QMP's ``quit``, HMP's ``quit`` or ``q``."""
    name = message.get("execute")
    if name == "quit":
        return True
    arguments = message.get("arguments")
    if name != "human-monitor-command" or not isinstance(arguments, dict):
        return False
    line = arguments.get("command-line")
    return isinstance(line, str) and line.split() in (["quit"], ["q"])  # HMP: no arguments
