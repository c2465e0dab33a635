"""The event log keeps a bounded number of events (a fault a production host sees: a
flood). docs/reliability.md lists every fault."""

from __future__ import annotations

from qmpshell.session.events import EventLog


def test_event_log_keeps_a_bounded_number() -> None:
    log = EventLog(lambda event: None, limit=100)
    for n in range(1000):
        log({"event": "STOP", "data": {"n": n}})
    assert log.total == 1000
    kept = log.since(0)
    assert len(kept) == 100
    assert kept[-1][1]["data"]["n"] == 999
