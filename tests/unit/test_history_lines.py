"""Which lines history keeps (none with a secret), and where its file lives."""

from __future__ import annotations

from pathlib import Path

import pytest

from qmpshell.language.redaction import line_has_secret
from qmpshell.ui.history import history_path


@pytest.mark.parametrize(
    "line",
    [
        "object-add qom-type=secret id=sec0 data=letmein",
        "object-add qom-type=secret id=sec0 file=/x data=letmein",
        "change-vnc-password password=hunter2",
        "blockdev-add driver=luks key-secret=sec0 node-name=n",
        "x opts.passphrase=abc",
        '{"execute": "object-add", "arguments": {"qom-type": "secret", "id": "s", "data": "x"}}',
        '{"execute": "set_password", "arguments": {"protocol": "vnc", "password": "x"}}',
        'x password="unclosed',
    ],
)
def test_secrets_detected(line: str) -> None:
    assert line_has_secret(line)


@pytest.mark.parametrize(
    "line",
    [
        "query-status",
        "object-add qom-type=memory-backend-ram id=m0 size=1024",
        "blockdev-add driver=raw node-name=n0 file=x",
        '{"execute": "query-name"}',
        "qom-get path=/objects/sec0 property=type",
    ],
)
def test_ordinary_lines_kept(line: str) -> None:
    assert not line_has_secret(line)


def test_history_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert history_path() == tmp_path / "qmpshell" / "history"
    assert history_path("hmp") == tmp_path / "qmpshell" / "history-hmp"
    assert history_path("qmp", str(tmp_path / "h")) == tmp_path / "h"
    assert history_path("hmp", str(tmp_path / "h")) == tmp_path / "h-hmp"
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert history_path() == tmp_path / ".local" / "state" / "qmpshell" / "history"
