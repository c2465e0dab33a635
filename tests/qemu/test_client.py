"""The protocol layer used as a library, against real QEMU processes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from conftest import QemuFactory, QemuProcess
from waiting import stop, wait_queued_to

from qmpshell.errors import CommandError, ConnectionLost, ReplyTimeout, SessionEnded
from qmpshell.protocol import QMPClient, parse_address
from qmpshell.protocol.client import Runstate
from qmpshell.protocol.transcript import Transcript

T = TypeVar("T")


def run(body: Callable[[], Awaitable[T]]) -> T:
    return asyncio.run(asyncio.wait_for(body(), 30))  # type: ignore[arg-type]


def test_connect_execute_close(qemu: QemuProcess) -> None:
    async def body() -> None:
        async with QMPClient() as qmp:
            greeting = await qmp.connect(parse_address(qemu.qmp))
            assert qmp.state is Runstate.RUNNING
            assert greeting.version >= (7, 0, 0)
            assert "oob" in greeting.capabilities
            assert not qmp.oob_enabled
            status = await qmp.execute("query-status")
            assert status["running"] is True
            assert await qmp.execute("qom-get", {"path": "/machine", "property": "type"})
        assert qmp.state is Runstate.DISCONNECTED

    run(body)


def test_oob_negotiation(qemu: QemuProcess) -> None:
    async def body() -> None:
        async with QMPClient() as qmp:
            await qmp.connect(parse_address(qemu.qmp), enable_oob=True)
            assert qmp.oob_enabled
            reply = await qmp.request({"exec-oob": "migrate-recover", "id": "o1"})
            # Accepted out of band: the error is about migration, not about oob.
            assert reply["id"] == "o1"
            assert "error" in reply

    run(body)


def test_command_error(qemu: QemuProcess) -> None:
    async def body() -> None:
        async with QMPClient() as qmp:
            await qmp.connect(parse_address(qemu.qmp))
            with pytest.raises(CommandError) as info:
                await qmp.execute("qom-get", {"path": "/nowhere", "property": "x"})
            assert info.value.error_class == "DeviceNotFound"
            assert "/nowhere" in info.value.desc

    run(body)


def test_events_in_order_while_commands_wait(q35: QemuProcess) -> None:
    async def body() -> None:
        async with QMPClient() as qmp:
            await qmp.connect(parse_address(q35.qmp))
            seen: list[str] = []
            qmp.add_event_handler(lambda event: seen.append(event["event"]))
            stream = qmp.events()
            await qmp.execute("cont")
            assert seen == ["RESUME"]  # delivered before the reply was returned
            await qmp.execute("stop")
            assert seen == ["RESUME", "STOP"]
            assert (await stream.__anext__())["event"] == "RESUME"
            assert (await stream.__anext__())["event"] == "STOP"
            stream.close()

    run(body)


def test_concurrent_commands_matched_by_id(qemu: QemuProcess) -> None:
    async def body() -> None:
        async with QMPClient() as qmp:
            await qmp.connect(parse_address(qemu.qmp))
            paths = ["/machine", "/chardevs", "/machine/unattached", "/"]
            replies = await asyncio.gather(
                *(qmp.execute("qom-list", {"path": p}) for p in paths),
                qmp.request({"execute": "query-name", "id": 1}),
                qmp.request({"execute": "query-name", "id": "1"}),
            )
            for path, reply in zip(paths, replies):
                expected = await qmp.execute("qom-list", {"path": path})
                assert reply == expected
            assert replies[-2] == {"return": {}, "id": 1}
            assert replies[-1] == {"return": {}, "id": "1"}

    run(body)


def test_event_stream_ends_when_qemu_quits(qemu: QemuProcess) -> None:
    async def body() -> None:
        async with QMPClient() as qmp:
            await qmp.connect(parse_address(qemu.qmp))
            stream = qmp.events()
            await qmp.execute("quit")
            names = [event["event"] async for event in stream]
            assert names == ["SHUTDOWN"]
            await qmp.wait_closed()
            # The end asked for: a ConnectionLost of its own kind.
            assert isinstance(qmp.disconnect_reason, SessionEnded)
            assert str(qmp.disconnect_reason) == "QEMU quit; session ended"
            with pytest.raises(SessionEnded):
                await qmp.execute("query-status")

    run(body)


@pytest.mark.parametrize("line", ["quit", "q", " quit "])
def test_hmp_quit_is_the_end_asked_for(qemu: QemuProcess, line: str) -> None:
    async def body() -> None:
        async with QMPClient() as qmp:
            await qmp.connect(parse_address(qemu.qmp))
            with contextlib.suppress(ConnectionLost):  # the reply may be lost with QEMU
                await qmp.execute("human-monitor-command", {"command-line": line})
            await qmp.wait_closed()
            assert isinstance(qmp.disconnect_reason, SessionEnded)

    run(body)


def test_hmp_quit_with_arguments_is_refused_and_qemu_stays(qemu: QemuProcess) -> None:
    async def body() -> None:
        async with QMPClient() as qmp:
            await qmp.connect(parse_address(qemu.qmp))
            await qmp.execute("human-monitor-command", {"command-line": "quit now"})
            assert not qmp.quitting
            assert "status" in await qmp.execute("query-status")

    run(body)


def test_killed_while_waiting(qemu: QemuProcess) -> None:
    async def body() -> None:
        async with QMPClient() as qmp:
            await qmp.connect(parse_address(qemu.qmp))
            stop(qemu.proc.pid)
            waiting = asyncio.ensure_future(qmp.execute("query-status"))
            await asyncio.to_thread(wait_queued_to, qemu.proc.pid)  # sent, not answered
            os.kill(qemu.proc.pid, signal.SIGKILL)
            with pytest.raises(ConnectionLost, match=r"connection to .* (lost|closed)"):
                await waiting
            assert not isinstance(qmp.disconnect_reason, SessionEnded)  # not asked for

    run(body)


def test_reply_timeout_then_late_reply_dropped(qemu: QemuProcess) -> None:
    async def body() -> None:
        async with QMPClient() as qmp:
            await qmp.connect(parse_address(qemu.qmp))
            stop(qemu.proc.pid)
            try:
                with pytest.raises(ReplyTimeout):
                    await qmp.execute("query-status", timeout=0.3)
            finally:
                os.kill(qemu.proc.pid, signal.SIGCONT)
            # The late reply to query-status arrives first and must not answer this one.
            assert await qmp.execute("query-name") == {}

    run(body)


def test_cancelled_command_reply_dropped(qemu: QemuProcess) -> None:
    async def body() -> None:
        async with QMPClient() as qmp:
            await qmp.connect(parse_address(qemu.qmp))
            stop(qemu.proc.pid)
            waiting = asyncio.ensure_future(qmp.execute("query-status"))
            await asyncio.to_thread(wait_queued_to, qemu.proc.pid)  # sent, not answered
            waiting.cancel()
            os.kill(qemu.proc.pid, signal.SIGCONT)
            assert await qmp.execute("query-name") == {}

    run(body)


@pytest.mark.parametrize("layout", ["compact", "pretty"])
def test_large_reply(qemu_factory: QemuFactory, layout: str) -> None:
    qemu = qemu_factory.start(pretty=layout == "pretty")

    async def body() -> None:
        async with QMPClient() as qmp:
            await qmp.connect(parse_address(qemu.qmp))
            schema = await qmp.execute("query-qmp-schema")
            names = {entry["name"] for entry in schema}
            assert {"query-status", "blockdev-add", "STOP"} <= names

    run(body)


def test_transcript_records_both_directions(qemu: QemuProcess, tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"

    async def body() -> None:
        transcript = Transcript(str(path))
        async with QMPClient(transcript=transcript) as qmp:
            await qmp.connect(parse_address(qemu.qmp), negotiate=False)
            await qmp.request({"execute": "qmp_capabilities"})
        transcript.close()

    run(body)
    assert path.read_text().count('"dir": "recv"') == 2
    assert path.read_text().count('"dir": "send"') == 1


def test_storage_daemon_library(qemu_factory: QemuFactory) -> None:
    daemon = qemu_factory.start_storage_daemon()

    async def body() -> Any:
        async with QMPClient() as qmp:
            await qmp.connect(parse_address(daemon.qmp))
            commands = {c["name"] for c in await qmp.execute("query-commands")}
            assert "blockdev-add" in commands
            assert "human-monitor-command" not in commands

    run(body)
