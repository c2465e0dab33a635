"""docs/library.md's example, run as a user would copy it, against a real QEMU; and the
protocol layer loads no terminal library."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from conftest import QemuProcess

DOC = Path(__file__).resolve().parents[2] / "docs" / "library.md"


def _example() -> str:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert blocks, "docs/library.md has no python example"
    return blocks[0]


def test_the_documented_example_runs(qemu: QemuProcess, tmp_path: Path) -> None:
    script = tmp_path / "example.py"
    script.write_text(_example())
    done = subprocess.run(
        [sys.executable, str(script), qemu.qmp], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("connected to QEMU ")
    assert lines[1] in ("status: running", "status: prelaunch", "status: paused")
    assert lines[2].startswith("stopped at ")
    assert lines[3] == "refused: CommandNotFound"
    assert "Traceback" not in done.stderr


def test_the_protocol_layer_loads_no_terminal_library() -> None:
    code = (
        "import sys, qmpshell.protocol, qmpshell.protocol.agent, qmpshell.protocol.launch\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('prompt_toolkit', 'pygments', 'libvirt')]\n"
        "print(','.join(bad))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""
