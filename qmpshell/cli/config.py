"""The config file, ``$XDG_CONFIG_HOME/qmpshell/config.toml``: defaults for options.

Each setting is an option's default (``color``, ``pager``, ``events``, ``history``,
``history-file``, ``timeout``, ``complete-while-typing``, ``pretty``, ``verbose``); what
the command line says wins. The options that have a setting default to None in the
parser, so that :func:`apply` can tell what the command line gave from what it did not,
and fills in the rest from the file, else from :data:`SETTINGS`. Anything wrong in the
file (not TOML, an unknown key, a value of the wrong kind) is a :class:`ConfigError`, one
line naming the file and the line. Its ``[targets.NAME]`` tables name what to talk to
(cli/namedtargets.py), for ``qmpshell @NAME``.

A one-shot script pays for the file only when there is one: without it, a stat; tomllib
(or the tomli backport, before Python 3.11) is imported only to read a file that exists.
"""

from __future__ import annotations

import os
import stat
import sys

from ..errors import InputError, QMPShellError
from ..escape import escape_text
from ..language.spelling import close_names, did_you_mean, either
from ..patterns import compiled
from ..records import Record
from ..session.events import EventFilter
from ..session.paths import qmpshell_dir
from .namedtargets import NamedTarget, checked_targets
from .options import COLORS, DEFAULT_TIMEOUT, seconds_problem
from .tomllines import definition_line

TYPE_CHECKING = False  # typing's, without importing typing (docs/architecture.md, start-up)
if TYPE_CHECKING:
    import argparse
    from collections.abc import Mapping
    from typing import Any

CONFIG_FILE = "config.toml"
MAX_BYTES = 1 << 20  # a config file is a few lines; more is a mistake, not read whole

COMMAND_LINE = "command line"
DEFAULT = "default"


class ConfigError(QMPShellError):
    """What is wrong with the config file, as one line: ``PATH:LINE: what``."""

    def __init__(self, path: str, line: int | None, what: str) -> None:
        where = f"{path}:{line}" if line else path
        super().__init__(escape_text(f"{where}: {what}"))


class Setting(Record):
    """One key of the config file: the option it sets (its ``dest``), what kind of value
    it takes, and the default when neither the file nor the command line says."""

    key: str
    dest: str
    kind: str  # "bool", "color", "seconds", "events", "path"
    default: Any


SETTINGS = (
    Setting("color", "color", "color", "auto"),
    Setting("pager", "pager", "bool", True),
    Setting("events", "events", "events", "all"),
    Setting("history", "history", "bool", True),
    Setting("history-file", "history_file", "path", None),
    Setting("timeout", "timeout", "seconds", DEFAULT_TIMEOUT),
    Setting("complete-while-typing", "complete_while_typing", "bool", True),
    Setting("pretty", "pretty", "bool", False),
    Setting("verbose", "verbose", "bool", False),
)
_BY_KEY = {setting.key: setting for setting in SETTINGS}


class Config:
    """A config file read and checked: each key's value and the line it is on."""

    def __init__(
        self,
        path: str,
        values: dict[str, Any],
        lines: dict[str, int | None],
        targets: dict[str, NamedTarget] | None = None,
    ) -> None:
        self.path = path
        self.values = values
        self.lines = lines
        self.targets = targets or {}  # [targets.NAME], for @NAME
        self.target_lines: dict[str, int | None] = {}

    def where(self, key: str) -> str:
        """``PATH:LINE`` of ``key``, for --print-config."""
        line = self.lines.get(key)
        return f"{self.path}:{line}" if line else self.path

    def where_target(self, name: str) -> str:
        """``PATH:LINE`` of the target ``name``."""
        line = self.target_lines.get(name)
        return f"{self.path}:{line}" if line else self.path


def config_path(args: argparse.Namespace, environ: Mapping[str, str] = os.environ) -> str | None:
    """The config file to read: ``--config PATH`` (``~`` expanded, for ``--config=~/x``),
    none with ``--no-config``, else the usual one in qmpshell's XDG config folder."""
    if args.no_config:
        return None
    if args.config is not None:
        if not args.config:
            raise ConfigError("--config", None, "an empty path")
        return os.path.expanduser(str(args.config))
    return os.path.join(qmpshell_dir("config", environ), CONFIG_FILE)


def read_config(path: str, explicit: bool) -> Config | None:
    """The config file at ``path`` read and checked; None when it does not exist and
    was not asked for by name (``explicit``, ``--config``)."""
    try:
        status = os.stat(path)
    except FileNotFoundError:
        if not explicit:
            return None
        raise ConfigError(path, None, "no such file") from None
    except OSError as exc:
        raise ConfigError(path, None, f"cannot read it: {exc.strerror}") from None
    if not stat.S_ISREG(status.st_mode):
        raise ConfigError(path, None, "not a regular file")
    return parse_config(path, _read_text(path))


