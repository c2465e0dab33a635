"""The job table's pure parts: state from events and replies, rate, time left, how a job
ended, and the words and bars that show it (replies and events as QEMU sends them)."""

from __future__ import annotations

from typing import Any

import pytest

from qmpshell.session.jobs import KEEP_ENDED, MIGRATION, JobTable
from qmpshell.session.jobtext import duration, progress_line, size, table


def status(ident: str, state: str) -> dict[str, Any]:
    return {"event": "JOB_STATUS_CHANGE", "data": {"id": ident, "status": state}}


def info(ident: str, state: str, current: int, total: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": ident,
        "type": "backup",
        "status": state,
        "current-progress": current,
        "total-progress": total,
        **extra,
    }


MiB = 1 << 20


def test_a_backup_from_created_to_dismissed() -> None:
    jobs = JobTable()
    assert jobs.event(status("b0", "created"), 0.0) == []
    jobs.event(status("b0", "running"), 0.0)
    assert jobs.jobs_running and not jobs.migration_running
    jobs.jobs_reply([info("b0", "running", 0, 256 * MiB)], 0.0)
    jobs.jobs_reply([info("b0", "running", 64 * MiB, 256 * MiB)], 1.0)
    job = jobs.get("b0")
    assert job is not None
    assert job.type == "backup" and job.state == "running"
    assert job.percent == 25.0
    assert job.rate == 64 * MiB
    assert job.time_left == pytest.approx(3.0)
    # BLOCK_JOB_COMPLETED, then the job's last states; auto-dismiss ends it at null.
    completed = {
        "event": "BLOCK_JOB_COMPLETED",
        "data": {
            "device": "b0",
            "type": "backup",
            "len": 256 * MiB,
            "offset": 256 * MiB,
            "speed": 0,
        },
    }
    assert jobs.event(completed, 4.0) == []
    assert jobs.event(status("b0", "concluded"), 4.0) == []  # its poll may find the error
    ended = jobs.event(status("b0", "null"), 4.0)
    assert ended == [job] and job.outcome == "concluded" and job.succeeded
    assert job.ending() == "job b0 (backup) concluded"
    assert not jobs.jobs_running and jobs.running() == []
    assert job.percent == 100.0 and job.time_left is None


def test_a_failed_job_says_its_error() -> None:
    jobs = JobTable()
    jobs.event(status("m0", "running"), 0.0)
    failed = {
        "event": "BLOCK_JOB_COMPLETED",
        "data": {
            "device": "m0",
            "type": "mirror",
            "len": 100,
            "offset": 10,
            "speed": 0,
            "error": "Input/output error",
        },
    }
    jobs.event(failed, 1.0)
    jobs.event(status("m0", "aborting"), 1.0)
    jobs.event(status("m0", "concluded"), 1.0)
    (job,) = jobs.event(status("m0", "null"), 1.0)
    assert job.outcome == "failed" and not job.succeeded
    assert job.ending() == "job m0 (mirror) failed: Input/output error"


def test_a_concluded_job_not_dismissed_ends_at_the_poll_with_query_jobs_error() -> None:
    jobs = JobTable()
    jobs.event(status("c0", "created"), 0.0)
    jobs.event(status("c0", "concluded"), 1.0)
    assert jobs.jobs_running  # not yet: the poll tells how it ended
    reply = [info("c0", "concluded", 5, 10, error="Device is too small")]
    (job,) = jobs.jobs_reply(reply, 1.1)
    assert job.outcome == "failed" and job.error == "Device is too small"
    assert jobs.jobs_reply(reply, 1.6) == []  # ends once, however often it is listed


def test_cancelled_is_not_failed() -> None:
    jobs = JobTable()
    jobs.event(status("b1", "running"), 0.0)
    cancelled = {
        "event": "BLOCK_JOB_CANCELLED",
        "data": {"device": "b1", "type": "backup", "len": 100, "offset": 40, "speed": 0},
    }
    jobs.event(cancelled, 1.0)
    jobs.event(status("b1", "aborting"), 1.0)
    (job,) = jobs.jobs_reply([info("b1", "concluded", 40, 100, error="Operation canceled")], 1.0)
    assert job.outcome == "cancelled" and job.ending() == "job b1 (backup) cancelled"


def test_a_job_no_longer_listed_was_dismissed() -> None:
    jobs = JobTable()
    jobs.jobs_reply([info("s0", "running", 1, 10)], 0.0)
    (job,) = jobs.jobs_reply([], 0.5)
    assert job.outcome == "concluded" and job.state == "null"


def test_an_id_used_again_is_a_new_job() -> None:
    jobs = JobTable()
    jobs.event(status("j", "running"), 0.0)
    (old,) = jobs.event(status("j", "null"), 1.0)
    jobs.event(status("j", "created"), 2.0)
    new = jobs.get("j")
    assert new is not None and new is not old and new.running and new.started == 2.0
    assert [job.id for job in jobs.all()] == ["j"]


