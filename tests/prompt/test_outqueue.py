"""The output queue behind scripted stdout: in order, bounded, and a reader gone ends the
session. (Against the installed command and a real QEMU: tests/qemu/test_late_reader.py.)"""

from __future__ import annotations

import asyncio
import os
import threading

import pytest

from qmpshell.ui.outqueue import OutputQueue


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def test_queue_keeps_the_order_of_two_descriptors_on_one_pipe() -> None:
    """stdout and stderr as ``2>&1`` makes them: one pipe, each chunk where it was put."""
    read, write = os.pipe()
    also = os.dup(write)
    queue = OutputQueue()
    expected = b""
    for n in range(2000):
        fd, data = (write, b"out %d\n" % n) if n % 3 else (also, b"err %d\n" % n)
        queue.put(fd, data)
        expected += data
    queue.drain()
    os.close(write)
    os.close(also)
    assert _read_all(read) == expected
    os.close(read)


def test_queue_past_its_limit_waits_for_the_reader() -> None:
    """Under the limit a put returns at once, however slow the reader; at the limit the
    next put waits until the reader has taken enough."""
    read, write = os.pipe()
    queue = OutputQueue(limit=1 << 20)
    big = b"x" * (4 << 20)  # more than the pipe and the limit: accepted whole, held
    queue.put(write, big)
    returned = threading.Event()

    def put_more() -> None:
        queue.put(write, b"end\n")
        returned.set()

    putter = threading.Thread(target=put_more)
    putter.start()
    assert not returned.wait(0.3)  # nobody reads: it waits
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(_read_all(read)))
    reader.start()  # the reader comes, and takes everything: room is made
    putter.join(10)
    assert returned.is_set()
    queue.drain()
    os.close(write)
    reader.join(10)
    assert got == [big + b"end\n"]
    os.close(read)


def test_queue_whose_reader_went_away_ends_the_session() -> None:
    """EPIPE: what is held is dropped, later puts return at once, the guarded session is
    cancelled and BrokenPipeError raised in its place, and again by drain()."""
    read, write = os.pipe()
    queue = OutputQueue()

    async def session() -> None:
        os.close(read)  # the reader goes away
        queue.put(write, b"x\n")
        await asyncio.Event().wait()  # forever, but for the reader going

    with pytest.raises(BrokenPipeError):
        asyncio.run(queue.guard(session()))
    queue.put(write, b"y" * (64 << 20))  # past the limit: dropped, no wait
    with pytest.raises(BrokenPipeError):
        queue.drain()
    os.close(write)
