"""--replay's pure parts: comparing replies (volatile parts left out), reading a -l
transcript back into commands and waits; /save's script of the lines that ran."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qmpshell.errors import InputError
from qmpshell.language.mode import Mode
from qmpshell.language.replydiff import (
    ABSENT,
    VOLATILE,
    Difference,
    IgnoredPaths,
    describe,
    differences,
    parse_ignore,
)
from qmpshell.session.saving import LEFT_OUT, SessionLines
from qmpshell.session.transcriptread import (
    Await,
    Command,
    TranscriptError,
    Unsendable,
    read_transcript,
)

IGNORED = IgnoredPaths()

# -- comparing -----------------------------------------------------------------------


def test_equal_replies_do_not_differ_whatever_their_ids() -> None:
    recorded = {"return": {"status": "running", "running": True}, "id": 7100000003}
    now = {"return": {"status": "running", "running": True}, "id": 7100000001}
    assert differences(recorded, now, "query-status", IGNORED) == []


def test_each_difference_is_named_by_its_path() -> None:
    recorded = {"return": {"status": "running", "running": True, "x": [1, 2]}}
    now = {"return": {"status": "paused", "running": False, "x": [1], "new": 1}}
    assert differences(recorded, now, "query-status", IGNORED) == [
        Difference("return.status", "running", "paused"),
        Difference("return.running", True, False),
        Difference("return.x.1", 2, ABSENT),
        Difference("return.new", ABSENT, 1),
    ]


def test_true_and_1_differ_but_1_and_1_0_do_not() -> None:
    assert differences({"return": True}, {"return": 1}, "x", IGNORED)
    assert not differences({"return": 1}, {"return": 1.0}, "x", IGNORED)
    assert differences({"return": {}}, {"return": []}, "x", IGNORED)


def test_an_error_instead_of_a_return_differs() -> None:
    found = differences({"return": {}}, {"error": {"class": "GenericError"}}, "cont", IGNORED)
    assert [d.path for d in found] == ["return", "error"]


def test_volatile_parts_are_left_out_per_command() -> None:
    cpus = {"return": [{"cpu-index": 0, "thread-id": 1234}]}
    assert not differences(cpus, {"return": [{"cpu-index": 0, "thread-id": 99}]}, "q", IGNORED)
    migrate = {"return": {"status": "completed", "total-time": 5, "ram": {"total": 1}}}
    later = {"return": {"status": "completed", "total-time": 9, "ram": {"total": 2}}}
    assert not differences(migrate, later, "query-migrate", IGNORED)
    assert differences(migrate, later, "query-other", IGNORED)  # only for query-migrate


def test_the_users_ignores_add_to_the_volatile_ones() -> None:
    ignored = IgnoredPaths(["query-name:return.name", "return.*.filename"])
    assert not differences(
        {"return": {"name": "a"}}, {"return": {"name": "b"}}, "query-name", ignored
    )
    assert differences({"return": {"name": "a"}}, {"return": {"name": "b"}}, "other", ignored)
    chardevs = {"return": [{"label": "m", "filename": "unix:/tmp/a"}]}
    other = {"return": [{"label": "m", "filename": "unix:/tmp/b"}]}
    assert not differences(chardevs, other, "query-chardev", ignored)


@pytest.mark.parametrize("spec", ["", ":", "x:", "a..b", "return.", ".return"])
def test_an_ignore_without_a_path_is_refused(spec: str) -> None:
    with pytest.raises(InputError, match="expected \\[COMMAND:\\]PATH"):
        parse_ignore(spec)


def test_differences_are_described_on_one_line_a_few_at_most() -> None:
    found = [Difference(f"return.k{n}", n, n + 1) for n in range(5)]
    text = describe(found)
    assert text.startswith("return.k0: 0 recorded, 1 now; return.k1: 1 recorded, 2 now")
    assert text.endswith("and 2 more") and "\n" not in text
    assert "..." in describe([Difference("return", "x" * 500, ABSENT)])


json_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=8)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)
volatile_keys = ("id", "timestamp")


@given(reply=st.dictionaries(st.sampled_from(["return", "error", "x"]), json_values, max_size=3),
       stamps=st.lists(json_values, min_size=2, max_size=2))  # fmt: skip
def test_a_reply_with_only_volatile_parts_changed_never_differs(
    reply: dict[str, Any], stamps: list[Any]
) -> None:
    recorded = {**reply, "id": stamps[0], "timestamp": stamps[1]}
    now = {**json.loads(json.dumps(reply)), "id": stamps[1]}  # a copy; no timestamp
    assert differences(recorded, now, "query-anything", IGNORED) == []
    cpus = {"return": [{"thread-id": stamps[0], "cpu-index": 0}]}
    assert (
        differences(cpus, {"return": [{"thread-id": stamps[1], "cpu-index": 0}]}, "q", IGNORED)
        == []
    )


@given(value=json_values, other=json_values)
def test_a_changed_value_outside_them_always_differs(value: Any, other: Any) -> None:
    found = differences({"return": {"v": value}}, {"return": {"v": other}}, "q", IGNORED)
    assert bool(found) == (json.dumps(value) != json.dumps(other))


def test_the_volatile_list_parses() -> None:
    assert all(parse_ignore(spec) for spec in VOLATILE)


# -- reading a transcript --------------------------------------------------------------


def lines(*entries: dict[str, Any]) -> list[str]:
    return [json.dumps({"time": 1.0, **entry}) for entry in entries]


GREETING = {"dir": "recv", "msg": {"QMP": {"version": {}, "capabilities": []}}}


def test_the_lines_commands_are_read_with_their_replies_and_waits() -> None:
    steps = read_transcript(
        lines(
            GREETING,
            {"dir": "send", "msg": {"execute": "qmp_capabilities", "id": 1}},
            {"dir": "recv", "msg": {"return": {}, "id": 1}},
            {"dir": "send", "msg": {"execute": "query-commands", "id": 2}},  # the shell's own
            {"dir": "send", "msg": {"execute": "stop", "id": 3}, "user": True},
            {"dir": "send", "msg": {"execute": "query-status", "id": 4}, "user": True},
            {"dir": "recv", "msg": {"return": [], "id": 2}},
            {"dir": "recv", "msg": {"event": "STOP", "timestamp": {}}},
            {"dir": "recv", "msg": {"return": {}, "id": 3}},
            {"dir": "recv", "msg": {"return": {"status": "paused"}, "id": 4}},
            {"dir": "wait", "wait": {"event": "STOP", "data": {}}},
        )
    )
    assert steps == [
        Command(5, {"execute": "stop", "id": 3}, {"return": {}, "id": 3}),
        Command(6, {"execute": "query-status", "id": 4}, {"return": {"status": "paused"}, "id": 4}),
        Await(11, {"event": "STOP", "data": {}}),
    ]


def test_an_older_transcript_replays_every_command_but_the_negotiation() -> None:
    steps = read_transcript(
        lines(
            GREETING,
            {"dir": "send", "msg": {"execute": "qmp_capabilities", "id": 1}},
            {"dir": "recv", "msg": {"return": {}, "id": 1}},
            {"dir": "send", "msg": {"execute": "query-name", "id": 2}},
            {"dir": "send", "msg": {"execute": "qmp_capabilities", "id": 3}},  # the user's
        )
    )
    assert [(step.line, step.name) for step in steps] == [
        (4, "query-name"),
        (5, "qmp_capabilities"),
    ]


def test_a_reply_without_id_answers_the_oldest_command() -> None:
    steps = read_transcript(
        lines(
            {"dir": "send", "msg": {"execute": "x", "id": 1}, "user": True},
            {
                "dir": "recv",
                "msg": {"error": {"class": "GenericError", "desc": "JSON parse error"}},
            },
        )
    )
    assert steps[0].reply == {"error": {"class": "GenericError", "desc": "JSON parse error"}}


def test_a_redacted_secret_or_a_raw_text_cannot_be_sent_again() -> None:
    steps = read_transcript(
        lines(
            {"dir": "send", "msg": {"execute": "object-add", "arguments": {"data": "<redacted>"}},
             "user": True},
            {"dir": "send", "msg": {"execute": "human-monitor-command",
             "arguments": {"command-line": "change vnc password <redacted>"}}, "user": True},
            {"dir": "send", "raw": '{"execute": "x", "execute": "y"}', "user": True},
        )
    )  # fmt: skip
    assert [type(step) for step in steps] == [Unsendable] * 3
    assert "--log-secrets" in steps[0].why  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("not json", "line 2: not JSON"),
        ("[1, 2]", "line 2: not a transcript line"),
        ('{"dir": "sideways"}', "line 2: not a transcript line"),
        ('{"dir": "wait", "wait": {"event": "STOP 5"}}', "line 2: a wait without an event"),
        ('{"dir": "wait", "wait": {}}', "line 2: a wait without an event"),
        ("[" * 100_000, "line 2: not JSON"),
    ],
)
def test_a_bad_line_is_named(text: str, said: str) -> None:
    with pytest.raises(TranscriptError, match=said):
        read_transcript([*lines(GREETING), text])


def test_blank_lines_are_skipped() -> None:
    assert read_transcript(["", "  ", *lines(GREETING)]) == []


@pytest.mark.parametrize("text", [[], [""], ["", "  ", "\n"]])
def test_an_empty_transcript_is_not_one(text: list[str]) -> None:
    with pytest.raises(TranscriptError, match=r"^it is empty$"):
        read_transcript(text)


def test_a_transcript_of_several_connections_is_refused() -> None:
    """A fan-out's, or a session's after /connect: one replay goes to one QEMU."""
    sent = {"dir": "send", "msg": {"execute": "query-name", "id": 1}, "user": True}
    one = lines(GREETING, sent, {**sent, "target": "qmp"})  # tagged once a second joined
    assert len(read_transcript(one)) == 2
    several = [*one, *lines({**sent, "target": "b"})]
    with pytest.raises(TranscriptError) as info:
        read_transcript(several)
    said = str(info.value)
    assert said.startswith("it holds the messages of 2 connections ('qmp', 'b')")
    assert """jq -c 'select(.target == "qmp" or .target == null)'""" in said


# -- /save -----------------------------------------------------------------------------


def saved(*runs: tuple[str, Mode]) -> list[str]:
    kept = SessionLines()
    for line, mode in runs:
        kept.ran(line, mode)
    return kept.script("# header").text.splitlines()[1:]


def test_save_keeps_the_lines_and_the_waits_not_the_display_commands() -> None:
    assert saved(
        ("query-status", Mode.QMP),
        ("/help query-status", Mode.QMP),
        ("/events list", Mode.QMP),
        ("stop", Mode.QMP),
        ("/wait STOP 5", Mode.QMP),
        ("/job wait j0", Mode.QMP),
        ("/pretty", Mode.QMP),
        ("/save x", Mode.QMP),
        ("/save -f x", Mode.QMP),
        ("/hmp info status", Mode.QMP),
    ) == ["query-status", "stop", "/wait STOP 5", "/job wait j0", "/hmp info status"]


def test_save_switches_monitors_where_the_mode_changed() -> None:
    assert saved(
        ("/hmp", Mode.QMP),  # the switch itself: put back where needed
        ("info status", Mode.HMP),
        ("/qmp query-name", Mode.HMP),
        ("/qmp", Mode.HMP),
        ("query-status", Mode.QMP),
    ) == ["/hmp", "info status", "/qmp query-name", "/qmp", "query-status"]
    assert saved(("info status", Mode.HMP)) == ["/hmp", "info status"]  # started with -H


def test_save_leaves_a_line_with_a_secret_out_and_says_where() -> None:
    assert saved(
        ("object-add qom-type=secret id=s0 data=hunter2", Mode.QMP),
        ("change vnc password hunter2", Mode.HMP),
        ("query-name", Mode.QMP),
    ) == [LEFT_OUT, LEFT_OUT, "query-name"]


def test_save_counts_the_lines_the_script_runs() -> None:
    kept = SessionLines()
    for line, mode in [("info status", Mode.HMP), ("set_password vnc x", Mode.HMP), ("", Mode.QMP)]:
        kept.ran(line, mode)
    script = kept.script("# h")
    assert (script.lines, script.left_out) == (2, 1)  # /hmp and info status


def test_a_session_that_ran_too_much_to_keep_cannot_be_saved(tmp_path: Path) -> None:
    kept = SessionLines(max_chars=100)
    kept.ran("x" * 60, Mode.QMP)
    kept.ran("y" * 60, Mode.QMP)
    assert kept.overflowed
    with pytest.raises(InputError, match=r"ran more than .* of lines; not kept"):
        kept.save(str(tmp_path / "s"), "# h", force=False)
    assert not (tmp_path / "s").exists()


def test_save_writes_a_private_file_and_keeps_what_exists(tmp_path: Path) -> None:
    kept = SessionLines()
    kept.ran("query-status", Mode.QMP)
    path = tmp_path / "s.qmp"
    kept.save(str(path), "# h", force=False)
    assert path.read_text() == "# h\nquery-status\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    kept.ran("stop", Mode.QMP)
    kept.save(str(path), "# h", force=False)  # its own file: written again
    assert path.read_text() == "# h\nquery-status\nstop\n"
    other = tmp_path / "other"
    other.write_text("mine")
    with pytest.raises(InputError, match=r"exists; /save -f .* overwrites it"):
        kept.save(str(other), "# h", force=False)
    assert other.read_text() == "mine"
    kept.save(str(other), "# h", force=True)
    assert other.read_text().endswith("stop\n")
    os.symlink(other, tmp_path / "link")
    with pytest.raises(InputError, match="/save: "):
        kept.save(str(tmp_path / "link"), "# h", force=True)
    with pytest.raises(InputError, match="cannot write"):
        kept.save(str(tmp_path / "no" / "dir"), "# h", force=False)


@pytest.mark.parametrize("force", [False, True])
def test_save_says_what_a_path_is_when_it_is_no_file(tmp_path: Path, force: bool) -> None:
    """A directory or a symbolic link is refused as what it is, -f or not (it was said
    to exist, then with -f 'Is a directory' or 'it is a symbolic link')."""
    kept = SessionLines()
    kept.ran("query-status", Mode.QMP)
    os.symlink(tmp_path / "nowhere", tmp_path / "dangling")
    (tmp_path / "real").write_text("mine")
    os.symlink(tmp_path / "real", tmp_path / "link")
    os.mkfifo(tmp_path / "fifo")
    for name, said in [
        ("", "is a directory: give the name of a file to write"),
        ("dangling", f"is a symbolic link (to nothing, {tmp_path}/nowhere), which /save does not"),
        ("link", f"is a symbolic link ({tmp_path}/real), which /save does not follow"),
        ("fifo", "is not a regular file"),
    ]:
        path = str(tmp_path / name) if name else str(tmp_path)
        with pytest.raises(InputError) as caught:
            kept.save(path, "# h", force=force)
        assert str(caught.value).startswith(f"/save: {path} {said}")
    assert not (tmp_path / "nowhere").exists()
    assert (tmp_path / "real").read_text() == "mine"


def test_a_value_the_transcript_redacted_is_neither_compared_nor_shown() -> None:
    recorded = {"return": [{"node-name": "n0", "key-secret": "<redacted>"}]}
    now = {"return": [{"node-name": "n0", "key-secret": "sec0"}]}
    assert differences(recorded, now, "query-named-block-nodes", IGNORED) == []
