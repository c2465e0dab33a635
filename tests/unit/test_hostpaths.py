"""Which values are host paths (file-name completion), by the table in hostpaths.py; and
how live names are put in order. (Checked against the schema of the real QEMU:
tests/qemu/test_hostpaths_schema.py.)"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import FUZZ_EXAMPLES
from hypothesis import given, settings
from hypothesis import strategies as st

from qmpshell.language import suggest as s
from qmpshell.language.hmp import argument_kind
from qmpshell.language.hostpaths import HostPath, hmp_option_host_path, host_path
from qmpshell.language.schema import Schema
from qmpshell.session.live import MAX_NAMES, natural_key, tidy


def at(schema: Schema | None, line: str) -> HostPath | None:
    """The host-path entry for the value being typed at the end of ``line``."""
    context = s.suggest(line, schema)
    assert context.kind == s.Kind.VALUE and context.command is not None, line
    return host_path(context.command, context.path, context.tree, schema)


def test_a_prefixed_host_path() -> None:
    entry = at(None, "dump-guest-memory paging=false protocol=")
    assert entry is not None and entry.prefix == "file:"


@pytest.mark.parametrize(
    ("command", "position", "name", "kind"),
    [
        ("memsave", 2, "file", "file"),
        ("screendump", 0, "filename", "file"),
        ("dump-guest-memory", 0, "filename", "file"),
        ("drive_mirror", 1, "target", "file"),
        ("balloon", 0, "target", ""),  # megabytes, not a file
        ("migrate", 0, "uri", ""),
        ("qom-list", 0, "path", "qom-path"),
        ("qom-get", 1, "property", "qom-properties"),
        ("wavcapture", 0, "path", "file"),
    ],
)
def test_hmp_argument_kinds(command: str, position: int, name: str, kind: str) -> None:
    assert argument_kind(command, None, position, name) == kind


def test_hmp_options() -> None:
    assert hmp_option_host_path("drive_add", "file")
    assert not hmp_option_host_path("device_add", "file")
    assert not hmp_option_host_path("drive_add", "if")


# -- the order of live names ----------------------------------------------------------


def test_natural_order() -> None:
    names = ["device[10]", "device[2]", "Device[1]", "pcie.0", "ide.10", "ide.9", "a"]
    assert [n for n, _ in tidy([(n, "") for n in names])] == [
        "a", "Device[1]", "device[2]", "device[10]", "ide.9", "ide.10", "pcie.0",
    ]  # fmt: skip


def test_tidy_drops_repeats_and_non_text() -> None:
    hostile: list[Any] = [("x", "first"), ("x", "second"), (7, "n"), (None, ""), ("", "e")]
    assert tidy(hostile) == [("x", "first")]
    many = [(f"n{i}", "") for i in range(MAX_NAMES * 3)]
    assert len(tidy(many)) == MAX_NAMES
    huge = "9" * 50_000  # no int() of it (Python refuses more than 4300 digits)
    assert tidy([(huge, ""), ("1", "")])[0][0] == "1"


@given(st.lists(st.tuples(st.text(max_size=12), st.text(max_size=4)), max_size=40))
@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
def test_tidy_any_names(names: list[tuple[str, str]]) -> None:
    found = tidy(names)
    texts = [n for n, _ in found]
    assert len(texts) == len(set(texts)) == len({n for n, _ in names if n})
    assert texts == sorted(texts, key=natural_key)


@given(st.integers(0, 10**6), st.integers(0, 10**6), st.sampled_from(["dev", "", "x.", "[]"]))
@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
def test_numbers_in_names_sort_as_numbers(a: int, b: int, stem: str) -> None:
    assert (natural_key(f"{stem}{a}") < natural_key(f"{stem}{b}")) == (a < b)
