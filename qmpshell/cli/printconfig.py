"""``qmpshell --print-config``: the settings in effect, as a config file would say them,
each with where it came from (the command line, the file and line, or the default), and
the named targets; ``qmpshell --targets``: the targets alone, for people and for the
shell-completion scripts (``@NAME``, a tab, what it names)."""

from __future__ import annotations

import os

from ..patterns import compiled
from .config import COMMAND_LINE, DEFAULT, SETTINGS, Settings, toml_string
from .namedtargets import KEYS

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
    config = settings.config
    for target in config.targets.values() if config else ():
        assert config is not None
        lines.append("")
        lines.append(f"[targets.{_key(target.name)}]  # {config.where_target(target.name)}")
        for key in KEYS:
            value = getattr(target, key)
            if value is not None:
                lines.append(f"{key} = {toml_string(value)}")
    return "\n".join(lines) + "\n"


def list_targets(settings: Settings) -> str:
    """One line per named target: ``@NAME``, a tab, what it names."""
    targets = settings.config.targets.values() if settings.config else ()
    return "".join(f"@{t.name}\t{t.describe()}\n" for t in sorted(targets))


def _key(name: str) -> str:
    """A target's name as a TOML key: bare when it may be (a dot would split it)."""
    return name if compiled(r"[A-Za-z0-9_-]+\Z").match(name) else toml_string(name)


def _value(key: str, value: Any) -> str:
    if key == "history-file":
        from ..ui.history import history_path  # the one rule of where history lives

        # As it is used: a relative --history-file is from the current directory, which
        # a config file cannot say ("" is the default's).
        value = os.path.abspath(history_path("qmp", value or None))
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
