"""Scripts can trust qmpshell: every line's outcome, in order, raw JSON as written.

Every test runs the qmpshell command against a real QEMU (7.2 or 10.0, whichever is first
on PATH), as a script does: lines on stdin or with ``-c``, replies on stdout, complaints
on stderr, the exit status, and the ``-l`` transcript.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import QemuFactory, QemuProcess
from qapi_examples import EXAMPLES
from waiting import stop

from qmpshell.protocol.address import parse_address
from qmpshell.protocol.client import QMPClient
from qmpshell.protocol.message import RawMessage

Message = dict[str, Any]


def _not_json(word: str) -> Any:
    raise ValueError(f"{word} in a transcript")


def transcript(path: Path) -> list[Message]:
    """Each line of a transcript, read as strict JSON (NaN or Infinity would fail)."""
    return [json.loads(line, parse_constant=_not_json) for line in path.read_text().splitlines()]


def sent(path: Path) -> list[Message]:
    """What the shell sent, after the negotiation and the schema load."""
    entries = [e for e in transcript(path) if e["dir"] == "send"]
    return [e for e in entries if not _shells_own(e.get("msg", {}))]


def _shells_own(message: Message) -> bool:
    return message.get("execute") in _SHELL_OWN and isinstance(message.get("id"), int)


_SHELL_OWN = ("qmp_capabilities", "query-qmp-schema", "query-commands", "query-version")


def _piped(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    """The qmpshell command reading a pipe the test writes to, as a script would."""
    return subprocess.Popen(
        [sys.executable, "-m", "qmpshell", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


# -- 1. raw JSON over several lines ---------------------------------------------------------


def test_qapi_documentation_examples_on_stdin(
    run_shell: Any, q35: QemuProcess, tmp_path: Path
) -> None:
    """QEMU's documentation prints every example over several lines: a script of them
    sends each as one message, and each reply is that example's."""
    log = tmp_path / "examples.jsonl"
    script = "\n\n".join(text for text, _ in EXAMPLES) + "\n"
    result = run_shell("-l", str(log), q35.qmp, stdin=script)
    replies = result.messages()
    assert len(replies) == len(EXAMPLES), result.stderr
    for (text, succeeds), reply in zip(EXAMPLES, replies):
        assert ("return" in reply) is succeeds, (text, reply)
        assert "JSON parse error" not in json.dumps(reply), (text, reply)
    assert replies[-3]["id"] == "example-with-an-id"
    # Sent as written: one message per example, the same object.
    messages = [e["msg"] for e in sent(log)]
    assert messages == [{**json.loads(t), **m} for (t, _), m in zip(EXAMPLES, messages)]
    assert len(messages) == len(EXAMPLES)
    assert result.status == 1  # some examples fail on purpose
    failing = sum(not succeeds for _, succeeds in EXAMPLES)
    assert result.stderr.splitlines()[-1].startswith(
        f"qmpshell: {failing} of {len(EXAMPLES)} failed"
    )


def test_multi_line_json_in_dash_c(run_shell: Any, qemu: QemuProcess) -> None:
    """``-c "$(cat example.json)"`` and an object split over several ``-c`` alike."""
    example = (
        '{ "execute": "qom-get",\n  "arguments": { "path": "/machine",\n    "property": "type" } }'
    )
    result = run_shell(
        "-c", example,
        "-c", '{ "execute":', "-c", '  "query-name" }',
        "-c", "query-status",
        qemu.qmp,
    )  # fmt: skip
    assert result.status == 0, result.stderr
    assert result.messages() == [
        {"return": "none-machine"},
        {"return": {}},
        {"return": {"status": "running", "singlestep": False, "running": True}}
        if "singlestep" in result.stdout
        else {"return": {"status": "running", "running": True}},
    ]