def test_only_the_newest_ended_jobs_are_kept() -> None:
    jobs = JobTable()
    for n in range(KEEP_ENDED + 5):
        jobs.event(status(f"j{n}", "running"), n)
        jobs.event(status(f"j{n}", "null"), n)
    jobs.event(status("live", "running"), 99.0)
    kept = [job.id for job in jobs.all()]
    assert len(kept) == KEEP_ENDED + 1 and kept[0] == "live" and kept[-1] == f"j{KEEP_ENDED + 4}"


def test_rate_is_measured_over_the_last_seconds_and_restarts_when_progress_goes_back() -> None:
    jobs = JobTable()
    for second in range(10):  # 10 MiB/s, then 20 MiB/s from second 5
        done = second * 10 * MiB if second <= 5 else 50 * MiB + (second - 5) * 20 * MiB
        jobs.jobs_reply([info("r", "running", done, 1000 * MiB)], float(second))
    job = jobs.get("r")
    assert job is not None and job.rate == pytest.approx(20 * MiB)
    jobs.jobs_reply([info("r", "running", MiB, 1000 * MiB)], 10.0)  # a second pass
    assert job.rate is None and job.time_left is None
    jobs.jobs_reply([info("r", "paused", MiB, 1000 * MiB)], 11.0)
    assert job.rate == 0 and job.time_left is None and job.state == "paused"


def test_a_job_without_total_has_no_percent() -> None:
    jobs = JobTable()
    jobs.jobs_reply([info("z", "created", 0, 0)], 0.0)
    job = jobs.get("z")
    assert job is not None and job.percent is None
    assert "[" in progress_line(job, 60) and "?" in progress_line(job, 60)


def migrate(state: str, transferred: int, remaining: int, total: int, **extra: Any) -> Any:
    ram = {"transferred": transferred, "remaining": remaining, "total": total, "mbps": 8.0}
    return {"status": state, "ram": ram, **extra}


def test_a_migration_from_setup_to_completed() -> None:
    jobs = JobTable()
    assert jobs.migration_reply({}, 0.0) == []  # none yet: nothing known
    jobs.event({"event": "MIGRATION", "data": {"status": "setup"}}, 0.0)
    assert jobs.migration_running and not jobs.jobs_running
    jobs.migration_reply(migrate("active", 10 * MiB, 118 * MiB, 128 * MiB), 1.0)
    job = jobs.get(MIGRATION)
    assert job is not None and job.rate == 1e6  # mbps until there are two samples
    # Zero pages cost next to nothing: RAM left shrinks faster than bytes are sent.
    jobs.migration_reply(migrate("active", 20 * MiB, 88 * MiB, 128 * MiB), 2.0)
    assert job.rate == 10 * MiB and job.percent == pytest.approx(100 * 40 / 128)
    assert job.time_left == pytest.approx(88 / 30)
    (ended,) = jobs.event({"event": "MIGRATION", "data": {"status": "completed"}}, 3.0)
    assert ended is job and job.outcome == "completed" and job.succeeded
    assert job.ending() == "migration completed"
    jobs.event({"event": "MIGRATION", "data": {"status": "setup"}}, 9.0)  # another
    assert jobs.get(MIGRATION) is not job


def test_a_failed_migration_ends_at_the_poll_with_its_reason() -> None:
    jobs = JobTable()
    jobs.event({"event": "MIGRATION", "data": {"status": "setup"}}, 0.0)
    assert jobs.event({"event": "MIGRATION", "data": {"status": "failed"}}, 1.0) == []
    reply = migrate("failed", 0, 0, 0, **{"error-desc": "Unable to write to command: Broken pipe"})
    (job,) = jobs.migration_reply(reply, 1.1)
    assert job.ending() == "migration failed: Unable to write to command: Broken pipe"


def test_an_io_error_the_job_lives_through_is_not_its_end() -> None:
    jobs = JobTable()
    jobs.event(status("e", "running"), 0.0)
    error = {
        "event": "BLOCK_JOB_ERROR",
        "data": {"device": "e", "operation": "read", "action": "ignore"},
    }
    jobs.event(error, 0.5)
    (job,) = jobs.event(status("e", "null"), 1.0)
    assert job.outcome == "concluded" and job.io_error == "read error (ignore)"


def test_garbage_is_ignored() -> None:
    jobs = JobTable()
    for event in (
        {"event": "JOB_STATUS_CHANGE"},
        {"event": "JOB_STATUS_CHANGE", "data": {"id": 3}},
    ):
        assert jobs.event(event, 0.0) == []
    assert jobs.jobs_reply({"no": "list"}, 0.0) == []
    assert (
        jobs.jobs_reply(
            [1, {"id": "x"}, {"id": "y", "status": "running", "current-progress": True}], 0.0
        )
        == []
    )
    job = jobs.get("y")
    assert job is not None and job.current is None
    assert jobs.migration_reply(["x"], 0.0) == []


