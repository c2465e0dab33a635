"""What the transcript and history treat as secret (pure)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qmpshell.language.redaction import REDACTED, has_secret, is_secret, redact


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            {"execute": "object-add", "arguments": {"qom-type": "secret", "id": "s", "data": "pw"}},
            {
                "execute": "object-add",
                "arguments": {"qom-type": "secret", "id": "s", "data": REDACTED},
            },
        ),
        (
            {"execute": "change-vnc-password", "arguments": {"password": "x"}},
            {"execute": "change-vnc-password", "arguments": {"password": REDACTED}},
        ),
        (
            {"execute": "x", "arguments": {"list": [{"passphrase": 1}, {"ok": 2}]}},
            {"execute": "x", "arguments": {"list": [{"passphrase": REDACTED}, {"ok": 2}]}},
        ),
        (
            {"execute": "object-add", "arguments": {"qom-type": "memory-backend-ram", "data": 1}},
            {"execute": "object-add", "arguments": {"qom-type": "memory-backend-ram", "data": 1}},
        ),
    ],
)
def test_redact(message: dict[str, Any], expected: dict[str, Any]) -> None:
    assert redact(message) == expected
    assert has_secret(message) == (message != expected)


def test_nothing_secret_is_returned_as_is() -> None:
    message = {"execute": "query-status", "id": 7}
    assert redact(message) is message


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["a", "password", "data", "qom-type", "secret"]), inner, max_size=3
        )
    ),
    max_leaves=10,
)


@given(_JSON)
def test_every_secret_is_marked_and_the_rest_kept(value: Any) -> None:
    cleaned = redact(value)
    if not has_secret(value):
        assert cleaned is value
    assert _marked(cleaned, value)


def _marked(cleaned: Any, original: Any) -> bool:
    """Secret members hold the marker; everything else is as it was."""
    if isinstance(original, dict):
        return cleaned.keys() == original.keys() and all(
            cleaned[k] == REDACTED if is_secret(str(k), original) else _marked(cleaned[k], v)
            for k, v in original.items()
        )
    if isinstance(original, list):
        return len(cleaned) == len(original) and all(
            _marked(c, o) for c, o in zip(cleaned, original)
        )
    return bool(cleaned == original)
