"""Launch mode: start a QEMU with a QMP socket of its own, and stop it at the end.

``qmpshell -- qemu-system-x86_64 ARGS`` (or ``--launch`` for a default throwaway
machine) starts QEMU with ``-qmp unix:DIR/qmp.sock,server=on,wait=on`` in a private
directory (0700), so QEMU waits for the shell before it runs and no event is missed.
QEMU's own messages, and a guest console on ``-serial stdio``, are passed on to the
user's stderr as they come (a line not ended yet shows at once: a login prompt, a boot
menu), escaped so that a guest cannot drive the user's terminal, or unchanged with
``--raw-console``. At the end QEMU is asked to ``quit``, and killed only if it does not
go; the directory is removed.

QEMU never outlives the shell: on Linux it is started with the parent-death signal set to
SIGKILL, so even a shell killed with SIGKILL takes its QEMU along. Options that would undo
that or take QEMU away from the shell (``-daemonize``, ``-runas``, ``-run-with user=``) are
refused before anything starts, and so is a monitor or character device that waits for a
client of its own (``server=on`` without ``wait=off``), which would keep QEMU from ever
opening the shell's socket.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import ctypes
import os
import platform
import re
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable, Sequence

from ..errors import ConnectError, QMPShellError
from .address import UnixAddress
from .client import QMPClient

# Host architecture → (QEMU binary suffix, Debian package, machine options).
_MACHINES: dict[str, tuple[str, str, list[str]]] = {
    "x86_64": ("x86_64", "qemu-system-x86", ["-machine", "q35"]),
    "i686": ("i386", "qemu-system-x86", ["-machine", "q35"]),
    "aarch64": ("aarch64", "qemu-system-arm", ["-machine", "virt", "-cpu", "max"]),
    "armv7l": ("arm", "qemu-system-arm", ["-machine", "virt"]),
    "ppc64le": ("ppc64", "qemu-system-ppc", ["-machine", "pseries"]),
    "s390x": ("s390x", "qemu-system-s390x", []),
    "riscv64": ("riscv64", "qemu-system-misc", ["-machine", "virt"]),
}
_ALIASES = {"amd64": "x86_64", "arm64": "aarch64", "i386": "i686", "i586": "i686"}

# Paused, diskless, headless, no network: nothing runs until the user says so.
THROWAWAY = ["-m", "128", "-nodefaults", "-display", "none", "-S"]

STOP_SECONDS = 5.0
_WAITING = "QEMU waiting for connection on:"  # wait=on's notice; qmpshell is that connection
_READ_SIZE = 65536
_LINE = re.compile("[^\n]*\n|[^\n]+")  # a line and its newline, or the start of one


_DETACHING = {
    "-daemonize": "detaches QEMU from the shell",
    "-runas": "changes QEMU's user, which lets it outlive the shell",
}
_CHARDEV_OPTIONS = {"-qmp", "-qmp-pretty", "-monitor", "-chardev", "-serial"}
_PR_SET_PDEATHSIG = 1


def refused_option(command: Sequence[str]) -> str | None:
    """Why QEMU ``command`` cannot be launched by the shell, or None when it can."""
    words = list(command[1:])
    for at, word in enumerate(words):
        option = word[1:] if word.startswith("--") else word  # QEMU takes both spellings
        value = words[at + 1] if at + 1 < len(words) else ""
        if option in _DETACHING:
            return f"{word} {_DETACHING[option]}; leave it out"
        if option == "-run-with" and any(p.startswith("user=") for p in value.split(",")):
            return f"{word} user= {_DETACHING['-runas']}; leave it out"
        if option in _CHARDEV_OPTIONS and _waits_for_client(value):
            return (
                f"{option} {value} waits for a client before QEMU goes on, so QEMU would "
                "never open the shell's socket; add wait=off"
            )
    return None


def _waits_for_client(spec: str) -> bool:
    """True for a socket chardev that is a server and waits (QEMU's default)."""
    parts = spec.split(",")[1:]
    server = any(p in ("server", "server=on", "server=yes") for p in parts)
    nowait = any(p in ("nowait", "wait=off", "wait=no") for p in parts)
    return server and not nowait


def _die_with_parent(parent: int) -> Callable[[], None] | None:
    """What the child runs before exec: ask Linux for SIGKILL when the shell dies."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)

    def set_parent_death_signal() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the shell died before the signal was set
            os._exit(1)

    return set_parent_death_signal


class LaunchError(ConnectError):
    """QEMU could not be started, or exited before its QMP socket was ready."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "launch")


def default_command(machine: str | None = None) -> list[str]:
    """The throwaway machine for this host's architecture; :class:`LaunchError` naming
    the package to install when its QEMU is missing."""
    arch = machine or platform.machine()
    arch = _ALIASES.get(arch, arch)
    if arch not in _MACHINES:
        raise LaunchError(f"no default machine for {arch}: give a QEMU command after --")
    suffix, package, options = _MACHINES[arch]
    binary = f"qemu-system-{suffix}"
    if shutil.which(binary) is None:
        raise LaunchError(f"{binary} is not installed: install the {package} package")
    return [binary, *options, *THROWAWAY]


class LaunchedQemu:
    """One QEMU this session started; :meth:`stop` is always called at the end."""

    def __init__(
        self, command: list[str], report: Callable[[str], None], *, raw: bool = False
    ) -> None:
        self.command = command
        # Where QEMU's own output goes (the user's stderr), in pieces that end a line or
        # were all there was to read; ``raw`` (--raw-console): the guest console's
        # control characters as they came, else \r\n made \n for the escaping after.
        self._report = report
        self._raw = raw
        self.directory = tempfile.mkdtemp(prefix="qmpshell-")
        os.chmod(self.directory, 0o700)
        self.path = os.path.join(self.directory, "qmp.sock")
        self.process: asyncio.subprocess.Process | None = None
        self._readers: list[asyncio.Task[None]] = []

    async def start(self, timeout: float | None) -> UnixAddress:
        """Start QEMU and wait until its QMP socket is there to connect to."""
        qmp = f"unix:{self.path},server=on,wait=on"
        try:
            # Forked from the loop's thread, the main one: the parent-death signal fires
            # when the thread that forked ends, and the main thread ends with the shell.
            self.process = await asyncio.create_subprocess_exec(
                *self.command,
                "-qmp",
                qmp,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                preexec_fn=_die_with_parent(os.getpid()),
                # Its own session: the Ctrl-C meant for a command, the pager, the editor
                # or a pipe is not QEMU's (it was, as one of the terminal's foreground
                # group, and QEMU quit on it).
                start_new_session=True,
            )
        except OSError as exc:
            raise LaunchError(f"cannot run {self.command[0]}: {exc.strerror}") from None
        assert self.process.stdout is not None and self.process.stderr is not None
        self._readers = [
            asyncio.ensure_future(self._pass_on(self.process.stdout, notice=False)),
            asyncio.ensure_future(self._pass_on(self.process.stderr, notice=True)),
        ]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout if timeout else None
        while not os.path.exists(self.path):
            if self.process.returncode is not None:
                await asyncio.gather(*self._readers)  # its last words first
                raise LaunchError(
                    f"{self.command[0]} exited at start-up with status {self.process.returncode}"
                )
            if deadline is not None and loop.time() > deadline:
                raise LaunchError(f"{self.command[0]} did not open its QMP socket in time")
            await asyncio.sleep(0.01)
        return UnixAddress(self.path)

    async def connect(self, client: QMPClient, *, negotiate: bool, timeout: float | None) -> None:
        """Connect ``client`` to this QEMU. Its socket file appears a moment before QEMU
        listens on it, so a refused connection is tried again while QEMU runs."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout if timeout else None
        while True:
            try:
                await client.connect(
                    UnixAddress(self.path), negotiate=negotiate, enable_oob=True, timeout=timeout
                )
                return
            except ConnectError as exc:
                running = self.process is not None and self.process.returncode is None
                in_time = deadline is None or loop.time() < deadline
                if exc.reason != "refused" or not running or not in_time:
                    raise
            await asyncio.sleep(0.01)

    async def _pass_on(self, stream: asyncio.StreamReader, *, notice: bool) -> None:
        relay = ConsoleRelay(raw=self._raw, notice=notice)
        while chunk := await stream.read(_READ_SIZE):
            for piece in relay.feed(chunk):
                self._report(piece)
        for piece in relay.end():
            self._report(piece)

    async def stop(self, client: QMPClient | None, timeout: float | None = None) -> int | None:
        """Quit QEMU (kill it if it has not gone within ``timeout``, at most 5 s), remove
        the directory; QEMU's exit status."""
        process = self.process
        limit = min(timeout or STOP_SECONDS, STOP_SECONDS)

        async def ask_to_quit() -> None:
            assert process is not None
            if client is not None:
                with contextlib.suppress(QMPShellError):
                    await client.execute("quit")
            await process.wait()

        try:
            if process is not None and process.returncode is None:
                try:
                    await asyncio.wait_for(ask_to_quit(), limit)
                except asyncio.TimeoutError:
                    self._report(f"qmpshell: {self.command[0]} did not quit; killing it\n")
                    process.kill()
                    await process.wait()
            if self._readers:
                await asyncio.gather(*self._readers, return_exceptions=True)
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)
        return process.returncode if process is not None else None


