"""The tables of HMP lines that fail and that succeed, and what QEMU's first line of
answer says (on 7.2 and 10.0 alike): run on real QEMUs by tests/qemu/test_hmp_failures.py,
counted by tests/unit/test_hmp_failure_tables.py. ``{img}``, ``{locked}`` and ``{port}``
in a line are the images and the port the QEMU test provides."""

from __future__ import annotations

from typing import NamedTuple


class Row(NamedTuple):
    line: str
    says: str  # what the first line QEMU answers holds, on 7.2 and 10.0 alike
    machine: str = "q35"  # or "none"
    setup: tuple[str, ...] = ()  # HMP lines run first, by the test's own client


FAILURES = [
    # drive_add: error_report_err() of the block layer's words, no prefix
    Row("drive_add 0 file=/nonexistent,if=none", "Could not open '/nonexistent': "),
    Row("drive_add 0 if=none,file={locked},id=lk", 'Failed to get "write" lock'),
    Row("drive_add 0 if=none,file={img},format=nosuch", "Unknown driver 'nosuch'"),
    Row("drive_add 0 if=none,file={img},format=raw,bogus=1", "does not support the option"),
    Row("drive_add 0 if=virtio,file={img},format=raw,id=vd", "Can't hot-add drive to type"),
    Row("drive_add -n 0 driver=null-co", "'node-name' needs to be specified"),
    Row("drive_del nosuch", "Device 'nosuch' not found"),
    Row("commit nosuch", "Device 'nosuch' not found"),
    # hmp_handle_error(): "Error: "
    Row("device_del nosuch", "Error: Device 'nosuch' not found"),
    Row("device_add nosuchdriver", "Error: 'nosuchdriver' is not a valid device model name"),
    Row("device_add e1000,id=onroot", "Error: Bus 'pcie.0' does not support hotplugging"),
    Row("object_add nosuchtype,id=o1", "Error: Parameter 'qom-type' does not accept value"),
    Row("object_add memory-backend-ram,id=sz,size=zz", "Error: Parameter 'size' expects size"),
    Row("object_del nosuch", "Error: object 'nosuch' not found"),
    Row("netdev_del nosuch", "Error: Device 'nosuch' not found"),
    Row("block_resize nosuch 10M", "Error: Cannot find device='nosuch'"),
    Row("savevm snap1", "Error: no block device can store vmstate", "none"),
    Row("loadvm snap1", "Error: no block device can store vmstate", "none"),
    Row("snapshot_blkdev_internal nosuch snap", "Error: Cannot find device='nosuch'"),
    Row("qom-get /nosuch type", "Error: Device '/nosuch' not found"),
    Row("qom-get /machine nosuchprop", "nosuchprop' not found"),
    Row("migrate_set_parameter max-bandwidth zz", "Error: Invalid size zz"),
    Row("migrate_set_parameter nosuch 1", "Error: invalid parameter value: nosuch"),
    Row("chardev-remove nosuch", "Error: Chardev 'nosuch' not found"),
    Row("balloon 100", "Error: No balloon device has been activated"),
    Row("system_wakeup", "Error: Unable to wake up"),
    Row("logfile /nonexistent/dir/log", "Error opening logfile", "none"),  # (later log
    # commands on that QEMU report it again: not on the q35 of "log none")
    # the dispatcher and the argument parser (monitor/hmp.c)
    Row("bogus", "unknown command: 'bogus'"),
    Row("help nosuch", "unknown command: 'nosuch'"),
    Row("info usbhost", 'Command "info usbhost" is not available.'),
    Row("device_del", "device_del: string expected"),
    Row("info status extra", "status: extraneous characters at the end of line"),
    Row("x/2x zz", "invalid char 'z' in expression"),
    Row("migrate_set_capability xbzrle maybe", "Expected 'on' or 'off'"),
    Row("device_add virtio-net-pci,id=x,,=3", 'Try "help device_add"'),  # the rest: stderr
    Row("change vnc password", "terminal does not support password prompting"),
    # monitor_printf() and error_report() in the handlers
    Row("info snapshots", "no block device can store vmstate for snapshot", "none"),
    Row("info qom-tree /nosuch", "Path '/nosuch' could not be resolved."),
    Row("info registers", "No CPU available", "none"),
    Row('memsave 0 16 "/tmp/qmpshell-never"', "No CPU available", "none"),
    Row("mce 0 0 0 0 0 0", "Invalid MCE status code"),
    Row("gpa2hva 0x100000000000", "No memory is mapped at address 0x100000000000"),
    Row("gpa2hpa 0xfed00000", "Memory at address 0xfed00000 is not RAM"),  # the HPET
    Row("xp /4x 0x100000000000", "0000100000000000: Cannot access memory"),
    Row("xp /8x 0x7fffff0", "0000000007fffff0: 0x00000000 "),  # RAM ends half-way
    Row("sendkey ctrl-alt-nosuchkey", "invalid parameter: nosuchkey"),
    Row("boot_set zzz", "Invalid boot device 'z'"),
    Row("trace-event nosuch on", 'unknown event "nosuch"'),
    Row("log nosuch", "Log items (comma separated):"),  # its list instead of logging
    Row("hostfwd_remove tcp::5555", "user mode network stack not in use", "none"),
    Row("calc_dirty_rate 0", "Incorrect period length specified!"),
    Row("mouse_set 5", "Mouse at index '5' not found"),  # 10.0 with "Error: "
]

