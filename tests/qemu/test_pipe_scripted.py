"""``LINE |! COMMAND`` in scripts, against real QEMU: the reply's return value (HMP: its
text) on the command's stdin, its output in the line's place, its failures failing the
line. The commands are coreutils' and python3's, so that the tests need no jq."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from conftest import QemuProcess
from waiting import processes_with

PY = sys.executable  # a JSON reader every machine with the tests has


def test_the_return_value_goes_to_the_command_as_one_json_line(
    run_shell: Any, qemu: QemuProcess
) -> None:
    result = run_shell(
        "-c", f"query-status |! {PY} -c 'import json,sys; print(json.load(sys.stdin)[\"status\"])'",
        "-c", "query-status |! cat",
        qemu.qmp,
    )  # fmt: skip
    assert (result.status, result.stderr) == (0, "")
    status, raw = result.stdout.splitlines()
    assert status == "running"
    assert json.loads(raw) == run_shell("-r", "-c", "query-status", qemu.qmp).messages()[0]
    assert " " not in raw  # compact: one line, whatever the command does with it


def test_outputs_stay_in_the_order_of_the_lines(run_shell: Any, qemu: QemuProcess) -> None:
    lines = []
    for n in range(20):  # piped and plain lines mixed, pipelined where they may be
        lines.append(f"query-name |! {PY} -c 'import sys; sys.stdin.read(); print({n})'")
        lines.append(json.dumps({"execute": "query-name", "id": n}))
    result = run_shell(qemu.qmp, stdin="\n".join(lines) + "\n")
    assert result.status == 0, result.stderr
    out = result.stdout.splitlines()
    assert out[0::2] == [str(n) for n in range(20)]
    assert [json.loads(line)["id"] for line in out[1::2]] == list(range(20))


def test_raw_json_and_transactions_pipe_too(run_shell: Any, qemu: QemuProcess) -> None:
    result = run_shell(
        "-c", '{"execute": "query-status"} |! tr a-z A-Z',
        "-c", "transaction( ) |! wc -c",  # an empty transaction returns {}
        qemu.qmp,
    )  # fmt: skip
    assert (result.status, result.stderr) == (0, "")
    upper, size = result.stdout.splitlines()
    assert upper.startswith('{"STATUS":"RUNNING",') and upper.endswith('"RUNNING":TRUE}')
    assert size == "3"


def test_an_error_reply_is_shown_and_the_command_not_run(
    run_shell: Any, qemu: QemuProcess, tmp_path: Path
) -> None:
    ran = tmp_path / "ran"
    result = run_shell(
        "-c", f'{{"execute": "query-nosuch"}} |! touch {ran}',
        "-c", f"query-nosuch |! touch {ran}",  # refused by the schema, before sending
        qemu.qmp,
    )  # fmt: skip
    assert result.status == 1
    assert result.messages()[0]["error"]["class"] == "CommandNotFound"
    assert "line 2, column 1: unknown command 'query-nosuch'" in result.stderr
    assert "2 of 2 failed: lines 1-2" in result.stderr
    assert not ran.exists()


def test_the_command_failing_fails_the_line(run_shell: Any, qemu: QemuProcess) -> None:
    result = run_shell(
        "-c", "query-status |! exit 3",
        "-c", "query-status |! no-such-program-here",
        "-c", "query-status |! echo said >&2",
        "-c", "query-status |! kill -9 $$",
        qemu.qmp,
    )  # fmt: skip
    assert result.status == 1
    assert result.stdout == ""
    err = result.stderr.splitlines()
    assert "qmpshell: line 1: pipe exited with status 3" in err
    assert any("no-such-program-here" in line and "not found" in line for line in err)
    assert "qmpshell: line 2: pipe exited with status 127" in err
    assert "said" in err  # the command's stderr, as it wrote it
    assert "qmpshell: line 4: pipe killed by SIGKILL" in err
    assert "3 of 4 failed: lines 1-2, 4" in result.stderr


def test_a_pipe_without_a_command_is_one_line_with_its_column(
    run_shell: Any, qemu: QemuProcess
) -> None:
    result = run_shell("-c", "query-status |!", "-c", "query-name", qemu.qmp)
    assert result.status == 1
    assert result.messages() == [{"return": {}}]  # the script went on
    assert "line 1, column 14: '|!' needs a shell command after it" in result.stderr


def test_a_big_reply_goes_through_whole(run_shell: Any, qemu: QemuProcess) -> None:
    """The schema (200 KB and more) written while its output is read: no deadlock,
    even for a command that writes as much as it reads."""
    whole = run_shell("-r", "-c", "query-qmp-schema", qemu.qmp)
    size = len(whole.stdout.encode())
    result = run_shell(
        "-c", "query-qmp-schema |! wc -c",
        "-c", "query-qmp-schema |! cat",
        "-c", "query-qmp-schema |! head -c 10",  # stops reading early: no failure
        qemu.qmp,
    )  # fmt: skip
    assert (result.status, result.stderr) == (0, ""), result.stderr
    count, copy, head = result.stdout.split("\n", 2)
    assert int(count) == size > 100_000
    assert copy == whole.stdout.rstrip("\n")
    assert head == whole.stdout[:10] + "\n"  # a last line without newline is ended


def test_hmp_text_goes_to_the_command(run_shell: Any, q35: QemuProcess) -> None:
    result = run_shell(
        "-c", "/hmp info status |! tr a-z A-Z",
        "-c", "/hmp",
        "-c", "info status |! od -c | grep -c '\\\\r'",  # QEMU's CRLF made newlines
        "-c", "info nosuch |! cat",  # HMP's failure: shown, not piped
        "-c", "/qmp query-name |! cat",
        q35.qmp,
    )  # fmt: skip
    assert result.status == 1
    assert result.stdout.splitlines()[:2] == ["VM STATUS: PAUSED (PRELAUNCH)", "0"]
    assert "line 3: pipe exited with status 1" in result.stderr  # grep found no \r
    assert result.stdout.splitlines()[2:] == ["unknown command: 'info nosuch'", "{}"]
    assert "2 of 5 failed: lines 3-4" in result.stderr


def test_a_meta_command_has_no_reply_to_pipe(run_shell: Any, qemu: QemuProcess) -> None:
    result = run_shell("-c", "/watch -c 1 query-name |! cat", qemu.qmp)
    assert result.status == 1
    assert "column 24: /watch has no reply to send through a pipe" in result.stderr


def test_the_transcript_holds_the_messages_only(
    run_shell: Any, qemu: QemuProcess, tmp_path: Path
) -> None:
    log = tmp_path / "t.jsonl"
    result = run_shell("-l", str(log), "-c", "query-status |! : pipe-marker", qemu.qmp)
    assert result.status == 0, result.stderr
    sent = [json.loads(line) for line in log.read_text().splitlines()]
    assert not any("pipe-marker" in json.dumps(entry) for entry in sent)
    assert any("query-status" in json.dumps(entry) for entry in sent)


def test_a_reader_gone_ends_a_command_that_writes_for_ever(
    shell_env: dict[str, str], qemu: QemuProcess
) -> None:
    """``| head -1`` after ``|! yes``: the command's output, unread, must not keep the
    script from ending (quietly, as by SIGPIPE), nor leave the command running."""
    marker = f"pipe-for-ever-{os.getpid()}"
    proc = subprocess.Popen(
        [PY, "-m", "qmpshell", "-c", f"query-status |! yes; : {marker}", qemu.qmp],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=shell_env,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline() == b"y\n"
    proc.stdout.close()
    assert proc.wait(timeout=20) in (141, -13)  # the shell's report of SIGPIPE, or it
    assert b"Traceback" not in proc.stderr.read()
    assert not processes_with(marker)


def test_a_guest_agents_reply_pipes_too(run_shell: Any, agent: Any) -> None:
    version = f"{PY} -c 'import json,sys; print(json.load(sys.stdin)[\"version\"])'"
    result = run_shell("--ga", agent.path, "-c", f"guest-info |! {version}")
    assert (result.status, result.stderr) == (0, "")
    assert result.stdout.strip().split(".")[0].isdigit()


def test_exit_on_error_stops_at_a_failed_pipe(run_shell: Any, qemu: QemuProcess) -> None:
    result = run_shell("-e", "-c", "query-status |! false", "-c", "query-name", qemu.qmp)
    assert result.status == 1
    assert result.stdout == ""  # query-name never ran
    assert "line 1: pipe exited with status 1" in result.stderr


def test_a_pipe_goes_on_the_line_that_sends_a_transaction_block(
    run_shell: Any, qemu: QemuProcess
) -> None:
    result = run_shell(
        "-c", "transaction(",
        "-c", "abort |! cat",  # refused, and the block stays as it was
        "-c", ") |! wc -c",  # an empty transaction: {}
        qemu.qmp,
    )  # fmt: skip
    assert result.status == 1
    assert "line 2, column 7: this line goes into a transaction block" in result.stderr
    assert result.stdout == ""  # in a script a block with a refused line is not sent
    assert "the transaction is not sent" in result.stderr


class _Recorder:
    """What run_command shows, kept (an interactive display: output gathered)."""

    interactive = True

    def __init__(self) -> None:
        self.said: list[str] = []

    def error(self, text: str) -> None:
        self.said.append(text)

    relay = piped = long_text = error


def test_ctrl_c_at_any_moment_of_the_pipes_start_kills_it_and_returns() -> None:
    """The cancellation (Ctrl-C) comes at every moment of the start, from before the
    fork to after the data was fed: each time it ends in a second, the command's whole
    group dead, and asyncio reports nothing (once: a hang while asyncio connected the
    pipes; an InvalidStateError traceback when the stdin close was cancelled)."""
    import asyncio

    from qmpshell.session.pipe import run_command

    marker = f"pipe-cancel-{os.getpid()}"
    problems: list[str] = []

    async def once(delay: float) -> None:
        recorder = _Recorder()
        data = iter([b"{}\n"])
        task = asyncio.ensure_future(run_command(f"sleep 100; : {marker}", data, recorder))
        await asyncio.sleep(delay)
        task.cancel()
        try:
            await asyncio.wait_for(asyncio.shield(task), 5)
        except asyncio.CancelledError:
            pass
        except asyncio.TimeoutError:
            problems.append(f"hung when cancelled after {delay * 1000:.2f} ms")
        assert recorder.said == []

    async def sweep() -> None:
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(lambda _, context: problems.append(context["message"]))
        for step in range(120):
            await once(step * 0.00005)

    asyncio.run(sweep())
    assert problems == []
    deadline = time.monotonic() + 5
    while processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.05)  # a SIGKILLed shell is gone once its parent has reaped it
    assert not processes_with(marker)