@pytest.mark.parametrize("how", ["stdin", "-c"])
def test_object_open_at_end_of_input_is_an_error(
    run_shell: Any, qemu: QemuProcess, tmp_path: Path, how: str
) -> None:
    log = tmp_path / "open.jsonl"
    lines = ["query-name", '{ "execute": "qom-list",', '  "arguments": { "path": "/" }']
    if how == "stdin":
        result = run_shell("-l", str(log), qemu.qmp, stdin="\n".join(lines) + "\n")
    else:
        result = run_shell("-l", str(log), *(a for line in lines for a in ("-c", line)), qemu.qmp)
    assert result.status == 1
    assert result.messages() == [{"return": {}}]
    assert result.stderr.splitlines()[0] == (
        "qmpshell: line 2: the JSON object that starts here is not closed at the end of "
        "input; it was not sent"
    )
    assert [e["msg"]["execute"] for e in sent(log)] == ["query-name"]


def test_transaction_open_at_end_of_input(
    run_shell: Any, qemu: QemuProcess, tmp_path: Path
) -> None:
    log = tmp_path / "tx.jsonl"
    script = "query-name\ntransaction(\n  blockdev-snapshot-internal-sync device=x name=s\n"
    result = run_shell("-l", str(log), qemu.qmp, stdin=script)
    assert result.status == 1
    assert result.messages() == [{"return": {}}]
    assert result.stderr.splitlines() == [
        "qmpshell: line 2: the transaction( that starts here is not closed with ')' at the "
        "end of input; nothing of it was sent",
        "qmpshell: 1 of 3 failed: line 2",
    ]
    assert "transaction" not in [e["msg"]["execute"] for e in sent(log)]


# -- 2. a raw line reaches QEMU as written ----------------------------------------------------


def test_raw_line_goes_as_written(run_shell: Any, qemu: QemuProcess, tmp_path: Path) -> None:
    """1E400, a key given twice and the key order are QEMU's to judge: the transcript
    shows the very text sent (with the shell's id added), and QEMU's answer is that
    line's, the next line's answer its own."""
    log = tmp_path / "raw.jsonl"
    huge = (
        '{"execute": "qom-set", "arguments": {"path": "/machine", "property": "x", "value": 1E400}}'
    )
    twice = '{"execute": "query-name", "execute": "query-status"}'
    ordered = '{"arguments": {"path": "/machine", "property": "type"}, "execute": "qom-get"}'
    script = "\n".join([huge, "query-name", twice, "query-name", ordered, "query-name"]) + "\n"
    result = run_shell("-l", str(log), qemu.qmp, stdin=script)
    replies = result.messages()
    assert len(replies) == 6, result.stderr
    assert (
        replies[0]["error"]["desc"] != "" and "JSON parse error" not in replies[0]["error"]["desc"]
    )
    assert replies[1] == {"return": {}}
    assert replies[2] == {
        "error": {"class": "GenericError", "desc": "JSON parse error, duplicate key"}
    }
    assert replies[3] == {"return": {}}
    assert replies[4] == {"return": "none-machine"}
    assert replies[5] == {"return": {}}
    entries = [e for e in transcript(log) if e["dir"] == "send"]
    raw = [e["raw"] for e in entries if "raw" in e]
    assert len(raw) == 2
    assert raw[0].endswith(huge[1:]) and raw[0].startswith('{"id": ')
    assert raw[1].endswith(twice[1:])
    in_order = [e["msg"] for e in entries if e.get("msg", {}).get("execute") == "qom-get"]
    assert list(in_order[0]) == ["id", "arguments", "execute"] or list(in_order[0]) == [
        "arguments",
        "execute",
        "id",
    ]
    assert result.status == 1
    assert result.stderr.splitlines() == ["qmpshell: 2 of 6 failed: lines 1, 3"]


