"""What differs between a reply a transcript recorded and the reply QEMU gives now.

``--replay`` sends a transcript's commands again and compares each reply with the
recorded one, leaving out what is different on every run whatever QEMU does: ids, event
timestamps, host thread ids, the clocks and counters of a migration or a job. Such a part
is named by a path of keys and list indexes (``return.0.thread-id``), each step a glob
(``return.*.thread-id``), optionally for one command only (``query-migrate:return.ram``);
``--ignore PATH`` adds one. A value the transcript wrote as ``"<redacted>"`` (a secret)
is not compared either. Pure: no I/O.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable, Mapping, Sequence

from ..errors import InputError
from ..records import Record
from .redaction import REDACTED

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# What differs on every run, whatever QEMU does (README, "Replaying a transcript").
VOLATILE = (
    "id",  # ours on each run
    "timestamp",  # an event's
    "return.*.thread-id",  # query-cpus-fast, query-iothreads: host threads
    "query-migrate:return.*-time",  # total-time, setup-time, expected-downtime...
    "query-migrate:return.downtime",
    "query-migrate:return.ram",
    "query-migrate:return.disk",
    "query-migrate:return.xbzrle-cache",
    "query-jobs:return.*.current-progress",
    "query-block-jobs:return.*.offset",
    "query-block-jobs:return.*.speed",
)

# A value shown in a difference is cut to this many characters.
SHOWN = 60


class Difference(Record):
    """One place where the replies differ; ``recorded`` or ``now`` is :data:`ABSENT` when
    that reply has nothing there."""

    path: str
    recorded: Any
    now: Any


class _Absent:
    def __repr__(self) -> str:
        return "absent"


ABSENT: Any = _Absent()


class IgnoredPaths:
    """The parts of replies left out of the comparison: :data:`VOLATILE` and the user's."""

    def __init__(self, extra: Iterable[str] = ()) -> None:
        self.rules = [parse_ignore(spec) for spec in (*VOLATILE, *extra)]

    def ignores(self, command: str, path: Sequence[str]) -> bool:
        """Whether the part at ``path`` of a reply to ``command`` is left out."""
        for only, steps in self.rules:
            if only is not None and only != command:
                continue
            if len(steps) == len(path) and all(
                fnmatch.fnmatchcase(step, glob) for step, glob in zip(path, steps)
            ):
                return True
        return False


def parse_ignore(spec: str) -> tuple[str | None, tuple[str, ...]]:
    """``[COMMAND:]PATH`` as (the command or None, the path's steps); InputError when it
    names no path."""
    command, colon, path = spec.partition(":")
    if not colon:
        command, path = "", spec
    steps = tuple(path.split("."))
    if not path or any(not step for step in steps) or (colon and not command):
        raise InputError(f"--ignore '{spec}': expected [COMMAND:]PATH such as return.*.thread-id")
    return (command or None), steps


def differences(recorded: Any, now: Any, command: str, ignored: IgnoredPaths) -> list[Difference]:
    """Every place where ``now`` differs from ``recorded`` (two replies to ``command``),
    outside the parts ``ignored``; empty when they agree. ``true`` and ``1`` differ, as
    in JSON; ``1`` and ``1.0`` do not."""
    found: list[Difference] = []
    _compare(recorded, now, (), command, ignored, found)
    return found


def _compare(
    recorded: Any,
    now: Any,
    path: tuple[str, ...],
    command: str,
    ignored: IgnoredPaths,
    found: list[Difference],
) -> None:
    if path and ignored.ignores(command, path):
        return
    if recorded == REDACTED:
        return  # the transcript left the secret out: nothing to compare, nothing to show
    if isinstance(recorded, Mapping) and isinstance(now, Mapping):
        for key in [*recorded, *(key for key in now if key not in recorded)]:
            before, after = recorded.get(key, ABSENT), now.get(key, ABSENT)
            _compare(before, after, (*path, key), command, ignored, found)
    elif _is_list(recorded) and _is_list(now):
        for index in range(max(len(recorded), len(now))):
            _compare(
                recorded[index] if index < len(recorded) else ABSENT,
                now[index] if index < len(now) else ABSENT,
                (*path, str(index)),
                command,
                ignored,
                found,
            )
    elif not _same(recorded, now):
        found.append(Difference(".".join(path), recorded, now))


def _is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def _same(recorded: Any, now: Any) -> bool:
    if isinstance(recorded, bool) or isinstance(now, bool):
        return recorded is now
    if isinstance(recorded, (int, float)) and isinstance(now, (int, float)):
        return recorded == now
    return type(recorded) is type(now) and recorded == now


def shown(value: Any) -> str:
    """A value of a difference in a few characters: its JSON, cut."""
    if value is ABSENT:
        return "absent"
    try:
        text = json.dumps(value, ensure_ascii=False, default=list)
    except ValueError:  # NaN, a cycle: not from JSON, but say something
        text = repr(value)
    return text if len(text) <= SHOWN else text[: SHOWN - 3] + "..."


def describe(found: list[Difference], most: int = 3) -> str:
    """The differences of one reply on one line: ``return.running: true recorded, false
    now; ...`` (the first ``most``, and how many more)."""
    parts = [
        f"{difference.path or 'the reply'}: {shown(difference.recorded)} recorded, "
        f"{shown(difference.now)} now"
        for difference in found[:most]
    ]
    if len(found) > most:
        parts.append(f"and {len(found) - most} more")
    return "; ".join(parts)
