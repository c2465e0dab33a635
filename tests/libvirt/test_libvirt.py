"""``--libvirt``: the same shell for a VM that libvirt manages, against a real libvirtd
running real TCG guests (see libvirt_fixture.py for how they are set up)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pexpect
import pytest
from conftest import QEMU, QemuProcess, Result, free_port
from libvirt_fixture import URI, LibvirtHost, libvirt_host
from pty_shell import PROMPT, quit_at_prompt, spawn, type_line
from script_shell import Script
from tmux import Tmux
from waiting import stop

from qmpshell.errors import CommandError
from qmpshell.protocol import LibvirtAddress, QMPClient


@pytest.fixture(scope="module")
def host() -> Iterator[LibvirtHost]:
    if QEMU is None:
        pytest.fail("qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)")
    with libvirt_host(QEMU) as started:
        yield started


@pytest.fixture(scope="module")
def shared_name(host: LibvirtHost) -> str:
    """A guest the tests that do not stop it share (starting one takes a while)."""
    name = host.new_domain_name()
    host.start_domain(name)
    return name


@pytest.fixture
def vm(host: LibvirtHost, shared_name: str) -> Iterator[Any]:
    """The shared guest, paused; left paused (and running at all) for the next test."""
    domain = _alive(host, shared_name)
    yield domain
    domain = _alive(host, shared_name)
    if domain.state()[0] == host.libvirt.VIR_DOMAIN_RUNNING:
        domain.suspend()


def _alive(host: LibvirtHost, name: str) -> Any:
    try:
        domain = host.lookup(name)
        if domain.isActive():
            return domain
    except host.libvirt.libvirtError:
        pass
    return host.start_domain(name)


@pytest.fixture
def own_vm(host: LibvirtHost) -> Any:
    """A guest of the test's own, for tests that stop it."""
    return host.start_domain()


def qemu_says(host: LibvirtHost, domain: Any, command: dict[str, Any]) -> dict[str, Any]:
    """A command sent through libvirt by the test itself, not by qmpshell."""
    import libvirt_qemu

    return json.loads(libvirt_qemu.qemuMonitorCommand(domain, json.dumps(command), 0))  # type: ignore[no-any-return]


def hmp_says(domain: Any, line: str) -> str:
    import libvirt_qemu

    flag = libvirt_qemu.VIR_DOMAIN_QEMU_MONITOR_COMMAND_HMP
    return str(libvirt_qemu.qemuMonitorCommand(domain, line, flag))


def one_line_failure(result: Result, status: int) -> str:
    assert result.status == status, result
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("qmpshell: "), result
    return result.stderr.rstrip("\n")


def without_taint_note(stderr: str) -> str:
    return "".join(line for line in stderr.splitlines(True) if "tainted" not in line)


class Streaming(Script):
    """qmpshell reading a pipe from the test, its stdout and stderr read as they come,
    with a time limit on every wait."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        super().__init__(env, *args)
        self.out = ""
        self.err = ""

    def expect(self, pattern: str, timeout: float = 15, stream: str = "out") -> re.Match[str]:
        """Wait until ``pattern`` shows in stdout (or stderr)."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.out if stream == "out" else self.err
            found = re.search(pattern, text)
            if found:
                return found
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{pattern!r} not seen:\n{self.out}\n--\n{self.err}")
            self._read(left)

    def _read(self, timeout: float) -> bool:
        """Read what is there within ``timeout``; False once both streams have ended."""
        assert self.proc.stdout is not None and self.proc.stderr is not None
        streams = [s for s in (self.proc.stdout, self.proc.stderr) if not s.closed]
        if not streams:
            return False
        ready, _, _ = select.select(streams, [], [], timeout)
        for stream in ready:
            data = os.read(stream.fileno(), 65536).decode()
            if not data:
                stream.close()
            elif stream is self.proc.stdout:
                self.out += data
            else:
                self.err += data
        return True

    def end(self, timeout: float = 15) -> int:
        """Close stdin, read the rest; the exit status."""
        assert self.proc.stdin is not None
        if not self.proc.stdin.closed:
            self.proc.stdin.close()
        deadline = time.monotonic() + timeout
        while self._read(max(deadline - time.monotonic(), 0)):
            if time.monotonic() > deadline:
                raise AssertionError(f"qmpshell did not end:\n{self.out}\n--\n{self.err}")
        status = self.proc.wait(timeout=timeout)
        assert "Traceback" not in self.err, self.err
        return status

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


