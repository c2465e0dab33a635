"""Completion from the schema of a real QEMU: what fits at the cursor, and its candidates.

The schema comes from the QEMU the tests start (tests/schema_fixture.py). Names that only
a running QEMU knows are tested in a pty, in tests/terminal/test_completion_pty.py.
"""

from __future__ import annotations

import pytest
from conftest import FUZZ_EXAMPLES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from qmpshell.language import suggest as s
from qmpshell.language.candidates import signature
from qmpshell.language.schema import Schema
from qmpshell.session.meta import HELP
from qmpshell.ui.completer import ShellCompleter

pytest_plugins = ["schema_fixture"]

META = [usage.split()[0] for usage in HELP]


def complete(schema: Schema, text: str, in_transaction: bool = False) -> list[tuple[str, str]]:
    completer = ShellCompleter(lambda: schema, lambda: in_transaction, META)
    return [
        (c.text, c.display_meta_text)
        for c in completer.get_completions(Document(text), CompleteEvent(completion_requested=True))
    ]


def texts(schema: Schema, text: str, in_transaction: bool = False) -> list[str]:
    return [t for t, _ in complete(schema, text, in_transaction)]


def test_command_names(schema: Schema) -> None:
    assert texts(schema, "query-sta") == ["query-stats", "query-stats-schemas", "query-status"]
    assert "transaction(" in texts(schema, "tra")
    assert ("query-status", "command") in complete(schema, "query-status")


def test_meta_commands(schema: Schema) -> None:
    assert texts(schema, "/") == META
    assert texts(schema, "/wa") == ["/wait", "/watch"]
    assert texts(schema, "/wai") == ["/wait"]


def test_the_line_a_watch_runs_completes_as_a_line(schema: Schema) -> None:
    assert texts(schema, "/watch -n 1 query-sta") == texts(schema, "query-sta")
    assert texts(schema, "/watch -c 3 blockdev-add ") == texts(schema, "blockdev-add ")
    assert texts(schema, "/watch -n ") == []


def test_argument_names_required_first_and_marked(schema: Schema) -> None:
    found = complete(schema, "blockdev-add ")
    assert found[0] == ("driver=", "enum, required")
    assert ("node-name=", "str") in found
    assert ("cache.", "members of object") in found


def test_argument_names_leave_out_given_ones(schema: Schema) -> None:
    names = texts(schema, "block-dirty-bitmap-add node=n0 ")
    assert "node=" not in names and names[0] == "name="


def test_union_branch_chosen_by_discriminator(schema: Schema) -> None:
    before = texts(schema, "blockdev-add ")
    assert "filename=" not in before
    after = texts(schema, "blockdev-add driver=file ")
    assert after[0] == "filename=" and "driver=" not in after
    # The discriminator may come after the cursor's word, in any order of the line.
    assert "filename=" in texts(schema, "blockdev-add node-name=x driver=file fil")


def test_nested_members_after_a_dotted_prefix(schema: Schema) -> None:
    assert texts(schema, "blockdev-add driver=raw file.")[0] == "driver="
    nested = texts(schema, "blockdev-add driver=raw file.driver=file file.")
    assert nested[0] == "filename="
    assert texts(schema, "blockdev-add driver=raw file.driver=file file.filen") == ["filename="]


def test_values(schema: Schema) -> None:
    assert texts(schema, "blockdev-add driver=qc") == ["qcow", "qcow2"]
    assert texts(schema, "set_link up=") == ["true", "false"]
    assert "unmap" in texts(schema, "blockdev-add driver=raw discard=")
    assert texts(schema, "device_del id=") == []  # live names only: none without QEMU


def test_enum_values_in_alphabetical_order(schema: Schema) -> None:
    """The menu of an enum's values is sorted, whatever the schema's order (blockdev-add's
    drivers come in no order a reader could search by); booleans stay true, false."""
    drivers = texts(schema, "blockdev-add driver=")
    assert len(drivers) > 20 and drivers == sorted(drivers)
    aio = texts(schema, "blockdev-add driver=file aio=")
    assert aio == sorted(aio) and set(aio) >= {"io_uring", "native", "threads"}
    actions = texts(schema, "transaction( ")
    assert len(actions) > 10 and actions == sorted(actions)
    # The toolbar describes the type as the schema and /help do, in the schema's order.
    context = s.suggest("blockdev-add driver=file aio=", schema)
    assert (signature(schema, context) or "").endswith("threads | native | io_uring")


def test_transaction_actions_and_data(schema: Schema) -> None:
    actions = texts(schema, "transaction( block-dirty-bitmap-a")
    assert actions == ["block-dirty-bitmap-add"]
    data = complete(schema, "transaction( block-dirty-bitmap-add ")
    assert data[:2] == [("node=", "str, required"), ("name=", "str, required")]
    assert texts(schema, "transaction( abort | block-dirty-bitmap-cl") == [
        "block-dirty-bitmap-clear"
    ]
    assert texts(schema, "block-dirty-bitmap-", in_transaction=True)[0].startswith(
        "block-dirty-bitmap-"
    )
    assert texts(schema, "block-dirty-bitmap-add na", in_transaction=True) == ["name="]


def test_out_of_band_commands(schema: Schema) -> None:
    assert set(texts(schema, "!oob ")) >= {"migrate-pause", "migrate-recover"}
    assert "query-status" not in texts(schema, "!oob ")


def test_help_and_wait_topics(schema: Schema) -> None:
    assert texts(schema, "/help query-stat") == [
        "query-stats",
        "query-stats-schemas",
        "query-status",
    ]
    assert texts(schema, "/help DEVICE_DEL") == ["DEVICE_DELETED"]
    assert texts(schema, "/wait BLOCK_JOB_C") == ["BLOCK_JOB_CANCELLED", "BLOCK_JOB_COMPLETED"]
    assert texts(schema, "/events ") == ["list", "filter", "clear"]
    assert texts(schema, "/events filter STOP,RES") == ["RESET", "RESUME"]


