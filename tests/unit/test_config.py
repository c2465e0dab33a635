"""The config file (cli/config.py): every key and its kinds of value, the errors with their
file and line, the command line over the file over the defaults, and --print-config's
text (cli/printconfig.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

from qmpshell.cli.config import (
    COMMAND_LINE,
    DEFAULT,
    SETTINGS,
    ConfigError,
    apply,
    config_path,
    events_shown,
    parse_config,
    read_config,
)
from qmpshell.cli.options import attach_optional_values, build_parser
from qmpshell.cli.printconfig import describe

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

PATH = "~/.config/qmpshell/config.toml"


def values(text: str) -> dict[str, Any]:
    return parse_config(PATH, text).values


def error(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(PATH, text)
    message = str(caught.value)
    assert "\n" not in message
    return message


def args_of(*words: str) -> Any:
    parser = build_parser()
    return parser.parse_args(attach_optional_values(parser, list(words)))


# -- every key, each kind of value --------------------------------------------------------


def test_every_key_read() -> None:
    text = """
color = "always"
pager = false
events = "BLOCK_JOB_*,SHUTDOWN"
history = false
history-file = "~/qmp-history"
timeout = 2.5
complete-while-typing = false
pretty = true
verbose = true
"""
    assert values(text) == {
        "color": "always",
        "pager": False,
        "events": "BLOCK_JOB_*,SHUTDOWN",
        "history": False,
        "history-file": "~/qmp-history",
        "timeout": 2.5,
        "complete-while-typing": False,
        "pretty": True,
        "verbose": True,
    }
    assert {s.key for s in SETTINGS} == set(values(text))


@pytest.mark.parametrize(
    ("text", "key", "value"),
    [
        ("timeout = 5", "timeout", 5.0),  # an integer is seconds too
        ("timeout = 0", "timeout", 0.0),  # waits forever, as --timeout 0
        ('events = ["STOP", "RESUME*"]', "events", "STOP,RESUME*"),
        ('events = "none"', "events", "none"),
        ("events = []", "events", "none"),  # an array of no events to show
        ('history-file = "/var/tmp/h"', "history-file", "/var/tmp/h"),
        ('"color" = "never"', "color", "never"),  # a quoted key is the same key
    ],
)
def test_values_as_the_options_take_them(text: str, key: str, value: Any) -> None:
    assert values(text) == {key: value}


def test_an_empty_file_sets_nothing() -> None:
    assert values("") == {}
    assert values("# only a comment\n\n") == {}


# -- errors: one line, the file and the line -----------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('colour = "always"', "unknown key 'colour'; did you mean 'color'?"),
        ("complete_while_typing = true", "did you mean 'complete-while-typing'?"),
        ("frobnicate = 1", "unknown key 'frobnicate'; the keys are color, pager, events"),
        ("[pager]\nx = 1", "pager must be true or false, not a table"),
        ("pager.x = 1", "pager must be true or false, not a table"),
        ('pager = "yes"', 'pager must be true or false, not "yes"'),
        ("pager = 1", "pager must be true or false, not 1"),
        (
            'color = "allways"',
            'color must be "auto", "always" or "never", not "allways"; did you mean "always"?',
        ),
        ("color = true", 'color must be "auto", "always" or "never", not true'),
        ("timeout = -1", "timeout must be 0 (wait forever) or more seconds, not -1"),
        ("timeout = inf", "timeout must be 0 (wait forever) or more seconds, not inf"),
        ("timeout = nan", "timeout must be 0 (wait forever) or more seconds, not nan"),
        ("timeout = 1e20", "timeout must be at most 86400 seconds (a day; 0 waits forever)"),
        ("timeout = 86401", "timeout must be at most 86400 seconds"),
        ("timeout = true", "timeout must be a number of seconds, not true"),
        ('timeout = "5"', 'timeout must be a number of seconds, not "5"'),
        ("timeout = 1979-05-27", "timeout must be a number of seconds, not a date"),
        ('events = ""', "events: empty event filter"),
        ('events = ["X", 3]', "events: item 2 of the array must be an event name or glob"),
        (
            "events = [1]",
            "events: item 1 of the array must be an event name or glob (a string), not 1",
        ),
        (
            'events = ["A", []]',
            "item 2 of the array must be an event name or glob (a string), not an array",
        ),
        ('events = ["A", ""]', "events: item 2 of the array is empty: give a name or glob"),
        ("events = 3", 'events must be a string ("all", "none", "NAME,GLOB,...") or an array'),
        ('history-file = "state/history"', "history-file must be an absolute path or start"),
        ('history-file = ""', "history-file must be a path (a string)"),
        ("history-file = 3", "history-file must be a path (a string), not 3"),
    ],
)
def test_a_bad_key_or_value_is_one_line_with_its_line(text: str, message: str) -> None:
    said = error(f"# my settings\n\n{text}\n")
    assert said.startswith(f"{PATH}:3: "), said
    assert message in said


def test_the_line_is_the_bad_ones_among_good_ones() -> None:
    text = 'color = "always"\npager = false\n\n[timeout]\nseconds = 3\n'
    assert error(text) == f"{PATH}:4: timeout must be a number of seconds, not a table"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("pager = \n", 1, "not TOML: invalid value at column 9"),
        ('color = "always"\npager = tru\n', 2, "not TOML: invalid value at column 9"),
        ("pager = true\npager = false\n", 2, "not TOML: "),  # a key defined twice
        ('color = "always" x\n', 1, "not TOML: expected newline or end of document"),
        ('\nnote = """\nopen\n\n', 3, "not TOML: unterminated string"),
    ],
)
def test_a_syntax_error_says_its_line(text: str, line: int, message: str) -> None:
    with pytest.raises(tomllib.TOMLDecodeError):
        tomllib.loads(text)
    said = error(text)
    assert said.startswith(f"{PATH}:{line}: {message}"), said


