"""The rows the bottom toolbar shows above its status line: the argument at the cursor,
described, and one progress bar per job or migration that runs (none when nothing does),
each fitted to the terminal's width and escaped (ids come from QEMU)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..escape import escape_text
from ..language.mode import Mode
from ..session.jobtext import progress_line
from .screen import status_line

if TYPE_CHECKING:
    from prompt_toolkit.formatted_text import StyleAndTextTuples

    from ..session.fleet import Member
    from ..session.runner import LineRunner


def signature_row(runner: LineRunner, text_before_cursor: str) -> StyleAndTextTuples:
    """The argument at the cursor, described, while a QMP command is being typed."""
    from ..language.candidates import signature
    from ..language.suggest import suggest

    if runner.mode is not Mode.QMP:
        return []
    schema = runner.parser.schema
    line = signature(schema, suggest(text_before_cursor, schema, runner.in_transaction))
    if line is None:
        return []
    return [("class:bottom-toolbar.signature", f" {escape_text(line)} \n")]


def job_rows(runner: LineRunner, width: int) -> StyleAndTextTuples:
    """A bar per running job, redrawn as the job watch polls (twice a second)."""
    return [
        ("class:bottom-toolbar.job", f" {escape_text(progress_line(job, width - 2))} \n")
        for job in runner.jobs.table.running()
    ]


def status_row(member: Member, width: int, of: int = 1, lost: int = 0) -> StyleAndTextTuples:
    """The status line: what the member talks to (its name, of ``of`` connections,
    ``lost`` of them lost), its QEMU and state, the mode, the events hidden."""
    runner = member.runner
    target = member.name if of > 1 else member.address
    parts = member.parts()
    if runner.mode is Mode.HMP:
        parts.append("HMP" if runner.cpu_index is None else f"HMP, CPU {runner.cpu_index}")
    else:
        parts.append("QMP transaction" if runner.in_transaction else "QMP")
    unseen = runner.events.unseen
    if unseen:
        parts.append(f"{unseen} event{'s' if unseen != 1 else ''} hidden")
    if of > 1:
        parts.append(f"{of} targets" + (f", {lost} lost" if lost else "") + " (/targets)")
    shown = status_line(escape_text(target), [escape_text(part) for part in parts], width)
    return [("class:bottom-toolbar", shown)]
