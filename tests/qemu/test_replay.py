"""A session recorded with -l, played again with --replay against a real QEMU: exit 0 when
every reply is as recorded, 1 with the differing reply named when QEMU answers otherwise;
/save's script run again with qmpshell."""

from __future__ import annotations

import json
import re
import stat
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import QemuFactory, QemuProcess

NAMED = ("-machine", "none", "-name", "other")
PAUSED = ("-machine", "q35,accel=tcg", "-m", "128", "-S")

SESSION = [
    "query-status",
    "stop",
    "/wait STOP",
    "query-status",
    "/hmp info status",
    "query-name",
    "cont",
    "/wait RESUME 5",
]


def record(run_shell: Any, qemu: QemuProcess, path: Path, session: list[str] = SESSION) -> None:
    result = run_shell("-l", str(path), qemu.qmp, stdin="\n".join(session) + "\n")
    assert result.status == 0, result.stderr


def entries(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_the_transcript_marks_the_lines_commands_and_where_the_session_waited(
    run_shell: Any, qemu: QemuProcess, tmp_path: Path
) -> None:
    transcript = tmp_path / "t.jsonl"
    record(run_shell, qemu, transcript)
    lines = entries(transcript)
    sent = [entry["msg"].get("execute") for entry in lines if entry.get("user")]
    assert sent == ["query-status", "stop", "query-status", "human-monitor-command",
                    "query-name", "cont"]  # fmt: skip
    own = [e["msg"]["execute"] for e in lines if e["dir"] == "send" and not e.get("user")]
    assert own[0] == "qmp_capabilities"  # the negotiation is the shell's own
    waits = [entry["wait"] for entry in lines if entry["dir"] == "wait"]
    assert waits == [{"event": "STOP", "data": {}}, {"event": "RESUME", "data": {}, "timeout": 5}]
    where = [entry["dir"] for entry in lines]
    # The wait comes after the event it found, before the command that followed it.
    stop_event = next(i for i, e in enumerate(lines) if e.get("msg", {}).get("event") == "STOP")
    assert stop_event < where.index("wait")


def test_watch_runs_are_not_marked_as_the_lines_commands(
    run_shell: Any, qemu: QemuProcess, tmp_path: Path
) -> None:
    transcript = tmp_path / "t.jsonl"
    record(run_shell, qemu, transcript, ["/watch -n 0.1 -c 3 query-status", "query-name"])
    sent = [e["msg"]["execute"] for e in entries(transcript) if e["dir"] == "send"]
    assert sent.count("query-status") == 3  # on the wire, in the transcript
    assert [e["msg"]["execute"] for e in entries(transcript) if e.get("user")] == ["query-name"]


def test_a_replay_against_a_fresh_qemu_finds_every_reply_as_recorded(
    run_shell: Any, qemu_factory: QemuFactory, tmp_path: Path
) -> None:
    transcript = tmp_path / "t.jsonl"
    record(run_shell, qemu_factory.start(), transcript)
    result = run_shell("--replay", str(transcript), qemu_factory.start().qmp)
    assert (result.status, result.stdout) == (0, "")
    assert result.stderr == "qmpshell: all 6 replies as recorded\n"


def test_a_replay_against_a_qemu_in_another_state_names_the_replies_that_differ(
    run_shell: Any, qemu_factory: QemuFactory, tmp_path: Path
) -> None:
    transcript = tmp_path / "t.jsonl"
    record(run_shell, qemu_factory.start(), transcript)
    result = run_shell(
        "--timeout", "2", "--replay", str(transcript), qemu_factory.start(PAUSED).qmp
    )
    assert result.status == 1
    said = result.stderr.splitlines()
    assert re.fullmatch(
        r'qmpshell: line \d+: query-status: return.status: "running" recorded, "prelaunch" '
        r"now; return.running: true recorded, false now",
        said[0],
    )
    # stop in prelaunch sends no STOP: the wait fails as the recording's did not.
    assert any("/wait STOP: no such event within 2s" in line for line in said)
    assert any("HMP 'info status': return:" in line for line in said)
    assert said[-1].endswith("replies differ; 1 of 2 waits failed")


def test_a_different_name_is_one_reply_that_differs(
    run_shell: Any, qemu_factory: QemuFactory, tmp_path: Path
) -> None:
    transcript = tmp_path / "t.jsonl"
    record(run_shell, qemu_factory.start(), transcript)
    result = run_shell("--replay", str(transcript), qemu_factory.start(NAMED).qmp)
    assert result.status == 1
    said = result.stderr.splitlines()
    assert len(said) == 2
    assert re.fullmatch(
        r'qmpshell: line \d+: query-name: return.name: absent recorded, "other" now', said[0]
    )
    assert said[1] == "qmpshell: 1 of 6 replies differs"
    ignoring = run_shell(
        "--ignore",
        "query-name:return.name",
        "--replay",
        str(transcript),
        qemu_factory.start(NAMED).qmp,
    )
    assert ignoring.status == 0, ignoring.stderr


def test_a_secret_cannot_be_replayed_from_a_redacted_transcript(
    run_shell: Any, qemu_factory: QemuFactory, tmp_path: Path
) -> None:
    transcript = tmp_path / "t.jsonl"
    record(run_shell, qemu_factory.start(), transcript,
           ["object-add qom-type=secret id=s0 data=hunter2", "qom-list path=/objects"])  # fmt: skip
    assert "hunter2" not in transcript.read_text()
    result = run_shell("--replay", str(transcript), qemu_factory.start().qmp)
    assert result.status == 1  # qom-list now lacks s0
    assert re.search(
        r"line \d+: object-add not sent: the transcript left its secret out", result.stderr
    )
    assert re.search(r"line \d+: qom-list: ", result.stderr)  # no s0 (nor /objects, in 7.2)
    assert result.stderr.splitlines()[-1] == "qmpshell: 1 of 1 replies differs; 1 command not sent"
    # Kept with --log-secrets, it replays.
    kept = tmp_path / "kept.jsonl"
    secret = "object-add qom-type=secret id=s0 data=hunter2\nqom-list path=/objects\n"
    result = run_shell("--log-secrets", "-l", str(kept), qemu_factory.start().qmp, stdin=secret)
    assert result.status == 0
    result = run_shell("--replay", str(kept), qemu_factory.start().qmp)
    assert (result.status, result.stderr) == (0, "qmpshell: all 2 replies as recorded\n")


def test_a_transcript_that_is_not_one_is_refused_naming_its_line(
    run_shell: Any, qemu: QemuProcess, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"time": 1, "dir": "send", "msg": {"execute": "stop"}}\nquery-status\n')
    result = run_shell("--replay", str(bad), qemu.qmp)
    assert result.status == 2
    said = f"qmpshell: {bad} is not a transcript (-l writes one): line 2: not JSON"
    assert result.stderr == f"{said} (Expecting value)\n"
    missing = run_shell("--replay", str(tmp_path / "none"), qemu.qmp)
    assert (missing.status, missing.stderr.count("\n")) == (2, 1)
    assert "cannot read transcript" in missing.stderr
    with_c = run_shell("--replay", str(bad), "-c", "stop", qemu.qmp)
    assert with_c.status == 2 and "-c cannot go with it" in with_c.stderr
    assert run_shell("--replay", str(bad), "--ignore", "x:", qemu.qmp).status == 2


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("", "{t} is not a transcript (-l writes one): it is empty"),
        ("\n  \n", "{t} is not a transcript (-l writes one): it is empty"),
        (
            '{"time": 1, "dir": "recv", "msg": {"QMP": {"version": {}, "capabilities": []}}}\n',
            "{t} holds nothing to replay: no command sent, no wait",
        ),
    ],
)
def test_a_transcript_with_nothing_to_replay_is_refused(
    run_shell: Any, qemu: QemuProcess, tmp_path: Path, text: str, said: str
) -> None:
    """A replay of nothing passed whatever QEMU said (exit 0): a CI job replaying an
    empty file by mistake would never fail."""
    transcript = tmp_path / "t.jsonl"
    transcript.write_text(text)
    result = run_shell("--replay", str(transcript), qemu.qmp)
    assert (result.status, result.stderr) == (2, f"qmpshell: {said.format(t=transcript)}\n")