def test_what_is_shown_of_the_file_is_escaped() -> None:
    """A key from the file goes to the terminal: its control characters as escapes."""
    said = error('"\\u001b[31mred" = 1\n')
    assert "\x1b" not in said and "\\x1b[31mred" in said


# -- reading the file ----------------------------------------------------------------------


def test_no_file_where_none_was_asked_for_is_no_config(tmp_path: Path) -> None:
    assert read_config(str(tmp_path / "config.toml"), explicit=False) is None


def test_a_file_asked_for_must_exist(tmp_path: Path) -> None:
    path = str(tmp_path / "mine.toml")
    with pytest.raises(ConfigError, match=r"mine\.toml: no such file\Z"):
        read_config(path, explicit=True)


def test_a_directory_is_not_a_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r": not a regular file\Z"):
        read_config(str(tmp_path), explicit=False)


def test_a_file_that_cannot_be_read_says_why(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.symlink_to(path)  # unreadable even by root, who may read any file
    with pytest.raises(ConfigError, match=r"config\.toml: cannot read it: Too many levels"):
        read_config(str(path), explicit=False)


def test_not_utf8_says_the_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b"pager = false\n# caf\xe9\n")
    with pytest.raises(ConfigError, match=r"config\.toml:2: not UTF-8 text\Z"):
        read_config(str(path), explicit=False)


def test_a_huge_file_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b"#" * (2 << 20))
    with pytest.raises(ConfigError, match="larger than 1024 KiB"):
        read_config(str(path), explicit=False)


def test_where_the_file_is_looked_for(tmp_path: Path) -> None:
    environ = {"XDG_CONFIG_HOME": str(tmp_path), "HOME": "/nonexistent"}
    assert config_path(args_of(), environ) == str(tmp_path / "qmpshell" / "config.toml")
    assert config_path(args_of("--config", "/etc/q.toml"), environ) == "/etc/q.toml"
    assert config_path(args_of("--no-config"), environ) is None
    assert config_path(args_of("--config=~/q.toml"), environ) == os.path.expanduser("~/q.toml")
    with pytest.raises(ConfigError, match=r"\A--config: an empty path\Z"):
        config_path(args_of("--config="), environ)


# -- the command line wins -----------------------------------------------------------------


def applied(text: str, *words: str) -> tuple[Any, Any]:
    args = args_of(*words)
    return args, apply(args, PATH, parse_config(PATH, text))


CONFIG = """\
color = "always"
pager = true
history = false
timeout = 5
complete-while-typing = false
pretty = true
verbose = true
"""


def test_the_file_fills_in_what_the_command_line_left() -> None:
    args, settings = applied(CONFIG)
    assert (args.color, args.pager, args.history, args.timeout) == ("always", True, False, 5)
    assert (args.complete_while_typing, args.pretty, args.verbose) == (False, True, True)
    assert args.events == "all" and args.history_file is None  # defaults
    assert settings.origin("timeout") == f"{PATH}:4"
    assert settings.origin("events") == DEFAULT


@pytest.mark.parametrize(
    ("words", "dest", "value"),
    [
        (["--color", "never"], "color", "never"),
        (["--no-pager"], "pager", False),
        (["--history"], "history", True),
        (["--timeout", "0"], "timeout", 0.0),
        (["--complete-while-typing"], "complete_while_typing", True),
        (["--no-pretty"], "pretty", False),
        (["--no-verbose"], "verbose", False),
        (["-p"], "pretty", True),
    ],
)
def test_the_command_line_overrides_the_file(words: list[str], dest: str, value: Any) -> None:
    args, settings = applied(CONFIG, *words)
    assert getattr(args, dest) == value
    key = dest.replace("_", "-")
    assert settings.origin(key) == COMMAND_LINE


