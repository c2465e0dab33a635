"""The event log is bounded by the bytes it holds, not by a count (a fault a production
host sees: a flood, or a few huge events). docs/reliability.md lists every fault."""

from __future__ import annotations

from qmpshell.session.events import LOG_BYTES, EventLog


def test_event_log_keeps_a_bounded_number_of_bytes() -> None:
    log = EventLog(lambda event: None)
    for n in range(200_000):
        log({"event": "STOP", "data": {"n": n}, "timestamp": {"seconds": n, "microseconds": 0}})
    assert log.total == 200_000
    kept = log.since(0)
    assert 10_000 < len(kept) < 200_000
    numbers = [number for number, _ in kept]
    assert numbers == list(range(200_000 - len(kept), 200_000))  # the newest, in order
    assert [event["data"]["n"] for _, event in kept] == numbers
    assert sum(len(str(event)) for _, event in kept) < 2 * LOG_BYTES


def test_huge_events_push_the_older_ones_out() -> None:
    log = EventLog(lambda event: None, max_bytes=1 << 20)
    for n in range(10):
        log({"event": "BIG", "data": {"n": n, "text": "x" * 300_000}})
    assert [event["data"]["n"] for event in log.events()] == [7, 8, 9]
