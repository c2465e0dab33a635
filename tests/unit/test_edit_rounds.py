"""/edit's rounds with a fake editor: a refusal reopens the file with the error on top,
giving up (an emptied file, an error saved unchanged, a failed editor) sends nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from test_editdoc import SCHEMA

from qmpshell.errors import InputError
from qmpshell.language.shorthand import Parser
from qmpshell.language.skeleton import BLANK
from qmpshell.session.editing import MAX_ROUNDS, document_for, edit_rounds


class Notes:
    def __init__(self) -> None:
        self.said: list[str] = []

    def note(self, text: str) -> None:
        self.said.append(text)


def rounds(*edits: Callable[[str], str | None]) -> tuple[Any, list[str], list[str]]:
    """Run the rounds on ``add driver=file``'s document, each edit one round (the last
    one again and again, up to a round more than :data:`MAX_ROUNDS`)."""
    shown: list[str] = []
    notes = Notes()
    queue = list(edits)

    async def editor(text: str) -> str | None:
        shown.append(text)
        assert len(shown) <= MAX_ROUNDS + 1, "the editor is opened without end"
        return (queue.pop(0) if len(queue) > 1 else queue[0])(text)

    document = document_for(SCHEMA, "add driver=file")
    result = asyncio.run(edit_rounds(notes, SCHEMA, document, editor))  # type: ignore[arg-type]
    return result, shown, notes.said


def test_a_refusal_reopens_with_the_error_then_a_good_document_is_the_command() -> None:
    result, shown, said = rounds(
        lambda text: text.replace('"filename": "<str>"', '"filename": 5'),
        lambda text: text.replace('"filename": 5', '"filename": "/tmp/x"'),
    )
    assert result == {"execute": "add", "arguments": {"driver": "file", "filename": "/tmp/x"}}
    first_line = shown[1].split("\n")[0]
    assert first_line == "// error: line 9: 'filename' expects a string, got an integer (5)"
    assert shown[1].split("\n")[8].strip() == '"filename": 5,'
    assert not said


def test_a_number_beyond_a_double_reopens_the_file_with_its_line() -> None:
    result, shown, said = rounds(
        lambda text: text.replace('"filename": "<str>"', '"filename": "x", "size": 1e999'),
        lambda text: text.replace("1e999", "7"),
    )
    assert result == {
        "execute": "add",
        "arguments": {"driver": "file", "filename": "x", "size": 7},
    }
    assert shown[1].split("\n")[0] == "// error: line 9: number out of range: 1e999"
    assert not said


@pytest.mark.parametrize(
    ("edits", "note"),
    [
        ((lambda text: "",), "the file was emptied: nothing sent"),
        (
            (lambda text: text, lambda text: text),
            "saved unchanged after an error (line 9: 'filename' still",
        ),
        ((lambda text: None,), None),
    ],
)
def test_giving_up_sends_nothing(edits: Any, note: str | None) -> None:
    result, _, said = rounds(*edits)
    assert result is None
    assert said[0].startswith(note) if note else not said, said


BAD = '{"execute": "add", "arguments": {"driver": "file", "filename": 5}}'


def test_an_editor_that_writes_the_same_bad_text_gives_up_the_second_time() -> None:
    """Whatever it is given (the error on top), it writes the same: the same text saved
    twice in a row is given up on, as a reopened file saved unchanged is."""
    result, shown, said = rounds(lambda text: BAD)
    assert result is None and len(shown) == 2
    assert said == [
        "saved unchanged after an error (line 1: 'filename' expects a string, got an "
        "integer (5)): nothing sent"
    ]


def test_refusals_in_a_row_are_capped() -> None:
    """An editor that writes a new bad text each time is given up on after MAX_ROUNDS."""
    count = iter(range(1000))
    result, shown, said = rounds(lambda text: f"// {next(count)}\n{BAD}")
    assert result is None and len(shown) == MAX_ROUNDS == 20
    assert said == [
        "refused 20 times in a row (last: line 2: 'filename' expects a string, got an "
        "integer (5)): nothing sent"
    ]


@pytest.mark.parametrize(
    "line", ["add driver=fil", "add driver=file discard=no", "add driver=null-co size=abc"]
)
def test_a_value_the_prompt_refuses_is_refused_before_the_editor(line: str) -> None:
    """With the prompt's own error and column (it was laid out, the editor opened)."""
    with pytest.raises(InputError) as at_prompt:
        Parser(SCHEMA).feed(line)
    with pytest.raises(InputError) as edited:
        document_for(SCHEMA, line)
    assert (str(edited.value), edited.value.column) == (
        str(at_prompt.value),
        at_prompt.value.column,
    )


def test_what_is_not_one_command_is_refused_before_the_editor() -> None:
    for line, message in [
        ("", "usage: /edit COMMAND"),
        ("/help", "a meta-command is not edited"),
        ("transaction(", "/edit lays out one command"),
        ("ad", "unknown command 'ad'; did you mean 'add'"),
    ]:
        with pytest.raises(InputError, match=message):
            document_for(SCHEMA, line)
    # A whole raw command is laid out as shorthand is; an unfinished one kept as typed.
    laid_out = document_for(SCHEMA, '{"execute": "add", "arguments": {"driver": "file", "x": 1}}')
    rows = [row.strip() for row in laid_out.split("\n")]
    assert rows[rows.index('"driver": "file",') :][:4] == [
        '"driver": "file",',
        '"x": 1,',
        '"filename": "<str>",',
        '// "node-name": "<str>",',
    ]
    # One JSON cannot write back (1E400 reads as infinity) is opened as typed, for the
    # check to name.
    huge = '{"execute": "add", "arguments": {"driver": "file", "size": 1E400}}'
    assert document_for(SCHEMA, huge) == huge + "\n"
    assert document_for(SCHEMA, '{"execute": "add", "id": 1}') == (
        '{\n  "execute": "add",\n  "id": 1\n}\n'
    )
    assert document_for(SCHEMA, '{"execute": "add", ') == '{"execute": "add",\n'


def test_the_blank_document_left_as_it_is_sends_nothing_and_one_written_is_checked() -> None:
    """What Ctrl-X Ctrl-E opens on an empty line: left as it is, or emptied, nothing is
    sent; a command written in it is checked as any other."""
    for saved in (BLANK, ""):
        notes = Notes()

        async def editor(text: str, saved: str = saved) -> str:
            return saved

        assert asyncio.run(edit_rounds(notes, SCHEMA, BLANK, editor)) is None  # type: ignore[arg-type]
        assert notes.said == ["no command written: nothing sent"]
    notes = Notes()

    async def writes(text: str) -> str:
        return text + '{"execute": "query-status"}\n'

    command = asyncio.run(edit_rounds(notes, SCHEMA, BLANK, writes))  # type: ignore[arg-type]
    assert command == {"execute": "query-status"} and not notes.said
