"""Everything qmpshell shows goes through one :class:`Output`.

It knows where messages go (stdout), where complaints go (stderr), and how messages look:
in scripted mode one JSON line each (indented with ``--pretty``); in the interactive shell
coloured and laid out for reading by :mod:`qmpshell.ui.render`, with replies taller than the
screen sent through a pager.

It is also where text from QEMU, a guest or a file is made harmless to a terminal: all it
writes is escaped (:func:`~qmpshell.escape.escape_lines`: tabs and newlines kept, control
and bidi characters written as escapes), but for the colours of what the renderer painted
(:func:`~qmpshell.escape.escape_painted`), whose parts from QEMU the renderer escaped.

In scripted mode the two streams it is given are those of a
:class:`~qmpshell.ui.outqueue.OutputQueue`: what is flushed leaves in order on a thread of
its own, so a late reader of stdout never stops the loop from reading QEMU (up to the
queue's limit, 4 MiB; see :mod:`qmpshell.ui.outqueue`). A long message is written a
piece at a time (:func:`~qmpshell.protocol.message.dump_pieces`), so that its text is
never held whole beside it.
"""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Callable, Iterable

from ..errors import InputError
from ..escape import escape_json, escape_lines, escape_painted, escape_text
from ..protocol.message import PIECE, RawMessage, dump_pieces, dumps
from ..protocol.packed import as_list
from .console import Console

TYPE_CHECKING = False  # typing's, without importing typing (docs/architecture.md, start-up)
if TYPE_CHECKING:
    from typing import Any, TypeVar

    from ..session.watching import Frame
    from .console import TextStream
    from .render import Renderer

    T = TypeVar("T")  # what a program given the terminal returns

_CLEAR_LINE = "\r\x1b[K"  # back to the line's start, and erase it

_COMPACT = json.JSONEncoder(
    separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=as_list
)
_PRETTY = json.JSONEncoder(indent=2, ensure_ascii=False, allow_nan=False, default=as_list)


