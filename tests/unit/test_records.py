"""Record: the class a record declares is the one typing.NamedTuple would make of it."""

from __future__ import annotations

import pickle
from typing import NamedTuple

import pytest

from qmpshell.records import Record


class Point(Record):
    """A point, with a label."""

    x: int
    y: int
    label: str = ""
    tags: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.label}({self.x}, {self.y})"

    @classmethod
    def origin(cls) -> Point:
        return cls(0, 0, "O")

    @property
    def norm1(self) -> int:
        return abs(self.x) + abs(self.y)


class TypedPoint(NamedTuple):
    """A point, with a label."""

    x: int
    y: int
    label: str = ""
    tags: tuple[str, ...] = ()


def test_a_record_is_the_named_tuple_typing_makes() -> None:
    point, typed = Point(1, -2), TypedPoint(1, -2)
    assert point == typed == (1, -2, "", ())
    assert hash(point) == hash(typed)
    assert Point._fields == TypedPoint._fields == ("x", "y", "label", "tags")
    assert Point._field_defaults == TypedPoint._field_defaults
    assert repr(point) == "Point(x=1, y=-2, label='', tags=())"
    assert Point.__doc__ == TypedPoint.__doc__
    assert (Point.__module__, Point.__qualname__) == (__name__, "Point")
    assert Point.__bases__ == TypedPoint.__bases__ == (tuple,)
    assert point._replace(label="p") == Point(1, -2, "p")
    assert point._asdict() == {"x": 1, "y": -2, "label": "", "tags": ()}
    assert Point._make([3, 4, "", ()]) == Point(3, 4)
    x, y, label, tags = point
    assert (x, y, label, tags) == (1, -2, "", ())
    assert pickle.loads(pickle.dumps(point)) == point
    with pytest.raises(AttributeError):
        point.x = 5  # type: ignore[misc]


def test_its_methods_are_kept() -> None:
    assert str(Point.origin()) == "O(0, 0)"
    assert Point(3, -4).norm1 == 7


def test_what_typing_refuses_is_refused() -> None:
    with pytest.raises(TypeError):

        class Bad(Record):  # mypy refuses it too
            a: int = 0
            b: int  # type: ignore[misc]

    with pytest.raises(AttributeError):

        class Worse(Record):
            a: int

            def _replace(self) -> None:  # type: ignore[misc]
                pass