# -- scripted ------------------------------------------------------------------------------


def test_command_through_libvirt(run_shell: Any, host: LibvirtHost, vm: Any) -> None:
    result = run_shell("--libvirt", vm.name(), "-c", "query-status")
    assert result.status == 0, result
    [reply] = result.messages()
    assert reply == {"return": qemu_says(host, vm, {"execute": "query-status"})["return"]}
    state = vm.state()[0]
    assert reply["return"]["running"] is (state == host.libvirt.VIR_DOMAIN_RUNNING)


@pytest.fixture(scope="module")
def ssh_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A qemu+ssh:// URI for this very host: an sshd of the test's own on a free port
    (its own host key and authorized key), and an ssh wrapper that keeps the host key out
    of the user's known_hosts."""
    sshd = shutil.which("sshd") or "/usr/sbin/sshd"
    if not os.path.exists(sshd):
        pytest.fail("sshd is missing (apt-get install openssh-server; scripts/test does)")
    directory = tmp_path_factory.mktemp("ssh")
    for key in ("host", "client"):
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(directory / key)],
            check=True,
        )
    shutil.copy(directory / "client.pub", directory / "authorized_keys")
    port = free_port()
    os.makedirs("/run/sshd", exist_ok=True)  # sshd's privilege separation directory
    options = {
        "ListenAddress": f"127.0.0.1:{port}",
        "HostKey": directory / "host",
        "AuthorizedKeysFile": directory / "authorized_keys",
        "PidFile": directory / "sshd.pid",
        "PermitRootLogin": "prohibit-password",
        "StrictModes": "no",
        "UsePAM": "no",
    }
    args = [sshd, "-f", "/dev/null", *(f"-o{k}={v}" for k, v in options.items())]
    subprocess.run(args, check=True)
    wrapper = directory / "ssh"
    wrapper.write_text(
        "#!/bin/sh\nexec ssh -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no "
        f'-o LogLevel=ERROR -i {directory / "client"} "$@"\n'
    )
    wrapper.chmod(0o755)
    try:
        yield f"qemu+ssh://root@127.0.0.1:{port}/system?command={wrapper}"
    finally:
        pid = int((directory / "sshd.pid").read_text())
        os.kill(pid, signal.SIGTERM)


def test_qemu_ssh_uri(run_shell: Any, vm: Any, ssh_uri: str) -> None:
    """Another host is reached as libvirt reaches it, over ssh; here the other host is
    this one, through an sshd of the test's own."""
    local = run_shell("--libvirt", vm.name(), "-c", "query-name", "-c", "query-status")
    remote = run_shell(
        "--libvirt", vm.name(), "--connect", ssh_uri, "-c", "query-name", "-c", "query-status"
    )
    assert remote.status == 0, remote
    assert remote.messages() == local.messages()
    listed = run_shell("--libvirt", "--connect", ssh_uri)
    assert vm.name() in listed.stdout


def test_connect_uri_and_domain_by_id_or_uuid(run_shell: Any, vm: Any) -> None:
    expected = run_shell("--libvirt", vm.name(), "-c", "query-name").messages()
    for domain in (str(vm.ID()), vm.UUIDString()):
        result = run_shell("--libvirt", domain, "--connect", URI, "-c", "query-name")
        assert result.status == 0, result
        assert result.messages() == expected