class Output:
    """Writes messages to the console's stdout and one-line complaints to its stderr (by
    default whatever ``sys.stdout``/``sys.stderr`` are at the time, so that the
    interactive shell's ``patch_stdout`` sees every line)."""

    def __init__(
        self,
        console: Console | None = None,
        *,
        pretty: bool = False,
        verbose: bool = False,
        interactive: bool = False,
        color: bool = False,
        pager: bool = False,
    ) -> None:
        self.console = console if console is not None else Console()
        self.pretty = pretty
        self.verbose = verbose
        self.return_only = False  # -r: scripted replies as their return value only
        self.interactive = interactive
        self.color = color
        self.pager = pager
        self._encoder = _PRETTY if pretty else _COMPACT
        self._renderer: Renderer | None = None
        self._flush_pending = False
        # Set by a driver that flushes before it waits (the one-shot run, which has no
        # event loop to flush at the end of a turn): writes wait for that.
        self.flush_by_caller = False
        # Set by the interactive shell: how wide its prompt is, so that a caret can be
        # drawn under the line the user just typed.
        self.prompt_width: int | None = None
        # Text to page, and what is written meanwhile, held until the pager is done
        # (see settle): None when nothing waits for the pager.
        self._to_page: list[str] = []
        self._held: list[tuple[TextStream, str]] | None = None
        self.paging = False  # the pager has the terminal (and Ctrl-C)
        # /watch's latest run, and who draws it (the watch screen, while it runs).
        self.watched: Frame | None = None
        self.on_watched: Callable[[], None] | None = None
        self._progress = False  # a progress line is on stderr, to be cleared before text

    @property
    def stream(self) -> TextStream:
        return self.console.stdout

    @property
    def errors(self) -> TextStream:
        return self.console.stderr

    def set_pretty(self, pretty: bool) -> None:
        self.pretty = pretty
        self._encoder = _PRETTY if pretty else _COMPACT
        self._renderer = None

    @property
    def renderer(self) -> Renderer:
        if self._renderer is None:
            from .render import Renderer

            self._renderer = Renderer(
                color=self.color, verbose=self.verbose, pretty_indent=2 if self.pretty else None
            )
        self._renderer.verbose = self.verbose
        return self._renderer

    def format(self, message: Any) -> str:
        """The text of one message as scripted mode lays it out (DEL and C1 controls
        escaped, as JSON allows: JSON escapes only C0 itself); valid JSON always (a
        peer's 1e999 is written as "Infinity"); a raw line as it was sent."""
        if isinstance(message, RawMessage):
            return escape_json(message.wire)
        return escape_json(dumps(message, self._encoder.encode))

    def message(self, message: Any) -> None:
        """Show one QMP message as JSON (a command echoed by ``-v``, scripted output)."""
        if isinstance(message, RawMessage):
            self._write_pieces((message.wire,), escape_json)
        else:
            self._write_pieces(dump_pieces(message, self._encoder), escape_json)

    def reply(self, reply: Any) -> None:
        """Show the reply to a command."""
        if not self.interactive:
            self.message(reply)
            return
        self._show_long(self.renderer.reply(reply), painted=True)

    def return_value(self, reply: Any, what: str) -> None:
        """``-r``: only the ``return`` value of a reply on stdout (``| jq .status``); an
        error reply as one line on stderr, saying ``what`` failed."""
        if isinstance(reply, dict) and "return" in reply:
            self.message(reply["return"])
            return
        error = reply.get("error") if isinstance(reply, dict) else None
        if isinstance(error, dict):
            said = f"{error.get('class', 'GenericError')}: {error.get('desc', '')}"
        else:
            said = f"not a reply: {self.format(reply)}"
        self.error(f"{what}: {said}")

    def exec_status(self, reply: Any) -> None:
        """Show a guest agent's ``guest-exec-status`` reply; on a terminal, the program's
        output decoded beneath it (scripted output stays one JSON line per message)."""
        self.reply(reply)
        if self.interactive and isinstance(reply, dict):
            from ..protocol.agent import exec_output

            text = exec_output(reply)
            if text:
                self.long_text(text)

    def hmp(self, text: str) -> None:
        """Show what an HMP command printed, as QEMU wrote it (nothing if it was silent)."""
        from ..language.hmp import output_text

        shown = output_text(text)
        if shown:
            self.long_text(shown)

    def event(self, event: Any, target: str | None = None) -> None:
        """Show one event the moment it arrives; ``target`` names the connection it came
        from, in a session of several (``/connect``)."""
        if self.interactive:
            tag = f"[{escape_text(target)}] " if target else ""
            self._write(tag + self.renderer.event(event), painted=True)
        else:
            self.message(event)

    def heading(self, text: str) -> None:
        """A line above the output that follows: ``/all``'s name of each target."""
        shown = f"[{escape_text(text)}]"
        self._write(f"\x1b[1m{shown}\x1b[0m" if self.color else shown, painted=True)

    def matched(self, event: Any) -> None:
        """Show the event that ended a ``/wait`` (interactive)."""
        self._write("matched: " + self.renderer.event(event), painted=True)

    def watch_frame(self, frame: Frame) -> None:
        """A run of ``/watch``: kept for the watch screen (:mod:`qmpshell.ui.watchscreen`),
        which draws it in place of the one before (and escapes it)."""
        self.watched = frame
        if self.on_watched is not None:
            self.on_watched()

    @property
    def width(self) -> int:
        """Columns to lay text out in: the terminal's, or 80 off a terminal."""
        return self.console.width

    @property
    def progress_width(self) -> int:
        """Columns a :meth:`progress` line has: stderr's terminal's."""
        return self.console.stderr_width

    def long_text(self, text: str) -> None:
        """Show text that may be taller than the screen (help), paged when interactive."""
        if self.interactive:
            self._show_long(text)
        else:
            self.text(text)

    def text(self, text: str) -> None:
        """Show plain text, such as a banner (escaped: see the module's docstring)."""
        self._write(text)

    def _write(self, text: str, *, painted: bool = False) -> None:
        if painted:  # its colours must stay whole: escaped in one piece
            self._put(self.stream, escape_painted(text) + "\n")
            self._flush_soon()
        else:
            self._write_pieces((text,), escape_lines)

    def _write_pieces(
        self, pieces: Iterable[str], escape: Callable[[str], str], *, newline: bool = True
    ) -> None:
        """Write ``pieces`` of text and a newline, escaped by ``escape`` (which escapes
        character by character): a long text a slice at a time, so that a reply of 50 MB
        is never copied whole on its way to the stream (which hands big writes on at
        once)."""
        stream = self.stream
        for piece in pieces:
            if len(piece) <= PIECE:
                self._put(stream, escape(piece))
            else:
                for start in range(0, len(piece), PIECE):
                    self._put(stream, escape(piece[start : start + PIECE]))
        if newline:
            self._put(stream, "\n")
        self._flush_soon()

    def _put(self, stream: TextStream, text: str) -> None:
        """Every write: held while text waits for the pager (shown after it, in order);
        after a progress line, which it takes away first."""
        if self._progress:
            self._progress = False
            self._put(self.errors, _CLEAR_LINE)
        if self._held is not None:
            self._held.append((stream, text))
        else:
            stream.write(text)

    def _flush_soon(self) -> None:
        """Flush at the end of this turn of the event loop: what arrives together (a
        burst of replies and events) is written together, still within microseconds."""
        if self._flush_pending or self.flush_by_caller:
            return
        # No event loop runs without asyncio imported (a one-shot script never imports it).
        asyncio = sys.modules.get("asyncio")
        try:
            if asyncio is None:
                raise RuntimeError("no event loop")
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.stream.flush()
            return
        self._flush_pending = True
        loop.call_soon(self.flush)

    def flush(self) -> None:
        self._flush_pending = False
        self.stream.flush()

    def progress(self, text: str | None) -> None:
        """A line of progress on stderr, redrawn in place, when stderr is a terminal and
        this is a script (the interactive shell has its status line); None clears it.
        Whatever is written next takes it away first."""
        if self.interactive or not self.console.stderr_is_terminal:
            return
        if text is None:
            if self._progress:
                self._progress = False
                self._put(self.errors, _CLEAR_LINE)
                self.errors.flush()
            return
        self.stream.flush()
        self._put(
            self.errors, "\r" + escape_text(text)[: max(self.progress_width - 1, 1)] + "\x1b[K"
        )
        self._progress = True
        self.errors.flush()

    def note(self, text: str) -> None:
        """Say something about the session (not a message) on stderr."""
        self.error(text)

    def input_error(self, line: str, error: InputError, where: str = "") -> None:
        """Report a line that cannot be sent: where (line, column) and what is wrong, and
        on a terminal a caret under the place."""
        place = [where] if where else []
        column = error.column
        if column is not None:
            row, at = row_and_column(line.rstrip("\n"), column)
            if row:
                place.append(f"its line {row + 1}")
            place.append(f"column {at + 1}")
            if self.console.stderr_is_terminal:
                self.stream.flush()
                for text in caret_lines(line, column, self.prompt_width, self.width):
                    self._put(self.errors, escape_lines(text) + "\n")
        self.error(f"{', '.join(place)}: {error}" if place else str(error))

    def piped(self, text: str) -> None:
        """What a pipe's command (``LINE |! COMMAND``) wrote to stdout, as it comes: its
        text derives from QEMU's data, so it is escaped; written as it is, newlines and
        all (a line may come in parts)."""
        self._write_pieces((text,), escape_lines, newline=False)

    def relay(self, text: str, *, raw: bool = False) -> None:
        """Pass on what another program (a launched QEMU, its guest's console) wrote for
        the user, a line or the start of one: escaped, or unchanged when ``raw``
        (``--raw-console``)."""
        self.stream.flush()
        self._put(self.errors, text if raw else escape_lines(text))
        self.errors.flush()

    def error(self, text: str) -> None:
        """Report a problem on stderr, on one line."""
        self.stream.flush()
        self._put(self.errors, self.console.complaint(text))
        self.errors.flush()

    # -- the pager ----------------------------------------------------------------------

    def _show_long(self, text: str, *, painted: bool = False) -> None:
        """Text taller than the screen waits for the pager (:meth:`settle`), and so does
        everything written after it; the rest is written at once."""
        if self._held is None and not (self.pager and self.console.stdout_is_terminal):
            self._write(text, painted=painted)
            return
        safe = _safe(text, painted)  # measured as it is shown: escapes take room too
        if self._held is None and not self._tall(safe):
            self._write(safe, painted=painted)  # escaping twice is escaping once
            return
        self.stream.flush()
        if self._held is None:
            self._held = []
        self._to_page.append(safe)

    def _tall(self, text: str) -> bool:
        """Whether ``text`` leaves no room for the prompt under it once shown: its rows
        as the terminal wraps them, not its lines (one line of 200 KB is a tall text)."""
        from .rows import displayed_rows

        height = self.console.height
        return displayed_rows(text, self.console.width, height) + 1 >= height

    async def settle(self) -> None:
        """Until what was shown is on the screen: text waiting for the pager is paged
        (on a thread, so that the loop goes on reading QEMU), then what was held meanwhile
        is written. The line runner awaits it at the end of every line."""
        try:
            while self._to_page:
                text = self._to_page.pop(0)
                if not await self._page(text):
                    self.stream.write(text + "\n")  # no pager: shown as it is
        finally:  # cancelled too (the session ends): nothing stays held
            self._to_page.clear()
            held, self._held = self._held, None
            for stream, text in held or ():
                stream.write(text)
            self.flush()
            self.errors.flush()

    async def _page(self, text: str) -> bool:
        """Run the pager (``$PAGER``, default ``less``) on ``text``; False if it cannot
        start (Ctrl-C is the pager's: :meth:`_child_has_terminal`)."""
        import subprocess

        command, env = self.console.pager()
        data = text.encode("utf-8", "replace") + b"\n"

        def run() -> bool:
            try:
                subprocess.run(
                    command, input=data, env=env, check=False, preexec_fn=_unblock_sigint
                )
            except OSError:
                return False
            return True

        return await self._child_has_terminal(run)

    async def edit(self, text: str) -> str | None:
        """Run the user's editor on ``text`` (:mod:`qmpshell.ui.editor`) and return what
        was saved; None when it could not run or failed (said). What would be written
        meanwhile (events) is held until the editor is done."""
        from .editor import EditorError, edit_text
        from .typeahead import cooked

        def run() -> str:
            with cooked(self.console.stdin):
                return edit_text(text, self.console.environ, _unblock_sigint)

        holding = self._held is None
        if holding:
            self.stream.flush()
            self._held = []
        try:
            return await self._child_has_terminal(run)
        except EditorError as exc:
            failure: str | None = str(exc)
        finally:
            if holding:
                held, self._held = self._held, None
                for stream, written in held or ():
                    stream.write(written)
                self.flush()
                self.errors.flush()
        self.error(failure or "the editor failed")
        return None

    async def _child_has_terminal(self, run: Callable[[], T]) -> T:
        """``run`` on a thread, while a program it starts (the pager, the editor) has
        the terminal. Ctrl-C belongs to that program, and must not cancel anything in
        the shell once it is gone: SIGINT is blocked in the loop's thread and the
        worker's while it runs (the program's process unblocks it: ``_unblock_sigint``
        as its ``preexec_fn``), and the Ctrl-Cs it acted on are dropped afterwards."""
        import asyncio

        def blocked() -> T:
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
            return run()

        previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        self.paging = True  # a Ctrl-C another thread takes is the program's too
        try:
            return await asyncio.to_thread(blocked)
        finally:
            self.paging = False
            while signal.sigtimedwait({signal.SIGINT}, 0) is not None:
                pass  # drop the Ctrl-Cs the program already acted on
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _safe(text: str, painted: bool) -> str:
    """``text`` as it may reach a terminal: escaped, colours kept if qmpshell painted it."""
    return escape_painted(text) if painted else escape_lines(text)


