"""How many rows of the terminal a text takes once shown: each line wrapped at the
terminal's width, colours taking no room and wide characters two columns. The pager's
rule (:meth:`qmpshell.ui.output.Output._show_long`) goes by it, so that one line of
200 KB (``query-qmp-schema |! head -c 200000``) is as tall as it looks."""

from __future__ import annotations

from ..escape import SGR  # what the renderer paints with: all escaped text holds of ESC
from ..patterns import compiled


def displayed_rows(text: str, width: int, enough: int) -> int:
    """The rows ``text`` (escaped: nothing in it moves the cursor) takes on a terminal
    ``width`` columns wide, counted up to ``enough`` at most: a text of 16 MiB is measured
    only as far as it takes to know that it is taller than the screen."""
    width = max(width, 1)
    rows = start = 0
    end = len(text)
    while rows < enough:
        stop = text.find("\n", start)
        if stop < 0:
            stop = end
        # Past enough rows' characters, the rest of a line cannot make it shorter.
        line = text[start : min(stop, start + width * enough * 2)]
        rows += max(1, -(-_columns(line) // width))
        if stop == end:
            break
        start = stop + 1
    return min(rows, enough)


def _columns(line: str) -> int:
    """The columns ``line`` takes (before any wrapping)."""
    if "\x1b" in line:
        line = compiled(SGR).sub("", line)
    if "\t" in line:
        line = line.expandtabs()
    if line.isascii():
        return len(line)
    from prompt_toolkit.utils import get_cwidth  # loaded already in the interactive shell

    return sum(get_cwidth(char) for char in line)
