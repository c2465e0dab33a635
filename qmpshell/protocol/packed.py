"""A big array of a reply, kept as its JSON text until it is walked.

A 50 MB ``qom-list`` of a million small objects takes ten times its size once parsed:
each object is a dict and two strings. So the decoder (:mod:`.decoder`) keeps the
elements of a reply's ``return`` array, once they pass 1 MiB, as the UTF-8 text they came
in, a run of about :data:`RUN` bytes of elements at a time, each run checked to be JSON
as it is cut; a :class:`PackedList` stands for the array. Walking it parses one run at a time, and
what writes a message (:func:`~.message.dump_pieces`) writes it a run at a time; so the
array is held about once, as text, rather than as its value.

A PackedList is a read-only sequence, equal to the list it stands for; it is no
``list``, so a walk that must see its items asks :func:`unpacked` for plain lists, and
the JSON encoders take it through :func:`as_list`.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Sequence

TYPE_CHECKING = False  # typing's, without importing typing (docs/architecture.md, start-up)
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

# The bytes of elements the decoder gathers before it cuts them into a run.
RUN = 1 << 18


class PackedList(Sequence):  # type: ignore[type-arg]
    """The elements of an array as runs of JSON text (each ``elem, elem, ...``, UTF-8),
    then the ``tail`` of elements parsed with the rest of the message."""

    __slots__ = ("_cached", "_ends", "_runs", "tail")

    def __init__(self) -> None:
        self._runs: list[bytes] = []
        self._ends: list[int] = []  # elements up to the end of each run
        self.tail: list[Any] = []
        self._cached: tuple[int, list[Any]] = (-1, [])

    def add_run(self, text: bytes, count: int) -> None:
        """Take a run of ``count`` elements, checked JSON (``b"[" + text + b"]"`` is)."""
        self._runs.append(text)
        self._ends.append(self._packed + count)

    @property
    def _packed(self) -> int:
        return self._ends[-1] if self._ends else 0

    @property
    def size(self) -> int:
        """The bytes of JSON text held."""
        return sum(map(len, self._runs))

    def runs(self) -> Iterator[list[Any]]:
        """The elements, a run at a time, each run parsed when it is reached."""
        for index in range(len(self._runs)):
            yield self._run(index)
        if self.tail:
            yield self.tail

    def texts(self) -> Iterator[str]:
        """The JSON text of each run (without brackets), then of the tail's elements."""
        for run in self._runs:
            yield run.decode()
        if self.tail:
            yield json.dumps(self.tail, default=as_list)[1:-1]

    def _run(self, index: int) -> list[Any]:
        cached_index, cached = self._cached
        if cached_index != index:
            cached = json.loads(b"[" + self._runs[index] + b"]")
            self._cached = (index, cached)
        return cached

    def __len__(self) -> int:
        return self._packed + len(self.tail)

    def __iter__(self) -> Iterator[Any]:
        for run in self.runs():
            yield from run

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("PackedList index out of range")
        packed = self._packed
        if index >= packed:
            return self.tail[index - packed]
        run = bisect.bisect_right(self._ends, index)
        start = self._ends[run - 1] if run else 0
        return self._run(run)[index - start]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, (list, PackedList)) or len(other) != len(self):
            return False
        return all(a == b for a, b in zip(self, other))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<PackedList of {len(self)} elements, {self.size} bytes of JSON>"


def as_list(value: Any) -> list[Any]:
    """A JSON encoder's ``default``: a PackedList as the list it stands for."""
    if isinstance(value, PackedList):
        return list(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def plain(value: Any) -> Any:
    """``value`` as a plain list when it is a PackedList (what a library's caller of
    ``execute`` gets: a list, whatever its size); else the very same object."""
    return list(value) if isinstance(value, PackedList) else value


def unpacked(message: Any) -> Any:
    """``message`` with each PackedList member as a plain list (for a walk that must
    see every item as a list: the renderer's); the very same object when it holds none.
    A PackedList itself comes as a list."""
    if isinstance(message, PackedList):
        return list(message)
    if not isinstance(message, dict) or not any(type(v) is PackedList for v in message.values()):
        return message
    return {k: list(v) if type(v) is PackedList else v for k, v in message.items()}
