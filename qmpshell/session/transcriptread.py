"""A ``-l`` transcript read back as what ``--replay`` does again: the commands the
session's lines sent, each with the reply recorded for it, and where the session waited.

The transcript's format is :mod:`qmpshell.protocol.transcript`'s (README, "The transcript").
A command is the message of a ``send`` line marked ``"user": true``; in a transcript
written before that mark existed, every command but the negotiation after each greeting.
Its recorded reply is the ``recv`` line with its id (without id: QEMU could not parse it,
the oldest command not answered). Events are not replayed: a ``wait`` line says where the
session waited for one. Pure: lines in, steps out.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Union

from ..errors import QMPShellError
from ..language.redaction import REDACTED
from ..limits import nesting_exceeds
from ..protocol.message import id_key
from ..records import Record

Message = dict[str, Any]


class TranscriptError(QMPShellError):
    """A transcript that is not one: ``str()`` names the line of the file."""


class NotReplayable(TranscriptError):
    """A transcript, but not one a replay can send again (several connections')."""


class Command(Record):
    """A command to send again: the transcript's line number, the message as recorded
    (its id the recording's), and the reply recorded (None: none came)."""

    line: int
    message: Message
    reply: Message | None = None

    @property
    def name(self) -> str:
        return str(self.message.get("execute", self.message.get("exec-oob", "")))


class Await(Record):
    """Where the session waited: ``{"event": PATTERN, "data": {...}, "timeout": S}`` or
    ``{"job": ID, "timeout": S}``."""

    line: int
    wait: Message


class Unsendable(Record):
    """A command that cannot be sent again, and why (a secret the transcript left out)."""

    line: int
    name: str
    why: str


Step = Union[Command, Await, Unsendable]


def read_transcript(lines: Iterable[str]) -> list[Step]:
    """The steps of a transcript's lines, in order; :class:`TranscriptError` on a line
    that is not a transcript's."""
    entries: list[tuple[int, dict[str, Any]]] = []
    for number, text in enumerate(lines, 1):
        entry = _entry(number, text)
        if entry is not None:
            entries.append((number, entry))
    if not entries:
        raise TranscriptError("it is empty")
    _one_connection(entries)
    marked = any(entry.get("user") is True for _, entry in entries)
    steps: list[Step] = []
    waiting: dict[Any, int] = {}  # the id of each command sent, to its step
    unanswered: list[int] = []  # the steps whose reply has not come, oldest first
    greeted = False  # a greeting came and nothing was sent since: next is the negotiation
    for number, entry in entries:
        direction = entry["dir"]
        if direction == "wait":
            wait = entry.get("wait")
            if not isinstance(wait, dict) or not _is_wait(wait):
                raise TranscriptError(f"line {number}: a wait without an event or job")
            steps.append(Await(number, wait))
        elif direction == "send":
            message = entry.get("msg")
            negotiation = greeted and _execute(message) == "qmp_capabilities"
            greeted = False
            own = entry.get("user") is not True if marked else negotiation
            if own:
                continue  # the shell's own
            if not isinstance(message, dict):
                why = "not sent: the transcript kept it as text only"
                steps.append(Unsendable(number, "a raw line", why))
                continue
            if _holds_redacted(message):
                why = "not sent: the transcript left its secret out (--log-secrets keeps it)"
                steps.append(Unsendable(number, _execute(message), why))
                continue
            waiting[id_key(message.get("id"))] = len(steps)
            unanswered.append(len(steps))
            steps.append(Command(number, message))
        else:
            message = entry.get("msg")
            if not isinstance(message, dict):
                continue  # a peer's nonsense, kept as it came
            if "QMP" in message:
                greeted = True
            elif "event" not in message:
                _answer(steps, waiting, unanswered, message)
    return steps


def _one_connection(entries: list[tuple[int, dict[str, Any]]]) -> None:
    """Refuse the transcript of several connections (a fan-out's, a session's after
    /connect): its commands went to different QEMUs, and one replay goes to one."""
    names: list[str] = []
    for _, entry in entries:
        target = entry.get("target")
        if target is not None and str(target) not in names:
            names.append(str(target))
    if len(names) > 1:
        shown = ", ".join(repr(name[:40]) for name in names[:3])
        more = f" and {len(names) - 3} more" if len(names) > 3 else ""
        raise NotReplayable(
            f"it holds the messages of {len(names)} connections ({shown}{more}), and a replay goes "
            f"to one QEMU: keep one's lines first, e.g. jq -c 'select(.target == "
            f'"{names[0][:40]}" or .target == null)\''
        )


def _entry(number: int, text: str) -> dict[str, Any] | None:
    if not text.strip():
        return None
    try:
        entry = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise TranscriptError(f"line {number}: not JSON ({_reason(exc)})") from None
    if not isinstance(entry, dict) or entry.get("dir") not in ("send", "recv", "wait"):
        raise TranscriptError(f'line {number}: not a transcript line ("dir" send, recv or wait)')
    if nesting_exceeds(entry):
        raise TranscriptError(f"line {number}: nested too deep")
    return entry


def _is_wait(wait: dict[str, Any]) -> bool:
    """A wait line's object names an event (a glob) or a job, each one word."""
    what = wait.get("event", wait.get("job"))
    return isinstance(what, str) and bool(what) and len(what.split()) == 1


def _reason(exc: Exception) -> str:
    return exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deep"


def _execute(message: Any) -> str:
    if not isinstance(message, dict):
        return ""
    return str(message.get("execute", message.get("exec-oob", "")))


def _holds_redacted(value: Any) -> bool:
    if value == REDACTED:
        return True
    if isinstance(value, dict):
        return any(_holds_redacted(item) for item in value.values())
    if isinstance(value, list):
        return any(_holds_redacted(item) for item in value)
    return isinstance(value, str) and REDACTED in value  # an HMP line's part


def _answer(
    steps: list[Step], waiting: dict[Any, int], unanswered: list[int], reply: Message
) -> None:
    """Give ``reply`` to the command it answers, if it is one of those replayed."""
    if "id" in reply:
        index = waiting.pop(id_key(reply.get("id")), None)
    else:  # QEMU could not parse the command: the oldest one not answered
        index = unanswered[0] if unanswered else None
    if index is None:
        return
    if index in unanswered:
        unanswered.remove(index)
    step = steps[index]
    assert isinstance(step, Command)
    if step.reply is None:
        steps[index] = Command(step.line, step.message, reply)
