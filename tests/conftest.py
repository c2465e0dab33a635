"""Fixtures that start real QEMU processes, each on socket paths of its own.

Every process is stopped when its test ends, pass or fail. Socket paths live in a short
private directory under /tmp, because a UNIX socket path may not exceed 107 bytes.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from guest_agent import AGENT_BLOCKED_ON_HOST, AgentProcess, running_agent

# Examples per property test: a few hundred in the suite, 10,000 in scripts/fuzz.
FUZZ_EXAMPLES = int(os.environ.get("QMPSHELL_FUZZ_EXAMPLES", "300"))

QEMU = shutil.which("qemu-system-x86_64")
STORAGE_DAEMON = shutil.which("qemu-storage-daemon")


@functools.cache
def qemu_version() -> tuple[int, int, int]:
    """The version of the ``qemu-system-x86_64`` the tests start: the first on PATH, the
    apt-installed 7.2 or, with ``scripts/test --qemu10``, 10.0 from bookworm-backports.
    Tests whose expectations differ between the two ask it which they are talking to."""
    if QEMU is None:
        pytest.fail("qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)")
    text = subprocess.run([QEMU, "--version"], capture_output=True, text=True).stdout
    found = re.search(r"version (\d+)\.(\d+)\.(\d+)", text)
    assert found, f"no version in: {text!r}"
    return (int(found[1]), int(found[2]), int(found[3]))


def qemu_version_text() -> str:
    """``qemu_version()`` as QEMU writes it (``10.0.2``)."""
    return ".".join(str(n) for n in qemu_version())


def pytest_report_header() -> str:
    if QEMU is None:
        return "qemu-system-x86_64: not installed"
    return f"qemu-system-x86_64: {QEMU} (QEMU {qemu_version_text()})"


def _wait_for(predicate: Any, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.01)


def free_port(family: int = socket.AF_INET) -> int:
    with socket.socket(family) as sock:
        sock.bind(("::1" if family == socket.AF_INET6 else "127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SyncQMP:
    """A minimal blocking QMP client for the test's side: the 'other client'.

    It is deliberately independent of qmpshell, so a test never checks qmpshell with
    qmpshell.
    """

    def __init__(self, path: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX)
        # Generous: a loaded machine has kept QEMU from answering for seconds.
        self.sock.settimeout(30)
        self.sock.connect(path)
        self.file = self.sock.makefile("rb")
        self.greeting = json.loads(self.file.readline())
        self.events: list[dict[str, Any]] = []
        assert "return" in self.cmd("qmp_capabilities")

    def cmd(self, name: str, **arguments: Any) -> dict[str, Any]:
        message: dict[str, Any] = {"execute": name}
        if arguments:
            message["arguments"] = arguments
        self.sock.sendall(json.dumps(message).encode() + b"\n")
        while True:
            reply = json.loads(self.file.readline())
            if "event" in reply:
                self.events.append(reply)
            else:
                return reply  # type: ignore[no-any-return]

    def close(self) -> None:
        self.file.close()
        self.sock.close()


@dataclass
class QemuProcess:
    """A running QEMU (or storage daemon) and the addresses of its monitors."""

    proc: subprocess.Popen[bytes]
    directory: str
    monitors: dict[str, str] = field(default_factory=dict)

    @property
    def qmp(self) -> str:
        """The address of the monitor the shell under test uses."""
        return self.monitors["qmp"]

    @property
    def aux(self) -> str:
        """A second monitor, for the test to act as another client."""
        return self.monitors["aux"]

    def other_client(self) -> SyncQMP:
        return SyncQMP(self.aux)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)


class QemuFactory:
    def __init__(self) -> None:
        self.started: list[QemuProcess] = []
        self.directory = tempfile.mkdtemp(prefix="qs-")

    def _dir(self, reuse: str | None = None) -> str:
        """A new directory for a process's sockets, or ``reuse``'s (a restart on the same
        paths) cleared of the sockets the last process left behind."""
        if reuse is None:
            return tempfile.mkdtemp(dir=self.directory)
        for name in ("qmp.sock", "aux.sock"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(reuse, name))
        return reuse

    def start(
        self,
        machine: Sequence[str] = ("-machine", "none"),
        *,
        pretty: bool = False,
        tcp: str | None = None,
        reuse: str | None = None,
    ) -> QemuProcess:
        """Start QEMU with a monitor 'qmp' for the shell and a monitor 'aux' for the test.

        ``tcp`` is ``"ipv4"`` or ``"ipv6"`` to serve 'qmp' on TCP instead of a UNIX socket.
        ``reuse`` is the directory of an earlier process, whose socket paths to take over.
        """
        if QEMU is None:
            pytest.fail("qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)")
        directory = self._dir(reuse)
        qmp_path = os.path.join(directory, "qmp.sock")
        aux_path = os.path.join(directory, "aux.sock")
        args = [QEMU, *machine, "-nodefaults", "-display", "none"]
        if tcp == "ipv6":
            port = free_port(socket.AF_INET6)
            qmp_address = f"[::1]:{port}"
            # QEMU's -qmp shorthand cannot parse a bracketed IPv6 host; -chardev can.
            args += [
                "-chardev",
                f"socket,id=mon0,host=::1,port={port},ipv6=on,server=on,wait=off",
                "-mon",
                "chardev=mon0,mode=control",
            ]
        elif tcp == "ipv4":
            port = free_port()
            qmp_address = f"127.0.0.1:{port}"
            args += ["-qmp", f"tcp:127.0.0.1:{port},server=on,wait=off"]
        elif pretty:
            qmp_address = qmp_path
            args += [
                "-chardev",
                f"socket,id=mon0,path={qmp_path},server=on,wait=off",
                "-mon",
                "chardev=mon0,mode=control,pretty=on",
            ]
        else:
            qmp_address = qmp_path
            args += ["-qmp", f"unix:{qmp_path},server=on,wait=off"]
        args += ["-qmp", f"unix:{aux_path},server=on,wait=off"]
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)
        qemu = QemuProcess(proc, directory, {"qmp": qmp_address, "aux": aux_path})
        self.started.append(qemu)
        self._wait_ready(qemu, aux_path)
        return qemu

    def start_storage_daemon(self, reuse: str | None = None) -> QemuProcess:
        if STORAGE_DAEMON is None:
            pytest.fail("qemu-storage-daemon is not installed (apt-get install qemu-utils)")
        directory = self._dir(reuse)
        path = os.path.join(directory, "qmp.sock")
        aux = os.path.join(directory, "aux.sock")
        args = [STORAGE_DAEMON]
        for name, sock in (("m0", path), ("m1", aux)):
            args += ["--chardev", f"socket,id={name},path={sock},server=on,wait=off"]
            args += ["--monitor", f"chardev={name}"]
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)
        qemu = QemuProcess(proc, directory, {"qmp": path, "aux": aux})
        self.started.append(qemu)
        self._wait_ready(qemu, aux)
        return qemu

    @staticmethod
    def _wait_ready(qemu: QemuProcess, path: str) -> None:
        def ready() -> bool:
            if qemu.proc.poll() is not None:
                err = qemu.proc.stderr.read().decode() if qemu.proc.stderr else ""
                raise RuntimeError(f"QEMU exited with {qemu.proc.returncode}: {err}")
            return os.path.exists(path)

        _wait_for(ready, f"{path} to appear")

    def cleanup(self) -> None:
        for qemu in self.started:
            qemu.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


@pytest.fixture
def qemu_factory() -> Iterator[QemuFactory]:
    factory = QemuFactory()
    try:
        yield factory
    finally:
        factory.cleanup()


@pytest.fixture
def qemu(qemu_factory: QemuFactory) -> QemuProcess:
    """``-machine none``: no CPUs, starts in a blink."""
    return qemu_factory.start()


@pytest.fixture
def q35(qemu_factory: QemuFactory) -> QemuProcess:
    """A q35 machine with a CPU, paused in prelaunch (``-S``), diskless, headless."""
    return qemu_factory.start(("-machine", "q35,accel=tcg", "-m", "128", "-S"))


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A private HOME and XDG tree, so no test touches a real history or config."""
    for sub in ("config", "state", "data", "cache"):
        (tmp_path / sub).mkdir()
    return tmp_path