@pytest.mark.parametrize(
    ("line", "said"),
    [
        (
            '{"execute": "qom-set", "arguments": {"path": "/machine", "property": "x", '
            '"value": NaN}}',
            "line 1, column 84: invalid JSON: NaN is not JSON (QEMU would refuse it)",
        ),
        (
            '{"execute": "query-name", "arguments": {"x": -Infinity}}',
            "line 1, column 46: invalid JSON: -Infinity is not JSON (QEMU would refuse it)",
        ),
        (
            '{"execute": "query-name", "id": 1E400}',
            "line 1, column 27: the id is an infinite number, which QEMU cannot send back (it "
            "would write 'inf', which is not JSON)",
        ),
    ],
)
def test_what_qemu_cannot_take_is_refused_with_its_reason(
    run_shell: Any, qemu: QemuProcess, tmp_path: Path, line: str, said: str
) -> None:
    log = tmp_path / "refused.jsonl"
    result = run_shell("-l", str(log), qemu.qmp, stdin=line + "\nquery-name\n")
    assert result.status == 1
    assert result.messages() == [{"return": {}}]
    assert result.stderr.splitlines()[0] == f"qmpshell: {said}"
    assert [e["msg"]["execute"] for e in sent(log)] == ["query-name"]


# -- 3. a reply without id is the answer of the line QEMU was reading ---------------------------


def test_error_without_id_answers_its_own_line(run_shell: Any, qemu: QemuProcess) -> None:
    """Pipelined lines around raw ones QEMU cannot parse (a key twice, a lone surrogate):
    QEMU's id-less errors are shown as those lines' answers, never a later line's."""
    lines = [
        "query-name",
        '{"execute": "query-status", "a": 1, "a": 2}',
        "qom-get path=/machine property=type",
        '{"execute": "query-name", "id": "\\ud800"}',
        "query-name",
        '{"execute": "query-name", "id": "mine"}',
    ] * 3
    result = run_shell(qemu.qmp, stdin="\n".join(lines) + "\n")
    replies = result.messages()
    assert len(replies) == len(lines)
    for number, reply in enumerate(replies):
        kind = number % 6
        if kind == 1:
            assert reply["error"]["desc"] == "JSON parse error, duplicate key"
        elif kind == 3:
            assert "is not a valid Unicode character" in reply["error"]["desc"]
            assert "id" not in reply
        elif kind == 2:
            assert reply == {"return": "none-machine"}
        elif kind == 5:
            assert reply == {"return": {}, "id": "mine"}
        else:
            assert reply == {"return": {}}
    assert result.status == 1


def test_fence_takes_every_error_qemu_sends_for_one_request(qemu: QemuProcess) -> None:
    """QEMU answers ``NaN`` with three errors without id as its parser recovers (the
    shell refuses such a line before sending; this sends it through the library): all
    three belong to that request, and the next request still gets its own reply."""

    async def go() -> tuple[Message, Message, list[int]]:
        strays: list[int] = []
        async with QMPClient() as client:
            await client.connect(parse_address(qemu.qmp))
            text = '{"execute": "query-name", "arguments": {"x": NaN}}'
            broken = RawMessage(text, {"execute": "query-name"})
            first = client.send_request(broken, timeout=10, on_stray=strays.append)
            second = client.send_request({"execute": "query-name"}, timeout=10)
            replies = await asyncio.gather(first, second)
            await client.execute("query-status", timeout=10)  # the probe has answered
            return replies[0], replies[1], strays

    first, second, strays = asyncio.run(go())
    assert first == {"error": {"class": "GenericError", "desc": "JSON parse error, stray 'N'"}}
    assert second["return"] == {}
    assert strays == [2]


# -- 4. ids -------------------------------------------------------------------------------------


def test_ids_copied_from_a_transcript_never_meet_the_shells(
    run_shell: Any, qemu: QemuProcess, tmp_path: Path
) -> None:
    """The shell's own ids, typed as raw ids (as int, as float), in flight next to the
    shell's own commands: every line still gets its own reply, at once."""
    log = tmp_path / "first.jsonl"
    first = run_shell("-l", str(log), "-c", "query-name", "-c", "query-status", qemu.qmp)
    assert first.status == 0
    own = [e["msg"]["id"] for e in transcript(log) if e["dir"] == "send"]
    assert len(own) >= 3
    lines = []
    for ident in [*own, *(i + 1 for i in own), *(i + 2 for i in own)]:
        lines += ["query-name", f'{{"execute": "query-status", "id": {ident}}}']
        lines += [f'{{"execute": "query-name", "id": {ident}.0}}', "query-name"]
    started = time.monotonic()
    result = run_shell("--timeout", "20", qemu.qmp, stdin="\n".join(lines) + "\n")
    assert time.monotonic() - started < 15  # nothing waited for a reply another took
    assert result.status == 0, result.stderr
    replies = result.messages()
    assert len(replies) == len(lines)
    for line, reply in zip(lines, replies):
        if line.startswith("{"):
            assert reply["id"] == json.loads(line)["id"]
        else:
            assert reply == {"return": {}}