def test_a_named_target_in_the_config_file(run_shell: Any, vm: Any, home: Path) -> None:
    """[targets.NAME] with libvirt and connect: qmpshell @NAME, as --libvirt --connect."""
    config = home / "config" / "qmpshell" / "config.toml"
    config.parent.mkdir(exist_ok=True)
    config.write_text(f'[targets.guest]\nlibvirt = "{vm.name()}"\nconnect = "{URI}"\n')
    expected = run_shell("--libvirt", vm.name(), "--connect", URI, "-c", "query-name")
    result = run_shell("-c", "query-name", "@guest")
    assert result.status == 0, result
    assert result.messages() == expected.messages()


def test_pipelined_commands_keep_order_and_ids(
    run_shell: Any, host: LibvirtHost, vm: Any, tmp_path: Path
) -> None:
    """Many commands in flight at once (scripted mode's pipeline): replies come back in
    order, each with its own id, the user's where given, none where not."""
    lines = []
    for n in range(40):
        if n % 2:
            lines.append(json.dumps({"execute": "query-status", "id": f"mine-{n}"}))
        else:
            lines.append("qom-get path=/machine property=type")
    log = tmp_path / "t.jsonl"
    result = run_shell("--libvirt", vm.name(), "-l", str(log), stdin="\n".join(lines) + "\n")
    assert result.status == 0, result
    replies = result.messages()
    assert len(replies) == 40
    status = qemu_says(host, vm, {"execute": "query-status"})["return"]
    machine = qemu_says(
        host, vm, {"execute": "qom-get", "arguments": {"path": "/machine", "property": "type"}}
    )["return"]
    for n, reply in enumerate(replies):
        if n % 2:
            assert reply == {"return": status, "id": f"mine-{n}"}
        else:
            assert reply == {"return": machine}
    # On the wire (the transcript), every command had an id and its reply the same one.
    sent = [json.loads(line)["msg"] for line in log.read_text().splitlines()]
    ids = [m["id"] for m in sent if "execute" in m and m["execute"] in ("qom-get", "query-status")]
    answered = [m.get("id") for m in sent if "return" in m]
    assert ids == answered[-40:]


def test_error_reply_exits_1(run_shell: Any, host: LibvirtHost, vm: Any) -> None:
    result = run_shell("--libvirt", vm.name(), "-c", "device_del id=nothing-here")
    assert result.status == 1, result
    [reply] = result.messages()
    direct = qemu_says(host, vm, {"execute": "device_del", "arguments": {"id": "nothing-here"}})
    assert reply == {"error": direct["error"]}


def test_events_in_scripted_output(run_shell: Any, vm: Any) -> None:
    result = run_shell("--libvirt", vm.name(), "-c", "cont", "-c", "stop", "-c", "/wait STOP 10")
    assert result.status == 0, result
    events = [m["event"] for m in result.messages() if "event" in m]
    assert events[:2] == ["RESUME", "STOP"]
    stop = next(m for m in result.messages() if m.get("event") == "STOP")
    assert set(stop["timestamp"]) == {"seconds", "microseconds"}
    assert abs(stop["timestamp"]["seconds"] - time.time()) < 60


def test_event_from_elsewhere_shown_while_waiting_for_input(
    shell_env: dict[str, str], host: LibvirtHost, vm: Any
) -> None:
    shell = Streaming(shell_env, "--libvirt", vm.name())
    try:
        shell.send("query-name")
        shell.expect(r'\{"return":')
        vm.resume()  # as virsh resume would
        shell.expect(r'"event":"RESUME"')
        vm.suspend()
        shell.expect(r'"event":"STOP"')
        assert shell.end() == 0
    finally:
        shell.kill()


def test_hmp_mode(run_shell: Any, vm: Any) -> None:
    result = run_shell("--libvirt", vm.name(), "-H", "-c", "info status")
    assert result.status == 0, result
    assert result.stdout.strip() == hmp_says(vm, "info status").strip()


def test_hmp_with_a_chosen_cpu(run_shell: Any, vm: Any) -> None:
    """cpu-index cannot go with libvirt's HMP flag: the JSON goes as it is."""
    result = run_shell("--libvirt", vm.name(), "-H", "-c", "cpu 0", "-c", "info cpus")
    assert result.status == 0, result
    assert "CPU 0 selected" in result.stderr
    assert re.search(r"^\* CPU #0", result.stdout, re.M), result


