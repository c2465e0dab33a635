"""Prompt-level tests of the interactive shell's pieces, with a pipe for a keyboard."""

from __future__ import annotations

import asyncio
from typing import Any

from prompt_toolkit import PromptSession
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from qmpshell.repl import _continuation, _key_bindings


def prompt_with(keys: str, **options: Any) -> str:
    async def body() -> str:
        with create_pipe_input() as pipe:
            pipe.send_text(keys)
            session: PromptSession[str] = PromptSession(
                input=pipe, output=DummyOutput(), key_bindings=_key_bindings(), **options
            )
            return await session.prompt_async("(QEMU) ")

    return asyncio.run(body())


def test_enter_inside_open_json_continues_the_line() -> None:
    text = prompt_with('{"execute":\r "query-name",\r "arguments": {}}\r')
    assert text == '{"execute":\n "query-name",\n "arguments": {}}'


def test_enter_on_shorthand_accepts_at_once() -> None:
    assert prompt_with("query-status\r") == "query-status"


def test_enter_with_a_brace_inside_a_string_is_not_fooled() -> None:
    assert prompt_with('{"a": "}"}\r') == '{"a": "}"}'
    assert prompt_with('{"a": "{"\r}\r') == '{"a": "{"\n}'


def test_continuation_prompt_lines_up() -> None:
    assert _continuation(7, 1, 0) == "...... "
    assert prompt_with("{\r}\r", prompt_continuation=_continuation) == "{\n}"