def test_ignore_without_replay_is_a_usage_error(run_shell: Any, qemu: QemuProcess) -> None:
    result = run_shell("--ignore", "return", "-c", "query-status", qemu.qmp)
    assert result.status == 2 and result.stdout == ""
    assert result.stderr.splitlines()[-1] == (
        "qmpshell: error: --ignore goes with --replay: it leaves parts of replies out of "
        "its comparison"
    )


def test_no_qemu_is_a_connection_failure(run_shell: Any, qemu: QemuProcess, tmp_path: Path) -> None:
    transcript = tmp_path / "t.jsonl"
    record(run_shell, qemu, transcript, ["query-name"])
    result = run_shell("--replay", str(transcript), str(tmp_path / "nothing.sock"))
    assert result.status == 3
    assert result.stderr.count("\n") == 1


def test_a_replay_stops_where_the_recording_quit(
    run_shell: Any, qemu_factory: QemuFactory, tmp_path: Path
) -> None:
    transcript = tmp_path / "t.jsonl"
    record(run_shell, qemu_factory.start(), transcript, ["query-name", "quit"])
    again = qemu_factory.start()
    result = run_shell("--replay", str(transcript), again.qmp)
    assert (result.status, result.stderr) == (0, "qmpshell: all 2 replies as recorded\n")
    assert again.proc.wait(10) == 0


