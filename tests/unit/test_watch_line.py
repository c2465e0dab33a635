"""/watch, its pure parts: the options, where the watched line starts (for completion),
and what changed from one run to the next."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import FUZZ_EXAMPLES
from hypothesis import given, settings
from hypothesis import strategies as st

from qmpshell.errors import InputError
from qmpshell.language.mode import Mode
from qmpshell.language.suggest import Kind, suggest
from qmpshell.language.watchline import WatchLine, line_start, parse_watch
from qmpshell.session.watching import changed_leaves, changed_words, leaves, next_frame

# -- the options ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/watch query-status", WatchLine("query-status", 7)),
        ("/watch -n 0.5 -c 3 query-name", WatchLine("query-name", 19, 0.5, 3)),
        ("/watch -c 3 -n 0.5 query-name", WatchLine("query-name", 19, 0.5, 3)),
        ("/watch -n0.5 -c10 query-jobs", WatchLine("query-jobs", 18, 0.5, 10)),
        ("/watch -n 1 -- query-jobs", WatchLine("query-jobs", 15, 1.0)),
        (
            '/watch  {"execute":  "query-status"}  ',
            WatchLine('{"execute":  "query-status"}', 8),  # as typed, but its end
        ),
        (
            "/watch qom-get path=/machine property=type",
            WatchLine("qom-get path=/machine property=type", 7),
        ),
        ("/watch /hmp info status", WatchLine("info status", 12, mode=Mode.HMP)),
        ("/watch -n 3 /qmp  query-status", WatchLine("query-status", 18, 3.0, mode=Mode.QMP)),
        ("/watch info  status", WatchLine("info  status", 7)),  # HMP mode's line, as typed
    ],
)
def test_options_and_line(text: str, expected: WatchLine) -> None:
    assert parse_watch(text) == expected


@pytest.mark.parametrize(
    ("text", "message", "column"),
    [
        ("/watch", "/watch needs a line to run: /watch [-n SECONDS] [-c COUNT] LINE", 6),
        ("/watch -n 1", "/watch needs a line to run", 11),
        ("/watch -n 1 -- ", "/watch needs a line to run", 14),
        (
            "/watch -x query-status",
            "/watch: unknown option '-x'; it takes -n SECONDS and -c COUNT",
            7,
        ),
        ("/watch --interval 1 query-status", "unknown option '--interval'", 7),
        (
            "/watch -n abc query-status",
            "/watch -n: expected seconds between runs (at least 0.1), got 'abc'",
            10,
        ),
        ("/watch -n 0 query-status", "got '0'", 10),
        ("/watch -n 0.05 query-status", "got '0.05'", 10),
        ("/watch -n -1 query-status", "got '-1'", 10),
        ("/watch -n inf query-status", "got 'inf'", 10),
        ("/watch -n nan query-status", "got 'nan'", 10),
        (
            "/watch -c 0 query-status",
            "/watch -c: expected a number of runs (1 or more), got '0'",
            10,
        ),
        ("/watch -c 1.5 query-status", "got '1.5'", 10),
        ("/watch -c \uff13 query-status", "got '\uff13'", 10),  # a digit, not ASCII
        ("/watch -n", "/watch: -n needs a number of seconds", 9),
        ("/watch -n 1 -c", "/watch: -c needs a number of runs", 14),
        ("/watch -n 1 -n 2 x", "/watch: -n given twice", 12),
        ("/watch -n0 x", "got '0'", 9),
        (
            "/watch /events list",
            "/watch runs a QMP or HMP line (or /hmp LINE, /qmp LINE), not /events",
            7,
        ),
        ("/watch /watch query-status", "not /watch", 7),
        ("/watch /hmp", "not /hmp", 7),
        ("/watch -c 2 /qmp  ", "not /qmp", 12),
    ],
)
def test_bad_input_is_one_error_with_its_column(text: str, message: str, column: int) -> None:
    with pytest.raises(InputError) as caught:
        parse_watch(text)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
    assert caught.value.column == column


@pytest.mark.parametrize(
    ("text", "start"),
    [
        ("/watch ", 7),
        ("/watch query-st", 7),
        ("/watch -n", None),
        ("/watch -n ", None),
        ("/watch -n 1", None),  # the value is still being typed
        ("/watch -n 1 ", 12),
        ("/watch -n 1 -c 4 query", 17),
        ("/watch -n0.5", None),
        ("/watch -n0.5 ", 13),
        ("/watch -", None),
        ("/watch -x ", None),
        ("/watch -- ", 10),
        ("/watch --", None),
        ("/watch", None),  # still the meta-command's name
        ("/wait ", None),
        ("query-status", None),
    ],
)
def test_where_the_watched_line_starts_while_typing(text: str, start: int | None) -> None:
    assert line_start(text) == start


@pytest.mark.parametrize(
    ("text", "kind", "prefix"),
    [
        ("/watch query-st", Kind.COMMAND, "query-st"),
        ("/watch -n 1 -c 2 qu", Kind.COMMAND, "qu"),
        ("/watch -n 1 ", Kind.COMMAND, ""),
        ("/watch -n ", Kind.NOTHING, ""),
        ("/watch /h", Kind.WORDS, "/h"),
        ("/watch /qmp query-n", Kind.COMMAND, "query-n"),
        ("/watch /hmp info ", Kind.NOTHING, ""),
        ("/watch query-status a", Kind.ARGUMENT, "a"),  # untyped: no schema here
    ],
)
def test_the_watched_line_completes_as_a_line(text: str, kind: Kind, prefix: str) -> None:
    context = suggest(text, None)
    assert (context.kind, context.prefix) == (kind, prefix)


# -- what changed -----------------------------------------------------------------------


def test_changed_leaves_by_path_and_type() -> None:
    before = {"return": {"status": "prelaunch", "running": False, "singlestep": False}}
    after = {"return": {"status": "running", "running": True, "singlestep": False}}
    assert changed_leaves(before, after) == {("return", "status"), ("return", "running")}
    assert changed_leaves({"a": 1}, {"a": 1.0}) == {("a",)}  # 1 == 1.0 in Python, not here
    assert changed_leaves({"a": 1}, {"a": True}) == {("a",)}
    assert changed_leaves({"a": [1, 2]}, {"a": [1, 2, 3]}) == {("a", 2)}  # gained
    assert changed_leaves({"a": [1, 2, 3]}, {"a": [1, 2]}) == set()  # lost: not there to mark
    assert changed_leaves({"a": {}}, {"a": []}) == {("a",)}
    assert changed_leaves({"a": {"b": 1}}, {"a": 1}) == {("a",)}
    assert changed_leaves({"a": 1}, {"a": {"b": 1}}) == {("a", "b")}
    assert changed_leaves({"0": 1}, [1]) == {(0,)}  # a key is not an index


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.floats(allow_nan=False)
    | st.text(max_size=3),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from("abc"), inner, max_size=3)
    ),
    max_leaves=12,
)


def _at(value: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        in_list = isinstance(step, int) and isinstance(value, list) and step < len(value)
        if not in_list and not (
            isinstance(step, str) and isinstance(value, dict) and step in value
        ):
            return KeyError
        value = value[step]
    return value


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(JSON, JSON)
def test_changed_leaves_are_exactly_the_leaves_that_differ(old: Any, new: Any) -> None:
    changed = changed_leaves(old, new)
    assert changed_leaves(new, new) == set()
    for path, value in leaves(new):
        there = _at(old, path)
        same = type(there) is type(value) and there == value
        assert (path in changed) == (not same), (path, value, there)
    assert changed <= {path for path, _ in leaves(new)}


def test_changed_words_line_by_line() -> None:
    old = "VM status: paused (prelaunch)\nBus  0, device   1"
    new = "VM status: running\nBus  0, device   2\nnew line"
    assert changed_words(old, new) == (
        (("VM", False), (" ", False), ("status:", False), (" ", False), ("running", True)),
        (
            ("Bus", False),
            ("  ", False),
            ("0,", False),
            (" ", False),
            ("device", False),
            ("   ", False),
            ("2", True),
        ),
        (("new", True), (" ", False), ("line", True)),
    )
    assert changed_words(None, new)[0] == (("VM status: running", False),)


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(st.one_of(st.none(), st.text("ab \n")), st.text("ab \n"))
def test_changed_words_keep_the_text(old: str | None, new: str) -> None:
    shown = changed_words(old, new)
    assert "\n".join("".join(piece for piece, _ in row) for row in shown) == new
    if old is None or old == new:
        assert not any(changed for row in shown for _, changed in row)
    for row in shown:
        assert not any(changed for piece, changed in row if piece.isspace())


def test_a_frame_compares_with_the_last_reply() -> None:
    common: dict[str, Any] = dict(line="query-status", interval=2.0, count=None, at=0.0)
    first = next_frame(None, **common, run=1, reply={"return": {"status": "paused"}})
    assert first.changed == set()  # nothing to compare with
    second = next_frame(first, **common, run=2, reply={"return": {"status": "running"}})
    assert second.changed == {("return", "status")}
    hmp = next_frame(None, **common, run=1, reply={"return": "x\n"}, text="x")
    again = next_frame(hmp, **common, run=2, reply={"return": "y\n"}, text="y")
    assert again.lines == ((("y", True),),)
