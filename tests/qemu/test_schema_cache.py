"""The schema cache: keyed by a digest of the whole greeting and command list, checked
on load (anything wrong is fetched again and rewritten), private files in a private
directory, another user's refused, ``--no-schema-cache`` to go without it."""

from __future__ import annotations

import binascii
import copy
import hashlib
import json
import os
import pwd
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import QemuProcess, Result

from qmpshell.language.schemacheck import SchemaInvalid, check_entries
from qmpshell.session.introspection import FORMAT, cache_key

pytest_plugins = ["schema_fixture"]

RunShell = Callable[..., Result]


def _cache_dir(home: Path) -> Path:
    return home / "cache" / "qmpshell"


def _session(run_shell: RunShell, qemu: QemuProcess, log: Path, *extra: str) -> bool:
    """Run a line that needs the schema (typed shorthand); whether the schema was
    fetched from QEMU (else it came from the cache)."""
    if log.exists():
        log.unlink()
    result = run_shell("-l", str(log), *extra, "-c", "query-name", qemu.qmp)
    assert (result.status, result.stderr) == (0, ""), result.stderr
    assert result.messages() == [{"return": {}}]
    sent = [json.loads(line)["msg"] for line in log.read_text().splitlines()]
    return any(m.get("execute") == "query-qmp-schema" for m in sent)


def _only_file(home: Path) -> Path:
    files = list(_cache_dir(home).iterdir())
    assert len(files) == 1, files
    return files[0]


def _cached(
    run_shell: RunShell, qemu: QemuProcess, home: Path, tmp_path: Path
) -> tuple[Path, Path]:
    """A first session, which fetches the schema and caches it: the transcript's path,
    and the cache file's."""
    log = tmp_path / "log.jsonl"
    assert _session(run_shell, qemu, log)
    return log, _only_file(home)


