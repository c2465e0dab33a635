"""Fetching the live schema, with a cache per QEMU build under the XDG cache directory.

``query-qmp-schema`` is ~200 KB and takes QEMU tens of milliseconds to build. The cached
copy is keyed by a SHA-256 digest of the whole greeting (version, package, capabilities)
and the whole ``query-commands`` list, so a different build, even of the same version
(the storage daemon, another target, a distribution's patches), gets its own entry.

What the cache trusts, and what it does not (docs/security.md, "The schema cache"): the
key is a digest of public data, so anything running as this user can write an entry under
the key of a real QEMU. The cache cannot stop that; it makes sure that what it reads is a
schema at all and that it fits the server it is used for:

- it is written only from what the server on this connection sent, once checked;
- a file is read through :func:`~qmpshell.protocol.privatefile.open_private` (no symbolic link,
  regular, ours, 0600) in a directory :func:`~qmpshell.protocol.privatefile.private_directory`
  checks (ours, 0700); another user's is not used;
- a file holds a header line (format, key, size and CRC-32 of the rest, which catch a
  damaged or cut file), the index (the entries' names and meta-types) and one entry a
  line, as compact JSON; whatever is read of it is checked first, the index by
  :func:`~qmpshell.language.schemacheck.kinds_of` and each entry by
  :func:`~qmpshell.language.schemacheck.check_entry` (which make up ``check_entries``),
  and its commands must be the server's own;
- anything wrong (too big, damaged, malformed, another key) is fetched again and
  rewritten. ``--no-schema-cache`` neither reads nor writes it.

A session reads all of it. A one-shot script reads only what typing its lines needs
(every command and event, and the types its commands' arguments lead to: 269 of QEMU
7.2's 1051 entries for ``query-status``), which is what a line per entry is for: reading
and checking it all was a fifth of such a script's instructions (the JSON 40% of that,
the check 30%); the rest is checked by the next session that reads it.

JSON, not marshal: marshal reads ~10x faster, but is documented as unsafe on data that may
be malicious. The digest is a CRC-32, which is made to catch damage (a forger can write
any digest: see docs/security.md), for a tenth of a SHA-256's time (CPython's own, with
no OpenSSL: 2 ms of a one-shot script for 190 KB).
"""

from __future__ import annotations

import binascii
import contextlib
import importlib
import json
import os
from collections.abc import Collection, Generator

from ..errors import CommandError
from ..language.schema import Schema
from ..language.schemacheck import (
    SchemaInvalid,
    check_entries,
    check_entry,
    kinds_of,
    referred_types,
)
from ..protocol.privatefile import open_private, private_directory
from .paths import qmpshell_dir

TYPE_CHECKING = False  # typing's, without importing typing (docs/architecture.md, start-up)
if TYPE_CHECKING:
    from typing import Any

    from ..protocol.client import QMPClient

_SHA256: Any = None  # the sha256 constructor, once found


def _sha256_of(data: bytes) -> str:
    """The SHA-256 digest of ``data`` in hex. hashlib loads OpenSSL, which would cost every
    start-up about 3 ms; CPython's own implementation of the same function, 0.2 ms."""
    global _SHA256
    if _SHA256 is None:
        for name in ("_sha2", "_sha256"):  # CPython 3.12 and later, 3.11 and earlier
            with contextlib.suppress(ImportError, AttributeError):
                _SHA256 = importlib.import_module(name).sha256
                break
        else:
            import hashlib

            _SHA256 = hashlib.sha256
    return str(_SHA256(data).hexdigest())


FORMAT = 3  # 3: the body's CRC-32 in the header, where 2 had its SHA-256
# QEMU 7.2's schema is 190 KB, 10.0's 270 KB; a file far larger is not read.
MAX_FILE_BYTES = 16 << 20


def cache_directory() -> str:
    return qmpshell_dir("cache")


