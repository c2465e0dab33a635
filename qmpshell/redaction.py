"""What counts as a secret in a QMP message, for keeping it off disk.

A member named like a password or a secret (``password``, ``passphrase``, ``secret``,
``key-secret``...) and the ``data`` of an ``object-add qom-type=secret`` are secrets.
History leaves out the lines that carry one; the transcript writes the message with the
secret replaced, unless ``--log-secrets``.
"""

from __future__ import annotations

import re
from typing import Any

SECRET_NAME = re.compile(r"pass(word|phrase)?|secret|passwd|credential|private", re.IGNORECASE)
REDACTED = "<redacted>"


def is_secret(key: str, container: dict[str, Any]) -> bool:
    """Whether member ``key`` of the object ``container`` holds a secret."""
    if SECRET_NAME.search(key):
        return True
    return key == "data" and container.get("qom-type") == "secret"


def has_secret(value: Any) -> bool:
    if isinstance(value, dict):
        return any(is_secret(str(k), value) or has_secret(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_secret(item) for item in value)
    return False


def redact(value: Any) -> Any:
    """``value`` with every secret replaced by ``"<redacted>"``; the very same object
    when it holds none (the common case costs one walk, no copy)."""
    if not has_secret(value):
        return value
    return _redacted(value)


def _redacted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: REDACTED if is_secret(str(k), value) else _redacted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(item) for item in value]
    return value
