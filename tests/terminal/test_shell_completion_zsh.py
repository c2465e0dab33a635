"""The zsh completion script of the qmpshell command, in a real zsh in a real terminal
(tmux): zsh completes only inside its line editor."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tmux import Tmux

COMPLETIONS = Path(__file__).resolve().parents[2] / "completions"
QEMU = "qemu-system-x86_64"

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


# --- the generated files ------------------------------------------------------------------


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


def test_zsh(zsh: Tmux) -> None:
    zsh.type("qmpshell --col", "Tab")
    zsh.wait_for(r"% qmpshell --color=?\n")
    zsh.type("C-u", "C-l", "qmpshell --color ", "Tab")
    zsh.wait_for(r"% qmpshell --color\n\s*always\s+auto\s+never\n")
    zsh.type("C-u", "C-l", "qmpshell -- qemu-system-x86_6", "Tab")
    zsh.wait_for(rf"% qmpshell -- {QEMU}")
