"""What ``/watch`` shows of each run: the reply, and what changed since the run before.

Pure: no I/O, no asyncio. The loop (:mod:`qmpshell.session.watch`) makes a
:class:`Frame` of each run and hands it to the display, which draws it in place of the
one before (:mod:`qmpshell.ui.watchscreen`), the changes highlighted:

- of a JSON reply, its changed leaves (scalars and empty containers), by path: a value
  that is new or differs from the one at the same path before, its type included (``1``
  is not ``1.0`` nor ``true``); what went away is not there to highlight;
- of HMP text, its changed words, compared line by line, word by word, at the same
  places (a word a line gained counts as changed, as does every word of a line the text
  gained).

The first run has nothing to compare with: nothing is highlighted. A run that got no
reply (timed out) is compared with nothing and with it nothing: the next reply is
compared with the last one that came.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

Message = dict[str, Any]
Path = tuple["str | int", ...]  # keys and list indexes from the top of a reply
Segment = tuple[str, bool]  # a piece of a line of text, and whether it changed

_WORDS = re.compile(r"\S+|\s+")
_MISSING = object()


@dataclass(frozen=True)
class Frame:
    """One run of a ``/watch``, as shown: what runs, which run this is, when it ended,
    what came back and what of it changed."""

    line: str  # the watched line, as typed
    interval: float
    count: int | None  # how many runs in all; None: until stopped
    run: int  # 1 for the first
    at: float  # when the reply came (time.time())
    reply: Message | None = None  # a QMP reply (its own id removed), or an HMP one's
    text: str | None = None  # HMP output, as shown (escaped), when the reply had text
    ok: bool = True  # whether the run succeeded, as a script would count it
    note: str | None = None  # said instead of a reply (none came in time)
    changed: frozenset[Path] = frozenset()  # of a JSON reply
    lines: tuple[tuple[Segment, ...], ...] = field(default=())  # of HMP text


def next_frame(
    before: Frame | None,
    *,
    line: str,
    interval: float,
    count: int | None,
    run: int,
    at: float,
    reply: Message | None,
    text: str | None = None,
    ok: bool = True,
    note: str | None = None,
) -> Frame:
    """The frame of a run, with its changes from ``before`` (the last frame with a reply,
    or None)."""
    changed: frozenset[Path] = frozenset()
    lines: tuple[tuple[Segment, ...], ...] = ()
    if text is not None:
        lines = changed_words(before.text if before is not None else None, text)
    elif reply is not None and before is not None and before.reply is not None:
        changed = changed_leaves(before.reply, reply)
    return Frame(line, interval, count, run, at, reply, text, ok, note, changed, lines)


def changed_leaves(old: Any, new: Any) -> frozenset[Path]:
    """The paths of the leaves of ``new`` (scalars, empty objects and arrays) that differ
    from ``old`` at the same path, or that ``old`` lacks."""
    found: set[Path] = set()
    _compare(old, new, (), found)
    return frozenset(found)


def _compare(old: Any, new: Any, path: Path, found: set[Path]) -> None:
    # Recursion is safe: what QEMU sends is at most MAX_DEPTH deep (the decoder's rule).
    if isinstance(new, dict) and new:
        before = old if isinstance(old, dict) else {}
        for key, value in new.items():
            _compare(before.get(key, _MISSING), value, (*path, key), found)
    elif isinstance(new, list) and new:
        items = old if isinstance(old, list) else []
        for index, value in enumerate(new):
            _compare(items[index] if index < len(items) else _MISSING, value, (*path, index), found)
    elif not _same(old, new):
        found.add(path)


def _same(old: Any, new: Any) -> bool:
    """Equal as JSON: of the same type (Python has ``True == 1 == 1.0``) and value."""
    if type(old) is not type(new):
        return False
    return bool(old == new) or (old != old and new != new)  # NaN is NaN


def leaves(value: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    """Every leaf of a JSON value with its path, in the order JSON text writes them."""
    if isinstance(value, dict) and value:
        for key, member in value.items():
            yield from leaves(member, (*path, key))
    elif isinstance(value, list) and value:
        for index, item in enumerate(value):
            yield from leaves(item, (*path, index))
    else:
        yield path, value


def changed_words(old: str | None, new: str) -> tuple[tuple[Segment, ...], ...]:
    """Each line of ``new`` as its words and the spaces between them, each word marked
    when it differs from the word at the same place of the same line of ``old`` (nothing
    is marked when there is no ``old``)."""
    before = old.split("\n") if old is not None else None
    shown: list[tuple[Segment, ...]] = []
    for number, row in enumerate(new.split("\n")):
        if before is None:
            shown.append(((row, False),) if row else ())
            continue
        old_words = _words(before[number]) if number < len(before) else []
        segments: list[Segment] = []
        index = 0
        for piece in _WORDS.findall(row):
            if piece.isspace():
                segments.append((piece, False))
                continue
            differs = index >= len(old_words) or old_words[index] != piece
            segments.append((piece, differs))
            index += 1
        shown.append(tuple(segments))
    return tuple(shown)


def _words(row: str) -> list[str]:
    return row.split()
