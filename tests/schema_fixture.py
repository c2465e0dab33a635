"""A session-scoped fixture with the QMP schema of the real QEMU under test.

The schema is recorded once per test session from a freshly started
``qemu-system-x86_64 -machine none``, with a tiny blocking client independent of
qmpshell: tests check qmpshell against what the QEMU on this machine says (7.2, or 10.0
with ``scripts/test --qemu10``), never against a hand-written or stale copy. Where the
two differ, a test asks ``conftest.qemu_version()`` which one it has.

Use it from a test module with::

    pytest_plugins = ["schema_fixture"]

which provides the ``schema`` (a :class:`~qmpshell.language.schema.Schema`) and ``schema_entries``
(the raw list) fixtures.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import tempfile
import time
from typing import Any

import pytest

from qmpshell.language.schema import Schema


def _read_message(file: Any) -> dict[str, Any]:
    """The next non-event message from a QMP stream."""
    while True:
        line = file.readline()
        if not line:
            raise RuntimeError("QEMU closed the QMP connection")
        message = json.loads(line)
        if "event" not in message:
            return message  # type: ignore[no-any-return]


def fetch_schema_from_qemu() -> list[dict[str, Any]]:
    """``query-qmp-schema`` of a new ``qemu-system-x86_64 -machine none``."""
    qemu = shutil.which("qemu-system-x86_64")
    if qemu is None:
        pytest.fail("qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)")
    directory = tempfile.mkdtemp(prefix="qs-")
    path = f"{directory}/qmp.sock"
    proc = subprocess.Popen(
        [qemu, "-machine", "none", "-nodefaults", "-display", "none",
         "-qmp", f"unix:{path},server=on,wait=off"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                sock = socket.socket(socket.AF_UNIX)
                sock.settimeout(20)
                sock.connect(path)
                break
            except OSError:
                sock.close()
                if proc.poll() is not None or time.monotonic() > deadline:
                    proc.kill()  # so that reading its stderr cannot block
                    proc.wait()
                    stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                    raise RuntimeError(f"QEMU did not open its QMP socket: {stderr}") from None
                time.sleep(0.02)
        with sock, sock.makefile("rb") as file:
            greeting = json.loads(file.readline())
            assert "QMP" in greeting
            sock.sendall(b'{"execute": "qmp_capabilities"}\n')
            assert "return" in _read_message(file)
            sock.sendall(b'{"execute": "query-qmp-schema"}\n')
            reply = _read_message(file)
        entries = reply["return"]
        assert isinstance(entries, list)
        return entries
    finally:
        proc.kill()
        proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def schema_entries() -> list[dict[str, Any]]:
    """What ``query-qmp-schema`` returns (``qemu-system-x86_64 -machine none``);
    a fresh copy for each session, which tests must not change."""
    return fetch_schema_from_qemu()


@pytest.fixture(scope="session")
def schema(schema_entries: list[dict[str, Any]]) -> Schema:
    """The QMP schema of ``qemu-system-x86_64 -machine none``."""
    return Schema(schema_entries)