def test_an_id_in_flight_twice_is_refused(
    shell_env: dict[str, str], qemu_factory: QemuFactory
) -> None:
    """QEMU frozen: the first line with id "job" times out, its reply may still come, so
    a second line with that id is refused in one line; a new id goes."""
    qemu = qemu_factory.start()
    script = _piped(shell_env, "--timeout", "1", qemu.qmp)
    assert script.stdin is not None and script.stderr is not None
    script.stdin.write("query-name\n")
    script.stdin.flush()
    assert script.stdout is not None
    assert json.loads(script.stdout.readline()) == {"return": {}}
    stop(qemu.proc.pid)
    try:
        script.stdin.write('{"execute": "query-status", "id": "job"}\n')
        script.stdin.flush()
        assert "no reply within 1s" in script.stderr.readline()
        script.stdin.write('{"execute": "query-name", "id": "job"}\n')
        script.stdin.flush()
        assert script.stderr.readline() == (
            'qmpshell: line 3: id "job" is taken by a command still in flight (or given '
            "up on, whose reply may still come); use another id\n"
        )
    finally:
        os.kill(qemu.proc.pid, signal.SIGCONT)
    script.stdin.write('{"execute": "query-name", "id": "new"}\n')
    script.stdin.close()
    assert json.loads(script.stdout.readline()) == {"return": {}, "id": "new"}
    assert script.wait(timeout=20) == 1
    rest = script.stderr.read()
    assert "Traceback" not in rest
    assert rest.endswith("qmpshell: 2 of 4 failed: lines 2-3\n")


# -- 6. /wait ends when the connection does ---------------------------------------------------


@pytest.mark.parametrize("how", ["killed", "quit by another client"])
def test_wait_ends_at_once_when_qemu_goes(
    shell_env: dict[str, str], qemu_factory: QemuFactory, how: str
) -> None:
    qemu = qemu_factory.start()
    script = _piped(shell_env, qemu.qmp)
    assert script.stdin is not None and script.stdout is not None
    script.stdin.write("query-name\n/wait BLOCK_JOB_COMPLETED 60\n")
    script.stdin.flush()
    assert json.loads(script.stdout.readline()) == {"return": {}}
    started = time.monotonic()
    if how == "killed":
        qemu.proc.kill()
    else:
        other = qemu.other_client()
        other.cmd("quit")
    status = script.wait(timeout=20)
    assert time.monotonic() - started < 10
    assert status == 3
    assert script.stderr is not None
    said = script.stderr.read()
    assert f"connection to {qemu.qmp} closed by peer while waiting for an event" in said
    script.stdin.close()


# -- 10. -r ---------------------------------------------------------------------------------------


def test_return_value_only(run_shell: Any, q35: QemuProcess) -> None:
    """``qmpshell -r -c query-status SOCK | jq .status``: only return values on stdout,
    no events (STOP is not shown), errors on stderr."""
    result = run_shell(
        "-r",
        "-c", "query-status",
        "-c", "stop",
        "-c", "qom-get path=/machine property=type",
        "-c", "qom-get path=/nowhere property=type",
        "-c", "query-name",
        q35.qmp,
    )  # fmt: skip
    assert result.status == 1
    lines = result.stdout.splitlines()
    assert json.loads(lines[0])["status"] == "prelaunch"
    assert lines[1:] == ["{}", '"pc-q35-' + lines[2].split("pc-q35-")[1], "{}"]
    assert lines[2].startswith('"pc-q35-') and lines[2].endswith('-machine"')
    assert result.stderr.splitlines()[0].startswith("qmpshell: line 4: qom-get: DeviceNotFound: ")
    with_events = run_shell("-r", "--events", "all", "-c", "cont", q35.qmp)
    assert [json.loads(line).get("event") for line in with_events.stdout.splitlines()] == [
        "RESUME",
        None,
    ]


