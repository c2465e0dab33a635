"""One script on many targets: ``qmpshell -c query-status SOCK1 SOCK2 ...``.

Each target's run is a qmpshell of its own (``python -m qmpshell``, the same options, one
target), up to ``--jobs`` at a time: a target that cannot be reached, hangs or dies fails
alone, and each run is the one-shot script it would be by itself (57 ms against a local
QEMU). What they write comes back through pipes and is passed on a line at a time,
tagged with the target's name, the lines of one target in their order:

- a JSON object on stdout (a reply, an event) gains ``"target"`` as its first member, so
  JSON Lines stay JSON Lines (``jq 'select(.target == "web1")'``);
- any other line (HMP's text, ``-p``'s indented JSON, ``-r``'s values) is prefixed
  ``NAME: ``;
- stderr's ``qmpshell: ...`` becomes ``qmpshell: NAME: ...``.

A line is passed on whole (a long one in pieces as it comes, with no other target's line
in between). The exit status is the worst of all, and stderr ends with one line per
failed target. A signal (Ctrl-C, SIGTERM, SIGHUP) is passed to the runs still going, no
run is started after it, and the command then ends as that signal says.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Sequence

from ..errors import ExitStatus
from ..escape import escape_text
from ..records import Record

_CHUNK = 256 * 1024
_HEAD = 16  # what tagging a line looks at of its start ("qmpshell: ", "{}")
_SIGNALS = {
    signal.SIGINT: ExitStatus.INTERRUPTED,
    signal.SIGTERM: ExitStatus.TERMINATED,
    signal.SIGHUP: ExitStatus.HANGUP,
}
_MEANING = {
    ExitStatus.COMMAND_FAILED: "a command failed",
    ExitStatus.USAGE: "bad usage",
    ExitStatus.CONNECTION: "no connection, or it was lost",
    ExitStatus.INTERRUPTED: "interrupted",
    ExitStatus.TERMINATED: "terminated",
    ExitStatus.HANGUP: "hung up",
}


class FanTarget(Record):
    """One target of a fan-out: its name in the output and the words that name it to a
    qmpshell of its own (an address; ``--libvirt DOMAIN --connect URI``)."""

    name: str
    words: list[str]


class Streams:
    """Our stdout and stderr, each held by one target from the start of a line to its
    end, so that lines are never mixed."""

    def __init__(self, out: int, err: int) -> None:
        self.fds = {"out": out, "err": err}
        self.locks = {"out": asyncio.Lock(), "err": asyncio.Lock()}

    def write(self, which: str, data: bytes) -> None:
        fd = self.fds[which]
        view = memoryview(data)
        while view:
            written = os.write(fd, view)  # blocking: the relay has nothing else to do
            view = view[written:]


class Tagger:
    """How the lines of one target are marked: JSON objects on stdout gain ``target``
    (unless the output is not JSON Lines), every other line is prefixed."""

    def __init__(self, name: str, json_lines: bool) -> None:
        shown = escape_text(name)
        self.member = b'{"target":' + json.dumps(name).encode() + b","
        self.empty = b'{"target":' + json.dumps(name).encode() + b"}"
        self.prefix = shown.encode("utf-8", "backslashreplace") + b": "
        self.complaint = b"qmpshell: " + self.prefix
        self.json_lines = json_lines

    def head(self, which: str, start: bytes) -> tuple[bytes, int]:
        """What to write before a line that starts with ``start``, and how many of
        ``start``'s bytes it replaces."""
        if which == "err":
            if start.startswith(b"qmpshell: "):
                return self.complaint, len(b"qmpshell: ")
            return self.prefix, 0
        if self.json_lines and start.startswith(b"{"):
            if start.startswith(b"{}"):
                return self.empty, 2
            return self.member, 1
        return self.prefix, 0


