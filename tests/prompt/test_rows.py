"""The rows a text takes on the terminal (ui/rows.py), which the pager's rule goes by:
lines wrapped at the width, colours taking no room, wide characters two columns."""

from __future__ import annotations

import pytest

from qmpshell.ui.rows import displayed_rows

RED, PLAIN = "\x1b[31m", "\x1b[0m"


@pytest.mark.parametrize(
    ("text", "rows"),
    [
        ("", 1),
        ("abc", 1),
        ("a\nb\nc", 3),
        ("x" * 80, 1),  # exactly the width: the terminal waits to wrap
        ("x" * 81, 2),
        ("x" * 800, 10),  # one long line is as tall as it looks
        ("x" * 200_000, 50),  # counted up to enough only
        ("a\n\nb\n", 4),
        (f"{RED}{'x' * 80}{PLAIN}", 1),  # colours take no room
        ("\u4e2d" * 41, 2),  # wide: 82 columns
        ("\t" * 11, 2),  # tabs to the next stop of 8: 88 columns
        ("y" * 100 + "\n" + "z" * 10, 3),
    ],
)
def test_rows_as_the_terminal_wraps_them(text: str, rows: int) -> None:
    assert displayed_rows(text, 80, 50) == rows


def test_a_huge_text_is_measured_only_as_far_as_it_needs() -> None:
    text = ("\u4e2d" * 10_000_000) + "\n" + "short\n" * 1_000_000
    assert displayed_rows(text, 80, 30) == 30
    assert displayed_rows("a\n" * 1_000_000, 80, 24) == 24


def test_a_width_of_nothing_is_one_column() -> None:
    assert displayed_rows("abc", 0, 10) == 3
