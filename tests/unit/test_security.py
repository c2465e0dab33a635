"""Nothing the user types or QEMU sends is run as code or handed to a shell, but the one
thing that is the user's shell command by design: the COMMAND of ``LINE |! COMMAND``.

Literals are read from Python's syntax tree and never evaluated (tests/test_values.py
proves that with payloads); this file guards the rest of the code base against the calls
that would evaluate text or start a shell, and checks the files qmpshell creates are
private.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "qmpshell"

# Calls that run text as code (builtins) or through a shell (os, subprocess, asyncio).
FORBIDDEN_BUILTINS = {"eval", "exec", "compile", "__import__"}
SUBPROCESS_CALLS = {".run", ".Popen", "Popen", ".call", ".check_call", ".check_output"}
FORBIDDEN_METHODS = {"system", "popen", "getoutput", "getstatusoutput", "create_subprocess_shell"}


def _calls(tree: ast.AST) -> list[tuple[str, ast.Call]]:
    """Each call with its name: ``eval`` for ``eval(x)``, ``.system`` for ``os.system(x)``."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else "." + getattr(func, "attr", "")
            found.append((name, node))
    return found


@pytest.mark.parametrize(
    "path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE))
)
def test_no_code_is_evaluated_and_no_shell_started(path: Path) -> None:
    tree = ast.parse(path.read_text(), str(path))
    for name, call in _calls(tree):
        assert name not in FORBIDDEN_BUILTINS, f"{path.name}:{call.lineno}: {name}()"
        assert name.lstrip(".") not in FORBIDDEN_METHODS or not name.startswith("."), (
            f"{path.name}:{call.lineno}: {name}()"
        )
        for keyword in call.keywords if name in SUBPROCESS_CALLS else ():
            if keyword.arg == "shell":
                assert isinstance(keyword.value, ast.Constant) and keyword.value.value is False, (
                    f"{path.name}:{call.lineno}: shell=..."
                )
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }
    assert not imported & {"pickle", "shelve"}, path.name


# The one place a shell starts: the user's own command after |! (docs/security.md), run
# by qmpshell/session/pipe.py, with QEMU's data on its stdin only.
SHELL_PLACES = {"session/pipe.py"}


@pytest.mark.parametrize(
    "path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE))
)
def test_a_shell_starts_only_for_the_users_pipe(path: Path) -> None:
    tree = ast.parse(path.read_text(), str(path))
    names = {name for name, _ in _calls(tree)}
    shells = {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and node.value in ("/bin/sh", "sh", "bash", "-c")
    }
    place = str(path.relative_to(PACKAGE))
    if place in SHELL_PLACES:
        return
    assert not (shells and names & {".create_subprocess_exec", ".Popen", ".run", ".spawn"}), place


def test_the_pipes_command_is_only_ever_the_users_text() -> None:
    """run_command's only caller passes the text after |! as the user typed it."""
    calls = [
        (path.name, line)
        for path in PACKAGE.rglob("*.py")
        for line in path.read_text().splitlines()
        if "run_command(" in line and "def run_command(" not in line
    ]
    ((module, call),) = calls
    assert module == "pipedline.py"
    assert "run_command(piped.command," in call.replace(" ", "")


def test_the_guard_sees_what_it_looks_for() -> None:
    """A check of the check: each forbidden form is found in a sample."""
    sample = ast.parse("eval(x)\nos.system(y)\nsubprocess.run(z, shell=True)\n")
    names = [name for name, _ in _calls(sample)]
    assert {"eval", ".system", ".run"} <= set(names)
    (run,) = [call for name, call in _calls(sample) if name == ".run"]
    assert run.keywords[0].arg == "shell"