def test_schema_typing_error_as_on_a_socket(run_shell: Any, vm: Any, q35: QemuProcess) -> None:
    line = "blockdev-add driver=null-co node-name=n0 sise=1"
    through_libvirt = run_shell("--libvirt", vm.name(), "-c", line)
    on_socket = run_shell("-c", line, q35.qmp)
    assert through_libvirt.status == on_socket.status == 1
    assert "sise" in on_socket.stderr
    assert without_taint_note(through_libvirt.stderr) == on_socket.stderr


def test_transcript_records_both_directions(run_shell: Any, vm: Any, tmp_path: Path) -> None:
    log = tmp_path / "session.jsonl"
    result = run_shell("--libvirt", vm.name(), "-l", str(log), "-c", '{"execute":"query-name"}')
    assert result.status == 0, result
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    greeting, sent, received = entries
    assert greeting["dir"] == "recv" and "QMP" in greeting["msg"]
    assert sent["dir"] == "send" and sent["msg"]["execute"] == "query-name"
    assert received["dir"] == "recv" and received["msg"]["id"] == sent["msg"]["id"]
    assert {k: v for k, v in received["msg"].items() if k != "id"} == result.messages()[0]


def test_taint_note_said_once(run_shell: Any, vm: Any) -> None:
    result = run_shell(
        "--libvirt", vm.name(), "-c", "query-name", "-c", "query-status", "-c", "/hmp info name"
    )
    assert result.status == 0, result
    notes = [line for line in result.stderr.splitlines() if "tainted" in line]
    assert len(notes) == 1 and vm.name() in notes[0], result.stderr
    # And it is true: libvirt logged the taint for this domain.
    log = Path("/var/log/libvirt/qemu") / f"{vm.name()}.log"
    assert "custom-monitor" in log.read_text()


def test_as_a_library(vm: Any) -> None:
    """The client API over libvirt: execute, error replies raised, an event stream."""

    async def session() -> tuple[Any, list[str], str]:
        async with QMPClient() as qmp:
            await qmp.connect(LibvirtAddress(vm.name(), URI), timeout=10)
            assert qmp.negotiated and not qmp.oob_enabled
            name = await qmp.execute("query-name")
            stream = qmp.events()
            await qmp.execute("cont")
            await qmp.execute("stop")
            seen = [(await stream.__anext__())["event"] for _ in range(2)]
            with pytest.raises(CommandError) as error:
                await qmp.execute("device_del", {"id": "nothing-here"})
            return name, seen, error.value.error_class

    name, seen, error_class = asyncio.run(session())
    assert name == {"name": vm.name()}
    assert seen == ["RESUME", "STOP"]
    assert error_class == "DeviceNotFound"


# -- choosing a domain ---------------------------------------------------------------------


def test_domains_listed_without_a_name(run_shell: Any, host: LibvirtHost, vm: Any) -> None:
    result = run_shell("--libvirt")
    assert result.status == 0, result
    rows = [line.split() for line in result.stdout.splitlines()[1:]]
    running = host.conn.listAllDomains(host.libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)
    assert sorted(row[1] for row in rows) == sorted(d.name() for d in running)
    mine = next(row for row in rows if row[1] == vm.name())
    assert mine[2] == str(vm.ID()) and mine[3] == "paused"


def test_domain_chosen_at_the_terminal(shell_env: dict[str, str], vm: Any) -> None:
    child = spawn(shell_env, "--libvirt")
    try:
        found = child.expect(rf"(\d+)\s+{re.escape(vm.name())}\s+{vm.ID()}\s+paused")
        assert found == 0
        number = child.match.group(1)
        child.expect(r"number or name")
        child.sendline(number)
        child.expect(rf"Connected to libvirt:{re.escape(vm.name())} \(QEMU \d+\.\d+\.\d+")
        quit_at_prompt(child)
    finally:
        child.close()
    assert child.exitstatus == 0


