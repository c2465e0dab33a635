"""``qmpshell --print-config``: the settings in effect, as a config file would say them,
each with where it came from (the command line, the file and line, or the default)."""

from __future__ import annotations

from .config import COMMAND_LINE, DEFAULT, SETTINGS, Settings, toml_string

TYPE_CHECKING = False  # typing's, without importing typing (docs/architecture.md, start-up)
if TYPE_CHECKING:
    import argparse
    from typing import Any


_COLUMN = 30  # where the notes start, unless a setting's line is longer


def describe(args: argparse.Namespace, settings: Settings) -> str:
    """The effective settings, one a line, in TOML: the text can be a config file."""
    if settings.path is None:
        head = "# no config file (--no-config)"
    elif settings.config is None:
        head = f"# config file: {settings.path} (none there: the defaults apply)"
    else:
        head = f"# config file: {settings.path}"
    rows = [
        (f"{s.key} = {_value(s.key, getattr(args, s.dest))}", _note(s.key, settings))
        for s in SETTINGS
    ]
    width = min(max(len(row) for row, _ in rows), _COLUMN)
    lines = [head, *(f"{row:<{width}}  # {note}" for row, note in rows)]
    return "\n".join(lines) + "\n"


def _value(key: str, value: Any) -> str:
    if key == "history-file" and value is None:
        from ..ui.history import history_path  # the one rule of where history lives

        value = str(history_path())
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)
    return toml_string(str(value))


def _note(key: str, settings: Settings) -> str:
    origin = settings.origin(key)
    note = {COMMAND_LINE: "from the command line", DEFAULT: "the default"}.get(origin, origin)
    if key == "events" and origin != COMMAND_LINE:
        note += " (none with -r in a script)"
    if key == "timeout":
        note += "; 0 waits forever"
    return note
