"""Ctrl-X Ctrl-E at the prompt: the line typed so far in the user's editor, as in bash.

In QMP mode the line becomes a document laid out from the schema (as ``/edit LINE``
makes it, :mod:`qmpshell.session.editing`); once the saved document passes the check,
it replaces the line as one line of compact JSON and is run, as if typed: shown after
the prompt, kept in history. An empty line opens a blank document (as bash opens an
empty file, :data:`~qmpshell.language.skeleton.BLANK`). Given up (the file emptied, an
error saved unchanged, the editor failed), the line stays as it was. In HMP mode the
editor opens on the line's plain text, and what is saved comes back to the prompt, its
lines joined, to be run with Enter. The prompt is hidden while the editor runs (``in_terminal``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..errors import InputError, QMPShellError
from ..language.editdoc import compact
from ..language.mode import Mode
from ..language.skeleton import BLANK
from ..session.editing import document_for, edit_rounds

if TYPE_CHECKING:
    from prompt_toolkit.buffer import Buffer

    from ..session.runner import LineRunner
    from .output import Output


def editing(runner: LineRunner, output: Output) -> Callable[[Buffer], None]:
    """What Ctrl-X Ctrl-E does to a prompt's buffer: :func:`edit_line`, as a task of the
    prompt's application."""

    def edit(buffer: Buffer) -> None:
        from prompt_toolkit.application.current import get_app

        get_app().create_background_task(edit_line(runner, output, buffer))

    return edit


async def edit_line(runner: LineRunner, output: Output, buffer: Buffer) -> None:
    """The editor's rounds for ``buffer``'s text; errors said in one line."""
    try:
        if runner.mode is Mode.HMP:
            await _edit_hmp(output, buffer)
        else:
            await _edit_qmp(runner, output, buffer)
    except QMPShellError as exc:
        output.error(f"Ctrl-X Ctrl-E: {exc}")


async def _edit_hmp(output: Output, buffer: Buffer) -> None:
    from prompt_toolkit.application import in_terminal

    text = buffer.text
    async with in_terminal():
        saved = await output.edit(text + "\n" if text else "")
    if saved is not None:
        line = " ".join(row.strip() for row in saved.split("\n") if row.strip())
        buffer.text = line
        buffer.cursor_position = len(line)


async def _edit_qmp(runner: LineRunner, output: Output, buffer: Buffer) -> None:
    from prompt_toolkit.application import in_terminal

    if runner.in_transaction:
        raise InputError("it lays out one command: close the transaction block first")
    await runner.schema_load.ensure()
    schema = runner.parser.schema
    document = document_for(schema, buffer.text) if buffer.text.strip() else BLANK
    async with in_terminal():
        message = await edit_rounds(output, schema, document)
    if message is None:
        return  # the line stays at the prompt as it was
    buffer.text = compact(message)
    buffer.validate_and_handle()
