"""Fetching the live schema, with a cache per QEMU build under the XDG cache directory.

``query-qmp-schema`` is ~200 KB and takes QEMU tens of milliseconds to build; the cached
copy is keyed by the QEMU version and the set of commands the server has, so a different
binary of the same version (the storage daemon, another target) gets its own entry. It is
kept in :meth:`Schema.to_compact` form: each entry stays JSON text until it is used, so
reading it is quick and a script that types one command holds little of it in memory.
"""

from __future__ import annotations

import contextlib
import json
import marshal
import os
import sys
import zlib
from typing import Any

from .client import QMPClient
from .errors import CommandError
from .schema import Schema


def cache_directory() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "qmpshell")


async def load_schema(client: QMPClient, *, timeout: float | None = None) -> Schema | None:
    """The schema of the server ``client`` talks to, or None when it will not say (no
    ``query-qmp-schema``, or capabilities not negotiated)."""
    try:
        commands = await client.execute("query-commands", timeout=timeout)
    except CommandError:
        return None
    names = sorted(str(c.get("name")) for c in commands if isinstance(c, dict))
    if "query-qmp-schema" not in names:
        return None
    qemu = client.greeting.raw.get("QMP", {}).get("version") if client.greeting else None
    listing = json.dumps([qemu, names]).encode()
    key = f"{zlib.crc32(listing):08x}{zlib.adler32(listing):08x}"
    # marshal: the cache is read on every start, and marshal reads it 5x faster than
    # json; its format follows the Python version, hence the tag in the name.
    tag = sys.implementation.cache_tag
    path = os.path.join(cache_directory(), f"schema-{key}-{tag}.marshal")
    schema = _read(path)
    if schema is None:
        try:
            entries = await client.execute("query-qmp-schema", timeout=timeout)
        except CommandError:
            return None
        schema = Schema(entries)
        _write(path, schema.to_compact())
    return schema


def _read(path: str) -> Schema | None:
    try:
        with open(path, "rb") as file:
            return Schema.from_compact(marshal.loads(file.read()))
    except (OSError, ValueError, EOFError, KeyError, TypeError, AttributeError):
        return None  # absent, or damaged: fetched again


def _write(path: str, entries: Any) -> None:
    """Write atomically; a cache that cannot be written is simply not used."""
    import tempfile

    directory = os.path.dirname(path)
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=directory, prefix=".schema-")
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(marshal.dumps(entries))
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