# -- interactive ---------------------------------------------------------------------------


def test_interactive_events(shell_env: dict[str, str], vm: Any) -> None:
    child = spawn(shell_env, "--libvirt", vm.name())
    try:
        child.expect(rf"Connected to libvirt:{re.escape(vm.name())}")
        child.expect(PROMPT)
        vm.resume()  # from elsewhere, as virsh resume would
        child.expect(r"\d\d:\d\d:\d\d\.\d{3} RESUME\r\n")
        type_line(child, "stop")  # from the shell itself
        child.expect(r"\d\d:\d\d:\d\d\.\d{3} STOP\r\n")
        type_line(child, "query-status")
        child.expect('"status": "paused"')
        quit_at_prompt(child)
    finally:
        child.close()
    assert child.exitstatus == 0


@pytest.mark.parametrize("first", ["", "query-name"], ids=["cold", "after a command"])
def test_tab_completion(shell_env: dict[str, str], vm: Any, tmp_path: Path, first: str) -> None:
    env = dict(shell_env)
    env.pop("PROMPT_TOOLKIT_NO_CPR")  # tmux answers the cursor queries menus need
    argv = [sys.executable, "-m", "qmpshell", "--color", "never", "--libvirt", vm.name()]
    screen = Tmux(tmp_path, env, argv)
    try:
        screen.wait_for(PROMPT)
        if first:
            screen.type(first, "Enter")
            screen.wait_for(rf'"name": "{re.escape(vm.name())}"')
        screen.type("query-versi")
        screen.wait_for(r"query-version\s+command")  # the menu, as you type
        screen.type("Tab")
        screen.wait_for(r"\(QEMU\) query-version\n")
        screen.type("Enter")
        screen.wait_for(r'"qemu": \{')
    finally:
        screen.close()


# -- failures ------------------------------------------------------------------------------


def test_unknown_domain(run_shell: Any, host: LibvirtHost) -> None:
    line = one_line_failure(run_shell("--libvirt", "no-such-domain-here", "-c", "query-name"), 3)
    assert "no-such-domain-here" in line


def test_domain_not_running(run_shell: Any, host: LibvirtHost) -> None:
    name = host.new_domain_name()
    domain = host.conn.defineXML(host.domain_xml(name))
    try:
        line = one_line_failure(run_shell("--libvirt", name, "-c", "query-name"), 3)
    finally:
        domain.undefine()
    assert name in line and "not running" in line and "shut off" in line


def test_bad_uri(run_shell: Any) -> None:
    line = one_line_failure(run_shell("--libvirt", "x", "--connect", "nothing:///x"), 3)
    assert "nothing:///x" in line


@pytest.mark.parametrize(
    "args",
    [
        ("--libvirt", "vm", "/some/socket"),
        ("--libvirt", "vm", "--ga", "/some/socket"),
        ("--libvirt", "vm", "--launch"),
        ("--connect", URI, "/some/socket"),
    ],
)
def test_usage_errors(run_shell: Any, args: tuple[str, ...]) -> None:
    result = run_shell(*args)
    assert result.status == 2, result
    assert "--libvirt" in result.stderr.splitlines()[-1]


def test_without_libvirt_python(shell_env: dict[str, str], tmp_path: Path) -> None:
    """A Python where ``import libvirt`` fails: one line says what to install."""
    (tmp_path / "sitecustomize.py").write_text(
        "import sys\nsys.modules['libvirt'] = None\nsys.modules['libvirt_qemu'] = None\n"
    )
    env = {**shell_env, "PYTHONPATH": str(tmp_path)}
    for args in (("--libvirt", "vm", "-c", "query-name"), ("--libvirt",)):
        proc = subprocess.run(
            [sys.executable, "-m", "qmpshell", *args],
            env=env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
        )
        result = Result(proc.returncode, proc.stdout, proc.stderr)
        line = one_line_failure(result, 3)
        assert "libvirt-python" in line and "pip install 'qmpshell[libvirt]'" in line