def _split(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A cache file's header and entries: the header line, the index line (the entries'
    names and meta-types), then one entry a line."""
    header, index, *lines = path.read_bytes().split(b"\n")
    entries = [json.loads(line) for line in lines]
    names, metas = [e["name"] for e in entries], [e["meta-type"] for e in entries]
    assert json.loads(index) == {"names": names, "meta-types": metas}
    return json.loads(header), entries


def _body(entries: list[Any]) -> bytes:
    """The body qmpshell would write for ``entries``: the index, then one entry a line."""
    names = [e.get("name") if isinstance(e, dict) else None for e in entries]
    metas = [e.get("meta-type") if isinstance(e, dict) else "builtin" for e in entries]
    lines = [json.dumps({"names": names, "meta-types": metas})]
    return "\n".join(lines + [json.dumps(entry) for entry in entries]).encode()


def _rewrite(path: Path, body: bytes, *, fix_digest: bool = True) -> None:
    """Replace the body, keeping the header's key; with a header that matches the new
    body (as someone who knows the format would write it), or the old one."""
    header = json.loads(path.read_bytes().split(b"\n", 1)[0])
    if fix_digest:
        header.update(size=len(body), crc32=binascii.crc32(body))
    path.write_bytes(json.dumps(header).encode() + b"\n" + body)


def test_cache_written_private_and_used(
    run_shell: RunShell, qemu: QemuProcess, home: Path, tmp_path: Path
) -> None:
    log, path = _cached(run_shell, qemu, home, tmp_path)
    assert stat.S_IMODE(_cache_dir(home).stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    header, entries = _split(path)
    assert header["format"] == FORMAT and path.name == f"schema-{header['key']}.json"
    check_entries(entries)
    assert not _session(run_shell, qemu, log)  # from the cache


def _poison_cases() -> dict[str, Callable[[Path], None]]:
    def edit(change: Callable[[list[dict[str, Any]]], Any], **how: bool) -> Any:
        def poison(path: Path) -> None:
            entries = copy.deepcopy(_split(path)[1])
            _rewrite(path, _body(change(entries)), **how)

        return poison

    def body(make: Callable[[list[dict[str, Any]]], bytes]) -> Callable[[Path], None]:
        return lambda path: _rewrite(path, make(_split(path)[1]))

    def entry(entries: list[dict[str, Any]], name: str) -> dict[str, Any]:
        return next(e for e in entries if e["name"] == name)

    def query_name_takes(entries: list[dict[str, Any]], arg_type: str) -> Any:
        entry(entries, "query-name")["arg-type"] = arg_type
        return entries

    def extra_command(entries: list[dict[str, Any]]) -> Any:
        entries.append({"name": "x-evil", "meta-type": "command", "arg-type": "0", "ret-type": "0"})
        return entries

    def missing_command(entries: list[dict[str, Any]]) -> Any:
        return [e for e in entries if e["name"] != "query-name"]

    def members_a_string(entries: list[dict[str, Any]]) -> Any:
        next(e for e in entries if e["meta-type"] == "object")["members"] = "x"
        return entries

    def name_a_number(entries: list[dict[str, Any]]) -> Any:
        entries[0]["name"] = 5
        return entries

    def dangling_member_type(entries: list[dict[str, Any]]) -> Any:
        for e in entries:
            if e["meta-type"] == "object" and e["members"]:
                e["members"][0]["type"] = "no-such-type"
                return entries
        raise AssertionError("no object with members")

    def out_of_step(entries: list[dict[str, Any]]) -> bytes:
        """The index lists query-name where another command is, and that one there."""
        at = next(i for i, e in enumerate(entries) if e["name"] == "query-name")
        other = next(i for i, e in enumerate(entries) if e["meta-type"] == "command" and i != at)
        index, *lines = _body(entries).split(b"\n")
        lines[at], lines[other] = lines[other], lines[at]
        return b"\n".join([index, *lines])

    def write(data: bytes) -> Callable[[Path], None]:
        return lambda path: path.write_bytes(data)

    def header_then(body: bytes) -> Callable[[Path], None]:
        return lambda path: _rewrite(path, body)  # its digest right: the body is looked at

    return {
        "body edited, header kept": edit(lambda e: query_name_takes(e, "1"), fix_digest=False),
        "an unknown arg-type": edit(lambda e: query_name_takes(e, "no-such-type")),
        "a command the server lacks": edit(extra_command),
        "a command of the server missing": edit(missing_command),
        "members a string": edit(members_a_string),
        "a name that is a number": edit(name_a_number),
        "a member of a type not listed": edit(dangling_member_type),
        "format 2's body, a list on one line": body(lambda e: json.dumps(e).encode()),
        "an index without its lists": body(lambda e: json.dumps({"entries": e}).encode()),
        "entries not objects": edit(lambda e: [1, "two", None]),
        "the index out of step with the entries": body(out_of_step),
        "garbage": write(os.urandom(4096)),
        "empty": write(b""),
        "header only": header_then(b""),
        "invalid UTF-8 body": header_then(b"\xff\xfe[{"),
        "nested 100,000 deep": header_then(b"[" * 100_000 + b"]" * 100_000),
        "huge": write(b" " * (17 << 20)),
    }


# What a one-shot script of query-name does not read of the cache (it reads every command
# and event, and the types query-name's arguments lead to): the rest is not checked then.
NOT_READ_FOR_QUERY_NAME = {"a member of a type not listed"}


@pytest.mark.parametrize("reader", ["session", "one-shot"])
@pytest.mark.parametrize("case", sorted(_poison_cases()))
def test_a_poisoned_entry_is_fetched_again(
    case: str,
    reader: str,
    run_shell: RunShell,
    shell_env: dict[str, str],
    qemu: QemuProcess,
    home: Path,
    tmp_path: Path,
) -> None:
    """A session reads all of the cache; a one-shot script what its lines need."""
    if reader == "session":
        shell_env["QMPSHELL_NO_ONESHOT"] = "1"
    log, path = _cached(run_shell, qemu, home, tmp_path)
    good = path.read_bytes()
    _poison_cases()[case](path)
    poisoned = path.read_bytes()
    if reader == "one-shot" and case in NOT_READ_FOR_QUERY_NAME:
        assert not _session(run_shell, qemu, log)  # the line typed right all the same
        assert path.read_bytes() == poisoned  # for the next session to find
        return
    # No traceback, the line typed as QEMU says, the schema fetched again...
    assert _session(run_shell, qemu, log)
    # ... and the entry rewritten with it, then used.
    assert path.read_bytes() == good
    assert not _session(run_shell, qemu, log)


def test_loose_modes_are_corrected(
    run_shell: RunShell, qemu: QemuProcess, home: Path, tmp_path: Path
) -> None:
    log, path = _cached(run_shell, qemu, home, tmp_path)
    path.chmod(0o666)
    _cache_dir(home).chmod(0o777)
    assert not _session(run_shell, qemu, log)  # still used: it is ours
    assert stat.S_IMODE(_cache_dir(home).stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_symbolic_link_is_not_followed(
    run_shell: RunShell, qemu: QemuProcess, home: Path, tmp_path: Path
) -> None:
    log, path = _cached(run_shell, qemu, home, tmp_path)
    elsewhere = tmp_path / "elsewhere"
    path.rename(elsewhere)
    path.symlink_to(elsewhere)
    assert _session(run_shell, qemu, log)
    assert not path.is_symlink()  # replaced by a file of its own


def _nobody() -> int:
    if os.geteuid() != 0:
        pytest.skip("needs root, to give a file to another user")
    return pwd.getpwnam("nobody").pw_uid


def test_a_file_another_user_owns_is_not_used(
    run_shell: RunShell, qemu: QemuProcess, home: Path, tmp_path: Path
) -> None:
    log, path = _cached(run_shell, qemu, home, tmp_path)
    os.chown(path, _nobody(), -1)
    assert _session(run_shell, qemu, log)
    assert path.stat().st_uid == os.geteuid()  # replaced by our own
    assert not _session(run_shell, qemu, log)


def test_a_directory_another_user_owns_is_not_used(
    run_shell: RunShell, qemu: QemuProcess, home: Path, tmp_path: Path
) -> None:
    log, path = _cached(run_shell, qemu, home, tmp_path)
    before = path.read_bytes()
    os.chown(_cache_dir(home), _nobody(), -1)
    _rewrite(path, _body([]))  # what the other user put there
    poisoned = path.read_bytes()
    assert _session(run_shell, qemu, log)
    assert _session(run_shell, qemu, log)  # neither read nor written
    assert path.read_bytes() == poisoned != before


def test_no_schema_cache_neither_reads_nor_writes(
    run_shell: RunShell, qemu: QemuProcess, home: Path, tmp_path: Path
) -> None:
    log = tmp_path / "log.jsonl"
    assert _session(run_shell, qemu, log, "--no-schema-cache")
    assert not _cache_dir(home).exists()
    _session(run_shell, qemu, log)
    assert _session(run_shell, qemu, log, "--no-schema-cache")


def test_the_key_covers_the_whole_greeting_and_command_list() -> None:
    greeting = {
        "version": {"qemu": {"major": 7, "minor": 2, "micro": 0}, "package": "Debian 1:7.2"},
        "capabilities": ["oob"],
    }
    commands = [{"name": "query-name"}, {"name": "query-qmp-schema"}]
    key = cache_key(greeting, commands)
    canonical = json.dumps(
        {"format": FORMAT, "greeting": greeting, "commands": commands},
        sort_keys=True,
        separators=(",", ":"),
    )
    assert key == hashlib.sha256(canonical.encode()).hexdigest()
    assert cache_key(copy.deepcopy(greeting), list(reversed(commands))) == key
    other_package = copy.deepcopy(greeting)
    other_package["version"]["package"] = "v7.2.0-dirty"
    assert cache_key(other_package, commands) != key
    assert cache_key({**greeting, "capabilities": []}, commands) != key
    assert cache_key(greeting, [*commands, {"name": "x-more"}]) != key
    assert cache_key(greeting, [{**commands[0], "extra": 1}, commands[1]]) != key


def test_the_real_schema_passes_the_check(schema_entries: list[dict[str, Any]]) -> None:
    assert check_entries(schema_entries) is schema_entries


@pytest.mark.parametrize(
    "entries, complaint",
    [
        ({}, "not a list"),
        ([{"name": "a", "meta-type": "nonsense"}], "unknown meta-type"),
        ([{"meta-type": "builtin", "json-type": "int"}], "has no name"),
        ([{"name": "a", "meta-type": "builtin", "json-type": "int"}] * 2, "appears twice"),
        ([{"name": "a", "meta-type": "builtin", "json-type": "integer"}], "json-type"),
        ([{"name": "a", "meta-type": "enum", "values": [1]}], "values"),
        ([{"name": "a", "meta-type": "array", "element-type": "b"}], "element-type 'b'"),
        ([{"name": "a", "meta-type": "object", "members": [{"name": "m"}]}], "type is not"),
        ([{"name": "a", "meta-type": "object", "members": [], "tag": "t"}], "tag 't'"),
        (
            [
                {"name": "a", "meta-type": "object", "members": [], "variants": [{"case": "x"}]},
            ],
            "type is not a type name",
        ),
        ([{"name": "a", "meta-type": "alternate"}], "members is not a list"),
        (
            [
                {"name": "int", "meta-type": "builtin", "json-type": "int"},
                {"name": "c", "meta-type": "command", "arg-type": "int", "ret-type": "int"},
            ],
            "arg-type 'int' is not an object type",
        ),
        (
            [
                {"name": "0", "meta-type": "object", "members": []},
                {"name": "c", "meta-type": "command", "arg-type": "0", "ret-type": "0"}
                | {"allow-oob": "yes"},
            ],
            "allow-oob",
        ),
        ([{"name": "e", "meta-type": "event", "features": [1]}], "features"),
        # What marks a member or an enum value deprecated is checked as the entry's is.
        (
            [
                {"name": "int", "meta-type": "builtin", "json-type": "int"},
                {"name": "a", "meta-type": "object"}
                | {"members": [{"name": "m", "type": "int", "features": "deprecated"}]},
            ],
            "the features of 'm' are not a list of strings",
        ),
        (
            [{"name": "a", "meta-type": "enum", "members": [{"name": "v", "features": [5]}]}],
            "the features of 'v' are not",
        ),
    ],
)
def test_malformed_schemas_are_refused(entries: Any, complaint: str) -> None:
    with pytest.raises(SchemaInvalid, match=complaint):
        check_entries(entries)


def test_a_consistent_forgery_is_the_limit(
    run_shell: RunShell, qemu: QemuProcess, home: Path, tmp_path: Path
) -> None:
    """What the cache cannot tell: an entry written by someone who knows the format, whole
    and well-formed, with the server's commands. It can only change how shorthand is typed
    (docs/security.md); --no-schema-cache goes without it, and raw JSON is never typed."""
    log, path = _cached(run_shell, qemu, home, tmp_path)
    entries = _split(path)[1]
    query_name = next(e for e in entries if e["name"] == "query-name")
    status_info = next(e for e in entries if e["name"] == "query-status")["ret-type"]
    query_name["arg-type"] = status_info  # as if query-name took required arguments
    _rewrite(path, _body(entries))
    forged = run_shell("-c", "query-name", qemu.qmp)
    assert forged.status == 1 and "missing" in forged.stderr, forged.stderr
    raw = run_shell("-c", '{"execute": "query-name"}', qemu.qmp)
    assert (raw.status, raw.messages()) == (0, [{"return": {}}])
    assert _session(run_shell, qemu, log, "--no-schema-cache")
