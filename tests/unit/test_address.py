"""Unit tests for qmpshell.protocol.address.parse_address.

Each test runs in an empty temporary working directory, so a relative name like
``localhost:4444`` is never shadowed by a file of that name by accident, and the tests
that need such a file create it there.
"""

from __future__ import annotations

import ipaddress
import string
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import FUZZ_EXAMPLES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qmpshell.errors import QMPShellError
from qmpshell.protocol.address import AddressError, TcpAddress, UnixAddress, parse_address


@pytest.fixture(autouse=True)
def empty_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    yield tmp_path


# -- UNIX socket paths ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "/run/qemu/vm.sock",
        "/tmp/qmp",
        "/",
        "/tmp/vm:1",  # a colon in a path with a slash is still a path
        "/tmp/[::1]:4444",
        "vm.sock",
        "./vm.sock",
        "../sockets/vm.sock",
        "sockets/vm:4444",
        "qmp",
        "host:",  # no port digits: not HOST:PORT
        "localhost:x",  # by design a name that is not HOST:PORT is a path
        "a:b:1",  # two colons outside brackets: not HOST:PORT
        "~/vm.sock",
    ],
)
def test_paths(text: str) -> None:
    assert parse_address(text) == UnixAddress(text)


def test_path_str_is_the_path() -> None:
    assert str(parse_address("/run/vm.sock")) == "/run/vm.sock"


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("unix:/run/vm.sock", "/run/vm.sock"),
        ("unix:vm.sock", "vm.sock"),
        ("unix:localhost:4444", "localhost:4444"),
        ("unix:[::1]:4444", "[::1]:4444"),
        ("unix:tcp:1", "tcp:1"),
    ],
)
def test_unix_prefix(text: str, path: str) -> None:
    assert parse_address(text) == UnixAddress(path)


def test_unix_prefix_without_path_is_an_error() -> None:
    with pytest.raises(AddressError):
        parse_address("unix:")


# -- TCP -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "host", "port"),
    [
        ("localhost:4444", "localhost", 4444),
        ("127.0.0.1:4444", "127.0.0.1", 4444),
        ("vm.example.org:1", "vm.example.org", 1),
        ("host:65535", "host", 65535),
        ("host:04444", "host", 4444),
        (":4444", "localhost", 4444),
        ("[::1]:4444", "::1", 4444),
        ("[::]:1", "::", 1),
        ("[fe80::1%eth0]:4444", "fe80::1%eth0", 4444),
        ("[::ffff:127.0.0.1]:22", "::ffff:127.0.0.1", 22),
        ("tcp:127.0.0.1:4444", "127.0.0.1", 4444),
        ("tcp:localhost:4444", "localhost", 4444),
        ("tcp::4444", "localhost", 4444),
        ("tcp:[::1]:5", "::1", 5),
    ],
)
def test_tcp(text: str, host: str, port: int) -> None:
    assert parse_address(text) == TcpAddress(host, port)


def test_existing_file_named_like_host_port_is_a_path(empty_cwd: Path) -> None:
    assert parse_address("a:1") == TcpAddress("a", 1)
    (empty_cwd / "a:1").touch()
    assert parse_address("a:1") == UnixAddress("a:1")


def test_existing_directory_named_like_host_port_is_a_path(empty_cwd: Path) -> None:
    (empty_cwd / "vm:4444").mkdir()
    assert parse_address("vm:4444") == UnixAddress("vm:4444")


def test_tcp_prefix_wins_over_existing_file(empty_cwd: Path) -> None:
    (empty_cwd / "a:1").touch()
    assert parse_address("tcp:a:1") == TcpAddress("a", 1)


# -- errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "localhost:0",
        "localhost:65536",
        "localhost:99999999999999999999",
        ":0",
        ":65536",
        "[::1]:0",
        "[::1]:65536",
        "[::1]:x",
        "[::1]:4444x",
        "tcp:localhost:0",
        "tcp:localhost:65536",
        "tcp:localhost:x",
        "tcp:[::1]:0",
        "tcp:[::1]:x",
    ],
)
def test_invalid_port(text: str) -> None:
    with pytest.raises(AddressError):
        parse_address(text)


def test_invalid_port_message_names_the_range() -> None:
    with pytest.raises(AddressError, match="1-65535"):
        parse_address("localhost:65536")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "[::1]",
        "[::1]:",
        "[::1",
        "[]:4444",
        "[not-an-ip]:4444",
        "tcp:",
        "tcp:localhost",
        "tcp:/run/vm.sock",
        "tcp:[::1]",
        "tcp:a:b:1",
    ],
)
def test_invalid_address(text: str) -> None:
    with pytest.raises(AddressError):
        parse_address(text)


def test_empty_address_message() -> None:
    with pytest.raises(AddressError, match="empty address"):
        parse_address("")


def test_address_error_is_a_qmpshell_error() -> None:
    assert issubclass(AddressError, QMPShellError)


@pytest.mark.parametrize("port", ["\u00b2", "1\u00b2", "\u2460"])
def test_superscript_digit_port_is_an_address_error(port: str) -> None:
    with pytest.raises(AddressError):
        parse_address(f"[::1]:{port}")


# -- str() round trip ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "text"),
    [
        (TcpAddress("127.0.0.1", 4444), "127.0.0.1:4444"),
        (TcpAddress("localhost", 1), "localhost:1"),
        (TcpAddress("::1", 4444), "[::1]:4444"),
        (TcpAddress("fe80::1%eth0", 65535), "[fe80::1%eth0]:65535"),
    ],
)
def test_tcp_str(address: TcpAddress, text: str) -> None:
    assert str(address) == text
    assert parse_address(text) == address


@given(
    ip=st.ip_addresses(v=4) | st.ip_addresses(v=6),
    port=st.integers(min_value=1, max_value=65535),
)
@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_tcp_str_round_trip(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, port: int) -> None:
    address = TcpAddress(str(ip), port)
    assert parse_address(str(address)) == address
    assert parse_address("tcp:" + str(address)) == address


@given(
    host=st.text(alphabet=string.ascii_letters + string.digits + ".-_", min_size=1, max_size=20),
    port=st.integers(min_value=1, max_value=65535),
)
@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_hostname_str_round_trip(host: str, port: int) -> None:
    address = TcpAddress(host, port)
    assert parse_address(str(address)) == address


@given(st.text(max_size=40))
@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_any_text_gives_an_address_or_address_error(text: str) -> None:
    try:
        address = parse_address(text)
    except AddressError:
        return
    assert isinstance(address, (UnixAddress, TcpAddress))
    if isinstance(address, TcpAddress):
        assert 1 <= address.port <= 65535
