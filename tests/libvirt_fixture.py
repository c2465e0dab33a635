"""A real libvirtd for the ``--libvirt`` tests, and TCG guests for it to run.

This works on a Debian machine without systemd, as root, with the packages that
``ensure_libvirt`` (scripts/setup.sh) installs: the QEMU driver looks up the
``libvirt-qemu`` user even when told to run QEMU as root, so it is created;
``/etc/libvirt/qemu.conf`` gets the settings of :data:`QEMU_CONF` (QEMU runs as root, no
security driver, no cgroups, no namespaces, no relabelling), unless it has them already;
then ``virtlogd -d`` and ``libvirtd -d`` are started with pid files of their own. A
libvirtd that is running already (a real host) is used as it is. Guests are transient
(``createXML``), ``type='qemu'`` (TCG: no KVM needed), q35 with 64 MiB, no disks, no
graphics, started paused, with ACPI (without it libvirt 9.0 passes ``-no-acpi``, which
QEMU 10 no longer has); whatever was started is destroyed and stopped at the end.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

URI = "qemu:///system"
QEMU_CONF = Path("/etc/libvirt/qemu.conf")
QEMU_CONF_SETTINGS = {
    "user": '"root"',
    "group": '"root"',
    "security_driver": '"none"',
    "cgroup_controllers": "[ ]",
    "namespaces": "[ ]",
    "dynamic_ownership": "0",
}
VIRTLOGD_SOCKET = "/run/libvirt/virtlogd-sock"
START_LIMIT = 30.0  # seconds for libvirtd to answer once started

DOMAIN_XML = """\
<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <features><acpi/></features>
  <devices>
    <emulator>{emulator}</emulator>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