# -- the words --------------------------------------------------------------------------


def test_sizes_and_durations() -> None:
    assert size(512) == "512 B" and size(64 * MiB) == "64.0 MiB" and size(3 << 29) == "1.5 GiB"
    assert duration(None) == "" and duration(4.4) == "4s" and duration(125) == "2m05s"
    assert duration(3720) == "1h02m"


def running_backup() -> Any:
    jobs = JobTable()
    jobs.jobs_reply([info("backup0", "running", 0, 256 * MiB)], 0.0)
    jobs.jobs_reply([info("backup0", "running", 64 * MiB, 256 * MiB)], 1.0)
    return jobs


def test_a_bar_fits_any_width() -> None:
    job = running_backup().get("backup0")
    wide = progress_line(job, 100)
    assert wide.startswith("backup0 backup [#######")
    assert wide.endswith("] 25% 64.0 MiB/s 3s left running")
    for width in range(1, 100):
        assert len(progress_line(job, width)) <= width, width
    # As room runs out the bar narrows, then the time left and the rate go; id, percent
    # and state stay longest.
    narrow = progress_line(job, 30)
    assert "backup0" in narrow and "25%" in narrow and "running" in narrow
    assert progress_line(job, 20) == "backup0 25% running"


def test_the_table() -> None:
    jobs = running_backup()
    jobs.event(status("old", "running"), 0.0)
    jobs.event(
        {
            "event": "BLOCK_JOB_COMPLETED",
            "data": {
                "device": "old",
                "type": "mirror",
                "len": 1,
                "offset": 0,
                "speed": 0,
                "error": "No space left on device",
            },
        },
        0.5,
    )
    jobs.event(status("old", "null"), 0.5)
    lines = table(jobs.all()).splitlines()
    assert lines[0].split() == ["ID", "TYPE", "STATE", "PROGRESS", "RATE", "ERROR"]
    assert lines[1].split()[:3] == ["backup0", "backup", "running"]
    assert "25% (64.0 MiB of 256.0 MiB)" in lines[1] and "64.0 MiB/s" in lines[1]
    assert lines[2].split()[:3] == ["old", "mirror", "failed"]
    assert lines[2].endswith("No space left on device")
    assert table([]) == "no jobs or migration seen in this session"


def test_a_reply_asked_for_before_the_end_does_not_undo_it() -> None:
    jobs = JobTable()
    jobs.event({"event": "MIGRATION", "data": {"status": "setup"}}, 0.0)
    (migration,) = jobs.event({"event": "MIGRATION", "data": {"status": "completed"}}, 1.0)
    late = migrate("active", 10 * MiB, 118 * MiB, 128 * MiB)
    assert jobs.migration_reply(late, 1.2, asked=0.9) == []
    assert jobs.get(MIGRATION) is migration and migration.outcome == "completed"
    jobs.event(status("j", "running"), 0.0)
    (job,) = jobs.event(status("j", "null"), 1.0)
    assert jobs.jobs_reply([info("j", "running", 5, 10)], 1.2, asked=0.9) == []
    assert jobs.get("j") is job and not job.running
    # A job seen first after the question was asked is not taken as dismissed.
    jobs.event(status("k", "created"), 2.0)
    assert jobs.jobs_reply([], 2.1, asked=1.9) == [] and jobs.jobs_running


def test_after_a_lost_connection_what_is_not_listed_ended_unknown() -> None:
    jobs = JobTable()
    jobs.jobs_reply([info("a", "running", 1, 10), info("b", "running", 1, 10)], 0.0)
    jobs.migration_reply(migrate("active", 1, 9, 10), 0.0)
    jobs.lost()
    (gone,) = jobs.jobs_reply([info("a", "running", 2, 10)], 5.0)
    assert gone.id == "b" and gone.outcome == "unknown" and not gone.succeeded
    assert gone.ending() == (
        "job b (backup) is gone; how it ended is not known (the connection was lost)"
    )
    a = jobs.get("a")
    assert a is not None and a.running and not a.lost
    (migration,) = jobs.migration_reply({}, 5.0)  # another QEMU: none there
    assert migration.outcome == "unknown"


def test_the_reply_to_the_command_tells_the_type_before_query_jobs() -> None:
    jobs = JobTable()
    jobs.event(status("b0", "created"), 0.0)  # the events come before the reply
    jobs.event(status("drive0", "created"), 0.0)
    jobs.started("blockdev-backup", {"job-id": "b0", "device": "src"})
    jobs.started("block-stream", {"device": "drive0"})  # the id defaults to the device
    assert [(job.id, job.type) for job in jobs.all()] == [("b0", "backup"), ("drive0", "stream")]
