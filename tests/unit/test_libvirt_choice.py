"""``--libvirt`` without a libvirtd: which domain is chosen, and how the fixture makes
qemu.conf ready (see libvirt_fixture.py). The rest is in tests/libvirt/."""

from __future__ import annotations

from qmpshell.ui.domains import Domain, layout, pick


def test_choice_of_domain() -> None:
    domains = [Domain("a", 3, "running"), Domain("b", 7, "paused")]
    table = layout(domains).splitlines()
    assert table[0].split() == ["Name", "Id", "State"]
    assert table[2].split() == ["2", "b", "7", "paused"]
    assert pick(domains, "2") == domains[1]
    assert pick(domains, "a") == domains[0]
    assert pick(domains, "3") is None and pick(domains, "c") is None


def test_qemu_conf_made_ready() -> None:
    """The fixture's edit of qemu.conf: settings of its own in force, the user's others
    kept, conflicting ones (a list over several lines too) commented out."""
    from libvirt_fixture import qemu_conf_lines, qemu_conf_ready

    text = 'vnc_listen = "0.0.0.0"\nuser = "qemu"\ncgroup_controllers = [ "cpu",\n  "memory" ]\n'
    assert not qemu_conf_ready(text)
    lines = qemu_conf_lines(text)
    assert lines[0] == 'vnc_listen = "0.0.0.0"'
    assert all(line.startswith("#") for line in lines[1:5])
    assert qemu_conf_ready("\n".join(lines))