def test_a_saved_session_runs_again_with_qmpshell(
    run_shell: Any, qemu_factory: QemuFactory, tmp_path: Path
) -> None:
    script = tmp_path / "s.qmp"
    first = qemu_factory.start()
    lines = [
        "query-status",
        "query-nosuch",  # refused by qmpshell: nothing sent, left out
        "stop",
        "/wait STOP",
        "/help stop",
        "/hmp",
        "info status",
        "/qmp",
        "object-add qom-type=secret id=s0 data=hunter2",
        "cont",
        f"/save {script}",
    ]
    result = run_shell(first.qmp, stdin="\n".join(lines) + "\n")
    assert result.status == 1  # query-nosuch
    assert "7 lines saved to" in result.stderr and "1 with a secret left out" in result.stderr
    text = script.read_text()
    assert stat.S_IMODE(script.stat().st_mode) == 0o600
    header, body = text.splitlines()[:3], text.splitlines()[3:]
    assert header[0].startswith("# saved by qmpshell ")
    assert header[1].startswith("# against QEMU ") and first.qmp in header[1]
    assert body == [
        "query-status",
        "stop",
        "/wait STOP",
        "/hmp",
        "info status",
        "# (a line that passes a secret was left out here)",
        "/qmp",
        "cont",
    ]
    assert "hunter2" not in text
    again = run_shell(qemu_factory.start().qmp, stdin=text)
    assert again.status == 0, again.stderr
    assert "VM status: paused" in again.stdout
    replies = [json.loads(line) for line in again.stdout.splitlines() if line.startswith("{")]
    assert [reply.get("event") for reply in replies] == [None, "STOP", None, "RESUME", None]
    # A second /save to the same file is refused unless -f, or this session wrote it.
    refused = run_shell(first.qmp, "-c", "query-name", "-c", f"/save {script}")
    assert refused.status == 1
    assert f"/save: {script} exists; /save -f {script} overwrites it" in refused.stderr
    forced = run_shell(first.qmp, "-c", "query-name", "-c", f"/save -f {script}")
    assert forced.status == 0 and script.read_text().splitlines()[3:] == ["query-name"]
    spaced = run_shell(first.qmp, "-c", f'/save "{tmp_path}/with space.qmp"')
    assert spaced.status == 0 and (tmp_path / "with space.qmp").exists()
    usage = run_shell(first.qmp, "-c", "/save")
    assert usage.status == 1 and "usage: /save [-f] FILE" in usage.stderr


