"""The completion scripts of the qmpshell command, run by the real bash and fish (asked
directly: the completion function with COMP_WORDS set; ``complete -C``), and
``--completions`` printing them. zsh completes only inside its line editor: it is in
tests/terminal/test_shell_completion_zsh.py. A missing shell fails the test: CI installs
them (scripts/setup.sh)."""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from qmpshell.cli.options import build_parser
from qmpshell.cli.shellcomplete import (
    completion_script,
)

COMPLETIONS = Path(__file__).resolve().parents[2] / "completions"
QEMU = "qemu-system-x86_64"

Complete = Callable[[str], list[str]]

# Every option a user may type (the one fan-out gives its runs is not offered).
ALL_OPTIONS = {
    name
    for action in build_parser()._actions
    if action.help != argparse.SUPPRESS
    for name in action.option_strings
}

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


def test_option_name(complete: Complete) -> None:
    assert complete("qmpshell --col") == ["--color"]


def test_every_option_after_a_dash(complete: Complete) -> None:
    assert set(complete("qmpshell -")) == ALL_OPTIONS


def test_choices(complete: Complete) -> None:
    assert set(complete("qmpshell --color ")) == {"auto", "always", "never"}
    assert set(complete("qmpshell --completions ")) == {"bash", "zsh", "fish"}
    assert set(complete("qmpshell --events ")) == {"all", "none"}


def test_choice_after_equals(complete: Complete) -> None:
    # bash completes the part after "=", fish the whole word.
    assert [c.split("=")[-1] for c in complete("qmpshell --color=al")] == ["always"]


def test_free_values_offer_nothing(complete: Complete) -> None:
    assert complete("qmpshell -c ") == []
    assert complete("qmpshell --timeout ") == []


@pytest.mark.parametrize("option", ["--logfile ", "-l ", "--history-file ", "--ga ", ""])
def test_paths(complete: Complete, files: Path, option: str) -> None:
    candidates = complete(f"qmpshell -p {option}{files}/x")
    assert names(candidates) == {f"{files}/xa", f"{files}/xb", f"{files}/xdir"}


def test_qemu_binary_after_dashes(complete: Complete) -> None:
    need(QEMU)
    candidates = complete("qmpshell -p -- qemu-system-x86_6")
    assert QEMU in candidates
    assert all(c.startswith("qemu-system-x86_6") for c in candidates)


def test_qemu_arguments_are_paths(complete: Complete, files: Path) -> None:
    candidates = complete(f"qmpshell -- {QEMU} -S {files}/x")
    assert names(candidates) == {f"{files}/xa", f"{files}/xb", f"{files}/xdir"}
    assert complete(f"qmpshell -- {QEMU} --col") == []


def test_named_targets_after_an_at(complete: Complete, named_targets: Path, files: Path) -> None:
    """The names of the config file's [targets.NAME], asked of the installed qmpshell."""
    assert sorted(complete("qmpshell @")) == ["@db", "@web1", "@web2"]
    assert sorted(complete("qmpshell -p @we")) == ["@web1", "@web2"]
    assert complete("qmpshell @x") == []
    # Without an @: paths, as before.
    assert names(complete(f"qmpshell {files}/x")) == {f"{files}/xa", f"{files}/xb", f"{files}/xdir"}


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completions_option_prints_the_script(shell: str) -> None:
    printed = subprocess.run(
        [sys.executable, "-m", "qmpshell", "--completions", shell],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert printed == completion_script(shell)