def _unblock_sigint() -> None:
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def row_and_column(text: str, offset: int) -> tuple[int, int]:
    """The line (0-based) of ``text`` that character ``offset`` is on, and its column."""
    offset = max(offset, 0)  # past the end: a message that ended too soon
    row = text.count("\n", 0, offset)
    return row, offset - (text.rfind("\n", 0, offset) + 1)


def caret_lines(line: str, offset: int, prompt_width: int | None, width: int) -> list[str]:
    """The lines that point a caret at character ``offset`` of ``line``.

    Right under the line just typed when it took one row after a prompt of
    ``prompt_width``; otherwise (a line that wrapped, a message over several lines, a
    script) the line the fault is on is shown again, cut to the ``width`` around the
    fault, with the caret beneath it."""
    text = line.rstrip("\n")
    row, column = row_and_column(text, offset)
    if prompt_width is not None and "\n" not in text and prompt_width + len(text) < width:
        return [" " * (prompt_width + column) + "^"]
    shown = text.split("\n")[row].expandtabs(1)
    room = max(width - 4, 10)  # two columns of indent, and an ellipsis at each end
    start = 0
    if len(shown) > room:
        start = min(max(column - room // 2, 0), len(shown) - room)
        head = "…" if start > 0 else ""
        tail = "…" if start + room < len(shown) else ""
        shown = head + shown[start : start + room] + tail
        start -= len(head)
    return [f"  {shown}", f"  {' ' * (column - start)}^"]