# -- found by trying it as a scripter would -----------------------------------------------------


def test_connection_lost_while_the_script_waits_for_input(
    shell_env: dict[str, str], qemu_factory: QemuFactory
) -> None:
    """``(echo query-status; sleep 60) | qmpshell SOCK`` with QEMU killed meanwhile: said
    at once, exit 3, without waiting for the next line or the end of input."""
    qemu = qemu_factory.start()
    script = _piped(shell_env, qemu.qmp)
    assert script.stdin is not None and script.stdout is not None
    script.stdin.write("query-name\n")
    script.stdin.flush()
    assert json.loads(script.stdout.readline()) == {"return": {}}
    qemu.proc.kill()
    try:
        status = script.wait(timeout=10)  # stdin still open: the loss alone ends it
    finally:
        script.stdin.close()
    assert status == 3
    assert script.stderr is not None
    assert script.stderr.read() == f"qmpshell: connection to {qemu.qmp} closed by peer\n"


@pytest.mark.parametrize("bad", [3, 1])
def test_a_transaction_with_a_refused_action_is_not_sent(
    run_shell: Any, qemu: QemuProcess, tmp_path: Path, bad: int
) -> None:
    """All or nothing: a refused action (on the opening line too) keeps the whole block
    from being sent, and the actions after it are not run on their own."""
    log = tmp_path / "tx.jsonl"
    actions = [f"block-dirty-bitmap-add node=n0 name=t{n}" for n in range(3)]
    actions[0 if bad == 1 else bad - 2] = "block-dirty-bitmap-add node=n0 nam=typo"
    lines = ["transaction( " + actions[0], actions[1], actions[2], ")", "query-name"]
    if bad != 1:
        lines = ["transaction(", *actions, ")", "query-name"]
    result = run_shell("-l", str(log), qemu.qmp, stdin="\n".join(lines) + "\n")
    assert result.status == 1
    assert result.messages() == [{"return": {}}]
    said = result.stderr.splitlines()
    assert said[0].startswith(f"qmpshell: line {bad}, column ")
    assert "did you mean 'name'?" in said[0]
    closing = lines.index(")") + 1
    assert said[1] == (
        f"qmpshell: line {closing}, column 1: the transaction is not sent: an action in it "
        "was refused"
    )
    assert [e["msg"]["execute"] for e in sent(log)] == ["query-name"]


def test_an_id_like_the_shells_waits_for_nothing(run_shell: Any, qemu: QemuProcess) -> None:
    """Raw lines with the ids the shell's own pipelined commands would have at that
    moment: they go once those are answered, every time, not refused by a race."""
    lines = ["query-status"] * 3
    lines += [f'{{"execute": "query-name", "id": {7_100_000_000 + n}}}' for n in range(3, 9)]
    lines += ["query-status"] * 3
    for _ in range(3):
        result = run_shell(qemu.qmp, stdin="\n".join(lines) + "\n")
        assert result.status == 0, result.stderr
        assert [m.get("id") for m in result.messages()][3:9] == [
            7_100_000_000 + n for n in range(3, 9)
        ]


def test_complaints_come_in_the_order_of_their_lines(
    shell_env: dict[str, str], qemu: QemuProcess
) -> None:
    """With ``2>&1`` a refused line's complaint comes after the replies to the lines
    before it, as a reader of the merged output expects."""
    lines = ["query-name", "query-status", "bogus-command", "query-name", "/wait STOP 0.1"]
    proc = subprocess.run(
        [sys.executable, "-m", "qmpshell", "-r", qemu.qmp],
        input="\n".join(lines) + "\n",
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=shell_env,
        timeout=30,
    )
    out = proc.stdout.splitlines()
    assert out[0] == "{}"
    assert json.loads(out[1])["status"] == "running"
    assert out[2].startswith("qmpshell: line 3, column 1: unknown command 'bogus-command'")
    assert out[3:] == [
        "{}",
        "qmpshell: line 5: /wait STOP: no such event within 0.1s",
        "qmpshell: 2 of 5 failed: lines 3, 5",
    ]


