"""The prompt_toolkit history: its file is private and keeps no secret line (no QEMU needed)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from qmpshell.ui.history import make_history


def test_history_file_private_and_secret_free(tmp_path: Path) -> None:
    path = tmp_path / "state" / "qmpshell" / "history"
    history = make_history(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    history.store_string("query-status")
    history.store_string("object-add qom-type=secret id=s data=pw")
    text = path.read_text()
    assert "query-status" in text and "pw" not in text
    again = make_history(path)
    assert list(again.load_history_strings()) == ["query-status"]


def test_unusable_history_file_warns_and_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    history = make_history(blocker / "history")  # its parent is a file
    history.store_string("query-status")
    assert "history is not saved" in capsys.readouterr().err
