"""Named targets, the config file's [targets.NAME] (cli/namedtargets.py): what each may
say, the errors with their lines, the one line for a name that is not there, and how
--print-config and --targets show them."""

from __future__ import annotations

import os

import pytest

from qmpshell.cli.config import ConfigError, apply, parse_config
from qmpshell.cli.namedtargets import NamedTarget, unknown_target
from qmpshell.cli.options import build_parser
from qmpshell.cli.printconfig import describe, list_targets

PATH = "/home/me/.config/qmpshell/config.toml"

CONFIG = """\
pager = false

[targets.web1]
address = "/run/web1/qmp.sock"

[targets.tcp]
address = "localhost:4444"

[targets.web1-agent]
ga = "~/vms/web1/qga.sock"

[targets."db.prod"]
libvirt = "db"
connect = "qemu+ssh://host/system"

[targets.local]
libvirt = "f40"
"""


def targets(text: str) -> dict[str, NamedTarget]:
    return parse_config(PATH, text).targets


def error(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(PATH, text)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_each_kind_of_target() -> None:
    assert targets(CONFIG) == {
        "web1": NamedTarget("web1", address="/run/web1/qmp.sock"),
        "tcp": NamedTarget("tcp", address="localhost:4444"),
        "web1-agent": NamedTarget("web1-agent", ga=os.path.expanduser("~/vms/web1/qga.sock")),
        "db.prod": NamedTarget("db.prod", libvirt="db", connect="qemu+ssh://host/system"),
        "local": NamedTarget("local", libvirt="f40"),
    }


def test_targets_as_dotted_keys_too() -> None:
    text = '[targets]\nweb1.address = "/a.sock"\nweb2 = { ga = "/g.sock" }\n'
    assert targets(text) == {
        "web1": NamedTarget("web1", address="/a.sock"),
        "web2": NamedTarget("web2", ga="/g.sock"),
    }


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("targets = 1", 3, "targets must be tables: [targets.NAME] with an address"),
        ('[targets.web1]\naddres = "/a"', 4, "unknown key 'addres' in targets.web1; did you "),
        ("[targets.web1]\nhost = 1", 4, "unknown key 'host' in targets.web1; the keys are "),
        ("[targets.web1]\naddress = 1", 4, "targets.web1.address must be a non-empty string"),
        ('[targets.web1]\naddress = ""', 4, "targets.web1.address must be a non-empty string"),
        ('[targets.web1]\nconnect = "qemu:///system"', 3, "targets.web1 needs an address, ga"),
        ("[targets.web1]", 3, "targets.web1 needs an address, ga or libvirt"),
        ('[targets.w]\naddress = "/a"\nga = "/b"', 5, "targets.w: address and ga exclude each"),
        ('[targets.w]\nga = "/b"\nconnect = "x"', 5, "targets.w: connect goes with libvirt"),
        ('[targets.w]\naddress = "tcp:host"', 4, "targets.w.address: "),
        ('[targets."we b"]\naddress = "/a"', 3, "target name 'we b': letters, digits"),
        ('[targets."@w"]\naddress = "/a"', 3, "target name '@w'"),
        ("[targets]\nweb1 = 1", 4, "targets.web1 must be a table: [targets.web1]"),
    ],
)
def test_a_bad_target_is_one_line_with_its_line(text: str, line: int, message: str) -> None:
    said = error(f"# mine\npager = true\n{text}\n")
    assert said.startswith(f"{PATH}:{line}: "), said
    assert message in said


def test_the_address_is_checked_as_the_command_line_checks_it() -> None:
    said = error('[targets.w]\naddress = "tcp:host"\n')
    assert said.startswith(f"{PATH}:2: targets.w.address: ")


def test_a_name_not_there() -> None:
    known = targets(CONFIG)
    assert unknown_target("web", known, PATH) == (
        "no target named 'web'; did you mean '@web1'? "
        f"(in {PATH}: @db.prod, @local, @tcp, @web1, @web1-agent)"
    )
    assert unknown_target("zzz", known, PATH).startswith(f"no target named 'zzz' (in {PATH}: @db")
    assert unknown_target("", known, PATH).startswith(
        f"@ needs the name of a target (in {PATH}: @db"
    )
    assert unknown_target("web1", {}, PATH) == (
        f"no target named 'web1': {PATH} names no targets ([targets.web1])"
    )


def test_targets_listed_for_people_and_completion() -> None:
    settings = apply(build_parser().parse_args([]), PATH, parse_config(PATH, CONFIG))
    assert list_targets(settings).splitlines() == [
        "@db.prod\tlibvirt domain db on qemu+ssh://host/system",
        "@local\tlibvirt domain f40",
        "@tcp\tmonitor at localhost:4444",
        "@web1\tmonitor at /run/web1/qmp.sock",
        f"@web1-agent\tguest agent at {os.path.expanduser('~/vms/web1/qga.sock')}",
    ]
    assert list_targets(apply(build_parser().parse_args([]), PATH, None)) == ""


def test_print_config_shows_the_targets_as_toml() -> None:
    args = build_parser().parse_args([])
    text = describe(args, apply(args, PATH, parse_config(PATH, CONFIG)))
    assert f'\n[targets.web1]  # {PATH}:3\naddress = "/run/web1/qmp.sock"\n' in text
    assert "\n[targets.db.prod]" not in text  # a name with a dot is quoted
    assert f'\n[targets."db.prod"]  # {PATH}:12\nlibvirt = "db"\nconnect = ' in text
    assert parse_config(PATH, text).targets == targets(CONFIG)  # the same, read back
