"""``LINE |! COMMAND``: where a line ends and its shell command starts, and what is refused."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qmpshell.errors import InputError
from qmpshell.language.mode import Mode
from qmpshell.language.pipe import Piped, pipe_column, split_pipe
from qmpshell.language.shorthand import parse_line
from qmpshell.language.suggest import Kind, suggest
from qmpshell.language.syntax import render_value

QMP, HMP = Mode.QMP, Mode.HMP


@pytest.mark.parametrize(
    ("line", "mode", "expected"),
    [
        ("query-block |! jq -r '.[].device'", QMP, ("query-block ", QMP, "jq -r '.[].device'")),
        ("query-status|!cat", QMP, ("query-status", QMP, "cat")),
        # the command is verbatim: its own |, |! and quotes are the shell's
        (
            "query-status |! jq . | grep -c x |! y",
            QMP,
            ("query-status ", QMP, "jq . | grep -c x |! y"),
        ),
        (
            '{"execute": "query-status"} |! jq .status',
            QMP,
            ('{"execute": "query-status"} ', QMP, "jq .status"),
        ),
        (
            '-> {"execute": "query-status"} |! cat',
            QMP,
            ('-> {"execute": "query-status"} ', QMP, "cat"),
        ),
        ("info block |! grep -c drive", HMP, ("info block ", HMP, "grep -c drive")),
        ("/hmp info block |! wc -l", QMP, ("info block", HMP, "wc -l")),
        ("/qmp query-status |! cat", HMP, ("query-status", QMP, "cat")),
        # the one-line transaction's | is a word of its own, not a pipe
        (
            "transaction( abort | abort ) |! jq .",
            QMP,
            ("transaction( abort | abort ) ", QMP, "jq ."),
        ),
    ],
)
def test_a_line_is_cut_at_its_pipe(line: str, mode: Mode, expected: tuple[str, Mode, str]) -> None:
    piped = split_pipe(line, mode)
    assert piped is not None
    assert (piped.line, piped.mode, piped.command) == expected
    assert line[piped.column : piped.column + 2] == "|!"


@pytest.mark.parametrize(
    ("line", "mode"),
    [
        ("query-status", QMP),
        ("cmd a='x |! y'", QMP),
        ('cmd a="x |! y"', QMP),
        ('cmd a=x"|!"y', QMP),
        ('cmd a=["|!", 1]', QMP),
        ("cmd a={'k': '|!'}", QMP),
        ('cmd a="unclosed |! y', QMP),  # the quote runs to the end: the parser refuses it
        ('{"execute": "x", "arguments": {"a": "|!"}}', QMP),
        ('{"execute": "x", "arguments": {"a": "\\" |!"}}', QMP),
        ('qemu-io drive0 "write |! 0 4k"', HMP),
        ("transaction( a | b )", QMP),
        ("cmd a=| b=!", QMP),
        ("# a comment |! not run", QMP),
    ],
)
def test_a_pipe_inside_quotes_literals_and_strings_is_text(line: str, mode: Mode) -> None:
    assert split_pipe(line, mode) is None
    assert pipe_column(line, mode) == -1


@pytest.mark.parametrize(
    ("line", "column", "says"),
    [
        ("query-status |!", 13, "needs a shell command after it"),
        ("query-status |!   ", 13, "needs a shell command after it"),
        ("|! cat", 0, "needs a command before it"),
        ("  |! cat", 2, "needs a command before it"),
        ("/hmp |! cat", 5, "needs a command before it"),
        ("/watch -c 1 query-status |! cat", 25, "/watch has no reply to send through a pipe"),
        ("/help |! less", 6, "/help has no reply"),
        ("/all query-status |!", 18, "needs a shell command after it"),
        ("/all |! cat", 5, "needs a command before it"),
        (" /all /watch query-status |! cat", 26, "/watch has no reply"),
    ],
)
def test_a_pipe_missing_a_part_is_refused_with_its_column(
    line: str, column: int, says: str
) -> None:
    with pytest.raises(InputError) as info:
        split_pipe(line, QMP)
    assert info.value.column == column
    assert says in str(info.value)


def test_a_pipe_after_all_is_its_lines_to_cut_on_each_connection() -> None:
    assert split_pipe("/all query-name |! jq .name", QMP) is None
    assert split_pipe("/all /hmp info name |! tr a-z A-Z", QMP) is None


def test_no_command_yet_is_incomplete_so_the_prompt_does_not_mark_it() -> None:
    with pytest.raises(InputError) as info:
        split_pipe("query-status |!", QMP)
    assert info.value.incomplete


def test_completion_offers_nothing_after_the_pipe() -> None:
    assert suggest("query-block |! ", None).kind is Kind.NOTHING
    assert suggest("query-block |! jq", None).kind is Kind.NOTHING
    assert suggest("query-block", None).kind is Kind.COMMAND
    assert suggest('cmd a="|! ', None).kind is not Kind.COMMAND  # inside a quote: the line's


# -- properties ---------------------------------------------------------------------------

_NAMES = st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True)
_TEXT = st.text(alphabet=st.sampled_from(list("ab |!'\"\\=[]{},: x")), max_size=12)
_VALUES = st.one_of(_TEXT, st.integers(), st.booleans(), st.lists(_TEXT, max_size=3))


@st.composite
def _lines(draw: st.DrawFn) -> str:
    """A shorthand line whose values may hold |!, quoted as render_value writes them."""
    command = draw(_NAMES)
    keys = draw(st.lists(_NAMES, max_size=3, unique=True))
    words = [f"{key}={render_value(draw(_VALUES))}" for key in keys]
    return " ".join([command, *words])


@settings(max_examples=300, deadline=None)
@given(_lines())
def test_a_pipe_in_a_value_never_cuts_the_line(line: str) -> None:
    assert split_pipe(line, QMP) is None


@settings(max_examples=300, deadline=None)
@given(
    _lines(), st.text(alphabet=st.sampled_from(list("ab |!'\"\\- ")), min_size=1).filter(str.strip)
)
def test_the_line_before_the_pipe_means_what_it_means_alone(line: str, command: str) -> None:
    piped = split_pipe(f"{line} |! {command}", QMP)
    assert piped == Piped(f"{line} ", QMP, command.strip(), len(line) + 1)
    assert parse_line(piped.line) == parse_line(line)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40), st.sampled_from([QMP, HMP]))
def test_any_text_is_cut_or_not_without_an_exception_but_input_errors(
    text: str, mode: Mode
) -> None:
    try:
        piped = split_pipe(text, mode)
    except InputError as exc:
        assert exc.column is not None and text[exc.column : exc.column + 2] == "|!"
        return
    if piped is not None:
        assert text[piped.column : piped.column + 2] == "|!"
        assert piped.command and piped.command == text[piped.column + 2 :].strip()


def test_a_script_with_a_pipe_runs_in_the_asyncio_session() -> None:
    """The one-shot run has no subprocess nor asyncio: a line with |! is not for it."""
    from qmpshell.modes.oneshot import plain

    assert plain(["query-status"], QMP)
    assert not plain(["query-status", "query-status |! cat"], QMP)
    assert not plain(["info status |! cat"], HMP)
    assert not plain(['{"execute": "query-status"} |! cat'], QMP)


def test_the_secret_rule_reads_a_piped_line_as_it_reads_it_alone() -> None:
    """History keeps the whole line, pipe and all, unless it passes a secret."""
    from qmpshell.language.redaction import line_has_secret

    assert line_has_secret("object-add qom-type=secret id=s data=hunter2 |! cat", QMP)
    assert line_has_secret("/hmp object_add secret,id=s,data=hunter2 |! cat", QMP)
    assert not line_has_secret("query-status |! cat", QMP)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_NAMES, st.one_of(_TEXT, st.lists(_TEXT, max_size=3)), max_size=3))
def test_a_pipe_in_a_json_string_never_cuts_a_raw_line(arguments: dict[str, object]) -> None:
    import json

    line = json.dumps({"execute": "x", "arguments": arguments})
    assert split_pipe(line, QMP) is None
    piped = split_pipe(f"{line} |! jq .", QMP)
    assert piped is not None and json.loads(piped.line) == json.loads(line)
    hmp = "qemu-io d0 " + json.dumps(" ".join(map(str, arguments.values())))
    assert split_pipe(hmp, HMP) is None
