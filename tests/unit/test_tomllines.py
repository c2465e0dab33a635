"""Finding the line a TOML key is defined on (cli/tomllines.py), for the config file's
errors: tables, dotted and quoted keys, and lines inside strings and arrays that only
look like keys."""

from __future__ import annotations

import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qmpshell.cli.tomllines import definition_line, key_parts

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

DOCUMENT = '''\
# settings
color = "always"   # a comment with pager = 1
"pager" = false
note = """
timeout = 3
[fake]
"""
events = [
  "A",
  ["B", "verbose = 1"],
]
'lit' = 'x'
a.b = 1
quote = "a \\" history = 1"
literal = """ends in two quotes"""""
after = 1

[targets.web1]
address = "/run/a.sock"

[targets]
other.address = "x"
'''


@pytest.mark.parametrize(
    ("path", "line"),
    [
        (("color",), 2),
        (("pager",), 3),
        (("note",), 4),
        (("timeout",), None),  # only inside the string
        (("fake",), None),
        (("events",), 8),
        (("verbose",), None),
        (("lit",), 12),
        (("a",), 13),
        (("a", "b"), 13),
        (("quote",), 14),
        (("history",), None),
        (("literal",), 15),
        (("after",), 16),
        (("targets",), 18),
        (("targets", "web1"), 18),
        (("targets", "web1", "address"), 19),
        (("targets", "other"), 22),
        (("address",), None),
    ],
)
def test_the_line_of_each_key(path: tuple[str, ...], line: int | None) -> None:
    assert tomllib.loads(DOCUMENT)  # the scanner reads documents tomllib accepts
    assert definition_line(DOCUMENT, path) == line


def test_key_parts_are_read_as_toml_reads_them() -> None:
    assert key_parts("a . \"b.c\" . 'd e'") == ("a", "b.c", "d e")
    assert key_parts('"q\\"uote"') == ('q"uote',)


# -- the property: in any document of these shapes, each key is found on its own line

_NAMES = st.sampled_from(["color", "pager", "timeout", "events", "history-file", "x_1"])
_DECOY = st.sampled_from(["color = 1", "[pager]", "timeout = 3", "events = [", "# c", ""])


def _quoted(name: str) -> st.SearchStrategy[str]:
    return st.sampled_from([name, f'"{name}"', f"'{name}'"])


@st.composite
def _value(draw: st.DrawFn) -> list[str]:
    """A value's lines: plain, or a multi-line string or array holding decoys."""
    decoys = draw(st.lists(_DECOY, max_size=3))
    shape = draw(st.sampled_from(["int", "str", "ml", "mll", "array", "inline"]))
    if shape == "int":
        return [str(draw(st.integers(-5, 5)))]
    if shape == "str":
        return ['"a = b # [c]"']
    if shape == "ml":
        return ['"""', *[d.replace('"', "") for d in decoys], '"""']
    if shape == "mll":
        return ["'''", *[d.replace("'", "") for d in decoys], "'''"]
    if shape == "array":
        return ["[", *[f'  "{d}",' for d in decoys], "  [1, 2],", "]"]
    return ["{ a = 1, b = [", "  2,", "] }"]


@st.composite
def _document(draw: st.DrawFn) -> tuple[str, dict[str, int]]:
    """A TOML document of unique top-level keys, and the line each is on."""
    names = draw(st.lists(_NAMES, unique=True, min_size=1, max_size=6))
    lines: list[str] = []
    where: dict[str, int] = {}
    for name in names:
        lines.extend(draw(st.lists(st.sampled_from(["", "# note = 1", "  "]), max_size=2)))
        value = draw(_value())
        where[name] = len(lines) + 1
        key = draw(_quoted(name))
        equals = draw(st.sampled_from(["=", " = ", "  =\t"]))
        lines.append(f"{key}{equals}{value[0]}")
        lines.extend(value[1:])
    return "\n".join(lines) + "\n", where


@given(_document())
@settings(deadline=None)
def test_each_key_is_found_on_its_line(case: tuple[str, dict[str, int]]) -> None:
    text, where = case
    assert set(tomllib.loads(text)) == set(where)
    for name, line in where.items():
        assert definition_line(text, (name,)) == line