def _read_text(path: str) -> str:
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ConfigError(path, None, f"cannot read it: {exc.strerror}") from None
    if len(data) > MAX_BYTES:
        raise ConfigError(path, None, f"larger than {MAX_BYTES >> 10} KiB: not a config file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError(path, line, "not UTF-8 text") from None


def parse_config(path: str, text: str) -> Config:
    """The settings of config ``text`` (read from ``path``, named in errors), checked."""
    document = _toml_document(path, text)
    values: dict[str, Any] = {}
    lines: dict[str, int | None] = {}
    targets: dict[str, NamedTarget] = {}
    for key, value in document.items():
        line = definition_line(text, (key,))
        if key == "targets":
            targets = checked_targets(
                value, lambda at, what: ConfigError(path, definition_line(text, at), what)
            )
            continue
        setting = _BY_KEY.get(key)
        if setting is None:
            raise ConfigError(path, line, _unknown(key))
        try:
            values[key] = _checked(setting, value)
        except ValueError as exc:
            raise ConfigError(path, line, str(exc)) from None
        lines[key] = line
    config = Config(path, values, lines, targets)
    for name in targets:
        config.target_lines[name] = definition_line(text, ("targets", name))
    return config


def _toml_document(path: str, text: str) -> dict[str, Any]:
    """``text`` parsed as TOML; a syntax error said with its line."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        at = compiled(r" \(at line (\d+), column (\d+)\)\Z").search(message)
        if at:
            what = f"not TOML: {_lower(message[: at.start()])} at column {at.group(2)}"
            raise ConfigError(path, int(at.group(1)), what) from None
        message = message.replace(" (at end of document)", " at the end")
        end = text.rstrip().count("\n") + 1
        raise ConfigError(path, end, f"not TOML: {_lower(message)}") from None


def _lower(message: str) -> str:
    """tomllib's message, to follow a colon: ``Invalid value`` as ``invalid value``."""
    return message[:1].lower() + message[1:]


def _unknown(key: str) -> str:
    names = [setting.key for setting in SETTINGS] + ["targets"]
    hint = did_you_mean(close_names(key, names))
    if not hint:
        hint = f"; the keys are {', '.join(names)}"
    return f"unknown key {key!r}{hint}"


def _checked(setting: Setting, value: Any) -> Any:
    """``value`` as the option takes it; ValueError saying what would be right."""
    key = setting.key
    if setting.kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"{key} must be true or false, not {_shown(value)}")
        return value
    if setting.kind == "color":
        if value not in COLORS:
            close = close_names(value, COLORS) if isinstance(value, str) else []
            hint = f"; did you mean {either([_shown(c) for c in close])}?" if close else ""
            choices = either([_shown(c) for c in COLORS])
            raise ValueError(f"{key} must be {choices}, not {_shown(value)}{hint}")
        return value
    if setting.kind == "seconds":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{key} must be a number of seconds, not {_shown(value)}")
        problem = seconds_problem(float(value))
        if problem:
            raise ValueError(f"{key} {problem}, not {value}")
        return float(value)
    if setting.kind == "events":
        return _events(key, value)
    return _path(key, value)


def _events(key: str, value: Any) -> str:
    """An event filter: a string (``"all"``, ``"BLOCK_JOB_*,SHUTDOWN"``) or an array of
    names and globs, checked as --events checks it; an empty array lists none to show
    (``"none"``)."""
    if isinstance(value, list):
        for number, item in enumerate(value, 1):
            if not isinstance(item, str):
                raise ValueError(
                    f"{key}: item {number} of the array must be an event name or glob "
                    f"(a string), not {_shown(item)}"
                )
            if not item.strip():
                raise ValueError(f"{key}: item {number} of the array is empty: give a name or glob")
        value = ",".join(value) if value else "none"
    if not isinstance(value, str):
        raise ValueError(
            f'{key} must be a string ("all", "none", "NAME,GLOB,...") or an array of '
            f"names and globs, not {_shown(value)}"
        )
    try:
        return EventFilter(value).spec
    except InputError as exc:
        raise ValueError(f"{key}: {exc}") from None


def _path(key: str, value: Any) -> str:
    """A path: absolute, or from ``~`` (relative to what the current directory happens
    to be would surprise)."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{key} must be a path (a string), not {_shown(value)}")
    if not os.path.isabs(os.path.expanduser(value)):
        raise ValueError(f"{key} must be an absolute path or start with ~, not {_shown(value)}")
    return value


def _shown(value: Any) -> str:
    """A value as TOML writes it, for an error: strings quoted, a table or an array
    named (their contents could be long)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, (int, float)):
        return repr(value)
    return f"a {type(value).__name__}"  # dates and times


def toml_string(text: str) -> str:
    """``text`` as a TOML basic string: quotes and backslashes escaped, and control
    characters (which TOML does not allow raw)."""
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif ord(char) < 0x20 or char == "\x7f":
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


class Settings:
    """The effective settings: each one's value and where it came from (the command
    line, the config file's ``PATH:LINE``, or the default)."""

    def __init__(self, path: str | None, config: Config | None) -> None:
        self.path = path
        self.config = config
        self.origins: dict[str, str] = {}

    def origin(self, key: str) -> str:
        return self.origins[key]


def apply(args: argparse.Namespace, path: str | None, config: Config | None) -> Settings:
    """Fill in ``args``'s settings that the command line left unset (None): from the
    config file, else the defaults."""
    settings = Settings(path, config)
    for setting in SETTINGS:
        if getattr(args, setting.dest) is not None:
            settings.origins[setting.key] = COMMAND_LINE
        elif config is not None and setting.key in config.values:
            setattr(args, setting.dest, config.values[setting.key])
            settings.origins[setting.key] = config.where(setting.key)
        else:
            setattr(args, setting.dest, setting.default)
            settings.origins[setting.key] = DEFAULT
    return settings


def load_settings(args: argparse.Namespace) -> Settings:
    """The config file the options name (or the usual one) read, and ``args`` completed
    from it: ConfigError when it is wrong."""
    path = config_path(args)
    config = None if path is None else read_config(path, explicit=args.config is not None)
    return apply(args, path, config)


def events_shown(args: argparse.Namespace, settings: Settings, scripted: bool) -> str:
    """The event filter in effect: with -r in a script, none unless ``--events`` says on
    the command line (a config file's ``events`` is for the shell, and would mix events
    into the values a script reads)."""
    if args.return_value and scripted and settings.origin("events") != COMMAND_LINE:
        return "none"
    return str(args.events)