@pytest.mark.parametrize("option", ["--timeout", "--reconnect"])
@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("1e10", "must be at most 86400 seconds (a day; 0 waits forever), not '1e10'"),
        ("86401", "must be at most 86400 seconds"),
        ("-1", "must be 0 (wait forever) or more seconds, not '-1'"),
        ("inf", "must be 0 (wait forever) or more seconds, not 'inf'"),
        ("nan", "must be 0 (wait forever) or more seconds, not 'nan'"),
    ],
)
def test_a_time_limit_out_of_bounds_is_a_usage_error(
    option: str, text: str, said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The config file's rule, for the options: a socket refuses 1e10 seconds with an
    OverflowError, which reached the user as a traceback."""
    with pytest.raises(SystemExit) as caught:
        args_of(f"{option}={text}", "SOCK")
    assert caught.value.code == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines[-1].startswith(f"qmpshell: error: argument {option}: {said}")
    assert "Traceback" not in "".join(lines)


@pytest.mark.parametrize("text", ["86400", "0", "0.5"])
def test_a_time_limit_up_to_a_day_is_taken(text: str) -> None:
    assert args_of("--timeout", text).timeout == float(text)


@pytest.mark.parametrize(("words", "value"), [([], False), (["--pager"], True)])
def test_a_file_saying_no_is_overridden_both_ways(words: list[str], value: bool) -> None:
    args, _ = applied("pager = false\n", *words)
    assert args.pager is value


def test_without_a_file_the_defaults() -> None:
    args = args_of()
    settings = apply(args, None, None)
    assert {s.key: getattr(args, s.dest) for s in SETTINGS} == {s.key: s.default for s in SETTINGS}
    assert all(settings.origin(s.key) == DEFAULT for s in SETTINGS)


@pytest.mark.parametrize(
    ("text", "words", "scripted", "shown"),
    [
        ("", [], True, "all"),
        ("", ["-r"], True, "none"),
        ("", ["-r"], False, "all"),  # -r means nothing to the shell
        ('events = "STOP"', [], True, "STOP"),
        ('events = "STOP"', ["-r"], True, "none"),  # a script's values stay values
        ('events = "STOP"', ["-r", "--events", "RESUME"], True, "RESUME"),
    ],
)
def test_the_events_shown(text: str, words: list[str], scripted: bool, shown: str) -> None:
    args, settings = applied(text, *words)
    assert events_shown(args, settings, scripted) == shown


# -- --print-config ------------------------------------------------------------------------


def test_print_config_says_each_setting_and_where_it_came_from() -> None:
    args, settings = applied(CONFIG, "--color", "never")
    text = describe(args, settings)
    lines = text.splitlines()
    assert lines[0] == f"# config file: {PATH}"
    rows = {line.split(" = ")[0]: line for line in lines[1:]}
    assert list(rows) == [s.key for s in SETTINGS]
    assert rows["color"].startswith('color = "never"')
    assert rows["color"].endswith("# from the command line")
    assert rows["timeout"].startswith("timeout = 5 ")
    assert f"# {PATH}:4;" in rows["timeout"]
    assert rows["events"].endswith("# the default (none with -r in a script)")
    # It is TOML itself: a config file saying the same.
    document = tomllib.loads(text)
    assert document["color"] == "never" and document["pager"] is True
    assert parse_config(PATH, text).values == document


def test_print_config_without_a_file() -> None:
    args = args_of("--no-config")
    assert describe(args, apply(args, None, None)).startswith("# no config file (--no-config)\n")
    args = args_of()
    first = describe(args, apply(args, PATH, None)).splitlines()[0]
    assert first == f"# config file: {PATH} (none there: the defaults apply)"


@pytest.mark.parametrize(
    ("words", "shown"),
    [
        (["--history-file", "state/hist"], "{cwd}/state/hist"),
        (["--history-file", "../hist"], "{parent}/hist"),
        (["--history-file", "~/hist"], "{home}/hist"),
        (["--history-file", "/var/h"], "/var/h"),
        (["--history-file", ""], "{state}/qmpshell/history"),  # "" is the default's
    ],
)
def test_print_config_prints_the_history_file_used_as_a_valid_config(
    words: list[str], shown: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A relative --history-file is relative to the directory the shell runs in: printed
    as it was given, the text was a config file qmpshell refused."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    args = args_of("--no-config", *words)
    text = describe(args, apply(args, None, None))
    where = {"cwd": tmp_path, "parent": tmp_path.parent, "home": tmp_path}
    expected = shown.format(**where, state=tmp_path / "state")
    assert parse_config(PATH, text).values["history-file"] == expected
