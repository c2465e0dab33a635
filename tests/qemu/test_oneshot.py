"""One-shot scripts (modes/oneshot.py): a script at hand whole, of plain lines, runs
without asyncio, and does exactly what scripted mode does with it: the same stdout, the
same stderr, the same exit status, the same transcript. Each case runs both ways on the
same QEMU (``QMPSHELL_NO_ONESHOT`` makes the command use the asyncio session)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import QemuProcess

CASES: dict[str, tuple[list[str], str]] = {
    "one command": (["-c", "query-status"], ""),
    "stdin, with a comment and a blank line": ([], "# status\n\nquery-status\nquery-name\n"),
    "failures and the summary": ([], "query-status\nbogus-cmd\nquery-name x=1\nquery-name\n"),
    "-e stops at the first failure": (["-e"], "query-name\nbogus-cmd\nquery-status\n"),
    "-r shows return values": (["-r"], "query-status\nquery-name\nbogus-cmd\n"),
    "-p indents": (["-p"], "query-status\n"),
    "-v echoes": (["-v"], "query-name\nquery-status\n"),
    "typed arguments": (
        [],
        "qom-get path=/machine property=type\nqom-list path=/machine/unattached\n",
    ),
    "an error reply": ([], "qom-get path=/nowhere property=type\n"),
    "raw JSON with ids of every kind": (
        [],
        '{"execute": "query-name", "id": "mine"}\n'
        '{"execute": "query-name", "id": 7100000003}\n'
        '{"execute": "query-status"}\n'
        "query-name\n"
        '{"execute": "query-name", "id": 7100000005}\n',
    ),
    "a raw line refused here": ([], '{"execute": "query-name", "arguments": [1]}\nquery-name\n'),
    "a line meant for HMP": ([], "info status\n"),
    "HMP": (["-H"], "info status\ninfo bogus\nhelp info\n"),
    "events between replies": ([], "stop\ncont\nquery-status\n"),
    "an events filter": (["--events", "RESUME"], "stop\ncont\n"),
    "many lines, pipelined": ([], "query-status\nquery-name\n" * 150),
    "deprecated and unstable names, each warned of once": (
        [],
        "x-query-roms\n"
        '{"execute": "block-commit", "arguments": {"device": "none", "top": "x"}}\n'
        "x-query-roms\nblock-commit device=none top=y\n"
        "migrate-set-capabilities capabilities=[{'capability': 'x-ignore-shared', "
        "'state': false}]\n",
    ),
    "quit at the end": ([], "query-name\nquit\n"),
    "quit, then more": ([], "quit\nquery-name\n"),
}


def _run(env: dict[str, str], args: list[str], stdin: str, log: Path) -> tuple[int, str, str]:
    proc = subprocess.run(
        [sys.executable, "-m", "qmpshell", "-l", str(log), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    return proc.returncode, proc.stdout, proc.stderr


def _transcript(path: Path) -> dict[str, list[Any]]:
    """What the transcript says was sent, and what received, each in its order (how the
    two interleave depends on QEMU's pace), without times and timestamps."""
    rows: dict[str, list[Any]] = {"send": [], "recv": []}
    for line in path.read_text().splitlines():
        row = json.loads(line)
        message = row.get("msg", row.get("raw"))
        if isinstance(message, dict):
            message.pop("timestamp", None)
        rows[row["dir"]].append(message)
    return rows


def _without_timestamps(text: str) -> list[Any]:
    rows = []
    for line in text.splitlines():
        try:
            value = json.loads(line)
        except ValueError:
            rows.append(line)
            continue
        if isinstance(value, dict):
            value.pop("timestamp", None)
        rows.append(value)
    return rows


@pytest.mark.parametrize("case", list(CASES))
def test_a_one_shot_script_does_what_scripted_mode_does(
    case: str, shell_env: dict[str, str], qemu_factory: Any, tmp_path: Path
) -> None:
    args, stdin = CASES[case]
    warm = qemu_factory.start()  # the schema cached, for both ways alike
    assert _run(shell_env, ["-c", "query-name", warm.qmp], "", tmp_path / "warm.jsonl")[0] == 0
    outcomes = []
    for way in ("one-shot", "asyncio session"):
        qemu: QemuProcess = qemu_factory.start()  # each way its own: quit ends one
        env = dict(shell_env)
        if way != "one-shot":
            env["QMPSHELL_NO_ONESHOT"] = "1"
        log = tmp_path / f"{way}.jsonl"
        status, out, err = _run(env, [*args, qemu.qmp], stdin, log)
        assert "Traceback" not in err
        outcomes.append((status, _without_timestamps(out), err, _transcript(log)))
    assert outcomes[0] == outcomes[1]


def test_a_one_shot_script_does_not_import_asyncio(
    shell_env: dict[str, str], qemu: QemuProcess
) -> None:
    """What makes it start fast: -X importtime lists every module imported (typing and
    socket.py are not, docs/architecture.md says why)."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "qmpshell", "-c", "query-status", qemu.qmp],
        capture_output=True,
        text=True,
        env=shell_env,
        timeout=30,
    )
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["return"]["running"] is True
    imported = _imported_after_site(proc.stderr)
    assert "qmpshell.modes.oneshot" in imported
    assert not imported & {
        "asyncio",
        "prompt_toolkit",
        "pygments",
        "subprocess",
        "socket",
        "typing",
        "tomllib",  # without a config file (a fresh HOME), only a stat: no TOML parser
        "tomli",
    }


def _imported_after_site(importtime: str) -> set[str]:
    """The modules ``-X importtime`` lists, but for those ``site`` imported before
    qmpshell ran (an editable install's finder brings importlib.util, and on Python 3.9
    typing with it). Each module is listed after those it imported, one level deeper."""
    entries = []
    for line in importtime.splitlines():
        if not line.startswith("import time:") or line.rstrip().endswith("| package"):
            continue
        name = line.rsplit("|", 1)[-1]
        entries.append((len(name) - len(name.lstrip()), name.strip()))
    imported: set[str] = set()
    pending: list[str] = []
    for depth, name in entries:
        pending.append(name)
        if depth == 1:  # a top-level import: it and everything pending since the last
            if name != "site":
                imported.update(pending)
            pending = []
    return imported


def test_a_one_shot_script_compiles_nothing(qemu: QemuProcess, shell_env: dict[str, str]) -> None:
    """A process's first compile() builds CPython's 119 AST classes (3 ms): typing makes
    one of each string annotation it is asked to check (records.py). (Modules compiled
    from their source, where no .pyc is kept, are bytes: not counted.)"""
    program = (
        "import builtins, sys\n"
        "compiled = []\n"
        "real = builtins.compile\n"
        "def compile(source, *args, **kwargs):\n"
        "    if isinstance(source, str):\n"
        "        compiled.append(source)\n"
        "    return real(source, *args, **kwargs)\n"
        "builtins.compile = compile\n"
        "from qmpshell.cli.main import main\n"
        f"status = main(['-c', 'query-status', '-c', 'device_del id=x', {qemu.qmp!r}])\n"
        "print(int(status), compiled, file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, env=shell_env, timeout=30
    )
    assert result.stderr.splitlines()[-1] == "1 []", result.stderr


def test_a_script_still_being_written_is_read_as_it_comes(
    shell_env: dict[str, str], qemu: QemuProcess
) -> None:
    """A pipe whose writer has not finished: the asyncio session reads it as it comes,
    starting with what was read to find out."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "qmpshell", qemu.qmp],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=shell_env,
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(b"query-name\nquery-st")
    proc.stdin.flush()
    assert json.loads(proc.stdout.readline()) == {"return": {}}
    proc.stdin.write(b"atus\n")
    proc.stdin.close()
    assert json.loads(proc.stdout.readline())["return"]["status"] == "running"
    assert proc.wait(timeout=10) == 0


def test_the_environment_switch_is_only_for_tests() -> None:
    """QMPSHELL_NO_ONESHOT is read in one place: the composition root."""
    root = Path(__file__).resolve().parents[2] / "qmpshell"
    users = [
        path.relative_to(root).as_posix()
        for path in root.rglob("*.py")
        if "QMPSHELL_NO_ONESHOT" in path.read_text()
    ]
    assert users == ["cli/main.py"]
    assert os.environ.get("QMPSHELL_NO_ONESHOT") is None
