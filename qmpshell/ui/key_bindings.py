"""The prompt's key bindings: Enter inside an open JSON object, and pasting several
lines (interactive only; prompt_toolkit is imported when they are made)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..language.syntax import is_incomplete_json, split_entries

if TYPE_CHECKING:
    from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent


def key_bindings(queue: Callable[[list[str], str], None]) -> KeyBindings:
    """Enter inside a raw JSON object whose braces are still open starts a new line.
    A paste of several lines runs each, in order, as a terminal with readline does:
    the first is accepted at once, ``queue(rest, unfinished)`` takes the others."""
    from prompt_toolkit.application.current import get_app
    from prompt_toolkit.filters import Condition
    from prompt_toolkit.key_binding import KeyBindings
    from prompt_toolkit.keys import Keys

    bindings = KeyBindings()

    @Condition
    def json_open() -> bool:
        return is_incomplete_json(get_app().current_buffer.text)

    @bindings.add("enter", filter=json_open)
    def _(event: KeyPressEvent) -> None:
        event.current_buffer.insert_text("\n")

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

    return bindings
