"""qmpshell against peers that misbehave in ways a real QEMU cannot imitate.

Everything else is tested against real QEMU processes; here a fake peer (tests/fakepeer.py)
plays an HTTP server, a stalled or garbage-spewing peer, a peer that cuts its messages into
tiny pieces, and so on. Each case is checked through the library (``QMPClient`` under
``asyncio.run``) and, for the important ones, through the real ``qmpshell`` command, which
must exit with the documented status and one ``qmpshell: ...`` line, never a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import threading
import time
from collections.abc import Awaitable, Iterator
from typing import Any, Callable, TypeVar

import pytest
from fakepeer import (
    GREETING,
    HTTP_400,
    Behaviour,
    encode,
    error_reply_to,
    expect_command,
    fake_peer,
    handshake,
    recv_json,
    reply,
    reply_to,
    send_greeting,
    send_json,
    send_slowly,
    short_tempdir,
    stall,
    wait_for_close,
)
from script_shell import GUARD, cli_failure, cli_success, run_cli
from waiting import wait_read_by_peer

from qmpshell.errors import (
    CommandError,
    ConnectError,
    ConnectionLost,
    NegotiationError,
    NotQMPError,
    ReplyTimeout,
)
from qmpshell.protocol.address import TcpAddress, UnixAddress, parse_address
from qmpshell.protocol.client import QMPClient, Runstate
from qmpshell.protocol.inflight import OWN_ID_BASE

T = TypeVar("T")
Message = dict[str, Any]
Use = Callable[[QMPClient], Awaitable[Any]]

# A guard so that a test that would hang fails instead; every case finishes far sooner.
CONNECT_TIMEOUT = 5.0
# How long some peers wait before misbehaving, so that the client has surely finished
# setting up; the misbehaving-at-once cases are tested separately (test_garbage_at_once_*).
SETTLE = 0.1

STATUS = {"status": "running", "singlestep": False, "running": True}
EVENT = {
    "event": "STOP",
    "data": {"reason": 'a {tricky} "event" ]'},
    "timestamp": {"seconds": 1700000000, "microseconds": 1},
}


# -- driving the library -----------------------------------------------------------------


def run(coro: Awaitable[T]) -> T:
    """Run a coroutine on a fresh event loop, failing it if it takes over GUARD seconds."""

    async def guarded() -> T:
        return await asyncio.wait_for(coro, GUARD)

    return asyncio.run(guarded())


async def open_client(
    path: str, *, negotiate: bool = True, timeout: float = CONNECT_TIMEOUT
) -> QMPClient:
    client = QMPClient()
    await client.connect(UnixAddress(path), negotiate=negotiate, timeout=timeout)
    return client


async def connect_error(
    address: Any, *, negotiate: bool = True, timeout: float = CONNECT_TIMEOUT
) -> Exception:
    """Connect and return the exception that must come of it."""
    client = QMPClient()
    try:
        await client.connect(address, negotiate=negotiate, timeout=timeout)
    except Exception as exc:
        return exc
    finally:
        await client.close()
    raise AssertionError("connect() succeeded")


async def with_client(path: str, use: Use, *, negotiate: bool = True) -> Any:
    """Connect to ``path``, return ``use(client)``, always close the client."""
    client = await open_client(path, negotiate=negotiate)
    try:
        return await use(client)
    finally:
        await client.close()


async def error_from(path: str, use: Use, *, negotiate: bool = True) -> Exception:
    """Connect to ``path`` and return the exception ``use(client)`` must raise."""
    client = await open_client(path, negotiate=negotiate)
    try:
        await use(client)
    except Exception as exc:
        return exc
    finally:
        await client.close()
    raise AssertionError("no exception")


async def query_status(client: QMPClient) -> Any:
    return await client.execute("query-status", timeout=CONNECT_TIMEOUT)


@contextlib.contextmanager
def busy_loop(pause: float = 0.005) -> Iterator[None]:
    """Make every turn of the running event loop take ``pause`` seconds.

    A loaded application's loop does this; here it gives the peer time to send between
    the client's callbacks, which makes ordering races in the client reproducible.
    """
    loop = asyncio.get_running_loop()
    handle: asyncio.Handle | None = None

    def tick() -> None:
        nonlocal handle
        time.sleep(pause)
        handle = loop.call_soon(tick)

    handle = loop.call_soon(tick)
    try:
        yield
    finally:
        handle.cancel()


@pytest.fixture
def short_dir() -> Iterator[str]:
    directory = short_tempdir()
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


# -- behaviours --------------------------------------------------------------------------


def http_server(conn: socket.socket) -> None:
    """An HTTP server that answers 400 at once and hangs up."""
    conn.sendall(HTTP_400)


def http_server_waiting(conn: socket.socket) -> None:
    """An HTTP server that answers only when it reads something."""
    if conn.recv(4096):
        conn.sendall(HTTP_400)
    wait_for_close(conn)


def sends(data: bytes, *, pause: float = SETTLE) -> Behaviour:
    """Send ``data`` after ``pause`` seconds instead of a greeting, then keep still."""

    def behaviour(conn: socket.socket) -> None:
        time.sleep(pause)  # the scenario: the client is left waiting for a greeting first
        conn.sendall(data)
        wait_for_close(conn)

    return behaviour


GARBAGE_GREETINGS = {
    "binary": bytes([0x00, 0xFF, 0xFE, 0x13, 0x37, 0x80, 0x7B, 0x22]) + b"\r\n",
    "bad-utf8-alone": b"\xc3\x28\xa0\xa1\xe2\x28\xa1\r\n",
    "bad-utf8-in-json": b'{"QMP": {"version": "\xc3\x28\xff"}}\r\n',
    "no-newline": b"\x80\x81\x82\x83",
    "not-json": b"{QMP: hello}\r\n",
    "json-array": b'["QMP"]\r\n',
    "json-string": b'"QMP"\r\n',
    "reply-not-greeting": b'{"return": {}}\r\n',
    "hmp-banner": b"QEMU 7.2.0 monitor - type 'help' for more information\r\n(qemu) ",
}


def slow_greeting(conn: socket.socket) -> None:
    """Greet one byte at a time, 5 ms apart, then behave."""
    send_slowly(conn, encode(GREETING), chunk=1, pause=0.005)
    reply(conn, expect_command(conn, "qmp_capabilities"))
    reply(conn, expect_command(conn, "query-status"), STATUS)
    wait_for_close(conn)


def close_after_greeting(conn: socket.socket) -> None:
    send_greeting(conn)


def close_once_the_greeting_is_read(hung_up: threading.Event) -> Behaviour:
    def behaviour(conn: socket.socket) -> None:
        send_greeting(conn)
        wait_read_by_peer(conn, "the client reading the greeting")
        conn.shutdown(socket.SHUT_RDWR)
        hung_up.set()

    return behaviour


def close_on_first_command(conn: socket.socket) -> None:
    """Greet, accept negotiation, hang up on reading the next command."""
    handshake(conn)
    recv_json(conn)


def close_on_negotiation(conn: socket.socket) -> None:
    send_greeting(conn)
    expect_command(conn, "qmp_capabilities")


def refuse_negotiation(conn: socket.socket) -> None:
    send_greeting(conn)
    send_json(conn, error_reply_to(expect_command(conn, "qmp_capabilities"), "nope"))
    wait_for_close(conn)


def silent_on_negotiation(conn: socket.socket) -> None:
    send_greeting(conn)
    expect_command(conn, "qmp_capabilities")
    wait_for_close(conn)


def never_reply(conn: socket.socket) -> None:
    handshake(conn)
    expect_command(conn, "query-status")
    wait_for_close(conn)


def garbage_while_waiting(garbage: bytes) -> Behaviour:
    def behaviour(conn: socket.socket) -> None:
        handshake(conn)
        expect_command(conn, "query-status")
        conn.sendall(garbage)
        wait_for_close(conn)

    return behaviour


GARBAGE_REPLIES = {
    "binary": b"\x00\xff\xfe binary \x80\r\n",
    "bad-json": b'{"return": oops}\r\n',
    "bad-utf8": b'{"return": {"x": "\xc3\x28"}}\r\n',
    "json-string": b'"just a string"\r\n',
    "json-array": b"[1, 2, 3]\r\n",
    "no-newline": b"HTTP/1.1 400 Bad Request",
    "too-deep": b'{"return": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\r\n",
}


# -- not a QMP server --------------------------------------------------------------------


def test_http_server_is_not_qmp() -> None:
    with fake_peer(http_server) as path:
        exc = run(connect_error(UnixAddress(path)))
    assert isinstance(exc, NotQMPError), repr(exc)
    assert exc.reason == "not-qmp"
    assert "not a QMP server" in str(exc)
    assert path in str(exc)
    assert "\n" not in str(exc)


def test_http_server_that_waits_for_a_request_is_not_qmp() -> None:
    # The client says nothing before the greeting, so this server says nothing either.
    with fake_peer(http_server_waiting) as path:
        exc = run(connect_error(UnixAddress(path), timeout=0.5))
    assert isinstance(exc, NotQMPError), repr(exc)
    assert exc.reason == "no-greeting"
    assert "not a QMP monitor" in str(exc)


def test_cli_http_server(cli_env: dict[str, str]) -> None:
    with fake_peer(http_server) as path:
        line = cli_failure(run_cli(cli_env, path), 3)
    assert "not a QMP server" in line
    assert path in line


@pytest.mark.parametrize("name", sorted(GARBAGE_GREETINGS))
def test_garbage_instead_of_greeting(name: str) -> None:
    with fake_peer(sends(GARBAGE_GREETINGS[name])) as path:
        started = time.monotonic()
        exc = run(connect_error(UnixAddress(path)))
        assert time.monotonic() - started < CONNECT_TIMEOUT / 2, "waited for the timeout"
    assert isinstance(exc, NotQMPError), repr(exc)
    assert exc.reason == "not-qmp"
    assert "not a QMP server" in str(exc)
    assert "\n" not in str(exc) and "\r" not in str(exc)


@pytest.mark.parametrize("name", ["binary", "bad-utf8-alone", "bad-utf8-in-json"])
def test_cli_garbage_instead_of_greeting(cli_env: dict[str, str], name: str) -> None:
    with fake_peer(sends(GARBAGE_GREETINGS[name])) as path:
        line = cli_failure(run_cli(cli_env, path, "--timeout", "5"), 3)
    assert "not a QMP server" in line


def test_garbage_at_once_on_a_busy_loop() -> None:
    async def scenario() -> Exception:
        with busy_loop():
            return await connect_error(UnixAddress(path), timeout=0.5)

    with fake_peer(sends(GARBAGE_GREETINGS["binary"], pause=0)) as path:
        exc = run(scenario())
    assert isinstance(exc, NotQMPError), repr(exc)
    assert exc.reason == "not-qmp", str(exc)


def test_utf16_greeting_is_not_qmp() -> None:
    # QMP is UTF-8. In one read these bytes once took the decoder's fast path, where
    # json.loads(bytes) guesses UTF-16 and accepted them; they must be rejected however cut.
    data = encode(GREETING).decode().encode("utf-16-be")
    with fake_peer(sends(data)) as path:
        exc = run(connect_error(UnixAddress(path), negotiate=False, timeout=1))
    assert isinstance(exc, NotQMPError), repr(exc)


def test_peer_closing_without_greeting_is_not_qmp() -> None:
    with fake_peer(lambda conn: None) as path:
        exc = run(connect_error(UnixAddress(path)))
    assert isinstance(exc, NotQMPError), repr(exc)
    assert "without a QMP greeting" in str(exc)


def test_no_greeting_times_out() -> None:
    with fake_peer(stall) as path:
        started = time.monotonic()
        exc = run(connect_error(UnixAddress(path), timeout=0.5))
        elapsed = time.monotonic() - started
    assert isinstance(exc, NotQMPError), repr(exc)
    assert exc.reason == "no-greeting"
    assert "another client may be connected" in str(exc)
    assert "0.5s" in str(exc)
    assert 0.4 < elapsed < 3


def test_cli_no_greeting(cli_env: dict[str, str]) -> None:
    with fake_peer(stall) as path:
        line = cli_failure(run_cli(cli_env, path, "--timeout", "0.5"), 3)
    assert "another client may be connected" in line
    assert path in line


# -- slow, chopped and interleaved messages ----------------------------------------------


def test_greeting_one_byte_at_a_time() -> None:
    async def use(client: QMPClient) -> Any:
        assert client.greeting is not None
        assert client.greeting.version == (7, 2, 0)
        assert client.greeting.capabilities == ("oob",)
        return await query_status(client)

    with fake_peer(slow_greeting) as path:
        assert run(with_client(path, use)) == STATUS


def test_cli_greeting_one_byte_at_a_time(cli_env: dict[str, str]) -> None:
    with fake_peer(slow_greeting) as path:
        assert cli_success(run_cli(cli_env, path)) == [{"return": STATUS}]


TRICKY_TEXT = 'br{ace}s [and] "quotes" \\ back\\\\slash \\" ünïcødé € 😀 \t\r\n end'
TRICKY_RESULT = {**STATUS, "text": TRICKY_TEXT, "nested": [{"a": [[], {}]}], "n": -1.5e3}


def pretty_in_tiny_writes(chunk: int, ensure_ascii: bool, event: bool) -> Behaviour:
    """Send an (optional) event and the reply as one pretty byte stream in tiny writes."""

    def behaviour(conn: socket.socket) -> None:
        handshake(conn)
        request = expect_command(conn, "query-status")
        data = encode(EVENT, pretty=True, ensure_ascii=ensure_ascii) if event else b""
        data += encode(reply_to(request, TRICKY_RESULT), pretty=True, ensure_ascii=ensure_ascii)
        send_slowly(conn, data, chunk=chunk, pause=0.0005)
        wait_for_close(conn)

    return behaviour


@pytest.mark.parametrize(
    ("chunk", "ensure_ascii", "event"),
    [(1, True, False), (1, False, True), (2, False, False), (3, True, True), (7, False, True)],
)
def test_pretty_reply_in_tiny_writes(chunk: int, ensure_ascii: bool, event: bool) -> None:
    events: list[Message] = []

    async def use(client: QMPClient) -> Any:
        client.add_event_handler(events.append)
        return await query_status(client)

    with fake_peer(pretty_in_tiny_writes(chunk, ensure_ascii, event)) as path:
        assert run(with_client(path, use)) == TRICKY_RESULT
    assert events == ([EVENT] if event else [])


def test_cli_pretty_reply_in_tiny_writes(cli_env: dict[str, str]) -> None:
    with fake_peer(pretty_in_tiny_writes(3, False, True)) as path:
        printed = cli_success(run_cli(cli_env, path))
    assert printed == [EVENT, {"return": TRICKY_RESULT}]


def event_before_reply(conn: socket.socket) -> None:
    handshake(conn)
    request = expect_command(conn, "query-status")
    send_json(conn, EVENT)
    wait_read_by_peer(conn, "the client reading the event")  # a read of its own
    reply(conn, request, STATUS)
    wait_for_close(conn)


def test_event_between_command_and_reply() -> None:
    seen: list[tuple[str, Message]] = []

    async def use(client: QMPClient) -> None:
        client.add_event_handler(lambda event: seen.append(("event", event)))
        reply = await client.request({"execute": "query-status"}, timeout=CONNECT_TIMEOUT)
        seen.append(("reply", reply))

    with fake_peer(event_before_reply) as path:
        run(with_client(path, use))
    assert [kind for kind, _ in seen] == ["event", "reply"]
    assert seen[0][1] == EVENT
    assert seen[1][1]["return"] == STATUS


def stray_replies(stray_ids: list[Any]) -> Behaviour:
    """Answer the command first with replies (and errors) carrying ids nobody used."""

    def behaviour(conn: socket.socket) -> None:
        handshake(conn)
        request = expect_command(conn, "query-status")
        for stray in stray_ids:
            send_json(conn, {"return": {"stray": stray}, "id": stray})
            send_json(conn, {"error": {"class": "GenericError", "desc": "stray"}, "id": stray})
        wait_read_by_peer(conn, "the client reading the stray replies")
        reply(conn, request, {"right": True})
        wait_for_close(conn)

    return behaviour


def test_reply_with_unknown_id_is_dropped() -> None:
    async def use(client: QMPClient) -> Message:
        return await client.request({"execute": "query-status"}, timeout=CONNECT_TIMEOUT)

    own = OWN_ID_BASE + 1  # the id of the negotiation, answered long before
    strays = ["bogus", str(own), own + 98, own * 1.0, None, [own]]
    with fake_peer(stray_replies(strays)) as path:
        reply = run(with_client(path, use))
    assert reply["return"] == {"right": True}
    assert isinstance(reply["id"], int) and reply["id"] > OWN_ID_BASE


def test_reply_with_id_of_another_type_is_dropped() -> None:
    # The command's id is the string "7": replies with 7, 7.0, ["7"]... are not for it.
    async def use(client: QMPClient) -> Message:
        message = {"execute": "query-status", "id": "7"}
        return await client.request(message, timeout=CONNECT_TIMEOUT)

    with fake_peer(stray_replies([7, 7.0, ["7"], {"id": "7"}, True])) as path:
        reply = run(with_client(path, use))
    assert reply == {"return": {"right": True}, "id": "7"}


def test_cli_reply_with_unknown_id_is_dropped(cli_env: dict[str, str]) -> None:
    with fake_peer(stray_replies(["bogus", 2])) as path:
        assert cli_success(run_cli(cli_env, path)) == [{"return": {"right": True}}]


def late_reply(conn: socket.socket) -> None:
    """Answer the first command only after the second one came, then answer that."""
    handshake(conn)
    first = expect_command(conn, "query-status")
    second = expect_command(conn, "query-name")
    reply(conn, first, {"late": True})
    reply(conn, second, {"name": "vm"})
    wait_for_close(conn)


def test_late_reply_after_timeout_is_dropped() -> None:
    async def use(client: QMPClient) -> Any:
        with pytest.raises(ReplyTimeout):
            await client.execute("query-status", timeout=0.2)
        return await client.execute("query-name", timeout=CONNECT_TIMEOUT)

    with fake_peer(late_reply) as path:
        assert run(with_client(path, use)) == {"name": "vm"}


# -- negotiation -------------------------------------------------------------------------


def test_negotiation_refused() -> None:
    with fake_peer(refuse_negotiation) as path:
        exc = run(connect_error(UnixAddress(path)))
    assert isinstance(exc, NegotiationError), repr(exc)
    assert "negotiation" in str(exc)
    assert "GenericError" in str(exc) and "nope" in str(exc)


def test_cli_negotiation_refused(cli_env: dict[str, str]) -> None:
    with fake_peer(refuse_negotiation) as path:
        line = cli_failure(run_cli(cli_env, path), 3)
    assert "negotiation" in line
    assert "nope" in line


def test_skipping_negotiation_sends_nothing() -> None:
    def behaviour(conn: socket.socket) -> None:
        send_greeting(conn)
        assert conn.recv(4096) == b"", "the client sent something"

    with fake_peer(behaviour) as path:
        # Connected, the client keeps still a moment (the scenario, not a wait for
        # something), then leaves: it must have sent nothing.
        run(with_client(path, lambda client: asyncio.sleep(0.05), negotiate=False))


@pytest.mark.parametrize("behaviour", [silent_on_negotiation, close_on_negotiation])
def test_negotiation_failure_is_a_connect_failure(behaviour: Behaviour) -> None:
    with fake_peer(behaviour) as path:
        exc = run(connect_error(UnixAddress(path), timeout=0.3))
    assert isinstance(exc, (ConnectError, NegotiationError)), repr(exc)


@pytest.mark.parametrize("behaviour", [silent_on_negotiation, close_on_negotiation])
def test_cli_negotiation_failure(cli_env: dict[str, str], behaviour: Behaviour) -> None:
    with fake_peer(behaviour) as path:
        cli_failure(run_cli(cli_env, path, "--timeout", "0.3"), 3)


# -- lost connections --------------------------------------------------------------------


def test_peer_closes_after_greeting() -> None:
    hung_up = threading.Event()

    async def use(client: QMPClient) -> Any:
        assert await asyncio.to_thread(hung_up.wait, 10), "the peer did not hang up"
        return await query_status(client)

    with fake_peer(close_once_the_greeting_is_read(hung_up)) as path:
        exc = run(error_from(path, use, negotiate=False))
    assert isinstance(exc, ConnectionLost), repr(exc)
    assert path in str(exc)


def test_peer_closes_right_after_greeting() -> None:
    async def scenario() -> Exception:
        with busy_loop():
            client = await open_client(path, negotiate=False)
        try:
            await query_status(client)
        except Exception as exc:
            return exc
        finally:
            await client.close()
        raise AssertionError("no exception")

    with fake_peer(close_after_greeting) as path:
        exc = run(scenario())
    assert isinstance(exc, ConnectionLost), repr(exc)
    assert "without a QMP greeting" not in str(exc)


def test_cli_peer_closes_right_after_greeting(cli_env: dict[str, str]) -> None:
    with fake_peer(close_after_greeting) as path:
        line = cli_failure(run_cli(cli_env, path), 3)
    assert "without a QMP greeting" not in line


def test_peer_closes_when_command_arrives() -> None:
    with fake_peer(close_on_first_command) as path:
        exc = run(error_from(path, query_status))
    assert isinstance(exc, ConnectionLost), repr(exc)
    assert "closed by peer" in str(exc)
    assert path in str(exc)


def test_cli_peer_closes_when_command_arrives(cli_env: dict[str, str]) -> None:
    with fake_peer(close_on_first_command) as path:
        line = cli_failure(run_cli(cli_env, path), 3)
    assert path in line


@pytest.mark.parametrize("name", sorted(GARBAGE_REPLIES))
def test_garbage_while_command_waits(name: str) -> None:
    with fake_peer(garbage_while_waiting(GARBAGE_REPLIES[name])) as path:
        started = time.monotonic()
        exc = run(error_from(path, query_status))
        assert time.monotonic() - started < CONNECT_TIMEOUT / 2, "waited for the timeout"
    assert isinstance(exc, ConnectionLost), repr(exc)
    assert "dropped" in str(exc)
    assert path in str(exc)
    assert "\n" not in str(exc) and "\r" not in str(exc)


def test_cli_garbage_while_command_waits(cli_env: dict[str, str]) -> None:
    with fake_peer(garbage_while_waiting(GARBAGE_REPLIES["binary"])) as path:
        line = cli_failure(run_cli(cli_env, path, "--timeout", "5"), 3)
    assert "dropped" in line


# -- timeouts and errors -----------------------------------------------------------------


def test_command_never_answered_times_out() -> None:
    async def use(client: QMPClient) -> Runstate:
        started = time.monotonic()
        with pytest.raises(ReplyTimeout) as info:
            await client.execute("query-status", timeout=0.3)
        assert 0.25 < time.monotonic() - started < 3
        assert "0.3s" in str(info.value)
        return client.state  # a timeout is not a lost connection

    with fake_peer(never_reply) as path:
        assert run(with_client(path, use)) is Runstate.RUNNING


def test_cli_command_never_answered(cli_env: dict[str, str]) -> None:
    with fake_peer(never_reply) as path:
        proc = run_cli(cli_env, path, "--timeout", "0.3")
    line = cli_failure(proc, 1)
    assert "query-status" in line
    assert "0.3s" in line
    assert proc.stdout == ""


def test_error_reply_is_a_command_error() -> None:
    # A check of the helpers: a well-formed error reply is a CommandError, nothing worse.
    def behaviour(conn: socket.socket) -> None:
        handshake(conn)
        send_json(conn, error_reply_to(expect_command(conn, "query-status"), "no way"))
        wait_for_close(conn)

    async def use(client: QMPClient) -> CommandError:
        with pytest.raises(CommandError) as info:
            await query_status(client)
        return info.value

    with fake_peer(behaviour) as path:
        error = run(with_client(path, use))
    assert (error.error_class, error.desc) == ("GenericError", "no way")


# -- nothing to talk to ------------------------------------------------------------------


def closed_socket_file(directory: str) -> str:
    """A UNIX socket file that was bound but nobody listens on."""
    path = os.path.join(directory, "dead.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(path)
    finally:
        sock.close()
    return path


def regular_file(directory: str) -> str:
    path = os.path.join(directory, "plain.txt")
    with open(path, "w") as file:
        file.write("not a socket\n")
    return path


def missing_path(directory: str) -> str:
    return os.path.join(directory, "missing.sock")


PATH_CASES = {
    "not-found": missing_path,
    "not-a-socket": regular_file,
    "refused": closed_socket_file,
}


@pytest.mark.parametrize("reason", sorted(PATH_CASES))
def test_connect_to_unusable_path(short_dir: str, reason: str) -> None:
    path = PATH_CASES[reason](short_dir)
    exc = run(connect_error(UnixAddress(path)))
    assert type(exc) is ConnectError, repr(exc)
    assert exc.reason == reason
    assert path in str(exc)


@pytest.mark.parametrize("reason", sorted(PATH_CASES))
def test_cli_unusable_path(cli_env: dict[str, str], short_dir: str, reason: str) -> None:
    path = PATH_CASES[reason](short_dir)
    assert path in cli_failure(run_cli(cli_env, path), 3)


def unused_tcp_port() -> int:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
    finally:
        sock.close()


def test_connect_to_unused_tcp_port() -> None:
    port = unused_tcp_port()
    address = parse_address(f"127.0.0.1:{port}")
    assert address == TcpAddress("127.0.0.1", port)
    exc = run(connect_error(address))
    assert type(exc) is ConnectError, repr(exc)
    assert exc.reason == "refused"
    assert f"127.0.0.1:{port}" in str(exc)


def test_cli_unused_tcp_port(cli_env: dict[str, str]) -> None:
    port = unused_tcp_port()
    line = cli_failure(run_cli(cli_env, f"127.0.0.1:{port}"), 3)
    assert f"127.0.0.1:{port}" in line
    assert "refused" in line


# -- the fake peer itself ----------------------------------------------------------------


def test_fake_peer_cleans_up_after_a_failing_test() -> None:
    before = set(threading.enumerate())
    accepted = threading.Event()

    def stalling(conn: socket.socket) -> None:
        accepted.set()
        stall(conn)

    with pytest.raises(RuntimeError, match="test body failed"), fake_peer(stalling) as path:
        directory = os.path.dirname(path)
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.connect(path)
            assert accepted.wait(10), "the peer did not accept"  # and it is stalling
            raise RuntimeError("test body failed")
    assert not os.path.exists(directory)
    assert set(threading.enumerate()) <= before


def test_fake_peer_reports_a_failed_behaviour() -> None:
    def behaviour(conn: socket.socket) -> None:
        send_greeting(conn)
        expect_command(conn, "qmp_capabilities")

    with pytest.raises(AssertionError, match="expected qmp_capabilities"):  # noqa: SIM117
        with fake_peer(behaviour) as path, socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(GUARD)
            sock.connect(path)
            with sock.makefile("rb") as file:
                assert json.loads(file.readline()) == GREETING
                sock.sendall(b'{"execute": "query-status"}\n')
                assert file.read() == b""  # the peer gave up and hung up
