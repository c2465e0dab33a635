"""The prompt's key bindings: Tab, Enter inside an open JSON object, pasting several
lines, and Ctrl-X Ctrl-E (the line in the editor) (interactive only; prompt_toolkit is
imported when they are made)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..language.syntax import is_incomplete_json, split_entries

if TYPE_CHECKING:
    from prompt_toolkit.buffer import Buffer
    from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent


def key_bindings(
    queue: Callable[[list[str], str], None], edit: Callable[[Buffer], None] | None = None
) -> KeyBindings:
    """Enter inside a raw JSON object whose braces are still open starts a new line.
    A paste of several lines runs each, in order, as a terminal with readline does:
    the first is accepted at once, ``queue(rest, unfinished)`` takes the others.
    Ctrl-X Ctrl-E, as in bash, hands the buffer to ``edit`` (the editor's round)."""
    from prompt_toolkit.application.current import get_app
    from prompt_toolkit.filters import Condition, emacs_insert_mode, vi_insert_mode
    from prompt_toolkit.key_binding import KeyBindings
    from prompt_toolkit.keys import Keys

    bindings = KeyBindings()

    @Condition
    def json_open() -> bool:
        return is_incomplete_json(get_app().current_buffer.text)

    @bindings.add("enter", filter=json_open)
    def _(event: KeyPressEvent) -> None:
        event.current_buffer.insert_text("\n")

    @bindings.add("c-i", filter=emacs_insert_mode | vi_insert_mode)
    def _(event: KeyPressEvent) -> None:
        tab(event.current_buffer)

    @bindings.add(Keys.BracketedPaste)
    def _(event: KeyPressEvent) -> None:
        data = event.data.replace("\r\n", "\n").replace("\r", "\n")
        buffer = event.current_buffer
        document = buffer.document
        entries, rest = split_entries(document.text_before_cursor + data)
        if not entries:
            buffer.insert_text(data)
            return
        queue(entries[1:], rest + document.text_after_cursor)
        buffer.text = entries[0]
        buffer.validate_and_handle()

    if edit is not None:

        @bindings.add("c-x", "c-e", filter=emacs_insert_mode | vi_insert_mode)
        def _(event: KeyPressEvent) -> None:
            edit(event.current_buffer)

    return bindings


def tab(buffer: Buffer) -> None:
    """Tab: the only entry of a menu that is shown, or its next; else what prompt_toolkit's Tab does
    (insert the part all completions share, or the only one), from the completions of
    the text as it is now, once they are known.

    prompt_toolkit's own Tab does nothing when it comes while the menu of
    complete-while-typing is still being made (the schema not there yet, or values
    asked of QEMU), which is when a fast typist's Tab comes: the menu then shows, and
    what it holds is not inserted."""
    from prompt_toolkit.application.current import get_app

    state = buffer.complete_state
    if state is not None and len(state.completions) == 1 and state.complete_index is None:
        buffer.apply_completion(state.completions[0])  # the menu of what follows comes
    elif state is not None and (state.completions or state.complete_index is not None):
        buffer.complete_next()
    elif buffer.completer is not None:
        get_app().create_background_task(_complete(buffer))


async def _complete(buffer: Buffer) -> None:
    from prompt_toolkit.completion import CompleteEvent, get_common_complete_suffix

    document = buffer.document
    completer = buffer.completer
    assert completer is not None
    event = CompleteEvent(completion_requested=True)
    completions = [c async for c in completer.get_completions_async(document, event)]
    if buffer.document != document or not completions:
        return  # typed on, or a later Tab took the menu: that wins
    common = get_common_complete_suffix(document, completions)
    if common:
        buffer.insert_text(common)  # which starts the menu of the rest, as typing does
        if len(completions) > 1 and buffer.complete_state is None:
            buffer.start_completion()
    elif len(completions) == 1:
        buffer.apply_completion(completions[0])
    elif buffer.complete_state is None:
        buffer.start_completion()
