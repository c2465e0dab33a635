"""qmpshell as a script: a process reading a pipe the test writes to."""

from __future__ import annotations

import json
import subprocess
import sys


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
