"""While a line waits long in the interactive shell (``/wait``): a status line where the
toolbar was, saying what is awaited and how long is left, Ctrl-C to stop, and whatever
the user types meanwhile kept for the prompt that follows (interactive only).

The prompt is not shown while a line runs, so its toolbar is not either; this small
prompt_toolkit application stands in for it, and output keeps appearing above it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..escape import escape_text

if TYPE_CHECKING:
    from prompt_toolkit.key_binding import KeyPressEvent
    from prompt_toolkit.styles import BaseStyle

REFRESH_SECONDS = 0.5


async def show_while(
    task: asyncio.Future[Any],
    describe: Callable[[], str],
    interrupt: Callable[[], None],
    style: BaseStyle | None = None,
) -> str:
    """Show ``describe()`` on one line, redrawn twice a second, until ``task`` is done;
    Ctrl-C calls ``interrupt``. Returns what was typed meanwhile ("\\n" for Enter)."""
    from prompt_toolkit.application import Application
    from prompt_toolkit.key_binding import KeyBindings
    from prompt_toolkit.keys import Keys
    from prompt_toolkit.layout import FormattedTextControl, Layout, Window

    typed: list[str] = []
    bindings = KeyBindings()

    @bindings.add("c-c")
    def _(event: KeyPressEvent) -> None:
        interrupt()

    @bindings.add("enter")
    def _(event: KeyPressEvent) -> None:
        typed.append("\n")

    @bindings.add(Keys.BracketedPaste)
    def _(event: KeyPressEvent) -> None:
        typed.append(event.data.replace("\r\n", "\n").replace("\r", "\n"))

    @bindings.add(Keys.Any)
    def _(event: KeyPressEvent) -> None:
        if event.data.isprintable():
            typed.append(event.data)

    @bindings.add("backspace")
    def _(event: KeyPressEvent) -> None:
        if typed and typed[-1] != "\n":
            typed.pop()

    control = FormattedTextControl(
        lambda: [("class:bottom-toolbar", f" {escape_text(describe())} ")]
    )
    app: Application[None] = Application(
        layout=Layout(Window(control, height=1, style="class:bottom-toolbar")),
        key_bindings=bindings,
        style=style,
        refresh_interval=REFRESH_SECONDS,
        erase_when_done=True,
    )

    def finish(_: object = None) -> None:
        if app.is_running and app.future is not None and not app.future.done():
            app.exit()

    task.add_done_callback(finish)
    if not task.done():
        await app.run_async(pre_run=lambda: finish() if task.done() else None)
    return "".join(typed)
