"""The zsh completion script of the qmpshell command, in a real zsh in a real terminal
(tmux): zsh completes only inside its line editor."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tmux import Tmux

COMPLETIONS = Path(__file__).resolve().parents[2] / "completions"
QEMU = "qemu-system-x86_64"

Complete = Callable[[str], list[str]]


def need(program: str) -> str:
    path = shutil.which(program)
    if path is None:
        pytest.fail(
            f"{program} is not installed, and the completion tests need it: "
            f"run scripts/test (as root it installs it) or apt-get install {program}"
        )
    return path


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


def test_zsh_named_targets(named_targets: Path, zsh: Tmux) -> None:
    zsh.type("qmpshell @w", "Tab")
    zsh.wait_for(r"% qmpshell @web\n")  # as far as @web1 and @web2 agree
    zsh.type("Tab")
    zsh.wait_for(r"@web1\s+-- monitor at /run/web1/qmp\.sock")
    zsh.wait_for(r"@web2\s+-- guest agent at /run/web2/qga\.sock")