async def run_fanout(
    targets: Sequence[FanTarget],
    options: list[str],
    script: bytes | None,
    *,
    jobs: int,
    json_lines: bool,
    out: int = 1,
    err: int = 2,
) -> ExitStatus:
    """Run the script (``-c`` lines among ``options``, or ``script`` fed to each run's
    stdin) on every target, ``jobs`` at a time; the worst exit status."""
    streams = Streams(out, err)
    slots = asyncio.Semaphore(jobs)
    running: set[asyncio.subprocess.Process] = set()
    stopped: list[int] = []
    loop = asyncio.get_running_loop()

    def on_signal(signum: int) -> None:
        stopped.append(signum)
        for process in running:
            if process.returncode is None:
                process.send_signal(signum)

    for signum in _SIGNALS:
        loop.add_signal_handler(signum, on_signal, signum)
    try:

        async def one(target: FanTarget) -> int:
            async with slots:
                if stopped:
                    return _SIGNALS[stopped[0]]  # type: ignore[index]
                return await _run_one(target, options, script, streams, json_lines, running)

        statuses = await asyncio.gather(*(one(target) for target in targets))
    finally:
        for signum in _SIGNALS:
            loop.remove_signal_handler(signum)
    failed = [(t, s) for t, s in zip(targets, statuses) if s != ExitStatus.OK]
    for target, status in failed:
        streams.write("err", _failure_line(target.name, status))
    if stopped:
        return _SIGNALS[stopped[0]]  # type: ignore[index]
    return _worst(statuses)


def _known() -> set[int]:
    return {int(status) for status in ExitStatus}


def _worst(statuses: Sequence[int]) -> ExitStatus:
    """The worst status of all, as an exit status qmpshell documents (a run killed by a
    signal qmpshell does not name counts as a lost connection)."""
    if not statuses:
        return ExitStatus.OK
    worst = max(statuses)
    return ExitStatus(worst) if worst in _known() else ExitStatus.CONNECTION


def _failure_line(name: str, status: int) -> bytes:
    meaning = _MEANING.get(status, "killed")  # type: ignore[call-overload]
    shown = escape_text(name)
    return f"qmpshell: {shown}: failed, exit status {status} ({meaning})\n".encode(
        "utf-8", "backslashreplace"
    )


async def _run_one(
    target: FanTarget,
    options: list[str],
    script: bytes | None,
    streams: Streams,
    json_lines: bool,
    running: set[asyncio.subprocess.Process],
) -> int:
    """One target's run, its output passed on tagged; its exit status."""
    words = [sys.executable, "-m", "qmpshell", *options, f"--target-name={target.name}"]
    try:
        process = await asyncio.create_subprocess_exec(
            *words,
            *target.words,
            stdin=asyncio.subprocess.DEVNULL if script is None else asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except OSError as exc:
        streams.write(
            "err", _tagger(target, json_lines).complaint + str(exc.strerror or exc).encode() + b"\n"
        )
        return ExitStatus.CONNECTION
    running.add(process)
    try:
        tagger = _tagger(target, json_lines)
        assert process.stdout is not None and process.stderr is not None
        feeding = _feed(process, script) if script is not None else asyncio.sleep(0)
        await asyncio.gather(
            feeding,
            relay(process.stdout, "out", tagger, streams),
            relay(process.stderr, "err", tagger, streams),
        )
        returncode = await process.wait()
    finally:
        running.discard(process)
    if returncode < 0:  # killed by a signal; as a shell reports it
        return 128 - returncode
    return returncode


def _tagger(target: FanTarget, json_lines: bool) -> Tagger:
    return Tagger(target.name, json_lines)


async def _feed(process: asyncio.subprocess.Process, script: bytes) -> None:
    """The script, whole, on the run's stdin; a run that ended early is no error."""
    stdin = process.stdin
    assert stdin is not None
    try:
        stdin.write(script)
        await stdin.drain()
    except (BrokenPipeError, ConnectionResetError):
        pass
    finally:
        stdin.close()


async def relay(reader: asyncio.StreamReader, which: str, tagger: Tagger, streams: Streams) -> None:
    """Pass one stream on a line at a time, each tagged; the stream's lock held from a
    line's first byte to its newline."""
    lock = streams.locks[which]
    pending = b""  # a line's start, kept until it says how to tag it
    in_line = False
    while True:
        chunk = await reader.read(_CHUNK)
        if not chunk:
            break
        data = pending + chunk
        pending = b""
        at = 0
        while at < len(data):
            if not in_line:
                if len(data) - at < _HEAD and b"\n" not in data[at:]:
                    pending = data[at:]  # too little yet to say how to tag the line
                    break
                await lock.acquire()
                in_line = True
                head, skip = tagger.head(which, data[at : at + _HEAD])
                streams.write(which, head)
                at += skip
            end = data.find(b"\n", at)
            if end < 0:
                streams.write(which, data[at:])
                break
            streams.write(which, data[at : end + 1])
            at = end + 1
            in_line = False
            lock.release()
    if pending or in_line:  # the last line had no newline: give it one
        if not in_line:
            await lock.acquire()
            head, skip = tagger.head(which, pending)
            streams.write(which, head + pending[skip:])
        streams.write(which, b"\n")
        lock.release()
