"""How a fan-out passes on a run's output: every line whole and tagged, whatever the
pieces the pipe hands it in (modes/fanout.py)."""

from __future__ import annotations

import asyncio
import json
import tempfile

from hypothesis import given
from hypothesis import strategies as st

from qmpshell.modes.fanout import Streams, Tagger, relay

NAME = "web1"


def passed_on(chunks: list[bytes], which: str, json_lines: bool = True) -> bytes:
    """What ``relay`` writes of a stream read in ``chunks``."""

    async def run(out: int) -> None:
        reader = asyncio.StreamReader()
        for chunk in chunks:
            reader.feed_data(chunk)
        reader.feed_eof()
        await relay(reader, which, Tagger(NAME, json_lines), Streams(out, out))

    with tempfile.TemporaryFile() as file:
        asyncio.run(run(file.fileno()))
        file.seek(0)
        return file.read()


def tagged(line: bytes, which: str, json_lines: bool = True) -> bytes:
    """One line as the fan-out should pass it on (the rule, written plainly)."""
    if which == "err":
        if line.startswith(b"qmpshell: "):
            return b"qmpshell: web1: " + line[len(b"qmpshell: ") :]
        return b"web1: " + line
    if json_lines and line.startswith(b"{}"):
        return b'{"target":"web1"}' + line[2:]
    if json_lines and line.startswith(b"{"):
        return b'{"target":"web1",' + line[1:]
    return b"web1: " + line


def cut(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces, start = [], 0
    for point in [*points, len(data)]:
        pieces.append(data[start:point])
        start = point
    return [piece for piece in pieces if piece]


LINES = st.lists(
    st.one_of(
        st.sampled_from([b"{}", b'{"return":{}}', b'{"event":"STOP"}', b"{", b"}", b""]),
        st.just(b"qmpshell: cannot connect"),
        st.binary(max_size=40).map(lambda b: b.replace(b"\n", b" ")),
    ),
    max_size=12,
)


@given(LINES, st.lists(st.integers(min_value=0), max_size=20), st.sampled_from(["out", "err"]))
def test_every_line_whole_and_tagged_however_cut(
    lines: list[bytes], cuts: list[int], which: str
) -> None:
    data = b"".join(line + b"\n" for line in lines)
    expected = b"".join(tagged(line, which) + b"\n" for line in lines)
    assert passed_on(cut(data, cuts), which) == expected


def test_json_lines_stay_json() -> None:
    out = passed_on([b'{"return":{"status":"running"}}\n{}\n{"ev', b'ent":"STOP"}\n'], "out")
    messages = [json.loads(line) for line in out.splitlines()]
    assert messages == [
        {"target": NAME, "return": {"status": "running"}},
        {"target": NAME},
        {"target": NAME, "event": "STOP"},
    ]


def test_text_is_prefixed_and_a_last_line_gets_its_newline() -> None:
    assert passed_on([b'{"name": 1}\nvm1'], "out", json_lines=False) == (
        b'web1: {"name": 1}\nweb1: vm1\n'
    )


def test_a_hostile_name_is_escaped_in_text_and_json() -> None:
    tagger = Tagger("evil\x1b[2J", json_lines=True)
    assert b"\x1b" not in tagger.prefix
    assert json.loads(tagger.empty) == {"target": "evil\x1b[2J"}
    assert b"\x1b" not in tagger.member


def test_lines_of_two_runs_never_mix() -> None:
    """Two runs writing at once, each line in two pieces and the other run's piece in
    between: each line comes out whole."""

    async def feed(readers: dict[str, asyncio.StreamReader]) -> None:
        for n in range(50):
            lines = {name: f"{name}{n}-".encode() * 10 + b"\n" for name in readers}
            for half in (slice(0, 20), slice(20, None)):  # past what tagging looks at
                for name, reader in readers.items():
                    reader.feed_data(lines[name][half])
                    for _ in range(5):  # turns enough for the relay to take the piece
                        await asyncio.sleep(0)
        for reader in readers.values():
            reader.feed_eof()

    async def run(out: int) -> None:
        streams = Streams(out, out)
        readers = {name: asyncio.StreamReader() for name in ("a", "b")}
        relays = [relay(r, "out", Tagger(name, False), streams) for name, r in readers.items()]
        await asyncio.gather(feed(readers), *relays)

    with tempfile.TemporaryFile() as file:
        asyncio.run(run(file.fileno()))
        file.seek(0)
        lines = file.read().decode().splitlines()
    assert len(lines) == 100
    for line in lines:
        name, _, rest = line.partition(": ")
        parts = rest.split("-")[:-1]
        assert len(parts) == 10 and len(set(parts)) == 1 and parts[0].startswith(name), line
