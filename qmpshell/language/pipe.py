"""A reply through a shell pipe: ``LINE |! COMMAND``.

The first ``|!`` outside quotes, bracketed values and JSON strings ends the line; what
follows it is the user's own shell command, verbatim. ``|!`` cannot be mistaken for the
one-line transaction's ``|``, a word of its own. Where ``|!`` stands is found by the
grammar of the line before it, so that the part before means what it would mean alone:

    shorthand       quoted runs and ``key=[...]``/``key={...}`` literals, as
                    :func:`~qmpshell.language.syntax.split_words` reads them
    raw JSON, HMP   double-quoted strings, backslash escapes inside
    /qmp LINE       LINE as QMP;  /hmp LINE: LINE as HMP
    other /meta     refused: they have no reply to give

Pure: nothing is run here (:mod:`qmpshell.session.pipe` runs the command).
"""

from __future__ import annotations

from ..errors import InputError
from ..records import Record
from .mode import Mode
from .rawjson import is_raw_json
from .syntax import literal_end, quoted_end

PIPE = "|!"


class Piped(Record):
    """A line whose reply goes to a shell command."""

    line: str  # the QMP or HMP line, as typed (a /qmp or /hmp line's LINE)
    mode: Mode  # which monitor it is for
    command: str  # the shell command, verbatim but for outer spaces
    column: int  # where ``|!`` stands in the line as typed


def pipe_column(line: str, mode: Mode) -> int:
    """Where the ``|!`` that ends ``line`` (a line of ``mode``) stands, or -1: none
    outside quotes, literals and strings."""
    if PIPE not in line:  # the usual case, at C speed: a line may be megabytes
        return -1
    text = line.lstrip()
    if text.startswith("#"):
        return -1  # a comment: nothing runs
    if text.startswith("/"):
        head = text.split(None, 1)[0]
        start = len(line) - len(text) + len(head)
        if head == "/qmp":
            return _line_pipe(line, start, Mode.QMP)
        if head == "/hmp":
            return _line_pipe(line, start, Mode.HMP)
        return _shorthand_pipe(line, start)
    return _line_pipe(line, 0, mode)


def split_pipe(line: str, mode: Mode) -> Piped | None:
    """``line`` cut at its ``|!``, or None when it has none (or it is ``/all LINE``'s,
    whose LINE is cut on each connection). Refused with the column: a ``|!`` with no
    command after it, or nothing before it, or after a meta-command that has no reply
    (``/watch``, ``/help``...)."""
    column = pipe_column(line, mode)
    if column < 0:
        return None
    command = line[column + len(PIPE) :].strip()
    if not command:
        raise InputError(
            "'|!' needs a shell command after it (such as: query-block |! jq -r '.[].device')",
            column,
            incomplete=True,
        )
    before = line[:column]
    text = before.lstrip()
    if text.startswith("/"):
        head = text.split(None, 1)[0]
        if head == "/all":  # the pipe is LINE's: each connection's reply through its own
            inner = line.lstrip()[len(head) :]
            try:
                split_pipe(inner, mode)
            except InputError as exc:
                at = None if exc.column is None else exc.column + len(line) - len(inner)
                raise InputError(str(exc), at, exc.incomplete) from None
            return None
        if head not in ("/qmp", "/hmp"):
            raise InputError(
                f"{head} has no reply to send through a pipe; '|!' goes after a QMP or "
                "HMP line (or /qmp LINE, /hmp LINE)",
                column,
            )
        mode = Mode.QMP if head == "/qmp" else Mode.HMP
        before = text[len(head) :].strip()
    if not before.strip():
        raise InputError("'|!' needs a command before it, whose reply it takes", column)
    return Piped(before, mode, command, column)


def _line_pipe(line: str, start: int, mode: Mode) -> int:
    if mode is Mode.HMP or is_raw_json(line[start:]):
        return _string_pipe(line, start)
    return _shorthand_pipe(line, start)


def _shorthand_pipe(line: str, start: int) -> int:
    """The first ``|!`` from ``start`` outside what ``split_words`` takes whole: quoted
    runs, and the bracketed literal right after a word's first ``=``."""
    i = start
    n = len(line)
    after_equals = False  # the current word has had its first "="
    while i < n:
        char = line[i]
        if char.isspace():
            after_equals = False
            i += 1
        elif char in "\"'":
            i = quoted_end(line, i)
        elif char == "=" and not after_equals:
            after_equals = True
            i += 1
            if i < n and line[i] in "{[":
                i = literal_end(line, i)
        elif char == "|" and line.startswith("!", i + 1):
            return i
        else:
            i += 1
    return -1


def _string_pipe(line: str, start: int) -> int:
    """The first ``|!`` from ``start`` outside double-quoted strings (JSON's, and HMP's
    quoted arguments): backslash escapes inside, an unclosed string to the end."""
    i = start
    n = len(line)
    while True:
        pipe = line.find(PIPE, i)
        quote = line.find('"', i)
        if pipe < 0:
            return -1
        if quote < 0 or pipe < quote:
            return pipe
        i = quote + 1
        while i < n and line[i] != '"':
            i += 2 if line[i] == "\\" else 1
        i += 1
