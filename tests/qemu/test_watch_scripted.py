"""/watch in scripts, against real QEMU: each reply a line, COUNT times; failures counted;
bad input refused on one line; a lost connection ends it at once."""

from __future__ import annotations

import json
import time
from typing import Any

from conftest import QemuProcess
from script_shell import Script


def test_a_watch_prints_each_reply_as_a_line_count_times(run_shell: Any, qemu: QemuProcess) -> None:
    started = time.monotonic()
    result = run_shell("-c", "/watch -n 0.2 -c 3 query-name", qemu.qmp)
    assert (result.status, result.stderr) == (0, "")
    assert result.stdout.splitlines() == ['{"return":{}}'] * 3
    assert time.monotonic() - started >= 0.4  # a run every 0.2 s: two pauses between three


def test_hmp_lines_are_watched_too(run_shell: Any, q35: QemuProcess) -> None:
    result = run_shell(
        "-c", "/watch -n 0.1 -c 2 /hmp info status",
        "-c", "/hmp",
        "-c", "/watch -n 0.1 -c 2 info status",  # HMP mode's own lines
        q35.qmp,
    )  # fmt: skip
    assert result.status == 0, result.stderr
    assert result.stdout.splitlines() == ["VM status: paused (prelaunch)"] * 4


def test_a_failed_run_fails_the_script_and_the_watch_goes_on(
    run_shell: Any, qemu: QemuProcess
) -> None:
    result = run_shell(
        "-c", '/watch -n 0.1 -c 2 {"execute": "query-nosuch"}',  # raw: sent untyped
        "-c", "query-name",
        qemu.qmp,
    )  # fmt: skip
    assert result.status == 1
    replies = result.messages()
    assert [reply.get("error", {}).get("class") for reply in replies] == [
        "CommandNotFound",
        "CommandNotFound",
        None,
    ]
    assert "1 of 2 failed: line 1" in result.stderr


def test_bad_input_is_one_line_each_and_the_script_goes_on(
    run_shell: Any, qemu: QemuProcess
) -> None:
    bad = [
        "/watch query-name",  # no -c in a script: it would never end
        "/watch -x 1 -c 1 query-name",
        "/watch -n soon -c 1 query-name",
        "/watch -n 1 -c 1",
        "/watch -c 1 /events list",
        "/watch -c 1 query-nosuch",  # refused by the schema, before anything is sent
        "/watch -c 1 quit",
    ]
    args = [arg for line in bad for arg in ("-c", line)]
    result = run_shell(*args, "-c", "query-name", qemu.qmp)
    assert result.status == 1
    assert result.stdout.splitlines() == ['{"return":{}}']  # only the last line's
    complaints = result.stderr.splitlines()
    said = [line for line in complaints if line.startswith("qmpshell: line ")]
    assert len(said) == len(bad), result.stderr
    assert "/watch in a script needs -c COUNT" in said[0]
    assert "unknown option '-x'" in said[1]
    assert "expected seconds between runs (at least 0.1), got 'soon'" in said[2]
    assert "/watch needs a line to run" in said[3]
    assert "not /events" in said[4]
    assert "query-nosuch" in said[5]
    assert "would quit QEMU" in said[6]
    assert complaints[-1].startswith("qmpshell: 7 of 8 failed")


def test_a_lost_connection_ends_the_watch_at_once(
    shell_env: dict[str, str], qemu: QemuProcess
) -> None:
    script = Script(shell_env, qemu.qmp)
    script.send("/watch -n 30 -c 100 query-name")  # a long pause after the first run
    assert script.reply() == {"return": {}}
    started = time.monotonic()
    qemu.stop()
    status, stderr = script.finish()
    assert status == 3, stderr
    assert time.monotonic() - started < 10  # not after the 30 s pause
    assert stderr.endswith("closed by peer\n") and stderr.count("\n") == 1, stderr  # as ever


def test_a_watch_with_its_own_id_keeps_it(run_shell: Any, qemu: QemuProcess) -> None:
    result = run_shell("-c", '/watch -n 0.1 -c 2 {"execute": "query-name", "id": "w"}', qemu.qmp)
    assert result.status == 0, result.stderr
    assert [json.loads(line) for line in result.stdout.splitlines()] == [
        {"return": {}, "id": "w"}
    ] * 2
