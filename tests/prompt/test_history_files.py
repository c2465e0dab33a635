"""The history file is opened safely: no symlink followed, its mode tightened, another
user's file refused."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from private_files import NOBODY, as_root, target_and_link, unchanged
from prompt_toolkit.history import InMemoryHistory

from qmpshell.ui.history import make_history


def test_history_symlink_not_followed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target, link = target_and_link(tmp_path)
    history = make_history(link)
    assert isinstance(history, InMemoryHistory)  # the session goes on without the file
    history.store_string("query-status")
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("qmpshell: cannot use history file ")
    assert "symbolic link" in err[0]
    unchanged(target)


def test_history_replaced_by_a_symlink_later_is_not_followed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "history"
    history = make_history(path)
    path.unlink()
    target, _ = target_and_link(tmp_path)
    path.symlink_to(target)
    history.store_string("query-status")
    assert "symbolic link" in capsys.readouterr().err
    unchanged(target)


def test_existing_history_tightened(tmp_path: Path) -> None:
    path = tmp_path / "history"
    path.write_text("\n# then\n+query-name\n")
    path.chmod(0o666)
    history = make_history(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert list(history.load_history_strings()) == ["query-name"]


@as_root
def test_history_of_another_user_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "history"
    path.write_text("")
    os.chown(path, NOBODY, NOBODY)
    assert isinstance(make_history(path), InMemoryHistory)
    assert "owned by another user" in capsys.readouterr().err
    assert path.stat().st_uid == 65534