@pytest.fixture
def shell_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_STATE_HOME=str(home / "state"),
        XDG_DATA_HOME=str(home / "data"),
        XDG_CACHE_HOME=str(home / "cache"),
        PROMPT_TOOLKIT_NO_CPR="1",
        PAGER="cat",
        TERM="xterm",
    )
    env.pop("QMP_SOCKET", None)
    env.pop("NO_COLOR", None)
    return env


@dataclass
class Result:
    status: int
    stdout: str
    stderr: str

    def messages(self) -> list[dict[str, Any]]:
        """stdout parsed as one JSON object per line."""
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]


@pytest.fixture
def run_shell(shell_env: dict[str, str]) -> Any:
    """Run the qmpshell command (as a user would) and collect what it printed."""

    def run(*args: str, stdin: str | None = None, timeout: float = 30) -> Result:
        proc = subprocess.run(
            [sys.executable, "-m", "qmpshell", *args],
            input=stdin if stdin is not None else "",
            capture_output=True,
            text=True,
            env=shell_env,
            timeout=timeout,
        )
        assert "Traceback" not in proc.stderr, proc.stderr
        return Result(proc.returncode, proc.stdout, proc.stderr)

    return run


def start_shell(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    """The qmpshell command with its three streams on pipes, for a test that writes a
    script line by line and reads what each gives."""
    return subprocess.Popen(
        [sys.executable, "-m", "qmpshell", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )


def read_line(proc: subprocess.Popen[bytes], timeout: float = 10, stream: Any = None) -> bytes:
    """The next line ``proc`` writes on ``stream`` (stdout unless told), within ``timeout``."""
    stream = stream or proc.stdout
    ready, _, _ = select.select([stream], [], [], timeout)
    assert ready, "no output in time"
    return stream.readline()  # type: ignore[no-any-return]


# The layers of the suite, one folder each; a test carries the mark of its folder, so that
# ``scripts/test -m unit`` runs the fast layer alone (docs: README, "Development").
LAYERS = ("unit", "prompt", "qemu", "terminal", "libvirt")
TESTS = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each test is marked with its layer (the folder it is in). Property tests
    (hypothesis) also carry the mark ``fuzz``: ``scripts/fuzz`` runs them alone, with many
    more examples."""
    for item in items:
        folder = Path(item.path).resolve().relative_to(TESTS).parts[0]
        if folder not in LAYERS:
            raise pytest.UsageError(f"{item.nodeid}: a test belongs in one of tests/{LAYERS}")
        item.add_marker(folder)
        if getattr(getattr(item, "obj", None), "is_hypothesis_test", False):
            item.add_marker(pytest.mark.fuzz)


# -- terminal journeys: the installed command, a fresh QEMU, a fresh HOME, a real terminal

# The console script pip installed beside this Python: the command a user runs.
INSTALLED = Path(sys.executable).with_name("qmpshell")

# A machine with a CPU and devices, paused: what a newcomer usually points the shell at.
NEWCOMER_MACHINE = ("-machine", "q35,accel=tcg", "-m", "128", "-S")


@pytest.fixture
def newcomer(qemu_factory: QemuFactory, shell_env: dict[str, str], tmp_path: Path) -> Any:
    """Start the installed ``qmpshell`` in tmux as a newcomer would: ``start(*ARGS,
    machine=..., qemu=..., address=True)`` starts a fresh QEMU (unless ``qemu`` is given),
    then ``qmpshell ARGS ADDRESS`` in a 100x30 terminal, and returns the
    :class:`tmux.Tmux` once the prompt shows (``prompt=None``: at once), before
    anything has been typed.
    The terminal answers cursor-position queries, so menus and the toolbar draw."""
    from tmux import Tmux

    if not INSTALLED.exists():
        pytest.fail(f"the qmpshell command is not installed beside {sys.executable}")
    screens: list[Tmux] = []
    env = dict(shell_env)
    env.pop("PROMPT_TOOLKIT_NO_CPR")
    env["PAGER"] = "less"
    env.pop("LESS", None)

    def start(
        *args: str,
        machine: Sequence[str] = NEWCOMER_MACHINE,
        qemu: QemuProcess | None = None,
        address: bool = True,
        prompt: str | None = r"(?m)\((QEMU|qemu|QGA)\)( |$)",  # tmux trims the space
        width: int = 100,
        height: int = 30,
        extra_env: dict[str, str] | None = None,
    ) -> Tmux:
        argv = [str(INSTALLED), *args]
        if address:
            qemu = qemu or qemu_factory.start(machine)
            argv.append(qemu.qmp)
        directory = tmp_path / f"tty{len(screens)}"
        directory.mkdir()
        screen = Tmux(directory, {**env, **(extra_env or {})}, argv, width=width, height=height)
        screens.append(screen)
        if prompt:
            screen.wait_for(prompt)
        return screen

    try:
        yield start
    finally:
        for screen in screens:
            screen.close()


# -- guest agents (tests/guest_agent.py) ------------------------------------------------


@pytest.fixture
def agent() -> Iterator[AgentProcess]:
    """A real ``qemu-ga`` on this host that may do nothing to it (``AGENT_BLOCKED``)."""
    with running_agent() as process:
        yield process


@pytest.fixture
def exec_agent() -> Iterator[AgentProcess]:
    """A real ``qemu-ga`` on this host with ``guest-exec`` allowed (it runs programs
    here, as the user the tests run as: tests run only ``echo`` and ``sh -c printf``);
    everything in ``AGENT_BLOCKED_ON_HOST`` blocked."""
    with running_agent(AGENT_BLOCKED_ON_HOST) as process:
        yield process


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """The environment for a ``qmpshell`` subprocess: a private HOME and state directory,
    and no QMP_SOCKET of the caller's."""
    env = {k: v for k, v in os.environ.items() if k != "QMP_SOCKET"}
    env["HOME"] = str(tmp_path)
    env["XDG_STATE_HOME"] = str(tmp_path / "state")
    return env


# -- named targets (the config file's [targets.NAME]) -----------------------------------

NAMED_TARGETS = """\
[targets.web1]
address = "/run/web1/qmp.sock"

[targets.web2]
ga = "/run/web2/qga.sock"

[targets.db]
libvirt = "db"
connect = "qemu:///system"
"""


@pytest.fixture
def named_targets(shell_env: dict[str, str], home: Path) -> Path:
    """A config file in the fresh HOME naming @web1, @web2 and @db, and the installed
    qmpshell first on PATH (the completion scripts ask it for the names)."""
    path = home / "config" / "qmpshell" / "config.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(NAMED_TARGETS)
    shell_env["PATH"] = f"{INSTALLED.parent}{os.pathsep}{shell_env['PATH']}"
    return path