def test_bytes_that_are_not_utf8_reach_qemu_as_written(
    shell_env: dict[str, str], qemu: QemuProcess, tmp_path: Path
) -> None:
    """A raw line with bytes that are not UTF-8 goes byte for byte; QEMU refuses it
    with several errors without id as its parser recovers: the first is that line's
    reply, stderr says how many more came, the next line gets its own reply."""
    line = b'{"execute": "qom-get", "arguments": {"path": "/machine", "property": "\xff\xfe"}}'
    log = tmp_path / "bytes.jsonl"
    proc = subprocess.run(
        [sys.executable, "-m", "qmpshell", "-l", str(log), qemu.qmp],
        input=line + b"\nquery-name\n",
        capture_output=True,
        env=shell_env,
        timeout=30,
    )
    replies = [json.loads(text) for text in proc.stdout.splitlines()]
    assert len(replies) == 2
    assert replies[0]["error"]["desc"].startswith("JSON parse error")
    assert replies[1] == {"return": {}}
    said = proc.stderr.decode().splitlines()
    assert said[0].startswith("qmpshell: line 1: QEMU answered with ")
    assert said[0].endswith(
        " more errors without id as its JSON parser recovered (only the first is shown)"
    )
    assert said[1] == "qmpshell: 1 of 2 failed: line 1"
    assert proc.returncode == 1
    transcript(log)  # still strict JSON Lines


def test_examples_pasted_with_the_documentations_arrows(
    run_shell: Any, q35: QemuProcess, tmp_path: Path
) -> None:
    """As QEMU's documentation prints them: '->' before each command, '<-' before each
    reply. The commands run (the arrow is not sent), the replies are read past."""
    log = tmp_path / "arrows.jsonl"
    parts = []
    for text, _ in EXAMPLES[:6]:
        first, *rest = text.split("\n")
        parts.append("\n".join([f"-> {first}", *(f"   {line}" for line in rest)]))
        parts.append('<- { "return": {}\n   }')
    result = run_shell("-l", str(log), q35.qmp, stdin="\n".join(parts) + "\n")
    assert result.status == 0, result.stderr
    assert len(result.messages()) == 6
    wire = [e.get("raw") or json.dumps(e["msg"]) for e in sent(log)]
    assert len(wire) == 6 and not any("->" in text for text in wire)


def test_raw_lines_are_pipelined_unless_qemu_may_not_parse_them(
    run_shell: Any, qemu: QemuProcess, tmp_path: Path
) -> None:
    """Clean raw lines go as many at a time as shorthand does; behind one QEMU may not
    parse (a key twice), nothing is sent until its reply has come."""
    log = tmp_path / "pipe.jsonl"
    clean = ['{"execute": "query-name"}'] * 30
    doubtful = '{"execute": "query-name", "x": 1, "x": 2}'
    script = "\n".join([*clean, doubtful, *clean]) + "\n"
    result = run_shell("-l", str(log), qemu.qmp, stdin=script)
    assert result.status == 1
    entries = [e for e in transcript(log) if not _shells_own(e.get("msg", {}))]
    entries = entries[next(i for i, e in enumerate(entries) if e["dir"] == "send") :]
    # In flight together: some send comes before the reply to the first.
    first_reply = next(i for i, e in enumerate(entries) if e["dir"] == "recv")
    assert first_reply > 1
    doubtful_at = next(i for i, e in enumerate(entries) if "raw" in e)
    after = entries[doubtful_at + 1 :]
    answered = next(i for i, e in enumerate(after) if e["dir"] == "recv" and "id" not in e["msg"])
    assert all(e["dir"] == "recv" for e in after[: answered + 1])
