"""``/edit``'s rounds: the document in the editor, checked on save, reopened with the error.

The document (:mod:`qmpshell.language.skeleton`) goes to the editor through
:meth:`Display.edit <qmpshell.session.display.Display.edit>`; what comes back is checked
(:func:`~qmpshell.language.editdoc.check_document`). A refusal is said in the file: the
editor opens again on the text saved with the error as a comment line on top; saving
the same text again (that file unchanged, or an editor that writes the same thing
whatever it is given), emptying the file, or :data:`MAX_ROUNDS` refusals in a row
give up, and the error is said then. Both ``/edit`` and the prompt's Ctrl-X Ctrl-E go
through :func:`edit_rounds`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from ..errors import InputError
from ..language.editdoc import (
    DocumentError,
    check_document,
    compact,
    is_empty,
    reopened,
    without_error,
)
from ..language.rawjson import is_raw_json
from ..language.skeleton import raw_document, skeleton

if TYPE_CHECKING:
    from ..language.editdoc import Message
    from ..language.schema import Schema
    from .display import Display
    from .runner import LineRunner

MAX_ROUNDS = 20  # the editor opened at most this many times on one command (README)
USAGE = "usage: /edit COMMAND [key=value ...] (at the prompt, Ctrl-X Ctrl-E edits the line typed)"


def document_for(schema: Schema | None, line: str) -> str:
    """The document to edit for a QMP line typed so far: a raw JSON line as itself,
    shorthand laid out from the schema. What is not one command is an
    :class:`InputError`."""
    text = line.strip()
    if not text:
        raise InputError(USAGE)
    if is_raw_json(text):
        return raw_document(schema, text)
    first = text.split()[0]
    if first.startswith("/"):
        raise InputError("a meta-command is not edited: /edit lays out QMP commands", 0)
    if first in ("transaction(", "!oob"):
        raise InputError(f"/edit lays out one command; '{first}' is not one", 0)
    return skeleton(schema, text)


async def edit_command(runner: LineRunner, line: str, column: int, where: str) -> bool:
    """``/edit LINE``: the document for LINE edited until it passes the check, then sent
    as a raw JSON line (shown first); ``on_edited`` is told the line sent. False when
    nothing was sent or the command failed."""
    output = runner.output
    if not output.interactive:
        raise InputError("/edit needs a terminal: it runs in the interactive shell only")
    if runner.in_transaction:
        raise InputError("/edit lays out one command: close the transaction block first")
    await runner.schema_load.ensure()
    schema = runner.parser.schema
    try:
        document = document_for(schema, line)
    except InputError as exc:
        raise InputError(str(exc), None if exc.column is None else exc.column + column) from None
    message = await edit_rounds(output, schema, document)
    if message is None:
        return False
    sent = compact(message)
    if runner.meta.on_edited is not None:
        runner.meta.on_edited(sent)
    output.message(message)
    return await runner.run_qmp(sent, where)


async def edit_rounds(
    output: Display,
    schema: Schema | None,
    document: str,
    edit: Callable[[str], Awaitable[str | None]] | None = None,
) -> Message | None:
    """The command the user saved, once it passes the check; None when the user gave
    up (an empty file, the same text saved again after an error), after
    :data:`MAX_ROUNDS` refusals, or when the editor failed, which is said.
    ``edit`` runs the editor (default: the display's)."""
    run = edit if edit is not None else output.edit
    shown, refused, before = document, None, ""
    for _ in range(MAX_ROUNDS):
        saved = await run(shown)
        if saved is None:
            return None
        if is_empty(saved):
            said = "no command written" if is_empty(document) else "the file was emptied"
            output.note(f"{said}: nothing sent")
            return None
        if refused is not None and without_error(saved) == without_error(before):
            # The file reopened saved as it was, or an editor that writes the same text
            # whatever it is given: another round would be the same.
            output.note(f"saved unchanged after an error ({_named(refused, saved)}): nothing sent")
            return None
        try:
            return check_document(schema, without_error(saved))
        except DocumentError as error:
            # Said in the file reopened, on its first line (which shifts the others by one).
            shown, refused, before = reopened(saved, error), error, saved
    assert refused is not None
    output.note(
        f"refused {MAX_ROUNDS} times in a row (last: {_named(refused, before)}): nothing sent"
    )
    return None


def _named(error: DocumentError, saved: str) -> str:
    """The error with its line counted in the file as saved (errors on top included)."""
    shift = saved.count("\n") - without_error(saved).count("\n")
    return f"line {error.line + shift}: {error.message}"
