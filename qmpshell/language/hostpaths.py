"""Which values are paths on this machine (the host), for file-name completion — pure.

A member is a host path because of where it is, never because of its name: ``path`` of
``qom-list`` is a QOM path, ``path`` of ``blockdev-add driver=ssh`` a file on the SSH
server, and ``path`` of a ``type=unix`` socket address a socket on this machine. So the
rule is an explicit table: a member of a command's arguments, or a member of the object
chosen by a flat union's discriminator (``driver=file``: QEMU's ``BlockdevOptionsFile``;
the schema names its types opaquely, so the branch is what identifies the object type).
Everything else that wants a name from QEMU (QOM paths, nodes, ids) is in
:mod:`qmpshell.session.live`.
"""

from __future__ import annotations

from ..records import Record
from .schema import Schema
from .suggest import object_at, tags_of
from .syntax import Tree, Value


class HostPath(Record):
    """A member whose value is (or, after ``prefix``, holds) a path on the host.

    ``where`` is a command name, for a member of its arguments, or ``tag=value``, for a
    member of the object selected by that union branch wherever it appears; ``member`` is
    the dotted path of the member below that object.
    """

    where: str
    member: str
    prefix: str = ""


QMP_HOST_PATHS: tuple[HostPath, ...] = (
    # Block devices: BlockdevOptionsFile (file, host_device, host_cdrom), the new image of
    # blockdev-create (BlockdevCreateOptionsFile), vvfat's directory, blkdebug's config.
    HostPath("driver=file", "filename"),
    HostPath("driver=host_device", "filename"),
    HostPath("driver=host_cdrom", "filename"),
    HostPath("driver=vvfat", "dir"),
    HostPath("driver=blkdebug", "config"),
    # Sockets on this machine: SocketAddress (flat) and SocketAddressLegacy (simple union).
    HostPath("type=unix", "path"),
    HostPath("type=unix", "data.path"),
    # Character devices (ChardevBackend, a simple union: the branch's members in data).
    HostPath("type=file", "data.out"),
    HostPath("type=file", "data.in"),
    HostPath("type=serial", "data.device"),
    HostPath("type=parallel", "data.device"),
    HostPath("type=pipe", "data.device"),
    # Objects and network backends.
    HostPath("qom-type=memory-backend-file", "mem-path"),
    HostPath("qom-type=rng-random", "filename"),
    HostPath("qom-type=secret", "file"),
    HostPath("qom-type=tls-creds-x509", "dir"),
    HostPath("qom-type=tls-creds-psk", "dir"),
    HostPath("qom-type=tls-creds-anon", "dir"),
    HostPath("qom-type=filter-dump", "file"),
    HostPath("type=tap", "script"),
    HostPath("type=tap", "downscript"),
    # Commands that write or open a file of this machine.
    HostPath("memsave", "filename"),
    HostPath("pmemsave", "filename"),
    HostPath("screendump", "filename"),
    HostPath("dump-guest-memory", "protocol", prefix="file:"),
    HostPath("dump-skeys", "filename"),
    HostPath("blockdev-change-medium", "filename"),
    HostPath("drive-mirror", "target"),
    HostPath("drive-backup", "target"),
    HostPath("blockdev-snapshot-sync", "snapshot-file"),
    HostPath("xen-save-devices-state", "filename"),
    HostPath("xen-load-devices-state", "filename"),
)

# HMP: (command, argument name in its synopsis) that take a host path.
HMP_HOST_PATHS = frozenset(
    {
        ("memsave", "file"),
        ("pmemsave", "file"),
        ("screendump", "filename"),
        ("dump-guest-memory", "filename"),
        ("dumpdtb", "filename"),
        ("logfile", "filename"),
        ("change", "filename"),
        ("drive_backup", "target"),
        ("drive_mirror", "target"),
        ("snapshot_blkdev", "new-image-file"),
        ("wavcapture", "path"),
    }
)

# HMP commands whose options word (``a=b,c=d``) has host-path keys: drive_add's file=.
HMP_OPTION_HOST_PATHS = frozenset({("drive_add", "file")})


def host_path(
    command: str, path: tuple[str, ...], tree: Tree, schema: Schema | None = None
) -> HostPath | None:
    """The table's entry when the value of ``path`` in ``command`` (arguments ``tree``
    typed so far) is a host path, else None. With a schema, a ``tag=value`` entry counts
    only where ``tag`` really is the discriminator of the object at that place."""
    for entry in QMP_HOST_PATHS:
        member = tuple(entry.member.split("."))
        if len(path) < len(member) or path[len(path) - len(member) :] != member:
            continue
        base = path[: len(path) - len(member)]
        tag, eq, value = entry.where.partition("=")
        if not eq:
            if command == entry.where and not base:
                return entry
            continue
        node = _subtree(tree, base)
        chosen = node.get(tag) if node is not None else None
        if (
            isinstance(chosen, Value)
            and chosen.text == value
            and (schema is None or _is_discriminator(schema, command, base, tree, tag))
        ):
            return entry
    return None


def hmp_host_path(command: str, argument: str) -> bool:
    """Whether the HMP argument ``argument`` (its name in the synopsis) is a host path."""
    return (command, argument) in HMP_HOST_PATHS


def hmp_option_host_path(command: str, key: str) -> bool:
    """Whether ``key=`` in the options word of HMP ``command`` takes a host path."""
    return (command, key) in HMP_OPTION_HOST_PATHS


def _subtree(tree: Tree, path: tuple[str, ...]) -> Tree | None:
    for name in path:
        child = tree.get(name)
        if not isinstance(child, dict):
            return None
        tree = child
    return tree


def _is_discriminator(
    schema: Schema, command: str, base: tuple[str, ...], tree: Tree, tag: str
) -> bool:
    info = schema.command(command)
    root = info.arg_type if info is not None else schema.action_data_type(command)
    if root is None:
        return False
    found = object_at(schema, root, base, tree)
    if found is None:
        return False
    object_name, subtree = found
    return tag in tags_of(schema, object_name, subtree)
