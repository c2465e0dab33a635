"""The tables of HMP failures and successes (tests/hmp_tables.py, run on QEMU by
tests/qemu/test_hmp_failures.py) are large enough to mean something."""

from __future__ import annotations

from hmp_tables import FAILURES, SUCCESSES


def test_tables_are_large_enough() -> None:
    assert len(FAILURES) >= 20 and len(SUCCESSES) >= 20