def test_domain_destroyed_under_the_shell(shell_env: dict[str, str], own_vm: Any) -> None:
    """As when QEMU goes away from a socket: the next line finds the connection lost,
    one line says why, exit 3."""
    shell = Streaming(shell_env, "--libvirt", own_vm.name())
    try:
        shell.send("query-name")
        shell.expect(r'\{"return":')
        own_vm.destroy()
        shell.expect(r'"event":"SHUTDOWN"')
        shell.send("query-status")
        status = shell.end()
    finally:
        shell.kill()
    assert status == 3, shell.err
    # query-status may have been sent before libvirt told of the loss: then it is named.
    said = rf"qmpshell: domain {re.escape(own_vm.name())} stopped \(destroyed\)"
    assert re.fullmatch(said + "(; no reply to line 2)?", shell.err.splitlines()[-1]), shell.err


def test_domain_destroyed_under_the_prompt(shell_env: dict[str, str], own_vm: Any) -> None:
    child = spawn(shell_env, "--libvirt", own_vm.name())
    try:
        child.expect(PROMPT)
        own_vm.destroy()
        child.expect(rf"qmpshell: domain {re.escape(own_vm.name())} stopped \(destroyed\)")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 3


def reconnected_after(
    env: dict[str, str], name: str, break_off: Callable[[], None], said: str
) -> Streaming:
    """A script with --reconnect on domain ``name``: ``break_off`` ends the connection,
    the shell says ``said``, waits and reconnects; a command afterwards is answered."""
    shell = Streaming(env, "--libvirt", name, "--reconnect=30")
    try:
        shell.send("query-name")
        shell.expect(r'\{"return":')
        break_off()
        shell.expect(rf"{said}; waiting for libvirt:{re.escape(name)} to come back", stream="err")
        shell.expect(rf"reconnected to libvirt:{re.escape(name)}", stream="err")
        shell.send("query-status")
        shell.expect(r'"status":')
        assert shell.end() == 0
    finally:
        shell.kill()
    assert shell.err.count("tainted") == 1
    return shell


def test_reconnect_when_the_domain_runs_again(
    shell_env: dict[str, str], host: LibvirtHost, own_vm: Any
) -> None:
    name = own_vm.name()

    def restart() -> None:
        own_vm.destroy()
        host.start_domain(name)  # a new QEMU, under the same name

    said = rf"domain {re.escape(name)} stopped \(destroyed\)"
    shell = reconnected_after(shell_env, name, restart, said)
    assert '"status":"prelaunch"' in shell.out  # the new QEMU, started paused


def test_libvirtd_restarted_under_the_shell(
    shell_env: dict[str, str], host: LibvirtHost, own_vm: Any
) -> None:
    """libvirtd going away is a lost connection; the guest runs on meanwhile."""
    reconnected_after(
        shell_env, own_vm.name(), host.restart_libvirtd, "libvirt connection closed by libvirtd"
    )


def test_quit_ends_the_session(run_shell: Any, own_vm: Any) -> None:
    """quit: QEMU goes, libvirt says the domain stopped; that is the end asked for, as
    with a socket: the script ends there (exit 0, nothing on stderr), whether or not
    libvirt lost quit's own reply (and QEMU's SHUTDOWN event with it)."""
    result = run_shell("--libvirt", own_vm.name(), "-c", "quit", "-c", "query-name")
    said = [line for line in result.stderr.splitlines() if "tainted" not in line]
    assert (result.status, said) == (0, []), (result.stdout, result.stderr)
    assert all("error" not in message for message in result.messages())