def cache_key(greeting: Any, commands: Any) -> str:
    """The digest a server's cache entry is kept under: of its greeting's ``QMP`` object
    and its ``query-commands`` list (in name order), as canonical JSON."""
    listing = sorted(commands, key=lambda c: str(c.get("name")) if isinstance(c, dict) else "")
    text = json.dumps(
        {"format": FORMAT, "greeting": greeting, "commands": listing},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return _sha256_of(text.encode())


# What fetching a schema asks the server, one command at a time: the dialogue yields the
# name of each command to run and is sent its return value, or the CommandError it gave;
# it returns the schema. Driven by the asyncio client (load_schema) and by the blocking
# one of one-shot scripts alike.
Dialogue = Generator[str, "Any", "Schema | None"]


def schema_dialogue(
    greeting: Any, *, cache: bool = True, needed: Collection[str] | None = None
) -> Dialogue:
    """Fetch the schema of the server that greeted with ``greeting`` (its ``QMP``
    object): None when it will not say (no ``query-qmp-schema``, capabilities not
    negotiated); :class:`SchemaInvalid` when what it sends is no schema.
    ``cache``: read and write the cache (``--no-schema-cache`` is False). ``needed``:
    the only commands whose arguments will be typed, when they are known (a one-shot
    script): a schema from the cache then holds only what they need (:func:`read_cache`)."""
    commands = yield "query-commands"
    if isinstance(commands, CommandError) or not isinstance(commands, list):
        return None
    names = {str(c.get("name")) for c in commands if isinstance(c, dict)}
    if "query-qmp-schema" not in names:
        return None
    path = None
    if cache:
        key = cache_key(greeting, commands)
        path = os.path.join(cache_directory(), f"schema-{key}.json")
        schema = read_cache(path, key, names, needed)
        if schema is not None:
            return schema
    entries = yield "query-qmp-schema"
    if isinstance(entries, CommandError):
        return None
    schema = Schema(check_entries(entries))  # SchemaInvalid: said by the caller
    if path is not None and set(schema.commands) == names:
        write_cache(path, key, entries)
    return schema


async def load_schema(
    client: QMPClient, *, timeout: float | None = None, cache: bool = True
) -> Schema | None:
    """The schema of the server ``client`` talks to (:func:`schema_dialogue`)."""
    greeting = client.greeting.raw.get("QMP") if client.greeting else None
    dialogue = schema_dialogue(greeting, cache=cache)
    try:
        command = next(dialogue)
        while True:
            try:
                answer = await client.execute(command, timeout=timeout)
            except CommandError as exc:
                answer = exc
            command = dialogue.send(answer)
    except StopIteration as end:
        return end.value  # type: ignore[no-any-return]


def usable(schema: Schema | None) -> Schema | None:
    """The schema, checked to hold something: :class:`ValueError` when not one command."""
    if schema is not None and not schema.commands:
        raise ValueError("not one command in it")
    return schema


def unusable_note(exc: Exception) -> str:
    """Said when what the server answered makes no schema."""
    return f"the schema QEMU sent cannot be used ({exc}): lines are sent untyped"


def late_note(timeout: float | None) -> str:
    """Said when the schema did not come within the timeout."""
    return (
        f"no schema from QEMU within {timeout:g}s (stopped or busy?): lines are "
        "sent untyped, and completion knows only the meta-commands, until it comes"
    )


def read_cache(
    path: str, key: str, commands: set[str], needed: Collection[str] | None = None
) -> Schema | None:
    """The schema cached in ``path`` when it is whole, well-formed, kept under ``key`` and
    has exactly the server's ``commands``; None otherwise (to be fetched again).
    ``needed``: the commands whose arguments are to be typed, when no others will be:
    the schema then holds every command and event and the types those commands'
    arguments lead to, not the rest, which is neither read nor checked (a one-shot
    script of ``query-status`` reads 269 of QEMU 7.2's 1051 entries); None: all of it."""
    try:
        private_directory(os.path.dirname(path))
        fd = open_private(path, os.O_RDONLY)
    except OSError:
        return None  # absent, or not ours to trust
    try:
        with os.fdopen(fd, "rb") as file:
            if os.fstat(file.fileno()).st_size > MAX_FILE_BYTES:
                return None
            header = json.loads(file.readline(4096))
            body = file.read()
        if (
            not isinstance(header, dict)
            or header.get("format") != FORMAT
            or header.get("key") != key
            or header.get("size") != len(body)
            or header.get("crc32") != binascii.crc32(body)
        ):
            return None
        schema = Schema(_entries(body.decode("ascii"), needed))
    except (OSError, ValueError, RecursionError):  # SchemaInvalid and bad JSON included
        return None
    return schema if set(schema.commands) == commands else None


def _entries(body: str, needed: Collection[str] | None) -> list[dict[str, Any]]:
    """The entries in the body of a cache file (the index, then one entry a line), each
    checked against the index: all of them, or those ``needed`` commands need."""
    lines = body.split("\n")
    index = json.loads(lines[0])
    names = index.get("names") if isinstance(index, dict) else None
    metas = index.get("meta-types") if isinstance(index, dict) else None
    if not isinstance(names, list) or not isinstance(metas, list):
        raise SchemaInvalid("no index")
    if not len(names) == len(metas) == len(lines) - 1:
        raise SchemaInvalid("the index does not list the entries")
    kinds = kinds_of(names, metas)

    def read(rows: list[int]) -> list[dict[str, Any]]:
        # One json.loads for them all: a line that is not one entry makes them too few
        # or too many, or one that is not the entry the index lists there.
        entries: list[dict[str, Any]] = json.loads(
            f"[{','.join([lines[row + 1] for row in rows])}]"
        )
        if len(entries) != len(rows):
            raise SchemaInvalid("the lines are not one entry each")
        for row, entry in zip(rows, entries):
            if not isinstance(entry, dict):
                raise SchemaInvalid(f"entry {row} is not an object")
            if entry.get("name") != names[row] or entry.get("meta-type") != metas[row]:
                raise SchemaInvalid(f"entry {row} is not the {names[row]!r} the index lists")
            check_entry(entry, kinds)
        return entries

    if needed is None:
        return read(list(range(len(names))))
    entries = read([row for row, meta in enumerate(metas) if meta in ("command", "event")])
    # Typing a command's arguments reads its argument type and the types that leads to.
    rows = {name: row for row, name in enumerate(names)}
    wanted = {e["arg-type"] for e in entries if e["meta-type"] == "command" and e["name"] in needed}
    seen: set[str] = set()
    while wanted:
        seen |= wanted
        found = read(sorted(rows[name] for name in wanted))
        entries += found
        wanted = {name for entry in found for name in referred_types(entry)} - seen
    return entries


def write_cache(path: str, key: str, entries: list[Any]) -> None:
    """Write ``entries`` (checked) atomically (a new 0600 file renamed over the old); a
    cache that cannot be written is simply not used."""
    index = {"names": [e["name"] for e in entries], "meta-types": [e["meta-type"] for e in entries]}
    lines = [json.dumps(index, separators=(",", ":"))]
    lines += [json.dumps(e, separators=(",", ":")) for e in entries]
    body = "\n".join(lines).encode()
    header = {"format": FORMAT, "key": key, "size": len(body), "crc32": binascii.crc32(body)}
    temporary = f"{path}.{os.urandom(6).hex()}.tmp"
    try:
        private_directory(os.path.dirname(path))
        fd = open_private(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(json.dumps(header).encode() + b"\n" + body)
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
