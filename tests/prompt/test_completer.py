"""The completer without a schema (before one is loaded): meta-commands and host paths.

Completion from the schema of the real QEMU is in tests/qemu/test_completer_schema.py."""

from __future__ import annotations

from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from qmpshell.language import suggest as s
from qmpshell.session.meta import HELP
from qmpshell.ui.completer import ShellCompleter

META = [usage.split()[0] for usage in HELP]


def test_host_paths_before_the_schema_is_loaded() -> None:
    completer = ShellCompleter(lambda: None, lambda: False, META)
    event = CompleteEvent(completion_requested=True)

    def texts_now(line: str) -> list[str]:
        return [c.text for c in completer.get_completions(Document(line), event)]

    assert texts_now("blockdev-add driver=file filename=/proc/self/statu") == ["s"]
    assert texts_now("qom-list path=/proc/self/statu") == []
    assert s.suggest("qom-list path=/ma", None) == s.Context(
        s.Kind.VALUE, "/ma", "qom-list", ("path",), None, tree={}
    )
    # device_add's properties come from QEMU: where an argument name goes is known too.
    context = s.suggest("device_add driver=virtio-blk-pci dr", None)
    assert (context.kind, context.prefix, context.command) == (s.Kind.ARGUMENT, "dr", "device_add")
    assert context.given == {"driver"}
    assert texts_now("device_add driver=virtio-blk-pci dr") == []  # none from the schema


def test_without_schema_only_meta_commands() -> None:
    completer = ShellCompleter(lambda: None, lambda: False, META)
    event = CompleteEvent(completion_requested=True)
    assert list(completer.get_completions(Document("query-"), event)) == []
    assert len(list(completer.get_completions(Document("/"), event))) == len(META)


def test_save_completes_a_file_on_this_machine() -> None:
    completer = ShellCompleter(lambda: None, lambda: False, META)
    event = CompleteEvent(completion_requested=True)

    def texts_now(line: str) -> list[str]:
        return [c.text for c in completer.get_completions(Document(line), event)]

    assert texts_now("/save /proc/self/statu") == ["s"]
    assert texts_now("/save -f /proc/self/statu") == ["s"]
    assert texts_now("/save /proc/self/status /proc/self/statu") == []  # one FILE only
    assert s.suggest("/save ", None) == s.Context(s.Kind.FILE, "")


def test_the_meta_commands_of_several_connections_complete_what_they_take() -> None:
    names = ["qmp", "web1", "web2"]
    completer = ShellCompleter(lambda: None, lambda: False, META, targets=lambda: names)
    event = CompleteEvent(completion_requested=True)

    def texts_now(line: str) -> list[str]:
        return [c.text for c in completer.get_completions(Document(line), event)]

    assert texts_now("/target we") == ["web1", "web2"]
    assert texts_now("/target web1 ") == []  # one NAME only
    assert texts_now("/connect /proc/self/statu") == ["s"]
    named = ShellCompleter(lambda: None, lambda: False, META, named=lambda: ["db", "web1"])
    assert [c.text for c in named.get_completions(Document("/connect @w"), event)] == ["@web1"]
    assert texts_now("/connect /proc/self/status /proc/self/statu") == []
    assert texts_now("/all /h") == ["/hmp"]
    assert s.suggest("/all query-sta", None) == s.Context(s.Kind.COMMAND, "query-sta")
    assert s.suggest("/all /qmp query-sta", None) == s.Context(s.Kind.COMMAND, "query-sta")
    assert s.suggest("/all /hmp info ", None).kind is s.Kind.NOTHING  # HMP's completer's


def test_target_completes_in_hmp_mode_too() -> None:
    from qmpshell.ui.completer import HmpCompleter

    completer = HmpCompleter(None, META, lambda: ["qmp", "web1"])  # type: ignore[arg-type]
    event = CompleteEvent(completion_requested=True)
    texts = [c.text for c in completer.get_completions(Document("/target w"), event)]
    assert texts == ["web1"]
    assert list(completer.get_completions(Document("/target web1 x"), event)) == []
    offered = [c.text for c in completer.get_completions(Document("/target"), event)]
    assert offered == ["/target", "/targets"]  # the meta-commands, not the names yet
    named = HmpCompleter(None, META, named=lambda: ["db"])  # type: ignore[arg-type]
    assert [c.text for c in named.get_completions(Document("/connect @"), event)] == ["@db"]
    paths = [c.text for c in named.get_completions(Document("/connect /proc/self/statu"), event)]
    assert paths == ["s"]