class ConsoleRelay:
    """What QEMU writes to its stdout or stderr, cut into the pieces to pass on: each read
    at once, whole lines or not (a guest's prompt has no newline), as UTF-8 (a character
    cut by a read completed by the next); unless ``raw``, ``\r\n`` made ``\n`` (a serial
    console's line ends), a ``\r`` at the end of a read held until the next says whether
    ``\n`` follows. With ``notice`` (stderr), lines are whole until wait=on's notice
    about the shell's own connection, which is left out. Pure: bytes in, text out."""

    def __init__(self, *, raw: bool = False, notice: bool = False) -> None:
        self._raw = raw
        self._notice = notice  # still to come, and to leave out
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._held = ""  # a line not ended yet that may be the notice, or a \r

    def feed(self, data: bytes) -> list[str]:
        """The pieces to pass on now that ``data`` was read."""
        return self._pieces(self._decoder.decode(data), final=False)

    def end(self) -> list[str]:
        """The pieces still held at end of file."""
        return self._pieces(self._decoder.decode(b"", final=True), final=True)

    def _pieces(self, text: str, final: bool) -> list[str]:
        text = self._held + text
        self._held = ""
        if not self._raw:
            text = text.replace("\r\n", "\n")
            if text.endswith("\r") and not final:
                text, self._held = text[:-1], "\r"
        pieces = []
        for line in _LINE.findall(text):
            if not self._notice:
                pieces.append(line)
            elif not line.endswith("\n") and not final:
                self._held = line + self._held
            elif _WAITING in line:
                self._notice = False
            else:
                pieces.append(line)
        return pieces
