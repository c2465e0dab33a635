"""The user's editor (ui/editor.py), run for real on a small script: which editor, its
arguments, the private file, failures."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from qmpshell.ui.editor import EditorError, edit_text, editor_command

# Records its arguments, the file's mode and its directory's, then writes its reply.
SCRIPT = """\
import json, os, stat, sys
path = sys.argv[-1]
record = {
    "args": sys.argv[1:-1],
    "name": os.path.basename(path),
    "file": stat.S_IMODE(os.stat(path).st_mode),
    "dir": stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode),
    "text": open(path).read(),
    "path": path,
}
open(os.environ["RECORD"], "w").write(json.dumps(record))
open(path, "w").write(os.environ.get("REPLY", ""))
sys.exit(int(os.environ.get("STATUS", "0")))
"""


@pytest.fixture
def editor(tmp_path: Path) -> dict[str, str]:
    script = tmp_path / "editor.py"
    script.write_text(SCRIPT)
    return {
        "PATH": os.environ["PATH"],
        "EDITOR": f"{sys.executable} {script} --wait 'two words'",
        "RECORD": str(tmp_path / "record.json"),
    }


def test_visual_then_editor_then_vi() -> None:
    assert editor_command({"VISUAL": "code --wait", "EDITOR": "nano"}) == ["code", "--wait"]
    assert editor_command({"VISUAL": "", "EDITOR": "nano -w"}) == ["nano", "-w"]
    assert editor_command({}) == ["vi"]
    with pytest.raises(EditorError, match="blank"):
        editor_command({"EDITOR": "   "})
    with pytest.raises(EditorError, match="cannot read the editor's command"):
        editor_command({"EDITOR": "vim 'unclosed"})


def test_the_document_goes_through_a_private_file_removed_after(
    editor: dict[str, str], tmp_path: Path
) -> None:
    saved = edit_text('{"execute": "x"}\n', {**editor, "REPLY": "saved // text"})
    assert saved == "saved // text"
    record = json.loads((tmp_path / "record.json").read_text())
    assert record["args"] == ["--wait", "two words"]  # split as a shell would
    assert record["name"] == "command.json"
    assert (record["file"], record["dir"]) == (0o600, 0o700)
    assert record["text"] == '{"execute": "x"}\n'
    assert not os.path.exists(os.path.dirname(record["path"]))


def test_a_failing_or_missing_editor_is_one_line(editor: dict[str, str]) -> None:
    with pytest.raises(EditorError, match=r"^the editor exited with status 3; nothing sent$"):
        edit_text("x", {**editor, "STATUS": "3"})
    with pytest.raises(EditorError, match=r"^editor not found: nosuch \(set \$VISUAL or"):
        edit_text("x", {**editor, "EDITOR": "nosuch --wait"})
