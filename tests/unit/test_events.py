"""The event log, its filter, waiting, and the run state (pure, no QEMU)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from qmpshell.errors import InputError
from qmpshell.session.events import EventFilter, EventLog, data_matches, run_state_after


def event(name: str, **data: Any) -> dict[str, Any]:
    return {"event": name, "data": data, "timestamp": {"seconds": 1, "microseconds": 2}}


@pytest.mark.parametrize(
    ("spec", "shown", "hidden"),
    [
        ("all", ["STOP", "X"], []),
        ("none", [], ["STOP", "X"]),
        ("STOP", ["STOP", "stop"], ["STOPPED", "RESUME"]),
        ("BLOCK_*,SHUTDOWN", ["BLOCK_JOB_READY", "SHUTDOWN"], ["STOP"]),
        ("STOP RESUME", ["STOP", "RESUME"], ["SHUTDOWN"]),
    ],
)
def test_filter(spec: str, shown: list[str], hidden: list[str]) -> None:
    f = EventFilter(spec)
    assert all(f.shows(name) for name in shown)
    assert not any(f.shows(name) for name in hidden)


def test_empty_filter_refused() -> None:
    with pytest.raises(InputError):
        EventFilter("  ")


def test_log_keeps_everything_and_counts_the_hidden() -> None:
    shown: list[str] = []
    log = EventLog(lambda e: shown.append(e["event"]), EventFilter("STOP"))
    for name in ("STOP", "RESUME", "STOP", "RESUME"):
        log(event(name))
    assert shown == ["STOP", "STOP"]
    assert log.unseen == 2 and log.total == 4
    assert [e["event"] for e in log.events()] == ["STOP", "RESUME", "STOP", "RESUME"]
    assert [n for n, _ in log.since(2)] == [2, 3]


def test_log_bound_drops_the_oldest() -> None:
    """Bounded by bytes: the newest events whose texts fit are kept, numbered as ever."""
    size = len(json.dumps(event("E", n=0), separators=(",", ":"))) + 64  # text + entry
    log = EventLog(lambda e: None, max_bytes=3 * size)
    for number in range(5):
        log(event("E", n=number))
    assert [e["data"]["n"] for e in log.events()] == [2, 3, 4]
    assert [n for n, _ in log.since(0)] == [2, 3, 4]
    assert log.total == 5


def test_log_keeps_the_newest_event_whatever_its_size() -> None:
    log = EventLog(lambda e: None, max_bytes=1000)
    log(event("SMALL"))
    log(event("HUGE", text="x" * 5000))
    assert [(n, e["event"]) for n, e in log.since(0)] == [(1, "HUGE")]
    log(event("SMALL"))
    assert [(n, e["event"]) for n, e in log.since(0)] == [(2, "SMALL")]


def test_log_gives_back_the_events_it_was_given() -> None:
    """Kept as text, read back the same: odd characters, huge and non-finite numbers."""
    odd = event("ODD", text="\x00\u202e\ud800é😀", big=1 << 70, inf=float("inf"), f=-0.0)
    log = EventLog(lambda e: None)
    log(odd)
    ((number, kept),) = log.since(0)
    assert number == 0 and kept == odd and json.dumps(kept) == json.dumps(odd)


def test_data_matches() -> None:
    e = event("DEVICE_DELETED", device="nic0", nested={"a": 1})
    assert data_matches(e, {"device": "nic0"})
    assert data_matches(e, {"nested.a": 1}) and data_matches(e, {"nested.a": "1"})
    assert not data_matches(e, {"device": "nic1"})
    assert not data_matches(e, {"missing": 1})


def test_wait_in_the_past_and_the_future() -> None:
    async def body() -> None:
        log = EventLog(lambda e: None)
        log(event("DEVICE_DELETED", device="a"))
        log(event("DEVICE_DELETED", device="b"))
        assert await log.wait("DEVICE_*", 0, {"device": "b"}, 0.1) == (1, log.since(1)[0][1])
        assert await log.wait("DEVICE_DELETED", 2, None, 0.05) is None
        later = asyncio.ensure_future(log.wait("RESUME", 2, None, 5))
        await asyncio.sleep(0)  # one turn of the loop: the wait is registered
        log(event("STOP"))
        log(event("RESUME"))
        assert await later == (3, log.since(3)[0][1])

    asyncio.run(body())


@pytest.mark.parametrize(
    ("state", "name", "after"),
    [
        ("running", "STOP", "paused"),
        ("paused", "RESUME", "running"),
        ("running", "SHUTDOWN", "shutdown"),
        ("running", "BLOCK_JOB_READY", "running"),
        (None, "RESET", None),
        ("running", "SUSPEND", "suspended"),
    ],
)
def test_run_state(state: str | None, name: str, after: str | None) -> None:
    assert run_state_after(state, event(name)) == after
