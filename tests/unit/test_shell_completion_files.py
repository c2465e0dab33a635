"""The completion scripts in completions/ are current, and name real options and values."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import pytest

from qmpshell.cli.options import build_parser
from qmpshell.cli.shellcomplete import (
    SHELLS,
    SUGGESTED_VALUES,
    Value,
    completion_script,
    describe,
    script_file,
)

COMPLETIONS = Path(__file__).resolve().parents[2] / "completions"

Complete = Callable[[str], list[str]]


# --- the generated files ------------------------------------------------------------------


@pytest.mark.parametrize("shell", SHELLS)
def test_files_in_completions_are_current(shell: str) -> None:
    name = script_file(shell)
    assert (COMPLETIONS / name).read_text() == completion_script(shell), (
        f"completions/{name} is not what the options generate now; regenerate it with\n"
        f"  python -m qmpshell --completions {shell} > completions/{name}\n"
        f"or python -c 'from qmpshell.cli.shellcomplete import completion_script as c; "
        f'print(c("{shell}"), end="")\' > completions/{name}'
    )


def test_suggested_values_name_real_options() -> None:
    dests = {action.dest for action in build_parser()._actions}
    assert set(SUGGESTED_VALUES) <= dests


def test_what_values_complete_to() -> None:
    parser = argparse.ArgumentParser(prog="demo")
    parser.add_argument("target", metavar="ADDRESS")
    parser.add_argument("-o", "--output", metavar="PATH")
    parser.add_argument("--mode", choices=("fast", "slow"))
    parser.add_argument("--events", metavar="FILTER")
    parser.add_argument("-n", "--name", action="append", metavar="TEXT", help="a name (repeat)")
    parser.add_argument("-q", action="store_true", help="say less; much less")
    parser.add_argument("--secret", help=argparse.SUPPRESS)
    command = describe(parser)
    by_name = {name: option for option in command.options for name in option.names}
    values = {name: option.value for name, option in by_name.items()}
    assert "--secret" not in by_name
    assert by_name["--help"].ends_command
    assert by_name["--name"].repeatable
    assert by_name["-q"].spellings == (("-q", "say less"),)
    assert values["-q"] is None
    assert values["--name"] == Value("TEXT", "free")
    assert values["-o"] == Value("PATH", "files")
    assert values["--mode"] == Value("MODE", "words", ("fast", "slow"))
    assert values["--events"] == Value("FILTER", "words", SUGGESTED_VALUES["events"])
    assert command.positionals == (Value("ADDRESS", "files"),)


def test_refuses_what_it_cannot_write_safely() -> None:
    parser = argparse.ArgumentParser(prog="demo")
    parser.add_argument("--mode", choices=("a b", "c"))
    with pytest.raises(ValueError, match="'a b'"):
        describe(parser)
    with pytest.raises(ValueError, match="choose bash, zsh, fish"):
        completion_script("tcsh")
