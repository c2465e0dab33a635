"""Waiting on a state the test can see, instead of sleeping and hoping.

Each helper polls a condition the kernel reports about a process or a socket: that a
process is stopped (SIGSTOP has taken effect), that it sleeps waiting for input with
nothing left unread on its terminal, that bytes wait unread in a stopped QEMU's socket
(a command in flight), that a process is connected to a socket path. The 10 ms between
two looks is a poll interval, not a guess at how long something takes; the deadline is a
safety net only.
"""

from __future__ import annotations

import fcntl
import os
import signal
import socket
import subprocess
import termios
import time
from collections.abc import Callable
from pathlib import Path

# Where a process that waits for a file descriptor (asyncio's selector, a blocking read,
# a child) sleeps in the kernel: /proc/PID/wchan.
WAITING = {
    "do_epoll_wait",
    "ep_poll",
    "do_select",
    "core_sys_select",
    "do_sys_poll",
    "poll_schedule_timeout",
    "wait_woken",
    "pipe_read",
    "pipe_wait",
    "n_tty_read",
    "unix_stream_read_generic",
    "do_wait",
}


def wait_for(predicate: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    """Return once ``predicate()`` is true; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not seen within {timeout:g}s: {what}")
        time.sleep(0.01)


def _sleeping_in_a_wait(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            state = stat.read().rsplit(")", 1)[1].split()[0]
        with open(f"/proc/{pid}/wchan") as wchan:
            where = wchan.read().strip()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state == "S" and where in WAITING


def _unread_on_its_terminal(pid: int) -> int:
    """Bytes typed at the terminal of ``pid``'s stdin that it has not read yet (0 when its
    stdin is no terminal)."""
    try:
        tty = os.readlink(f"/proc/{pid}/fd/0")
    except FileNotFoundError:
        return 0
    if not tty.startswith("/dev/pts/"):
        return 0
    return unread_at(tty)


def unread_at(tty: str) -> int:
    """Bytes typed at the terminal ``tty`` (``/dev/pts/N``) that nothing has read yet;
    in canonical mode, those of whole lines only."""
    fd = os.open(tty, os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)
    try:
        return int.from_bytes(fcntl.ioctl(fd, termios.FIONREAD, b"\0" * 4), "little")
    finally:
        os.close(fd)


def idle(pid: int) -> bool:
    """``pid`` has read everything typed at its terminal and sleeps waiting for more (or
    for a socket, a timer, a child): whatever the last input asked for is under way."""
    # Twice, so that a process caught between two reads of one burst is not taken as idle.
    for _ in range(2):
        if _unread_on_its_terminal(pid) or not _sleeping_in_a_wait(pid):
            return False
        time.sleep(0.01)
    return True


def wait_idle(pid: int, what: str = "the shell waiting for input", timeout: float = 10.0) -> None:
    wait_for(lambda: idle(pid), what, timeout)


def _unix_sockets() -> list[list[str]]:
    """``ss -xanp``, split: netid, state, recv-q, send-q, local, inode, peer, peer inode,
    process."""
    text = subprocess.run(["ss", "-xanpH"], capture_output=True, text=True, check=True).stdout
    return [line.split() for line in text.splitlines()]


def has_unix_socket(pid: int) -> bool:
    """``pid`` has a UNIX socket of any kind: for qmpshell, from the moment its asyncio
    loop exists (its self-pipe is a socket pair), before it connects to anything."""
    return any(len(row) > 8 and f",pid={pid}," in row[8] for row in _unix_sockets())


def queued_to(pid: int) -> int:
    """Bytes waiting unread in the sockets of ``pid``: with QEMU stopped (SIGSTOP), a
    command the shell has sent and QEMU has not read."""
    return sum(int(row[2]) for row in _unix_sockets() if len(row) > 8 and f",pid={pid}," in row[8])


def wait_queued_to(pid: int, what: str = "a command sent to the stopped QEMU") -> None:
    wait_for(lambda: queued_to(pid) > 0, what)


def connected_to(pid: int, path: str) -> bool:
    """``pid`` has a socket connected to the UNIX socket listening at ``path``: accepted,
    or waiting in the listener's backlog (a QEMU monitor held by another client accepts
    no second one)."""
    rows = [row for row in _unix_sockets() if len(row) > 8 or (len(row) > 7 and row[4] == path)]
    mine = [row for row in rows if len(row) > 8 and f",pid={pid}," in row[8] and row[1] == "ESTAB"]
    # The server's end of each accepted connection has the path as its address and names
    # the client's end as its peer.
    accepted = {row[7] for row in rows if row[4] == path and row[1] == "ESTAB"}
    if any(row[5] in accepted for row in mine):
        return True
    # A connection still in the backlog has no peer yet (inode 0); the listener counts it.
    pending = any(row[4] == path and row[1] == "LISTEN" and int(row[2]) > 0 for row in rows)
    return pending and any(row[7] == "0" for row in mine)


def wait_connected(pid: int, path: str) -> None:
    wait_for(lambda: connected_to(pid, path), f"process {pid} connected to {path}")


def unread_by_peer(sock: socket.socket) -> int:
    """Bytes ``sock`` has sent that the other end has not read yet (SIOCOUTQ)."""
    return int.from_bytes(fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0" * 4), "little")


def wait_read_by_peer(sock: socket.socket, what: str = "the client reading it all") -> None:
    wait_for(lambda: unread_by_peer(sock) == 0, what)


def stopped(pid: int) -> bool:
    """Every thread of ``pid`` is stopped (SIGSTOP has taken effect: it reads nothing more)."""
    try:
        states = []
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/stat") as stat:
                states.append(stat.read().rsplit(")", 1)[1].split()[0])
    except FileNotFoundError:
        return False
    return bool(states) and all(state in "Tt" for state in states)


def stop(pid: int) -> None:
    """SIGSTOP ``pid`` and return once it has stopped. kill() returns before the signal takes
    effect, and a QEMU still running for a moment would read (and maybe answer) what the
    test sends next."""
    os.kill(pid, signal.SIGSTOP)
    wait_for(lambda: stopped(pid), f"process {pid} stopped")


def processes_with(marker: str) -> list[int]:
    """The processes whose command line holds ``marker`` (a test's own, unique), such as
    a shell command a test had qmpshell start."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:  # gone meanwhile
            continue
        if marker.encode() in cmdline:
            found.append(int(entry.name))
    return found