@pytest.mark.parametrize(
    ("words", "said"),
    [
        ("/save {d}/a b", "/save: 2 words where one FILE goes; usage: /save [-f] FILE"),
        ("/save -f {d}/a b c", "/save: 3 words where one FILE goes; usage: /save [-f] FILE"),
        ('/save "{d}/a b', '/save: unclosed "'),
        ("/save {d}", "/save: {d} is a directory: give the name of a file to write"),
        ("/save -f /", "/save: / is a directory"),
        ("/save -f {d}/dangling", "/save: {d}/dangling is a symbolic link (to nothing, "),
    ],
)
def test_save_refuses_a_path_that_is_no_file_or_more_than_one(
    run_shell: Any, qemu: QemuProcess, tmp_path: Path, words: str, said: str
) -> None:
    """Each in one line, the session going on: ``/save a b`` wrote a file named 'a b',
    ``/save /`` said it exists and, with -f, 'Is a directory'."""
    here = tmp_path / "here"
    here.mkdir()
    (here / "dangling").symlink_to(here / "nowhere")
    line = words.format(d=here)
    result = run_shell(qemu.qmp, "-c", "query-name", "-c", line, "-c", "query-status")
    assert result.status == 1
    errors = result.stderr.splitlines()
    assert errors[0].startswith("qmpshell: line 2: " + said.format(d=here)), errors
    assert len(errors) == 2 and errors[1] == "qmpshell: 1 of 3 failed: line 2"
    assert len(result.messages()) == 2  # the line after it ran
    assert [p.name for p in here.iterdir()] == ["dangling"]


def test_a_replay_waits_for_a_job_where_the_recording_did(
    run_shell: Any, qemu_factory: QemuFactory, tmp_path: Path
) -> None:
    size = 16 << 20
    session = [
        f"blockdev-add driver=null-co node-name=src size={size} read-zeroes=true",
        f"blockdev-add driver=null-co node-name=dst size={size} read-zeroes=true",
        f"blockdev-backup job-id=b0 device=src target=dst sync=full speed={size * 2}",
        "/job wait b0",
        "query-block-jobs",  # [] only once the job has ended
    ]
    transcript = tmp_path / "t.jsonl"
    record(run_shell, qemu_factory.start(), transcript, session)
    assert [e["wait"] for e in entries(transcript) if e["dir"] == "wait"] == [
        {"job": "b0", "timeout": 0.0}
    ]
    result = run_shell("--replay", str(transcript), qemu_factory.start().qmp)
    assert result.status == 0, result.stderr
    assert result.stderr.splitlines() == [
        "qmpshell: job b0 (backup) concluded",
        "qmpshell: all 4 replies as recorded",
    ]


def test_a_wait_for_an_event_this_qemu_never_sends_fails_at_once(
    run_shell: Any, qemu: QemuProcess, tmp_path: Path
) -> None:
    transcript = tmp_path / "t.jsonl"
    transcript.write_text('{"time": 1, "dir": "wait", "wait": {"event": "NEVER_EVENT"}}\n')
    started = time.monotonic()
    result = run_shell("--replay", str(transcript), qemu.qmp)  # --timeout is 30 s
    assert time.monotonic() - started < 20
    assert result.status == 1
    assert result.stderr.splitlines() == [
        "qmpshell: line 1: /wait NEVER_EVENT: unknown event 'NEVER_EVENT'",
        "qmpshell: 1 of 1 waits failed",
    ]