SUCCESSES = [
    Row("info status", "VM status: paused (prelaunch)"),
    Row("info version", "Debian"),
    Row("info block", ""),
    Row("info chardev", "compat_monitor"),
    Row("info qtree", "bus: main-system-bus"),
    Row("info mtree", "address-space: "),
    Row("info roms", "kvmvapic.bin"),
    Row("info cpus", "* CPU #0: thread_id="),
    Row("info registers", ""),  # a blank line, then CPU#0
    Row("info pci", "Bus  0, device   0, function 0:"),
    Row("info migrate", "globals:"),
    Row("help", "announce_self "),
    Row("help drive_add", "drive_add [-n] "),
    Row("info", "info balloon "),
    Row("drive_add 0 if=none,file={img},format=raw,id=ok", "OK"),
    Row("drive_add -n 0 node-name=nul1,driver=null-co", ""),
    Row("drive_del gone", "", setup=("drive_add 0 if=none,driver=null-co,id=gone",)),
    Row("device_add usb-kbd,id=kbd1,bus=xhci.0", ""),
    Row("device_del kbd2", "", setup=("device_add usb-kbd,id=kbd2,bus=xhci.0",)),
    Row("device_add virtio-net-pci,id=nic1,bus=rp1", ""),
    Row("device_add e1000,help", "e1000 options:"),
    Row("object_add memory-backend-ram,id=mem1,size=1M", ""),
    Row("object_del mem2", "", setup=("object_add memory-backend-ram,id=mem2,size=1M",)),
    Row("netdev_add user,id=net1", ""),
    Row("netdev_del net2", "", setup=("netdev_add user,id=net2",)),
    Row(
        "hostfwd_remove fwd tcp:127.0.0.1:{port}",
        "host forwarding rule for tcp:127.0.0.1:{port} removed",
        setup=("netdev_add user,id=fwd", "hostfwd_add fwd tcp:127.0.0.1:{port}-:22"),
    ),
    Row("chardev-add ringbuf,id=rb1", ""),
    Row("stop", "", "none"),
    Row("cont", "", "none"),
    Row("system_reset", ""),
    Row("qom-list /machine", "type (string)"),
    Row("qom-get /machine type", '"pc-q35-'),
    Row("boot_set c", "boot device list now set to c"),
    Row("gpa2hva 0", "Host virtual address for 0x0 "),
    Row("gva2gpa 0", "gpa: 0"),
    Row("x /4x 0", "0000000000000000: 0x00000000 "),
    Row("print 1+2", "0x3"),
    Row("migrate_set_parameter max-bandwidth 100M", ""),
    Row("migrate_set_capability xbzrle on", ""),
    Row("log none", ""),
]
