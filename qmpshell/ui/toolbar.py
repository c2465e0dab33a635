"""The rows the bottom toolbar shows above its status line: the argument at the cursor,
described, and one progress bar per job or migration that runs (none when nothing does),
each fitted to the terminal's width and escaped (ids come from QEMU)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..escape import escape_text
from ..language.mode import Mode
from ..session.jobtext import progress_line

if TYPE_CHECKING:
    from prompt_toolkit.formatted_text import StyleAndTextTuples

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
