"""What a connection of the interactive session is called by default (session/fleet.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qmpshell.session.fleet import short_name

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("@web1", "web1"),
        ("@", "@"),
        ("/run/vm1.sock", "vm1"),
        ("/run/qemu/web.socket", "web"),
        ("relative/mon.qmp", "mon.qmp"),
        ("vm3.sock", "vm3"),
        ("localhost:4444", "localhost:4444"),
        ("[::1]:4444", "[::1]:4444"),
        ("/tmp/.sock", ".sock"),
        ("/tmp/dir/", "dir"),
        ("/", "/"),
    ],
)
def test_short_names(text: str, name: str) -> None:
    assert short_name(text) == name


@given(st.text(min_size=1))
def test_a_name_is_never_empty_and_never_a_path(text: str) -> None:
    name = short_name(text)
    assert name
    if not text.startswith("@") and text.strip("/"):
        assert "/" not in name