def test_timeout_does_not_wedge_the_session(shell_env: dict[str, str], own_vm: Any) -> None:
    """QEMU stopped by a signal cannot answer: the command times out, the session goes
    on, and once QEMU answers again the late reply is dropped, the next one shown."""
    pid = int(Path(f"/run/libvirt/qemu/{own_vm.name()}.pid").read_text())
    shell = Streaming(shell_env, "--libvirt", own_vm.name(), "--timeout", "1")
    try:
        shell.send("query-name")
        shell.expect(r'\{"return":')
        stop(pid)
        try:
            shell.send('{"execute": "query-status", "id": "late"}')
            shell.expect(r"query-status: no reply within 1s", stream="err")
        finally:
            os.kill(pid, signal.SIGCONT)
        shell.send('{"execute": "query-name", "id": "after"}')
        shell.expect(r'"id":"after"')
        assert shell.end() == 1
    finally:
        shell.kill()
    assert '"late"' not in shell.out


# -- one script on several domains ---------------------------------------------------------


@pytest.fixture(scope="module")
def web_pair(host: LibvirtHost) -> list[str]:
    """Two guests whose names a glob picks out from the others running."""
    names = [f"web-{os.getpid()}-{n}" for n in (1, 2)]
    for name in names:
        host.start_domain(name)
    return names


def test_a_glob_runs_the_script_on_each_matching_domain(
    run_shell: Any, web_pair: list[str], vm: Any
) -> None:
    result = run_shell("--libvirt", f"web-{os.getpid()}-*", "--connect", URI, "-c", "query-name")
    assert result.status == 0, result
    replies = [json.loads(line) for line in result.stdout.splitlines()]
    assert sorted(replies, key=lambda r: r["target"]) == [
        {"target": name, "return": {"name": name}} for name in web_pair
    ]
    assert vm.name() not in result.stdout  # running, but not matched


def test_a_glob_over_qemu_ssh(run_shell: Any, web_pair: list[str], ssh_uri: str) -> None:
    glob = f"web-{os.getpid()}-*"
    result = run_shell("--libvirt", glob, "--connect", ssh_uri, "-c", "query-name")
    assert result.status == 0, result
    assert sorted(json.loads(line)["target"] for line in result.stdout.splitlines()) == web_pair


def test_a_glob_that_matches_nothing(run_shell: Any, host: LibvirtHost) -> None:
    result = run_shell("--libvirt", "no-such-*", "--connect", URI, "-c", "query-name")
    assert result.status == 3, result
    assert result.stderr == f"qmpshell: no running domain on {URI} matches 'no-such-*'\n"


def test_one_session_a_socket_and_a_domain(
    shell_env: dict[str, str], vm: Any, q35: QemuProcess, home: Path, tmp_path: Path
) -> None:
    """/connect @NAME to a libvirt domain beside a QEMU on a socket: /all on both, the
    domain's events shown with its name, /targets says what each is."""
    config = home / "config" / "qmpshell" / "config.toml"
    config.parent.mkdir(exist_ok=True)
    config.write_text(f'[targets.guest]\nlibvirt = "{vm.name()}"\nconnect = "{URI}"\n')
    env = dict(shell_env)
    env.pop("PROMPT_TOOLKIT_NO_CPR")
    argv = [sys.executable, "-m", "qmpshell", "--color", "never", q35.qmp]
    screen = Tmux(tmp_path, env, argv, width=120)
    try:
        screen.wait_for(PROMPT)
        screen.type("/connect @guest", "Enter")
        screen.wait_for(r"(?m)^\[guest\] \(QEMU\)$")
        screen.type("/all query-name", "Enter")
        shown = screen.wait_for(rf'(?m)^\[guest\]\n[\s\S]*"{re.escape(vm.name())}"', joined=True)
        assert re.search(r"(?m)^\[qmp\] *\nOK *$", shown), shown  # q35 has no name
        screen.type("/targets", "Enter")
        screen.wait_for(rf"(?m)^\* +guest +libvirt:{re.escape(vm.name())} on {re.escape(URI)} ")
        vm.resume()  # from elsewhere, as virsh resume would
        screen.wait_for(r"(?m)^\[guest\] \d\d:\d\d:\d\d\.\d{3} RESUME$")
        screen.type("C-d")
        assert screen.wait_exit() == 0
    finally:
        screen.close()
