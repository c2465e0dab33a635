"""The spawner: a small process that starts the measured tools, so that their peak RSS is
their own.

On Linux a child's ``ru_maxrss`` (and ``VmHWM``) is the larger of its own peak and the RSS
of the process it was forked from, at the moment of the ``exec``: the kernel carries the old
address space's high-water mark over. A tool started by the benchmark itself (tens or
hundreds of MiB, holding a 50 MB reply for its server or a pty's output) would be charged
the benchmark's size. So the benchmark starts this program first, with ``python -S -I`` and
only built-in modules (about 9 MiB, below any Python tool's own peak), and asks it to start
each measured process; this process forks, execs and reaps them and reports the exit
status, the peak RSS and the wall time from fork to reaping.

The requests come on a ``SOCK_SEQPACKET`` socket (the descriptor number is the one
argument), one message each, ``marshal``-encoded:

- ``{"argv": [...], "env": {...}, "tty": bool}`` with three descriptors attached (the
  child's stdin, stdout and stderr): start it; the answer is ``{"pid": N}``. With ``tty``
  the child gets a session of its own with its stdin as the controlling terminal.
- ``{"wait": N}``: wait until child N ends; ``{"status": exit code (-signal), "maxrss": KiB,
  "wall": seconds}``.

It imports nothing that is not built in, on purpose: each module would add to its RSS.
"""

import _socket
import array
import fcntl
import marshal
import os
import sys
import termios
import time

FDS_SIZE = _socket.CMSG_SPACE(3 * array.array("i").itemsize)


def start(request: dict, fds: list) -> int:  # type: ignore[type-arg]
    pid = os.fork()
    if pid == 0:  # the child: never returns
        try:
            if request.get("tty"):
                os.setsid()
            for number, fd in enumerate(fds):
                os.dup2(fd, number)
            if request.get("tty"):
                fcntl.ioctl(0, termios.TIOCSCTTY, 0)
            os.closerange(3, 1 << 16)
            os.execve(request["argv"][0], request["argv"], request["env"])
        finally:
            os._exit(127)
    return pid


def serve(sock: _socket.socket) -> None:
    started: dict[int, float] = {}
    while True:
        data, ancillary, _, _ = sock.recvmsg(1 << 20, FDS_SIZE)
        if not data:
            return  # the benchmark has gone
        request = marshal.loads(data)
        fds: list[int] = []
        for level, kind, payload in ancillary:
            if level == _socket.SOL_SOCKET and kind == _socket.SCM_RIGHTS:
                received = array.array("i")
                received.frombytes(payload[: len(payload) - len(payload) % received.itemsize])
                fds.extend(received)
        if "wait" in request:
            pid = request["wait"]
            _, status, usage = os.wait4(pid, 0)
            wall = time.perf_counter() - started.pop(pid)
            answer = {
                "status": os.waitstatus_to_exitcode(status),
                "maxrss": usage.ru_maxrss,
                "wall": wall,
            }
        else:
            begun = time.perf_counter()
            try:
                pid = start(request, fds)
            finally:
                for fd in fds:
                    os.close(fd)
            started[pid] = begun
            answer = {"pid": pid}
        sock.sendmsg([marshal.dumps(answer)])


if __name__ == "__main__":
    serve(_socket.socket(fileno=int(sys.argv[1])))
