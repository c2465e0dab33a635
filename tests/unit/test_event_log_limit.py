"""The event log keeps a bounded number of events (a fault a production host sees: a
flood). docs/reliability.md lists every fault."""

from __future__ import annotations

from qmpshell.session.events import EventLog

# An OSC sequence that would set the terminal's title, and a C1 CSI (U+009B).


# -- what QEMU sends cannot drive the terminal ------------------------------------------


# -- QEMU killed, the socket removed ------------------------------------------------------


# -- misbehaving peers a real QEMU cannot imitate -----------------------------------------


def test_event_log_keeps_a_bounded_number() -> None:
    log = EventLog(lambda event: None, limit=100)
    for n in range(1000):
        log({"event": "STOP", "data": {"n": n}})
    assert log.total == 1000
    kept = log.since(0)
    assert len(kept) == 100
    assert kept[-1][1]["data"]["n"] == 999


# -- files that cannot be written ---------------------------------------------------------


# -- input near the limits ----------------------------------------------------------------
