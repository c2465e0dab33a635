"""A documented reply typed as a command is explained, not sent (no QEMU needed)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

Message = dict[str, Any]


def _not_json(word: str) -> Any:
    raise ValueError(f"{word} in a transcript")


def transcript(path: Path) -> list[Message]:
    """Each line of a transcript, read as strict JSON (NaN or Infinity would fail)."""
    return [json.loads(line, parse_constant=_not_json) for line in path.read_text().splitlines()]


# -- 1. raw JSON over several lines ---------------------------------------------------------


# -- 2. a raw line reaches QEMU as written ----------------------------------------------------


# -- 3. a reply without id is the answer of the line QEMU was reading ---------------------------


# -- 4. ids -------------------------------------------------------------------------------------


# -- 6. /wait ends when the connection does ---------------------------------------------------


# -- 10. -r ---------------------------------------------------------------------------------------


# -- found by trying it as a scripter would -----------------------------------------------------


def test_a_documented_reply_typed_as_a_command_is_explained() -> None:
    from qmpshell.errors import InputError
    from qmpshell.language.shorthand import Parser
    from qmpshell.language.syntax import is_incomplete_json

    with pytest.raises(InputError, match="QEMU's reply in its documentation"):
        Parser().feed('<- { "return": {} }')
    assert Parser().feed('-> { "execute": "query-name" }') == {"execute": "query-name"}
    assert is_incomplete_json('-> { "execute":')
