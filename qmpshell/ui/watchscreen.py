"""``/watch`` on the terminal: each run drawn in place of the one before, as watch(1) does.

A small prompt_toolkit application stands where the prompt was while the watch runs: a
header (what runs, how often, which run, when), then the reply, with what changed since
the run before highlighted (:mod:`qmpshell.session.watching` says what). Output keeps
appearing above it (events, errors); Ctrl-C stops the watch. The last run stays on the
screen when the watch ends, and the prompt comes back under it.

Everything from QEMU is escaped here (:mod:`qmpshell.escape`): these fragments go to the
terminal through prompt_toolkit, not through ``Output``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..escape import escape_json, escape_text
from ..session.watching import Frame, Path
from .screen import shorten

if TYPE_CHECKING:
    from prompt_toolkit.formatted_text import StyleAndTextTuples
    from prompt_toolkit.key_binding import KeyPressEvent

    from .output import Output

CHANGED = "class:watch.changed"
_KEY = "class:watch.key"
_KINDS = {
    str: "class:watch.string",
    bool: "class:watch.constant",
    type(None): "class:watch.constant",
}
_NUMBER = "class:watch.number"
_ERROR = "class:watch.error"
_OK = "class:watch.ok"

# The colours of the shell's replies (render.py), as prompt_toolkit styles.
COLOR_STYLE = {
    "watch.header": "bold",
    "watch.key": "ansiblue bold",
    "watch.string": "ansigreen",
    "watch.number": "ansicyan",
    "watch.constant": "ansimagenta",
    "watch.error": "ansired",
    "watch.ok": "ansigreen",
    "watch.changed": "reverse bold",
}
# Without colour (NO_COLOR, --color=never) what changed is still marked.
PLAIN_STYLE = {"watch.header": "bold", "watch.changed": "reverse"}


def header(frame: Frame, width: int, *, running: bool = True, top: int = 0) -> str:
    """``Every 2s: query-status        run 3 · 12:34:56 · Ctrl-C stops`` in ``width``
    columns, the watched line cut in the middle when it does not fit; ``from line N``
    when the reply is scrolled (``top``: the lines above the first shown)."""
    runs = f"run {frame.run}" + (f" of {frame.count}" if frame.count is not None else "")
    if top:
        runs = f"from line {top + 1} · {runs}"
    clock = time.strftime("%H:%M:%S", time.localtime(frame.at))
    right = f"{runs} · {clock}" + (" · Ctrl-C stops" if running else "")
    head = f"Every {frame.interval:g}s: "
    room = max(width - len(head) - len(right) - 2, 10)
    left = head + shorten(escape_text(frame.line), room)
    return left + " " * max(width - len(left) - len(right), 2) + right


def body(frame: Frame) -> StyleAndTextTuples:
    """What a run shows, as the shell shows a reply ("OK", "Error (Class): desc",
    indented JSON; HMP's text), what changed highlighted, escaped."""
    if frame.note is not None:
        return [(_ERROR, escape_text(frame.note))]
    if frame.text is not None:
        shown: StyleAndTextTuples = []
        for number, row in enumerate(frame.lines):
            if number:
                shown.append(("", "\n"))
            shown += [(CHANGED if changed else "", escape_text(piece)) for piece, changed in row]
        return shown
    reply = frame.reply if frame.reply is not None else {}
    error = reply.get("error")
    if reply == {"return": {}}:
        return [(_OK, "OK")]
    if isinstance(error, dict) and "desc" in error:
        head = f"Error ({_as_text(error['class'])}):" if "class" in error else "Error:"
        desc_style = _ERROR + (" " + CHANGED if ("error", "desc") in frame.changed else "")
        return [
            (_ERROR, escape_text(head)),
            ("", " "),
            (desc_style, escape_text(_as_text(error["desc"]))),
        ]
    return json_fragments(reply, frame.changed)


def json_fragments(value: Any, changed: frozenset[Path], indent: int = 2) -> StyleAndTextTuples:
    """``value`` as ``json.dumps(value, indent=indent, ensure_ascii=False)`` writes it
    (escaped as :func:`~qmpshell.escape.escape_json` escapes it), each token with its
    style, the leaves at the paths ``changed`` highlighted. (The shell's replies are
    painted by :mod:`qmpshell.ui.jsonpaint`, as text; here each leaf needs its path.)"""
    out: StyleAndTextTuples = []

    def walk(item: Any, path: Path, level: int) -> None:
        if isinstance(item, (dict, list)) and item:
            inner = "\n" + " " * (indent * (level + 1))
            opening, closing = ("{", "}") if isinstance(item, dict) else ("[", "]")
            out.append(("", opening))
            pairs = item.items() if isinstance(item, dict) else enumerate(item)
            for position, (key, member) in enumerate(pairs):
                out.append(("", ("," if position else "") + inner))
                if isinstance(item, dict):
                    out.append((_KEY, _json(key)))
                    out.append(("", ": "))
                walk(member, (*path, key), level + 1)
            out.append(("", "\n" + " " * (indent * level) + closing))
            return
        style = _KINDS.get(type(item), _NUMBER if isinstance(item, (int, float)) else "")
        if path in changed:
            style = f"{style} {CHANGED}".strip()
        out.append((style, _json(item)))

    walk(value, (), 0)
    return out


def _json(value: Any) -> str:
    return escape_json(json.dumps(value, ensure_ascii=False))


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


async def show_watch(
    task: asyncio.Future[Any], output: Output, interrupt: Callable[[], None]
) -> None:
    """Draw each run ``output`` is given (:meth:`Output.watch_frame`) in place of the one
    before, until ``task`` (the /watch) is done; Ctrl-C calls ``interrupt``. A reply taller
    than the terminal scrolls with Up, Down, PageUp, PageDown and Home; other keys typed
    meanwhile are dropped: the screen is the watch's."""
    from prompt_toolkit.application import Application, get_app
    from prompt_toolkit.filters import Condition
    from prompt_toolkit.formatted_text.utils import split_lines
    from prompt_toolkit.key_binding import KeyBindings
    from prompt_toolkit.keys import Keys
    from prompt_toolkit.layout import (
        ConditionalContainer,
        FormattedTextControl,
        HSplit,
        Layout,
        Window,
    )
    from prompt_toolkit.styles import Style

    bindings = KeyBindings()

    @bindings.add("c-c")
    def _(event: KeyPressEvent) -> None:
        interrupt()

    @bindings.add(Keys.Any)
    def _(event: KeyPressEvent) -> None:
        pass

    top = [0]  # the first line of the reply shown: a tall one scrolls

    def scroll(by: Callable[[int], int]) -> Callable[[KeyPressEvent], None]:
        def move(event: KeyPressEvent) -> None:
            top[0] = max(by(event.app.output.get_size().rows - 2), 0)

        return move

    bindings.add("up")(scroll(lambda page: top[0] - 1))
    bindings.add("down")(scroll(lambda page: top[0] + 1))
    bindings.add("pageup")(scroll(lambda page: top[0] - page))
    bindings.add("pagedown")(scroll(lambda page: top[0] + page))
    bindings.add("home")(scroll(lambda page: 0))

    drawn: list[tuple[Frame, list[StyleAndTextTuples]]] = []  # the frame shown, its lines

    def head() -> StyleAndTextTuples:
        frame = output.watched
        if frame is None:
            return []
        app = get_app()
        width = app.output.get_size().columns
        line = header(frame, width, running=not app.is_done, top=top[0])
        return [("class:watch.header", line)]

    def text() -> StyleAndTextTuples:
        frame = output.watched
        if frame is None:
            return []
        if not drawn or drawn[0][0] is not frame:  # made once per run, drawn more often
            drawn[:] = [(frame, list(split_lines(body(frame))))]
        lines = drawn[0][1]
        top[0] = min(top[0], max(len(lines) - 1, 0))
        shown: StyleAndTextTuples = []
        for number, line in enumerate(lines[top[0] :]):
            shown += [("", "\n"), *line] if number else line
        return shown

    shown = Condition(lambda: output.watched is not None)
    layout = Layout(
        ConditionalContainer(
            HSplit(
                [
                    Window(FormattedTextControl(head), height=1),
                    Window(FormattedTextControl(text), wrap_lines=True),
                ]
            ),
            filter=shown,
        )
    )
    app: Application[None] = Application(
        layout=layout,
        key_bindings=bindings,
        style=Style.from_dict(COLOR_STYLE if output.color else PLAIN_STYLE),
        include_default_pygments_style=False,
    )
    output.watched = None
    output.on_watched = app.invalidate

    def finish(_: object = None) -> None:
        if app.is_running and app.future is not None and not app.future.done():
            app.exit()

    task.add_done_callback(finish)
    try:
        if not task.done():
            await app.run_async(pre_run=lambda: finish() if task.done() else None)
    finally:
        output.on_watched = None
        output.watched = None
