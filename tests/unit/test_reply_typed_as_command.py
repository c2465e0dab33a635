"""A documented reply typed as a command is explained, not sent (no QEMU needed)."""

from __future__ import annotations

from typing import Any

import pytest

Message = dict[str, Any]


def test_a_documented_reply_typed_as_a_command_is_explained() -> None:
    from qmpshell.errors import InputError
    from qmpshell.language.shorthand import Parser
    from qmpshell.language.syntax import is_incomplete_json

    with pytest.raises(InputError, match="QEMU's reply in its documentation"):
        Parser().feed('<- { "return": {} }')
    assert Parser().feed('-> { "execute": "query-name" }') == {"execute": "query-name"}
    assert is_incomplete_json('-> { "execute":')
