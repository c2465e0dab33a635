"""Pieces of the interactive shell's screen: a prompt that fits a small terminal, the
status line fitted to the width, the continuation prompt, and output above the prompt
(interactive only; prompt_toolkit is imported when they are used)."""

from __future__ import annotations

import functools
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prompt_toolkit import PromptSession

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
    """prompt_toolkit's patch_stdout, with a shorter pause between batches of output:
    its default of 0.2 s would hold an event back that long in a flood. 5 ms still
    bundles a flood into few repaints."""
    from prompt_toolkit.patch_stdout import StdoutProxy

    with StdoutProxy(raw=True, sleep_between_writes=0.005) as proxy:
        stdout, stderr = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = proxy
        try:
            yield
        finally:
            sys.stdout, sys.stderr = stdout, stderr


def escaping_processor() -> Any:
    """An input processor that shows the invisible characters of the line being typed as
    escapes (``\\u202e``): a pasted line or a completed name from QEMU may hold a bidi
    override, which would make the line read other than what is sent. prompt_toolkit
    already shows C0 and C1 as ``^[`` and ``<9b>``; the cursor keeps to the text."""
    from prompt_toolkit.formatted_text import StyleAndTextTuples
    from prompt_toolkit.layout.processors import Processor, Transformation, TransformationInput
    from prompt_toolkit.layout.utils import explode_text_fragments

    from ..escape import UNSAFE, escape_text

    class EscapingProcessor(Processor):
        def apply_transformation(self, ti: TransformationInput) -> Transformation:
            fragments = explode_text_fragments(ti.fragments)
            if not any(_invisible(text, UNSAFE) for _, text, *_ in fragments):
                return Transformation(ti.fragments)
            shown: StyleAndTextTuples = []
            starts: list[int] = []  # where each character of the source begins on the screen
            position = 0
            for style, text, *_ in fragments:
                starts.append(position)
                if _invisible(text, UNSAFE):
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
