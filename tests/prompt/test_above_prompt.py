"""The interactive shell's stdout: written at once between prompts, above the prompt
while one is shown; and its terminal between prompts, which keeps what is typed ahead."""

from __future__ import annotations

import asyncio
import io
import os
import pty
import termios
from contextlib import ExitStack

from prompt_toolkit import PromptSession
from prompt_toolkit.application import create_app_session
from prompt_toolkit.data_structures import Size
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output.vt100 import Vt100_Output

from qmpshell.ui.screen import AbovePrompt
from qmpshell.ui.typeahead import kept_for_the_prompt


def _terminal() -> tuple[io.StringIO, Vt100_Output]:
    screen = io.StringIO()
    return screen, Vt100_Output(screen, lambda: Size(24, 80), term="xterm")


def test_between_prompts_a_flush_puts_the_lines_on_the_terminal_at_once() -> None:
    screen, output = _terminal()

    async def body() -> None:
        with create_app_session(output=output), AbovePrompt() as stdout:
            stdout.write("a reply\n")
            stdout.write("and more")
            stdout.flush()
            assert screen.getvalue().endswith("a reply\nand more")  # before the next prompt

    asyncio.run(body())


def test_while_a_prompt_is_shown_lines_go_above_it() -> None:
    screen, output = _terminal()

    async def body() -> str:
        with ExitStack() as stack:
            keys = stack.enter_context(create_pipe_input())
            stack.enter_context(create_app_session(input=keys, output=output))
            stdout = stack.enter_context(AbovePrompt())
            session: PromptSession[str] = PromptSession()

            async def event_then_enter() -> None:
                while not session.app.is_running:
                    await asyncio.sleep(0)
                stdout.write("an event\n")
                stdout.flush()
                while "an event" not in screen.getvalue():
                    await asyncio.sleep(0.001)
                keys.send_text("query-name\r")

            typing = asyncio.ensure_future(event_then_enter())
            line = await session.prompt_async("(QEMU) ")
            await typing
            return line

    assert asyncio.run(body()) == "query-name"
    shown = screen.getvalue()
    assert "an event\n" in shown
    assert shown.index("an event") < shown.rindex("query-name")  # the prompt redrawn below


def test_between_prompts_the_terminal_neither_echoes_nor_waits_for_a_line() -> None:
    parent, child = pty.openpty()
    try:
        before = termios.tcgetattr(child)
        with open(child, closefd=False) as stdin, kept_for_the_prompt(stdin):
            quiet = termios.tcgetattr(child)
            os.write(parent, b"query-k")
            assert os.read(child, 100) == b"query-k"  # no Enter needed to be read
        assert not quiet[3] & (termios.ECHO | termios.ICANON)
        assert quiet[3] & termios.ISIG  # Ctrl-C still stops a command
        assert termios.tcgetattr(child) == before
    finally:
        os.close(parent)
        os.close(child)


def test_off_a_terminal_nothing_changes() -> None:
    read, write = os.pipe()
    try:
        with open(read, closefd=False) as stdin, kept_for_the_prompt(stdin):
            pass
    finally:
        os.close(read)
        os.close(write)
