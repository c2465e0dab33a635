"""``/watch [-n SECONDS] [-c COUNT] LINE``: its options, and where the watched line starts.

Pure. The meta-command reads a whole line with :func:`parse_watch`; completion asks
:func:`line_start` where the LINE begins in what is typed so far, so that it is completed
as a line of its own (``/watch -n 1 query-st`` as ``query-st``).

The options come first, each as a word of its own with its value after it (``-n 0.5``)
or attached (``-n0.5``, as watch(1) takes it); ``--`` ends them. The first other word
starts the LINE, which is kept as typed (a raw JSON line keeps its spaces). A LINE may be
``/hmp LINE`` or ``/qmp LINE``, a line for the other monitor; no other meta-command.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ..errors import InputError
from .mode import Mode

DEFAULT_INTERVAL = 2.0
MIN_INTERVAL = 0.1  # watch(1)'s smallest too: QEMU answers a query well within it
USAGE = "/watch [-n SECONDS] [-c COUNT] LINE"

_WATCH = re.compile(r"\s*/watch(?:\s|\Z)")
_WATCH_AND_MORE = re.compile(r"\s*/watch\s")
_WORD = re.compile(r"\S+")
_OTHER_MONITOR = {"/hmp": Mode.HMP, "/qmp": Mode.QMP}


@dataclass(frozen=True)
class WatchLine:
    """What a ``/watch`` line asks for."""

    line: str  # the line to run, as typed
    column: int  # where it starts in the /watch line (for errors in it)
    interval: float = DEFAULT_INTERVAL  # seconds from one run's start to the next's
    count: int | None = None  # how many runs; None: until stopped
    mode: Mode | None = None  # the monitor named by /hmp or /qmp; None: the session's


def is_watch(text: str) -> bool:
    """Whether ``text`` is a ``/watch`` line typed past the meta-command's name."""
    return _WATCH_AND_MORE.match(text) is not None


def parse_watch(text: str) -> WatchLine:
    """Read a ``/watch`` line; :class:`InputError` with the column at fault for an
    unknown option, a bad number, a missing LINE or a meta-command as the LINE."""
    options, start = _scan(text, strict=True)
    values: dict[str, float | int] = {}
    for flag, value, flag_column, column in options:
        if flag in values:
            raise InputError(f"/watch: {flag} given twice", flag_column)
        values[flag] = _interval(value, column) if flag == "-n" else _count(value, column)
    if start is None or start >= len(text.rstrip()):
        raise InputError(f"/watch needs a line to run: {USAGE}", len(text.rstrip()))
    mode = None
    head = _WORD.match(text, start)
    assert head is not None
    if head.group().startswith("/"):
        mode = _OTHER_MONITOR.get(head.group())
        following = _WORD.search(text, head.end())
        if mode is None or following is None:
            raise InputError(
                f"/watch runs a QMP or HMP line (or /hmp LINE, /qmp LINE), not {head.group()}",
                start,
            )
        start = following.start()
    line = text[start:].rstrip()
    interval = float(values.get("-n", DEFAULT_INTERVAL))
    count = values.get("-c")
    return WatchLine(line, start, interval, None if count is None else int(count), mode)


def line_start(text: str) -> int | None:
    """Where the watched LINE starts in ``text``, a ``/watch`` line typed up to the
    cursor; None while an option or its value is still being typed, and for text that is
    no ``/watch`` line."""
    if not is_watch(text):
        return None
    _, start = _scan(text, strict=False)
    return start


def _scan(text: str, *, strict: bool) -> tuple[list[tuple[str, str, int, int]], int | None]:
    """The options of a /watch line (flag, value, and the columns of both) and where its LINE
    starts (None: not reached yet). ``strict``: an unknown option or a flag without its
    value is an error; otherwise (completion) scanning just stops there."""
    match = _WATCH.match(text)
    assert match is not None, "not a /watch line"
    words = list(_WORD.finditer(text, match.end()))
    options: list[tuple[str, str, int, int]] = []
    index = 0
    while index < len(words):
        word = words[index]
        flag = word.group()
        if flag == "--":
            following = words[index + 1] if index + 1 < len(words) else None
            return options, following.start() if following else _after(text, word, strict)
        if not flag.startswith("-"):
            return options, word.start()
        name = flag[:2]
        if name not in ("-n", "-c"):
            if strict:
                raise InputError(
                    f"/watch: unknown option '{flag}'; it takes -n SECONDS and -c COUNT",
                    word.start(),
                )
            return options, None
        if len(flag) > 2:
            options.append((name, flag[2:], word.start(), word.start() + 2))
            index += 1
            continue
        if index + 1 >= len(words) or (not strict and words[index + 1].end() == len(text)):
            if strict:
                what = "a number of seconds" if name == "-n" else "a number of runs"
                raise InputError(f"/watch: {name} needs {what}", len(text.rstrip()))
            return options, None
        value = words[index + 1]
        options.append((name, value.group(), word.start(), value.start()))
        index += 2
    if strict:
        return options, None
    # Everything typed is options: the LINE starts after them, once a space follows.
    return options, (len(text) if text[-1:].isspace() else None)


def _after(text: str, word: re.Match[str], strict: bool) -> int | None:
    """Where the LINE starts after a ``--`` that is the last word typed."""
    if strict:
        return None
    return len(text) if word.end() < len(text) else None


def _interval(text: str, column: int) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not MIN_INTERVAL <= value < math.inf:
        raise InputError(
            f"/watch -n: expected seconds between runs (at least {MIN_INTERVAL:g}), got '{text}'",
            column,
        )
    return value


def _count(text: str, column: int) -> int:
    if not text.isdigit() or not text.isascii() or int(text) < 1:
        raise InputError(f"/watch -c: expected a number of runs (1 or more), got '{text}'", column)
    return int(text)