SECRET = "Hunter2Zz"


@pytest.mark.parametrize(
    ("mode", "line"),
    [
        ((), f"object-add qom-type=secret id=s9 data={SECRET}"),
        ((), f"change-vnc-password password={SECRET}"),
        ((), f'human-monitor-command command-line="set_password vnc {SECRET}"'),
        ((), json.dumps({"execute": "qom-set", "arguments": {
            "path": "/objects/s0", "property": "data", "value": SECRET}})),
        ((), f"/hmp set_password vnc {SECRET}"),
        ((), f"/hmp object_add secret,id=s9,data={SECRET}"),
        (("-H",), f"change vnc password {SECRET}"),
        (("-H",), f"qom-set /objects/s0 data {SECRET}"),
        (("-H",), f"/qmp object-add qom-type=secret id=s9 data={SECRET}"),
    ],
)  # fmt: skip
def test_save_leaves_every_kind_of_secret_out(
    run_shell: Any, qemu: QemuProcess, tmp_path: Path, mode: tuple[str, ...], line: str
) -> None:
    script = tmp_path / "s.qmp"
    first = "/qmp object-add qom-type=secret id=s0 data=FirstSecret0"
    run_shell(
        *mode, "-c", first, "-c", line, "-c", "/qmp query-name", "-c", f"/save {script}", qemu.qmp
    )
    text = script.read_text()
    assert SECRET not in text and "FirstSecret0" not in text
    assert text.count("# (a line that passes a secret was left out here)") == 2
    assert text.splitlines()[-1] == "/qmp query-name"


def test_save_keeps_the_lines_through_a_pipe(
    run_shell: Any, qemu_factory: QemuFactory, tmp_path: Path
) -> None:
    """``LINE |! COMMAND`` lines are script lines like any other: /save kept none of
    them (``0 lines saved`` after a session of only such lines)."""
    script = tmp_path / "s.qmp"
    lines = [
        "query-status |! tr a-z A-Z",
        "/hmp info status |! tr a-z A-Z",
        f"object-add qom-type=secret id=s0 data={SECRET} |! wc -c",
        "query-nosuch |! cat",  # refused: nothing sent, left out
        "query-name |! false",  # ran, its pipe failed: kept, as an error reply is
        f"/save {script}",
    ]
    result = run_shell(qemu_factory.start().qmp, stdin="\n".join(lines) + "\n")
    assert result.status == 1  # query-nosuch, false
    assert "3 lines saved to" in result.stderr and "1 with a secret left out" in result.stderr
    text = script.read_text()
    assert SECRET not in text
    assert text.splitlines()[3:] == [
        "query-status |! tr a-z A-Z",
        "/hmp info status |! tr a-z A-Z",
        "# (a line that passes a secret was left out here)",
        "query-name |! false",
    ]
    again = run_shell(qemu_factory.start().qmp, stdin=text)
    assert again.status == 1  # false, again
    assert again.stdout.splitlines() == result.stdout.splitlines()[:2]  # the secret's left out
    assert again.stdout.splitlines()[1] == "VM STATUS: RUNNING"


def test_a_transcript_of_several_connections_is_not_replayed(
    run_shell: Any, tmp_path: Path
) -> None:
    transcript = tmp_path / "t.jsonl"
    sent = {"time": 1.0, "dir": "send", "msg": {"execute": "query-name"}, "user": True}
    transcript.write_text(
        "".join(json.dumps({**sent, "target": name}) + "\n" for name in ("vm1", "vm2"))
    )
    result = run_shell("--replay", str(transcript), str(tmp_path / "nothing.sock"))
    assert result.status == 2 and result.stdout == ""
    assert result.stderr.startswith(
        f"qmpshell: {transcript} cannot be replayed: it holds the messages of 2 connections"
    )
    assert result.stderr.count("\n") == 1
