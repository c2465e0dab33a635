"""Pieces of the interactive shell's screen: the banner, a prompt that fits a small
terminal, the status line fitted to the width, the continuation prompt, and output above
the prompt (interactive only; prompt_toolkit is imported when they are used)."""

from __future__ import annotations

import asyncio
import functools
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ..language.mode import Mode

if TYPE_CHECKING:
    from prompt_toolkit import PromptSession

    from ..session.runner import LineRunner

MENU_ROWS = 8  # what prompt_toolkit keeps free for the completion menu, at most
SEPARATOR = " │ "


@functools.cache
def fitting_session() -> type[PromptSession[str]]:
    """PromptSession, with the room kept for the completion menu cut to the terminal:
    prompt_toolkit keeps 8 rows, and a terminal of 8 rows then shows "Window too small"
    instead of the prompt."""
    from prompt_toolkit import PromptSession

    class FittingSession(PromptSession[str]):
        @property
        def reserve_space_for_menu(self) -> int:
            try:
                rows = self.app.output.get_size().rows
            except Exception:
                return MENU_ROWS
            return max(0, min(MENU_ROWS, rows // 2 - 2))

        @reserve_space_for_menu.setter
        def reserve_space_for_menu(self, value: int) -> None:
            pass  # always from the terminal's size

    return FittingSession


def banner(runner: LineRunner) -> str:
    """What the shell says first: what it is connected to, and what to type."""
    client = runner.client
    if runner.agent is not None:
        return (
            f"Connected to the guest agent at {client.address} "
            f"(qemu-ga {runner.agent.version or 'of unknown version'}).\n"
            "Type an agent command (guest-info), /help for more; Ctrl-D quits."
        )
    version = client.greeting.version_text if client.greeting else "unknown version"
    hmp = runner.mode is Mode.HMP
    example = "an HMP command (info status)" if hmp else "a QMP command (query-status)"
    return (
        f"Connected to {client.address} (QEMU {version}).\n"
        f"Type {example}, /help for more; Ctrl-D quits."
    )


def status_line(target: str, parts: list[str], width: int) -> str:
    """`` target │ part │ part `` in ``width`` columns: the target (a socket path, say)
    is cut in the middle first, then left out, so that the state and mode stay."""
    rest = SEPARATOR.join(parts)
    room = width - len(rest) - len(SEPARATOR) - 2
    if room >= 12 or room >= len(target):
        return f" {shorten(target, max(room, 12))}{SEPARATOR}{rest} "
    return f" {rest} "


def shorten(text: str, width: int = 40) -> str:
    """A long socket path, cut in the middle so that both ends stay readable."""
    if len(text) <= width:
        return text
    half = (width - 1) // 2
    return text[:half] + "…" + text[-half:]


def continuation(width: int, line_number: int, wrap_count: int) -> Any:
    """The prompt of a continuation line: dots as wide as the prompt."""
    return "." * (width - 1) + " "


@contextmanager
def output_above_prompt() -> Iterator[None]:
    """``sys.stdout`` and ``sys.stderr`` through :class:`AbovePrompt` (prompt_toolkit's
    ``patch_stdout``, in the loop's thread): what is written while a prompt is shown goes
    above it, and what is written between prompts is on the terminal before the next
    prompt is drawn."""
    with AbovePrompt() as proxy:
        stdout, stderr = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = proxy
        try:
            yield
        finally:
            sys.stdout, sys.stderr = stdout, stderr


class AbovePrompt:
    """A stream that writes to the terminal around whatever prompt_toolkit shows.

    While an application runs (the prompt, ``/wait``'s status line), whole lines go
    above it (:meth:`_put_above`), a batch at most every :attr:`pause` seconds
    (5 ms: a flood of events makes few repaints, and none waits long). Otherwise they
    are written at once, on :meth:`flush` (the output's, at the end of each turn of the
    loop and of each line): prompt_toolkit's own ``StdoutProxy`` writes from a thread of
    its own, and a reply could then reach the terminal after the next prompt, which
    keys typed ahead (:mod:`qmpshell.ui.typeahead`) may have filled and accepted."""

    pause = 0.005

    def __init__(self) -> None:
        from prompt_toolkit.application.current import get_app_session

        self._session = get_app_session()
        self._output = self._session.output  # the terminal's, before stdout is replaced
        self._lines: list[str] = []  # to write, in order
        self._partial: list[str] = []  # after the last newline: shown once it is ended
        self._scheduled = False
        self._last = 0.0  # when a batch last went above a prompt (the loop's clock)
        self._above: Any = None  # that batch's run_in_terminal, until it has run

    def __enter__(self) -> AbovePrompt:
        return self

    def __exit__(self, *exc: object) -> None:
        self._lines += self._partial
        self._partial = []
        self._write_now()

    def write(self, data: str) -> int:
        if "\n" in data:
            head, tail = data.rsplit("\n", 1)
            self._lines += [*self._partial, head, "\n"]
            self._partial = [tail] if tail else []
            self._schedule()
        else:
            self._partial.append(data)
        return len(data)

    def flush(self) -> None:
        self._lines += self._partial
        self._partial = []
        if self._app_running():
            self._schedule()
        else:
            self._deliver()

    def _app_running(self) -> bool:
        app = self._session.app
        return app is not None and app.is_running

    def _schedule(self) -> None:
        if self._scheduled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._deliver()
            return
        self._scheduled = True
        delay = self._last + self.pause - loop.time() if self._app_running() else 0.0
        loop.call_later(max(delay, 0.0), self._deliver)

    def _deliver(self) -> None:
        self._scheduled = False
        if not self._lines:
            return
        if self._above is not None and not self._above.done():
            # Still to go above a prompt: what came after it waits its turn.
            self._above.add_done_callback(lambda _: self._deliver())
            return
        if not self._app_running():
            self._write_now()
            return
        text = "".join(self._lines)
        self._lines = []
        self._last = asyncio.get_running_loop().time()
        if not self._put_above(text):
            from prompt_toolkit.application import run_in_terminal

            self._above = run_in_terminal(lambda: self._put(text), in_executor=False)

    def _put_above(self, text: str) -> bool:
        """Put ``text`` above the prompt with the terminal left in raw mode: what
        ``run_in_terminal`` does, less its cooked mode, in which the tty echoes the keys
        typed meanwhile into the text (during a flood of events, every few keys). Not
        while something else has the terminal (the editor of ``/edit``): then False, and
        the text waits its turn through ``run_in_terminal``."""
        app = self._session.app
        if app is None:
            return False
        pending = getattr(app, "_running_in_terminal_f", None)
        request = getattr(app, "_request_absolute_cursor_position", None)
        if getattr(app, "_running_in_terminal", True) or request is None:
            return False
        if pending is not None and not pending.done():
            return False
        renderer = app.renderer
        renderer.erase(leave_alternate_screen=False)
        self._put(text)
        if not renderer.waiting_for_cpr:
            request()  # the rows below the prompt, for the completion menu's room
        app.invalidate()
        return True

    def _write_now(self) -> None:
        text = "".join(self._lines)
        self._lines = []
        if text:
            self._put(text)

    def _put(self, text: str) -> None:
        output = self._output
        output.enable_autowrap()
        output.write_raw(text)
        output.flush()

    # What else code expecting sys.stdout asks of it.

    def fileno(self) -> int:
        return int(self._output.fileno())

    def isatty(self) -> bool:
        stdout = self._output.stdout
        return stdout is not None and stdout.isatty()

    @property
    def encoding(self) -> str:
        return str(self._output.encoding())

    @property
    def errors(self) -> str:
        return "strict"


def escaping_processor() -> Any:
    """An input processor that shows the invisible characters of the line being typed as
    escapes (``\\u202e``): a pasted line or a completed name from QEMU may hold a bidi
    override, which would make the line read other than what is sent. prompt_toolkit
    already shows C0 and C1 as ``^[`` and ``<9b>``; the cursor keeps to the text."""
    from prompt_toolkit.formatted_text import StyleAndTextTuples
    from prompt_toolkit.layout.processors import Processor, Transformation, TransformationInput
    from prompt_toolkit.layout.utils import explode_text_fragments

    from ..escape import escape_text, unsafe

    class EscapingProcessor(Processor):
        def apply_transformation(self, ti: TransformationInput) -> Transformation:
            fragments = explode_text_fragments(ti.fragments)
            pattern = unsafe()
            if not any(_invisible(text, pattern) for _, text, *_ in fragments):
                return Transformation(ti.fragments)
            shown: StyleAndTextTuples = []
            starts: list[int] = []  # where each character of the source begins on the screen
            position = 0
            for style, text, *_ in fragments:
                starts.append(position)
                if _invisible(text, pattern):
                    text = escape_text(text)
                shown.append((style, text))
                position += len(text)
            starts += [position, position + 1]  # the cursor may be past the end

            def to_source(display: int) -> int:
                return max(i for i, start in enumerate(starts) if start <= display or i == 0)

            return Transformation(shown, lambda i: starts[min(i, len(starts) - 1)], to_source)

    return EscapingProcessor()


def _invisible(char: str, unsafe: Any) -> bool:
    """A character prompt_toolkit would draw as it is though it cannot be seen (a bidi
    control, a line separator) or written (a lone surrogate)."""
    return char >= "\xa0" and unsafe.fullmatch(char) is not None
