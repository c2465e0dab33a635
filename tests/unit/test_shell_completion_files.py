"""The completion scripts in completions/ are current, and name real options and values."""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tmux import Tmux

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


# Sources the script, completes the words given as arguments (the last one is the word
# at the cursor) and prints the candidates, one per line.
BASH_DRIVER = """
source "$1"; shift
COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
_qmpshell qmpshell "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
((${#COMPREPLY[@]})) && printf '%s\\n' "${COMPREPLY[@]}"
exit 0
"""


def need(program: str) -> str:
    path = shutil.which(program)
    if path is None:
        pytest.fail(
            f"{program} is not installed, and the completion tests need it: "
            f"run scripts/test (as root it installs it) or apt-get install {program}"
        )
    return path


@pytest.fixture
def files(tmp_path: Path) -> Path:
    """A directory with two files and a subdirectory whose names start with x."""
    directory = tmp_path / "files"
    directory.mkdir()
    (directory / "xa").touch()
    (directory / "xb").touch()
    (directory / "xdir").mkdir()
    (directory / "other").touch()
    return directory


def names(candidates: list[str]) -> set[str]:
    """Candidates without a directory's trailing slash."""
    return {c.rstrip("/") for c in candidates}


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


# --- bash ---------------------------------------------------------------------------------


def bash_complete(line: str, env: dict[str, str]) -> list[str]:
    """What bash's completion function offers at the end of ``line``."""
    # bash splits words at blanks and also makes "=" a word of its own (COMP_WORDBREAKS).
    words = re.findall(r"=|[^\s=]+", line)
    if line[-1].isspace():
        words.append("")
    script = [str(COMPLETIONS / "qmpshell.bash")]
    result = subprocess.run(
        [need("bash"), "--norc", "--noprofile", "-c", BASH_DRIVER, "bash", *script, *words],
        capture_output=True,
        text=True,
        env=env,
        timeout=10,
    )
    assert result.returncode == 0 and not result.stderr, result.stderr
    return result.stdout.splitlines()


# --- fish ---------------------------------------------------------------------------------


def fish_complete(line: str, env: dict[str, str]) -> list[str]:
    """What fish offers at the end of ``line`` (candidates without their descriptions)."""
    script = f"source {COMPLETIONS / 'qmpshell.fish'}; complete -C {fish_quote(line)}"
    result = subprocess.run(
        [need("fish"), "--no-config", "-c", script],
        capture_output=True,
        text=True,
        env=env,
        timeout=10,
    )
    assert result.returncode == 0 and not result.stderr, result.stderr
    return [candidate.split("\t")[0] for candidate in result.stdout.splitlines()]


def fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


# --- the same checks for bash and fish ---------------------------------------------------


@pytest.fixture(params=["bash", "fish"])
def complete(request: pytest.FixtureRequest, shell_env: dict[str, str]) -> Complete:
    """Completion at the end of a line, by bash or by fish."""
    run = bash_complete if request.param == "bash" else fish_complete
    return lambda line: run(line, shell_env)


# --- zsh, in a terminal ------------------------------------------------------------------

ZSHRC = {
    # As installed: the file in a directory of $fpath, autoloaded by compinit.
    "fpath": f"fpath=({COMPLETIONS} $fpath)\nautoload -U compinit\ncompinit -u -D\n",
    # As with source <(qmpshell --completions zsh): sourced after compinit.
    "source": f"autoload -U compinit\ncompinit -u -D\nsource {COMPLETIONS / '_qmpshell'}\n",
}


@pytest.fixture(params=sorted(ZSHRC))
def zsh(request: pytest.FixtureRequest, shell_env: dict[str, str], home: Path) -> Iterator[Tmux]:
    need("tmux")
    zdotdir = home / "zsh"
    zdotdir.mkdir()
    (zdotdir / ".zshrc").write_text("PS1='%% '\nbindkey -e\n" + ZSHRC[request.param])
    env = dict(shell_env, ZDOTDIR=str(zdotdir))
    # -d: no global rc files, only the private ZDOTDIR.
    terminal = Tmux(home, env, [need("zsh"), "-d", "-i"])
    try:
        terminal.wait_for(r"(?m)^%")
        yield terminal
    finally:
        terminal.close()
