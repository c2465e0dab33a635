"""``/watch``: one line run again and again, every so many seconds.

In the interactive shell each run becomes a :class:`~qmpshell.session.watching.Frame`
that the display draws in place of the one before (``Display.watch_frame``), until
Ctrl-C (which cancels this loop) or COUNT runs; an error reply is shown in place like any
other, and the watch goes on. In a script each reply is shown as the script shows
replies (one JSON line; HMP's text), COUNT times: a script must say how many, since a
watch that never ends would keep every line after it from running. Either way the
outcome is False when any run failed, and a lost connection ends the watch at once, while
it waits between runs too.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import ConnectionLost, InputError
from ..language.mode import Mode
from ..language.rawjson import is_raw_json
from ..language.watchline import USAGE, WatchLine
from ..protocol.message import asks_to_quit
from ..protocol.packed import unpacked
from .lines import (
    NO_HMP,
    hmp_message,
    hmp_succeeded,
    qmp_display,
    qmp_message,
    qmp_succeeded,
    show_hmp,
)
from .runner import settled
from .watching import Frame, next_frame

if TYPE_CHECKING:
    from ..protocol.client import QMPClient
    from .runner import LineRunner

Message = dict[str, Any]


async def watch(runner: LineRunner, request: WatchLine, where: str = "") -> bool:
    """Run ``request.line`` every ``request.interval`` seconds, ``request.count`` times
    (in a script it must be given); True when every run succeeded. :class:`InputError`
    for a line that cannot be watched, before anything is sent."""
    output = runner.output
    if request.count is None and not output.interactive:
        raise InputError(
            f"/watch in a script needs -c COUNT, how many runs ({USAGE}); "
            "only the interactive shell watches until Ctrl-C"
        )
    mode = request.mode or runner.mode
    if mode is Mode.HMP and not await runner.hmp_available():
        output.error(NO_HMP)
        return False
    message = await _message(runner, request, mode)
    if mode is Mode.QMP:
        await runner.warn(message, where)  # once, before the first run: made once
    last: Frame | None = None  # the last frame with a reply, to compare the next with
    failed = False
    loop = asyncio.get_running_loop()
    start = loop.time()
    run = 0
    replies: list[Message] = []  # in the interactive shell: the reply of the run
    show = replies.append if output.interactive else _script_display(runner, message, mode, where)
    judge = _judge_hmp if mode is Mode.HMP else _judge_qmp
    while request.count is None or run < request.count:
        run += 1
        replies.clear()
        ok = await settled(runner.send(message, where, show, judge, replayed=False))
        failed = failed or not ok
        if output.interactive:
            frame = _frame(request, run, replies, ok, mode, last, runner.timeout)
            if frame.reply is not None:
                last = frame
            output.watch_frame(frame)
        if request.count is not None and run >= request.count:
            break
        # Runs start every interval from the first (a slow one: the next right after it).
        start = max(start + request.interval, loop.time())
        await _pause(runner.client, start - loop.time())
    return not failed


async def _message(runner: LineRunner, request: WatchLine, mode: Mode) -> Message:
    """The message each run sends, made once: a line that cannot be sent is refused
    before the first run, its column counted from the start of the /watch line."""
    text = request.line.strip()
    if mode is Mode.HMP:
        if text == "cpu" or text.startswith(("cpu ", "cpu\t")):
            raise InputError(
                "/watch cannot run cpu: it chooses a CPU, it shows nothing", request.column
            )
        message = hmp_message(text, runner.cpu_index)
    else:
        if runner.in_transaction:
            raise InputError("a transaction block is open: end it or /cancel it before /watch")
        if not is_raw_json(text):
            await runner.schema_load.ensure()
        try:
            made = qmp_message(runner.parser, request.line, oob_enabled=runner.client.oob_enabled)
        except InputError as exc:
            column = None if exc.column is None else exc.column + request.column
            raise InputError(str(exc), column, exc.incomplete) from None
        if made is None:  # it opened a transaction block: one line runs, not a block
            runner.parser.cancel()
            raise InputError("/watch runs one line, not a transaction block", request.column)
        message = made
    if asks_to_quit(message):
        raise InputError("/watch would quit QEMU at its first run", request.column)
    return message


def _script_display(
    runner: LineRunner, message: Message, mode: Mode, where: str
) -> Callable[[Message], None]:
    """How a script shows each run's reply: as it shows the reply of that line alone."""
    if mode is Mode.QMP:
        return qmp_display(runner.output, message, where)
    text = str(message["arguments"]["command-line"])
    return lambda reply: show_hmp(runner.output, runner.parser.schema, text, reply)


def _frame(
    request: WatchLine,
    run: int,
    replies: list[Message],
    ok: bool,
    mode: Mode,
    last: Frame | None,
    timeout: float | None,
) -> Frame:
    """What a run shows: its reply (an HMP reply: its text), or why there is none."""
    from ..language.hmp import output_text

    common: dict[str, Any] = dict(
        line=request.line, interval=request.interval, count=request.count, run=run, at=time.time()
    )
    if not replies:  # the reply did not come in time (said already, as for any line)
        note = f"no reply within {timeout:g}s" if timeout else "no reply"
        return next_frame(None, **common, reply=None, ok=False, note=note)
    reply = unpacked(replies[0])  # without the id the client added; walked as lists
    returned = reply.get("return")
    if mode is Mode.HMP and isinstance(returned, str):
        shown = output_text(returned).expandtabs()  # the screen takes no tab as it is
        return next_frame(last, **common, reply=reply, text=shown, ok=ok)
    return next_frame(last, **common, reply=reply, ok=ok)


def _judge_qmp(message: Message, reply: Message) -> bool:
    return qmp_succeeded(reply)


def _judge_hmp(message: Message, reply: Message) -> bool:
    return hmp_succeeded(message, reply)


async def _pause(client: QMPClient, seconds: float) -> None:
    """Sleep between runs, but end at once (ConnectionLost) when the connection does."""
    closed = asyncio.ensure_future(client.wait_closed())
    try:
        await asyncio.wait({closed}, timeout=max(seconds, 0.0))
    finally:
        closed.cancel()
    reason = client.disconnect_reason
    if reason is not None:
        raise reason if isinstance(reason, ConnectionLost) else ConnectionLost(str(reason))
