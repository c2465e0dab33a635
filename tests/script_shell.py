"""qmpshell as a script: a process reading a pipe the test writes to, or one run to its end
with a command line (``run_cli``), and what its exit and stderr must look like."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import IO, Any

# No run of qmpshell here takes longer: the peers answer at once or never.
GUARD = 10.0


class Script:
    """qmpshell reading a pipe the test writes to, a line at a time."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "qmpshell", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def reply(self) -> dict[str, object]:
        """The next line of stdout that is not an event."""
        assert self.proc.stdout is not None
        while True:
            line = self.proc.stdout.readline()
            if not line:
                assert self.proc.stderr is not None
                raise AssertionError(f"qmpshell ended: {self.proc.stderr.read()}")
            message = json.loads(line)
            if "event" not in message:
                return message  # type: ignore[no-any-return]

    def finish(self) -> tuple[int, str]:
        assert self.proc.stdin is not None and self.proc.stderr is not None
        self.proc.stdin.close()
        status = self.proc.wait(timeout=30)
        return status, self.proc.stderr.read()


def run_cli(env: dict[str, str], address: str, *options: str) -> subprocess.CompletedProcess[str]:
    # Raw JSON: a shorthand line would first ask for the schema, which these peers lack.
    command = '{"execute": "query-status"}'
    return subprocess.run(
        [sys.executable, "-m", "qmpshell", *options, "-c", command, address],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=GUARD,
        check=False,
    )


def cli_failure(proc: subprocess.CompletedProcess[str], status: int) -> str:
    """Check the exit status and the one-line complaint on stderr; return the complaint."""
    report = f"exit {proc.returncode}\nstdout: {proc.stdout!r}\nstderr: {proc.stderr!r}"
    assert "Traceback" not in proc.stderr, report
    assert proc.returncode == status, report
    assert proc.stderr.count("\n") == 1 and proc.stderr.endswith("\n"), report
    assert proc.stderr.startswith("qmpshell: "), report
    return proc.stderr.rstrip("\n")


def cli_success(proc: subprocess.CompletedProcess[str]) -> list[Any]:
    """Check a clean exit; return the JSON lines printed."""
    assert (proc.returncode, proc.stderr) == (0, ""), proc
    return [json.loads(line) for line in proc.stdout.splitlines()]


def stderr_line(stream: IO[str] | None, pattern: str) -> str:
    """The next line of a script's stderr, which must hold ``pattern``."""
    assert stream is not None
    line = stream.readline()
    assert pattern in line, line
    return line
