"""Journeys: a session typed at the terminal, saved with /save, then run again; the same
session's transcript replayed against a fresh QEMU (the installed command, tmux, a fresh
HOME)."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path
from typing import Any

from conftest import INSTALLED, QemuFactory

NONE = ("-machine", "none")


def test_typed_lines_saved_then_run_again_and_replayed(
    newcomer: Any, qemu_factory: QemuFactory, shell_env: dict[str, str], tmp_path: Path
) -> None:
    saved = tmp_path / "steps.qmp"
    transcript = tmp_path / "t.jsonl"
    screen = newcomer("-l", str(transcript), machine=NONE)
    screen.type("query-status", "Enter")
    screen.wait_for(r'"status": "running"')
    screen.type("stop", "Enter")
    screen.type("/wait STOP", "Enter")
    screen.wait_for(r"matched: .*STOP\s*\n\(QEMU\)")
    screen.type("query-statsu", "Enter")  # a typo: refused, not saved
    screen.wait_for(r"unknown command 'query-statsu'")
    screen.type("object-add qom-type=secret id=s0 data=hunter2", "Enter")
    screen.type("/hmp info status", "Enter")
    screen.wait_for(r"VM status: paused")
    screen.type("/save", "Enter")
    screen.wait_for(r"usage: /save \[-f\] FILE")
    screen.type(f"/save {saved}", "Enter")
    screen.wait_for(r"4 lines saved to .*?steps\.qmp; 1 with a secret left out", joined=True)
    text = saved.read_text()
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert text.splitlines()[3:] == [
        "query-status",
        "stop",
        "/wait STOP",
        "# (a line that passes a secret was left out here)",
        "/hmp info status",
    ]
    assert "hunter2" not in text and "query-statsu" not in text
    screen.type("cont", "Enter")
    screen.type(f"/save {saved}", "Enter")  # the session's own file: written anew
    screen.wait_for(r"5 lines saved to")
    assert saved.read_text().splitlines()[-1] == "cont"
    screen.type("C-d")
    assert screen.wait_exit() == 0

    fresh = qemu_factory.start(NONE)
    with saved.open() as script:
        run = subprocess.run([str(INSTALLED), fresh.qmp], stdin=script, capture_output=True,
                             text=True, env=shell_env, timeout=30)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "VM status: paused" in run.stdout

    replay = subprocess.run(
        [str(INSTALLED), "--replay", str(transcript), qemu_factory.start(NONE).qmp],
        capture_output=True, text=True, env=shell_env, timeout=30,
    )  # fmt: skip
    assert replay.returncode == 0, replay.stderr
    assert (
        replay.stderr.splitlines()[-1] == "qmpshell: all 4 replies as recorded; 1 command not sent"
    )
