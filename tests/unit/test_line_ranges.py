"""Lines left without a reply are reported as ranges (``1-3, 5, 7-8``)."""

from __future__ import annotations

import pytest

from qmpshell.modes.summary import ranges


@pytest.mark.parametrize(
    "numbers, text",
    [([4], "4"), ([1, 2, 3], "1-3"), ([1, 2, 3, 5, 7, 8], "1-3, 5, 7-8")],
)
def test_line_ranges(numbers: list[int], text: str) -> None:
    assert ranges(numbers) == text