def test_file_paths_for_file_members(schema: Schema, tmp_path: object) -> None:
    found = texts(schema, "blockdev-add driver=file filename=/proc/self/statu")
    assert found == ["s"]  # the rest of /proc/self/status
    assert texts(schema, "blockdev-add driver=raw file.driver=file file.filename=/proc/self/statu")
    assert texts(schema, "memsave val=0 size=1 filename=/proc/self/statu") == ["s"]
    assert texts(schema, "blockdev-add driver=nbd server.type=unix server.path=/proc/self/statu")


def test_no_host_files_where_the_member_is_only_called_so(schema: Schema) -> None:
    # A QOM path, a file on an SSH server, a block node: names, not this machine's files.
    assert texts(schema, "qom-list path=/proc/self/statu") == []
    assert texts(schema, "qom-get path=/") == []
    assert texts(schema, "blockdev-add driver=ssh path=/proc/self/statu") == []
    assert texts(schema, "blockdev-add driver=raw file.filename=/proc/self/statu") == []


def test_host_path_after_a_protocol(schema: Schema) -> None:
    assert complete(schema, "dump-guest-memory paging=false protocol=") == [
        ("file:", "then a file on this machine")
    ]
    assert texts(schema, "dump-guest-memory paging=false protocol=fi") == ["file:"]
    assert texts(schema, "dump-guest-memory paging=false protocol=file:/proc/self/statu") == ["s"]
    assert texts(schema, "dump-guest-memory paging=false protocol=fd:") == []


def test_nothing_where_nothing_fits(schema: Schema) -> None:
    assert texts(schema, '{"execute": "qu') == []
    assert texts(schema, "no-such-command ") == []
    assert texts(schema, 'blockdev-add driver="unclosed ') == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("blockdev-add driver=", "driver: enum, required — blkdebug | "),
        ("set_link up=", "up: bool, required — true | false"),
        ("blockdev-add driver=raw file.driver=file file.filename=", "file.filename: str, required"),
        ("query-status", None),
        ("blockdev-add node-name", "node-name: str"),
    ],
)
def test_signature_of_the_argument_at_the_cursor(
    schema: Schema, text: str, expected: str | None
) -> None:
    line = signature(schema, s.suggest(text, schema))
    if expected is None:
        assert line is None
    else:
        assert line is not None and line.startswith(expected)


def test_deprecated_and_unstable_names_are_marked(schema: Schema) -> None:
    """In the meta column, and by the menu's style (italic): commands, arguments, values,
    transaction actions, events and /help's topics alike."""
    assert complete(schema, "nbd-server-") == [
        ("nbd-server-add", "command, deprecated"),
        ("nbd-server-remove", "command, deprecated"),
        ("nbd-server-start", "command"),
        ("nbd-server-stop", "command"),
    ]
    assert ("x-query-roms", "command, unstable") in complete(schema, "x-query-r")
    assert ("top=", "str, deprecated") in complete(schema, "block-commit device=d ")
    assert ("top-node=", "str") in complete(schema, "block-commit device=d ")
    line = "blockdev-add driver=file node-name=f filename=/x x-"
    assert complete(schema, line) == [("x-check-cache-dropped=", "bool, unstable")]
    assert complete(schema, "object-add qom-type=x-remote-") == [
        ("x-remote-object", "enum, unstable")
    ]
    assert ("drive-backup", "transaction action, deprecated") in complete(schema, "drive-", True)
    assert ("drive-backup", "command, deprecated") in complete(schema, "/help drive-")
    completer = ShellCompleter(lambda: schema, lambda: False, META)
    event = CompleteEvent(completion_requested=True)
    styles = {c.text: c.style for c in completer.get_completions(Document("nbd-server-"), event)}
    assert styles == {
        "nbd-server-add": "class:marked",
        "nbd-server-remove": "class:marked",
        "nbd-server-start": "",
        "nbd-server-stop": "",
    }
    # The toolbar's line about the argument at the cursor says it too.
    assert signature(schema, s.suggest("block-commit device=d top", schema)) == (
        "top: str, deprecated"
    )


@pytest.mark.parametrize(
    "text", ["", " ", "=", "a=", "a.b.c=", "|", "transaction( |", "!oob", "/help ", "x 'y", "{"]
)
def test_odd_input_never_raises(schema: Schema, text: str) -> None:
    complete(schema, text)
    complete(schema, text, in_transaction=True)


_WORDS = st.sampled_from(
    ["blockdev-add", "driver=", "raw", "file.", "file.driver=", "|", "transaction(", "!oob",
     "/help", "/events", "filter", "=", ".", '"', "'", "{", "[", " ", "node-name=x", "x"]
)  # fmt: skip


@given(st.one_of(st.text(max_size=40), st.lists(_WORDS, max_size=8).map("".join)), st.booleans())
@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_any_text_completes_without_error(schema: Schema, text: str, in_transaction: bool) -> None:
    for _ in complete(schema, text, in_transaction):
        pass
    signature(schema, s.suggest(text, schema, in_transaction))


def test_wait_completes_the_event_data_keys(schema: Schema) -> None:
    assert texts(schema, "/wait DEVICE_DELETED d") == ["device="]
    assert set(texts(schema, "/wait device_deleted ")) == {"device=", "path="}
    assert texts(schema, "/wait DEVICE_DELETED device=x ") == ["path="]
    assert texts(schema, "/wait RESUME ") == []  # no data
    assert texts(schema, "/wait NO_SUCH_EVENT ") == []
