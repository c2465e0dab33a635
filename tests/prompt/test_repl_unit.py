"""Prompt-level tests of the interactive shell's pieces, with a pipe for a keyboard."""

from __future__ import annotations

import asyncio
from typing import Any

from prompt_toolkit import PromptSession
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from qmpshell.ui.key_bindings import key_bindings
from qmpshell.ui.screen import continuation as _continuation


def prompt_with(keys: str, queued: list[Any] | None = None, **options: Any) -> str:
    """What the prompt returns for ``keys``; what a paste queued goes to ``queued``."""

    def queue(lines: list[str], rest: str) -> None:
        if queued is not None:
            queued.append((lines, rest))

    async def body() -> str:
        with create_pipe_input() as pipe:
            pipe.send_text(keys)
            session: PromptSession[str] = PromptSession(
                input=pipe, output=DummyOutput(), key_bindings=key_bindings(queue), **options
            )
            return await session.prompt_async("(QEMU) ")

    return asyncio.run(body())


def pasted(text: str) -> str:
    """``text`` as a terminal sends it in bracketed-paste mode."""
    return f"\x1b[200~{text}\x1b[201~"


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


def test_paste_of_two_lines_accepts_the_first_and_queues_the_second() -> None:
    queued: list[Any] = []
    assert prompt_with(pasted("query-name\r\nquery-status\r\n"), queued) == "query-name"
    assert queued == [(["query-status"], "")]


def test_paste_keeps_the_unfinished_rest_for_the_next_prompt() -> None:
    queued: list[Any] = []
    assert prompt_with("x" + pasted("query-name\nquery-sta"), queued) == "xquery-name"
    assert queued == [([], "query-sta")]


def test_paste_of_one_line_without_newline_is_only_inserted() -> None:
    queued: list[Any] = []
    assert prompt_with(pasted("query-na") + "me\r", queued) == "query-name"
    assert queued == []


def test_pasted_json_over_several_lines_stays_one_entry() -> None:
    queued: list[Any] = []
    text = prompt_with(pasted('{"execute":\n "query-name"}\nquery-status\n'), queued)
    assert text == '{"execute":\n "query-name"}'
    assert queued == [(["query-status"], "")]