</domain>
"""


def libvirt_module() -> Any:
    """libvirt-python, or the test fails (root) or skips (not root) saying why."""
    if os.geteuid() != 0:
        pytest.skip("the libvirt tests start libvirtd and QEMU as root; run them as root")
    try:
        import libvirt
    except ImportError:
        pytest.fail(
            "libvirt-python is not installed in this Python: scripts/test installs it "
            "(the 'libvirt' extra, built against libvirt-dev)"
        )
    libvirt.registerErrorHandler(lambda _context, _error: None, None)
    return libvirt


def qemu_conf_lines(text: str) -> list[str]:
    """qemu.conf with :data:`QEMU_CONF_SETTINGS` in force: lines that set those keys
    otherwise are commented out (a list over several lines entirely), and the wanted
    settings appended. libvirt takes the first setting of a key, so appending alone
    would not do."""
    lines = text.splitlines()
    result: list[str] = []
    in_list = False
    for line in lines:
        match = re.match(r"\s*(\w+)\s*=", line)
        if in_list or (match and match.group(1) in QEMU_CONF_SETTINGS):
            result.append("#qmpshell-tests# " + line)
            in_list = "]" not in line if in_list else "[" in line and "]" not in line
            continue
        result.append(line)
    result.append("# qmpshell's tests: QEMU as root, unconfined (see tests/libvirt_fixture.py)")
    result += [f"{key} = {value}" for key, value in QEMU_CONF_SETTINGS.items()]
    return result


def qemu_conf_ready(text: str) -> bool:
    """Whether qemu.conf sets every key of :data:`QEMU_CONF_SETTINGS` as wanted."""
    found = {}
    for line in text.splitlines():
        match = re.match(r"\s*(\w+)\s*=\s*(.*?)\s*$", line)
        if match and match.group(1) not in found:
            found[match.group(1)] = re.sub(r"\s+", " ", match.group(2))
    return all(found.get(key) == value for key, value in QEMU_CONF_SETTINGS.items())


class LibvirtHost:
    """libvirtd (started here unless it runs already) and the guests the tests start."""

    def __init__(self, libvirt: Any, emulator: str) -> None:
        self.libvirt = libvirt
        self.emulator = emulator
        self.directory = tempfile.mkdtemp(prefix="qs-libvirt-")
        self.started: list[tuple[str, str]] = []  # (program, pid file) started here
        self.domains: list[str] = []
        self._count = 0
        self.conn: Any = None

    # -- the daemons ---------------------------------------------------------------------

    def start(self) -> None:
        self.conn = self._try_connect()
        if self.conn is not None:
            return  # a libvirtd runs already: used as it is
        for program in ("virtlogd", "libvirtd"):
            if shutil.which(program) is None:
                pytest.fail(
                    f"{program} is not installed: scripts/test installs it "
                    "(apt-get install libvirt-daemon libvirt-daemon-driver-qemu)"
                )
        self._prepare_host()
        if not _listening(VIRTLOGD_SOCKET):
            self._daemon("virtlogd")
        self._daemon("libvirtd")
        self._wait_for_libvirtd()

    def restart_libvirtd(self) -> None:
        """Stop the libvirtd started here and start it again (its guests run on)."""
        pidfile = next((p for program, p in self.started if program == "libvirtd"), None)
        if pidfile is None:
            pytest.skip("libvirtd was running before the tests: not restarted by them")
        with contextlib.suppress(self.libvirt.libvirtError):
            self.conn.close()
        self.conn = None
        _stop_daemons([pidfile])
        self.started.remove(("libvirtd", pidfile))
        self._daemon("libvirtd")
        self._wait_for_libvirtd()

    def _wait_for_libvirtd(self) -> None:
        deadline = time.monotonic() + START_LIMIT
        while self.conn is None:
            if time.monotonic() > deadline:
                pytest.fail(f"libvirtd does not answer on {URI}: {self._log_tail()}")
            time.sleep(0.05)
            self.conn = self._try_connect()

    def _try_connect(self) -> Any:
        try:
            return self.libvirt.open(URI)
        except self.libvirt.libvirtError:
            return None

    def _prepare_host(self) -> None:
        """What the QEMU driver needs on a host set up by nothing but the packages."""
        if subprocess.run(["getent", "group", "libvirt-qemu"], capture_output=True).returncode:
            subprocess.run(["groupadd", "--system", "libvirt-qemu"], check=True)
        if subprocess.run(["getent", "passwd", "libvirt-qemu"], capture_output=True).returncode:
            subprocess.run(
                ["useradd", "--system", "--no-create-home", "--gid", "libvirt-qemu",
                 "--home-dir", "/var/lib/libvirt", "--shell", "/usr/sbin/nologin",
                 "libvirt-qemu"],
                check=True,
            )  # fmt: skip
        os.makedirs("/var/log/libvirt", exist_ok=True)
        text = QEMU_CONF.read_text() if QEMU_CONF.exists() else ""
        if not qemu_conf_ready(text):
            if text:
                shutil.copy2(QEMU_CONF, f"{QEMU_CONF}.before-qmpshell-tests")
            QEMU_CONF.parent.mkdir(parents=True, exist_ok=True)
            QEMU_CONF.write_text("\n".join(qemu_conf_lines(text)) + "\n")

    def _daemon(self, program: str) -> None:
        pidfile = os.path.join(self.directory, f"{program}.pid")
        env = dict(os.environ)
        # Errors (level 3 and up) into a file of ours, for the failure message.
        env["LIBVIRT_LOG_OUTPUTS"] = f"3:file:{self.directory}/{program}.log"
        proc = subprocess.run(
            [program, "-d", "-p", pidfile], env=env, capture_output=True, text=True
        )
        if proc.returncode != 0:
            pytest.fail(f"{program} -d failed ({proc.returncode}): {proc.stderr.strip()}")
        self.started.append((program, pidfile))

    def _log_tail(self) -> str:
        path = os.path.join(self.directory, "libvirtd.log")
        with contextlib.suppress(OSError):
            return " | ".join(Path(path).read_text().splitlines()[-5:]) or "(no errors logged)"
        return "(no log)"

    # -- guests --------------------------------------------------------------------------

    def new_domain_name(self) -> str:
        self._count += 1
        return f"qmpshell-test-{os.getpid()}-{self._count}"

    def domain_xml(self, name: str) -> str:
        return DOMAIN_XML.format(name=name, emulator=self.emulator)

    def start_domain(self, name: str | None = None) -> Any:
        """A transient guest, started paused (in prelaunch); again under the same name
        once stopped."""
        name = name or self.new_domain_name()
        flags = self.libvirt.VIR_DOMAIN_START_PAUSED
        domain = self.conn.createXML(self.domain_xml(name), flags)
        if name not in self.domains:
            self.domains.append(name)
        return domain

    def lookup(self, name: str) -> Any:
        return self.conn.lookupByName(name)

    def stop(self) -> None:
        """Destroy the guests, stop the daemons started here: each all at once, since
        each takes a second or two to go."""

        def destroy(name: str) -> None:
            with contextlib.suppress(self.libvirt.libvirtError):
                self.conn.lookupByName(name).destroy()

        if self.conn is not None:
            with ThreadPoolExecutor() as pool:
                list(pool.map(destroy, self.domains))
            with contextlib.suppress(self.libvirt.libvirtError):
                self.conn.close()
        _stop_daemons([pidfile for _, pidfile in self.started])
        shutil.rmtree(self.directory, ignore_errors=True)


def _listening(path: str) -> bool:
    with socket.socket(socket.AF_UNIX) as sock:
        try:
            sock.connect(path)
        except OSError:
            return False
    return True


def _stop_daemons(pidfiles: list[str]) -> None:
    """SIGTERM, and SIGKILL for those still there after 10 s."""
    pids = []
    for pidfile in pidfiles:
        with contextlib.suppress(OSError, ValueError):
            pids.append(int(Path(pidfile).read_text().strip()))
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while pids and time.monotonic() < deadline:
        pids = [pid for pid in pids if _exists(pid)]
        time.sleep(0.05)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@contextlib.contextmanager
def libvirt_host(emulator: str) -> Iterator[LibvirtHost]:
    host = LibvirtHost(libvirt_module(), emulator)
    try:
        host.start()
        yield host
    finally:
        host.stop()
