"""Rendering checked against a real QEMU's schema, and scripted mode loading neither
pygments nor prompt_toolkit (a fresh interpreter)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import Any

from qmpshell.ui.render import Renderer

pytest_plugins = ["schema_fixture"]

SGR = re.compile(r"\x1b\[[0-9;]*m")
SGR_RUN = re.compile(r"(?:\x1b\[[0-9;]*m)+")

PLAIN = Renderer(color=False)
COLOR = Renderer(color=True)


def strip(text: str) -> str:
    return SGR.sub("", text)


def test_schema_reply_is_faithful(schema_entries: list[dict[str, Any]]) -> None:
    message = {"return": schema_entries}
    coloured = COLOR.reply(message)
    plain = PLAIN.reply(message)
    assert plain == json.dumps(message, indent=2, ensure_ascii=False)
    assert strip(coloured) == plain


def test_schema_reply_coloured_as_pygments_colours_it(schema_entries: list[dict[str, Any]]) -> None:
    """The colours are pygments' JsonLexer and TerminalFormatter's (the renderer gets
    there faster, and writes each of pygments' runs of codes as one sequence of the same
    effect), and the output boundary keeps them all."""
    from pygments import highlight
    from pygments.formatters.terminal import TerminalFormatter
    from pygments.lexers import JsonLexer

    from qmpshell.escape import escape_painted
    from qmpshell.ui import render

    message = {"return": schema_entries}
    text = json.dumps(message, indent=2, ensure_ascii=False)
    formatter = TerminalFormatter(colorscheme=render.TERMINAL_COLORS)
    coloured = COLOR.reply(message)
    expected = SGR_RUN.sub(
        lambda m: render.short_sgr(m.group()), highlight(text, JsonLexer(), formatter)
    )
    assert coloured + "\n" == expected
    assert escape_painted(coloured) == coloured


def test_scripted_mode_does_not_import_pygments_or_prompt_toolkit() -> None:
    code = (
        "import sys, qmpshell, qmpshell.cli.main, qmpshell.modes.scripted, qmpshell.ui.output, "
        "qmpshell.session.runner\n"
        "loaded = {m.split('.')[0] for m in sys.modules} & {'pygments', 'prompt_toolkit'}\n"
        "print(sorted(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
