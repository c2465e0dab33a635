"""The client against a peer that sends arbitrary JSON (issue 16, point 8).

An in-process peer (an asyncio UNIX socket server in the test's own loop, so an example
costs a millisecond or two) greets, then plays a script hypothesis wrote: replies to the
client's commands and to ids never sent, with ids of every JSON type; events of odd
shapes; objects that are neither; values deep (to the decoder's limit and past it), wide,
with control characters, lone surrogates, huge and non-finite numbers; top-level values
that are not objects; garbage bytes. Then it hangs up. Meanwhile the client runs a few
commands. Only qmpshell's own errors (:class:`~qmpshell.errors.QMPShellError`) may come
out; and every message received must go through the output paths without an exception:
the scripted JSON output (compact and indented), the interactive renderer, the event
log, the transcript with redaction, the id key.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import tempfile
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from conftest import FUZZ_EXAMPLES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qmpshell.errors import QMPShellError
from qmpshell.limits import MAX_DEPTH
from qmpshell.protocol.address import UnixAddress
from qmpshell.protocol.blocking import BlockingClient, Unusual
from qmpshell.protocol.client import QMPClient
from qmpshell.protocol.message import id_key
from qmpshell.protocol.transcript import Transcript
from qmpshell.session.events import EventLog
from qmpshell.ui.console import Console
from qmpshell.ui.output import Output
from qmpshell.ui.render import Renderer

GREETING = {"QMP": {"version": {"qemu": {"major": 7, "minor": 2, "micro": 0}}, "capabilities": []}}
# A guard: every example ends in milliseconds, as the peer hangs up at the end.
GUARD = 10.0

# -- what the peer sends ------------------------------------------------------------------

KEYS = st.sampled_from(
    ["return", "error", "id", "event", "data", "timestamp", "class", "desc", "QMP",
     "password", "secret", "command-line", "qom-type", "value", "property", "path"]
) | st.text(max_size=8)  # fmt: skip
TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=12) | st.sampled_from(
    ["\x1b[2J", "\x9b31m", "\ud800", "\udfff\ud800", "\x00", "\u2028", "}{]["]
)
NUMBERS = (
    st.integers()
    | st.integers(min_value=-(1 << 80), max_value=1 << 80)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([1 << 63, (1 << 64) - 1, 1 << 64, -(1 << 63) - 1, 1e308, 0.0, -0.0, 1.0])
)
SCALARS = st.none() | st.booleans() | NUMBERS | TEXT
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=12,
)
WIDE = st.integers(50, 2000).map(lambda n: {f"k{i}": i for i in range(n)}) | st.integers(
    50, 2000
).map(lambda n: list(range(n)))


def nested_text(depth: int, lists: bool) -> str:
    """JSON text ``depth`` levels deep, written by hand (json.dumps would recurse), a
    secret innermost (so that the transcript's redaction walks it all)."""
    secret = '{"password": "x"}'
    if lists:
        return "[" * (depth - 1) + secret + "]" * (depth - 1)
    return '{"a": ' * (depth - 1) + secret + "}" * (depth - 1)


DEPTHS = st.integers(MAX_DEPTH - 3, MAX_DEPTH + 3) | st.integers(1, 1200)


DEEP_SHAPES = [
    ('{"return": ', "}"),
    ('{"event": "X", "data": ', "}"),
    ('{"return": 1, "id": ', "}"),
    ('{"error": ', ', "id": 1}'),
]


@st.composite
def deep_messages(draw: st.DrawFn) -> bytes:
    """A message whose return, data or id is nested around the limit (the message
    itself is one level more)."""
    inner = nested_text(draw(DEPTHS), draw(st.booleans()))
    before, after = draw(st.sampled_from(DEEP_SHAPES))
    return (before + inner + after).encode() + b"\r\n"


def encoded(value: Any, ascii_only: bool, pretty: bool) -> bytes:
    text = json.dumps(value, ensure_ascii=ascii_only, indent=4 if pretty else None)
    return text.encode("utf-8", "surrogatepass") + b"\r\n"


@st.composite
def objects(draw: st.DrawFn) -> Any:
    """A message-like object: a reply, an error, an event, or anything."""
    ident = draw(st.just(None) | VALUES)
    kind = draw(st.sampled_from(["return", "error", "event", "other"]))
    if kind == "return":
        message: dict[str, Any] = {"return": draw(VALUES | WIDE)}
    elif kind == "error":
        error = {"class": draw(TEXT | VALUES), "desc": draw(TEXT | VALUES)}
        message = {"error": draw(st.just(error) | VALUES)}
    elif kind == "event":
        message = {"event": draw(TEXT | VALUES), "data": draw(VALUES | WIDE)}
        message["timestamp"] = draw(
            VALUES | st.fixed_dictionaries({"seconds": NUMBERS, "microseconds": NUMBERS})
        )
    else:
        message = draw(st.dictionaries(KEYS, VALUES, max_size=5))
    if ident is not None or draw(st.booleans()):
        message["id"] = ident
    return message


# An action: ("answer", reply) answers the oldest command not yet answered, with its
# own id; ("send", bytes) sends anything.
ACTIONS = st.one_of(
    st.tuples(st.just("answer"), objects()),
    st.tuples(
        st.just("send"),
        st.builds(encoded, objects() | VALUES, st.booleans(), st.booleans()),
    ),
    st.tuples(st.just("send"), deep_messages()),
    st.tuples(st.just("send"), st.binary(max_size=30)),
)
SCRIPTS = st.lists(ACTIONS, max_size=8)
VERSIONS = st.fixed_dictionaries(
    {"qemu": st.dictionaries(st.sampled_from(["major", "minor", "micro"]), VALUES)},
    optional={"package": VALUES},
)
GREETINGS = st.just(GREETING) | st.builds(
    lambda version, caps: {"QMP": {"version": version, "capabilities": caps}},
    VERSIONS | VALUES,
    st.lists(st.just("oob") | VALUES, max_size=3) | VALUES,
)


# -- the scenario -----------------------------------------------------------------------


class Recorder:
    """The client's transcript: keeps what it received, and writes the real transcript
    (with redaction) too."""

    def __init__(self, transcript: Transcript) -> None:
        self.transcript = transcript
        self.received: list[Any] = []

    def record(self, direction: str, message: Any, *, user: bool = False) -> None:
        if direction == "recv":
            self.received.append(message)
        self.transcript.record(direction, message, user=user)


Serve = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def playing(greeting: Any, script: list[tuple[str, Any]]) -> Serve:
    """The peer: greets, answers the negotiation, plays ``script``, hangs up."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        asked: asyncio.Queue[Any] = asyncio.Queue()

        async def read_requests() -> None:
            while line := await reader.readline():
                with_id = json.loads(line)
                await asyncio.sleep(0)
                asked.put_nowait(with_id.get("id"))

        reading = asyncio.ensure_future(read_requests())
        try:
            writer.write(encoded(greeting, True, False))
            ident = await asked.get()  # qmp_capabilities
            writer.write(encoded({"return": {}, "id": ident}, True, False))
            for kind, what in script:
                if kind == "answer":
                    if asked.empty():
                        await asyncio.sleep(0)
                    if not asked.empty():
                        what = {**what, "id": asked.get_nowait()}
                    what = encoded(what, True, False)
                writer.write(what)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            reading.cancel()
            writer.close()

    return serve


async def scenario(
    path: str, greeting: Any, script: list[tuple[str, Any]], commands: int, recorder: Recorder
) -> list[Any]:
    errors: list[Any] = []
    # An exception in a callback (data_received, say) is not raised to anyone: asyncio
    # logs it, with its traceback, and closes the connection. Here it fails the example.
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _, context: errors.append(context))
    server = await asyncio.start_unix_server(playing(greeting, script), path)
    client = QMPClient(transcript=recorder)  # type: ignore[arg-type]
    output = Output(Console(io.StringIO(), io.StringIO()))
    client.add_event_handler(EventLog(output.event))
    try:
        try:
            greeted = await client.connect(UnixAddress(path), enable_oob=True, timeout=GUARD)
        except QMPShellError:
            return errors
        assert "\x1b" not in greeted.version_text
        runs = [client.execute("query-status", timeout=GUARD) for _ in range(commands)]
        for outcome in await asyncio.gather(*runs, return_exceptions=True):
            if isinstance(outcome, BaseException) and not isinstance(outcome, QMPShellError):
                errors.append(outcome)
        await asyncio.wait_for(client.wait_closed(), GUARD)
    finally:
        await client.close()
        server.close()
        await server.wait_closed()
    return errors


def show_every_way(message: Any) -> None:
    """Each path a received message takes to the user, and to the transcript."""
    for pretty in (False, True):
        output = Output(Console(io.StringIO(), io.StringIO()), pretty=pretty)
        output.message(message)
        if "event" not in message:
            output.reply(message)
    renderer = Renderer(color=True, verbose=True)
    if "event" in message:
        renderer.event(message)
    else:
        renderer.reply(message)
    id_key(message.get("id"))


@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(greeting=GREETINGS, script=SCRIPTS, commands=st.integers(0, 3))
def test_a_peer_sending_anything_gives_only_qmpshell_errors(
    greeting: Any, script: list[tuple[str, Any]], commands: int
) -> None:
    directory = tempfile.mkdtemp(prefix="qs-fuzz-", dir="/tmp")
    path = os.path.join(directory, "s")
    transcript = Transcript(os.path.join(directory, "t.jsonl"))
    recorder = Recorder(transcript)
    try:
        errors = asyncio.run(
            asyncio.wait_for(scenario(path, greeting, script, commands, recorder), GUARD)
        )
        assert not errors, errors
        for message in recorder.received:
            show_every_way(message)
        transcript.close()
        with open(os.path.join(directory, "t.jsonl")) as logged:
            for line in logged:
                json.loads(line)
    finally:
        transcript.close()
        for name in os.listdir(directory):
            os.unlink(os.path.join(directory, name))
        os.rmdir(directory)


def blocking_scenario(
    path: str, greeting: Any, script: list[tuple[str, Any]], commands: int, recorder: Recorder
) -> None:
    """The one-shot scripts' client against the same peer, served from a thread."""
    started = threading.Event()
    stop: list[Callable[[], None]] = []

    async def peer() -> None:
        server = await asyncio.start_unix_server(playing(greeting, script), path)
        done = asyncio.get_running_loop().create_future()
        stop.append(lambda: done.get_loop().call_soon_threadsafe(done.set_result, None))
        started.set()
        await done
        server.close()

    thread = threading.Thread(target=asyncio.run, args=(peer(),), daemon=True)
    thread.start()
    started.wait(GUARD)
    output = Output(Console(io.StringIO(), io.StringIO()))
    client = BlockingClient(
        UnixAddress(path),
        transcript=recorder,
        on_event=EventLog(output.event),  # type: ignore[arg-type]
    )
    try:
        try:
            greeted = client.connect(GUARD)
            client.negotiate(True, GUARD)
        except (QMPShellError, Unusual):
            return
        assert "\x1b" not in greeted.version_text
        sent = []
        with contextlib.suppress(QMPShellError):
            sent = [client.send({"execute": "query-status"}) for _ in range(commands)]
        for request in sent:
            with contextlib.suppress(QMPShellError):
                client.wait(request, GUARD)
        client.wait_closed(GUARD)
    finally:
        client.close()
        stop[0]()
        thread.join(GUARD)


@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(greeting=GREETINGS, script=SCRIPTS, commands=st.integers(0, 3))
def test_a_peer_sending_anything_gives_the_blocking_client_only_qmpshell_errors(
    greeting: Any, script: list[tuple[str, Any]], commands: int
) -> None:
    with tempfile.TemporaryDirectory(prefix="qs-fuzz-", dir="/tmp") as directory:
        transcript = Transcript(os.path.join(directory, "t.jsonl"))
        try:
            path = os.path.join(directory, "s")
            blocking_scenario(path, greeting, script, commands, Recorder(transcript))
        finally:
            transcript.close()
