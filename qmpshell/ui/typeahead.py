"""Keys typed while a line runs, kept for the next prompt as readline keeps them.

prompt_toolkit puts the terminal in raw mode while it prompts and gives it back as it
found it afterwards. A terminal in its usual (cooked) mode between two prompts echoes
what is typed the moment it is typed, wherever the cursor is: the next line, typed
while a reply is awaited, lands on the screen above that reply, and shows again at the
prompt that then reads it. So the shell keeps the terminal quiet between prompts: no
echo, and no waiting for a whole line, so that the keys wait unseen in the terminal
until the next prompt reads them and shows them as typed there, Enter included. Ctrl-C
stays a signal (it stops the command, and the terminal drops what was typed ahead, as
it does for bash).
"""

from __future__ import annotations

import sys
import termios
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any, TextIO

# termios.tcgetattr's fields
IFLAG, LFLAG, CC = 0, 3, 6


@contextmanager
def kept_for_the_prompt(stdin: TextIO | None = None) -> Iterator[None]:
    """Between prompts, the terminal of ``stdin`` (default ``sys.stdin``) neither echoes
    nor edits lines; on the way out it is given back as it was. Nothing changes when
    stdin is no terminal."""

    def quiet(attributes: list[Any]) -> None:
        # What prompt_toolkit's raw mode turns off, but signals: Ctrl-C must still stop a
        # command. Enter stays a carriage return (no ICRNL), as the prompt reads it.
        attributes[LFLAG] &= ~(termios.ECHO | termios.ICANON | termios.IEXTEN)
        attributes[IFLAG] &= ~(termios.ICRNL | termios.INLCR | termios.IGNCR)
        attributes[CC][termios.VMIN] = 1
        attributes[CC][termios.VTIME] = 0

    with _changed(stdin, quiet):
        yield


@contextmanager
def cooked(stdin: TextIO | None = None) -> Iterator[None]:
    """While another program has the terminal (the editor of ``/edit``): echo and line
    editing back, as the user's shell gives a terminal to what it runs; the quiet (or
    raw) mode found is put back afterwards. Nothing changes when stdin is no terminal."""

    def usual(attributes: list[Any]) -> None:
        attributes[LFLAG] |= termios.ECHO | termios.ICANON | termios.IEXTEN | termios.ISIG
        attributes[IFLAG] |= termios.ICRNL

    with _changed(stdin, usual):
        yield


@contextmanager
def _changed(stdin: TextIO | None, change: Callable[[list[Any]], None]) -> Iterator[None]:
    """The terminal of ``stdin`` (default ``sys.stdin``) as ``change`` makes its
    attributes, given back as it was on the way out; nothing changes on no terminal."""
    stream = sys.stdin if stdin is None else stdin
    try:
        fd = stream.fileno()
        before = termios.tcgetattr(fd)
    except (AttributeError, ValueError, OSError, termios.error):
        yield
        return
    attributes = termios.tcgetattr(fd)
    change(attributes)
    _set(fd, attributes)  # TCSANOW: what was typed already stays
    try:
        yield
    finally:
        _set(fd, before)


def _set(fd: int, attributes: list[Any]) -> None:
    # A terminal gone away (a hang-up) has nothing to keep or give back.
    with suppress(termios.error):
        termios.tcsetattr(fd, termios.TCSANOW, attributes)
