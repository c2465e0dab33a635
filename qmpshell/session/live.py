"""Names that only the running QEMU knows: block nodes, device ids, QOM paths...

Completion asks for them while the user types, so every lookup is lazy, cached for a
moment, bounded by a short timeout, and failure-proof: a slow or failed lookup offers
nothing rather than getting in the way.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from ..errors import QMPShellError
from ..language.hmp import HmpCommand, parse_listing, snapshot_tags
from ..protocol.client import QMPClient

Names = list[tuple[str, str]]  # (name, what it is), for a completion menu
Catalogue = tuple[dict[str, HmpCommand], dict[str, HmpCommand]]  # HMP's commands, info's

_DIGITS = re.compile(r"(\d+)")
_NETWORK_LINE = re.compile(r"^[ \\]*([^:\s]+): index=\d+,type=([\w-]+)", re.MULTILINE)

CACHE_SECONDS = 2.0
LOOKUP_SECONDS = 1.0
TYPES_CACHE_SECONDS = 300.0  # device types do not change while QEMU runs
_LASTING = frozenset({"device-types", "device-properties", "types"})

MAX_NAMES = 2000  # candidates kept from one lookup (QEMU's lists are not to be trusted)
MAX_ENTRIES = 20000  # entries of one reply looked at
MAX_WALK = 400  # QOM objects listed when looking for buses

# Commands whose `device` argument names a block device (not a job, not a qdev id).
_BLOCK_DEVICE_COMMANDS = frozenset(
    {
        "eject",
        "block_resize",
        "block_set_io_throttle",
        "blockdev-change-medium",
        "blockdev-open-tray",
        "blockdev-close-tray",
        "blockdev-remove-medium",
        "blockdev-insert-medium",
        "block-stream",
        "block-commit",
        "drive-mirror",
        "drive-backup",
        "blockdev-mirror",
        "blockdev-backup",
        "blockdev-snapshot-sync",
        "blockdev-snapshot-internal-sync",
        "blockdev-snapshot-delete-internal-sync",
    }
)


def value_source(command: str, path: tuple[str, ...], tree_path: str | None) -> tuple[str, str]:
    """Which live names fit the value of ``path`` in ``command``: (kind, argument), or
    ("", "") when none do. ``tree_path`` is the ``path=`` already typed (for QOM)."""
    name = path[-1] if path else ""
    top = len(path) == 1
    if command in ("qom-get", "qom-set", "qom-list") and top and name == "path":
        return "qom-path", ""
    if command in ("qom-get", "qom-set") and top and name == "property" and tree_path:
        return "qom-properties", tree_path
    if command == "device_add" and top and name == "driver":
        return "device-types", ""
    if command == "device_add" and top and name == "drive":
        return "drives", ""
    if command == "device_add" and top and name == "bus":
        return "buses", ""
    if name == "iothread":
        return "objects-of", "iothread"
    if name == "memdev":
        return "objects-of", "memory-backend"
    if command == "device_del" and top and name == "id":
        return "devices", ""
    if command == "object-del" and top and name == "id":
        return "objects", ""
    if name == "chardev" or (command in ("chardev-remove", "chardev-change") and name == "id"):
        return "chardevs", ""
    if name == "netdev" or (command == "netdev_del" and name == "id"):
        return "netdevs", ""
    if command.startswith("job-") and name == "id":
        return "jobs", ""
    if command.startswith("block-job-") and name in ("device", "id"):
        return "jobs", ""
    if name in ("node", "node-name", "base-node", "top-node") and command != "blockdev-add":
        return "block-nodes", ""
    if name == "device" and command in _BLOCK_DEVICE_COMMANDS:
        return "block-devices", ""
    return "", ""


class LiveNames:
    """Looks names up in QEMU on demand; cached briefly, never slow, never failing."""

    def __init__(self, client: QMPClient, timeout: float = LOOKUP_SECONDS) -> None:
        self.client = client
        self.timeout = timeout
        self._cache: dict[tuple[str, str], tuple[float, Names]] = {}
        self._hmp_catalogue: Catalogue | None = None
        self._catalogue_load: asyncio.Future[Catalogue] | None = None
        self._fetchers: dict[str, Callable[[str], Awaitable[Names]]] = {
            "block-nodes": self._block_nodes,
            "block-devices": self._block_devices,
            "devices": lambda _: self._ids("/machine/peripheral"),
            "objects": lambda _: self._ids("/objects"),
            "chardevs": self._chardevs,
            "jobs": self._jobs,
            "netdevs": self._netdevs,
            "snapshots": self._snapshots,
            "device-types": self._device_types,
            "device-properties": self._device_properties,
            "qom-path": self._children,
            "qom-properties": self._properties,
            "drives": self._drives,
            "buses": self._buses,
            "objects-of": self._objects_of,
            "types": self._types,
        }

    def forget(self) -> None:
        """Drop everything looked up (a new connection may be to another QEMU)."""
        self._cache.clear()
        self._hmp_catalogue = None
        self._catalogue_load = None

    async def names(self, kind: str, argument: str = "") -> Names:
        """The names of ``kind`` (see :func:`value_source`); [] when QEMU cannot say."""
        fetch = self._fetchers.get(kind)
        if fetch is None:
            return []
        key = (kind, argument)
        now = time.monotonic()
        cached = self._cache.get(key)
        ttl = TYPES_CACHE_SECONDS if kind in _LASTING else CACHE_SECONDS
        if cached is not None and now - cached[0] < ttl:
            return cached[1]
        try:
            found = tidy(await asyncio.wait_for(fetch(argument), self.timeout))
        except (
            QMPShellError,
            asyncio.TimeoutError,
            KeyError,
            TypeError,
            AttributeError,
            ValueError,
        ):
            return []
        self._cache[key] = (now, found)
        return found

    async def qom_paths(self, typed: str) -> Names:
        """QOM paths that start with ``typed``: the children of the last complete
        level (``/m`` and ``/`` list the root's, ``/machine/`` those of /machine); when
        ``typed`` names an object already, its children follow, to go on from there."""
        if not typed:
            return await self.names("qom-path", "/")
        if not typed.startswith("/"):
            return []  # QEMU's partial paths are not walked
        parent = typed.rsplit("/", 1)[0] or "/"
        found = await self.names("qom-path", parent)
        if typed != "/" and any(name == typed for name, _ in found):
            found = found + await self.names("qom-path", typed)
        return [(name, meta) for name, meta in found if name.startswith(typed)]

    async def _run(self, command: str, **arguments: Any) -> Any:
        return await self.client.execute(command, arguments or None, timeout=self.timeout)

    async def _block_nodes(self, _: str) -> Names:
        nodes = await self._run("query-named-block-nodes")
        return [
            (n["node-name"], f"node ({n.get('drv', '?')})") for n in nodes if n.get("node-name")
        ]

    async def _block_devices(self, _: str) -> Names:
        found: Names = []
        for block in await self._run("query-block"):
            if block.get("device"):
                found.append((block["device"], "drive"))
            if block.get("qdev"):
                found.append((block["qdev"], "device"))
        return found

    async def _ids(self, path: str) -> Names:
        """The names of the QOM children of ``path`` (device ids, object ids)."""
        entries = await self._run("qom-list", path=path)
        return [(e["name"], _child_type(e["type"])) for e in entries if _is_child(e)]

    async def _children(self, path: str) -> Names:
        """Full QOM paths one level below ``path``, for walking the tree."""
        entries = await self._run("qom-list", path=path or "/")
        base = path.rstrip("/")
        return [(f"{base}/{e['name']}", _child_type(e["type"])) for e in entries if _is_child(e)]

    async def _properties(self, path: str) -> Names:
        return [(e["name"], str(e["type"])) for e in await self._run("qom-list", path=path)]

    async def _chardevs(self, _: str) -> Names:
        return [
            (c["label"], c.get("filename", "chardev")) for c in await self._run("query-chardev")
        ]

    async def _jobs(self, _: str) -> Names:
        return [
            (j["id"], f"{j.get('type')} job, {j.get('status')}")
            for j in await self._run("query-jobs")
        ]

    async def _netdevs(self, _: str) -> Names:
        # QEMU has no query-netdev (neither 7.2 nor 10.0); HMP's "info network" lists
        # them, NICs included.
        text = await self._hmp("info network")
        return [
            (match.group(1), f"netdev ({match.group(2)})")
            for match in _NETWORK_LINE.finditer(str(text))
            if match.group(2) != "nic"
        ]

    async def _snapshots(self, _: str) -> Names:
        text = await self._hmp("info snapshots")
        return [(tag, "snapshot") for tag in snapshot_tags(text)]

    async def _hmp(self, line: str) -> str:
        return str(await self._run("human-monitor-command", **{"command-line": line}))

    async def hmp_catalogue(self) -> Catalogue:
        """HMP's commands and ``info`` subcommands, from QEMU's own ``help`` and ``info``
        (read once); empty when QEMU will not say."""
        if self._hmp_catalogue is not None:
            return self._hmp_catalogue
        # One reading for every caller: the shell's preload and a Tab pressed meanwhile.
        if self._catalogue_load is None or self._catalogue_load.done():
            self._catalogue_load = asyncio.ensure_future(self._read_catalogue())
        return await asyncio.shield(self._catalogue_load)

    async def _read_catalogue(self) -> Catalogue:
        try:
            commands = parse_listing(await self._hmp("help"))
            infos = parse_listing(await self._hmp("help info"), "info ")
        except (QMPShellError, asyncio.TimeoutError):
            return {}, {}
        self._hmp_catalogue = (commands, infos)
        return self._hmp_catalogue

    async def _drives(self, _: str) -> Names:
        """What device_add's drive= takes: block nodes by node-name and block backends
        (-drive, blockdev-add of old) by name. Implicit nodes (``#block123``) left out."""
        found: Names = [
            (n["node-name"], f"node ({n.get('drv', '?')})")
            for n in (await self._run("query-named-block-nodes"))[:MAX_ENTRIES]
            if n.get("node-name") and not str(n["node-name"]).startswith("#")
        ]
        for block in (await self._run("query-block"))[:MAX_ENTRIES]:
            if block.get("device"):
                found.append((block["device"], "block backend"))
        return found

    async def _types(self, implements: str) -> Names:
        types = await self._run("qom-list-types", implements=implements, abstract=True)
        return [(t["name"], "type") for t in types[:MAX_ENTRIES]]

    async def _objects_of(self, implements: str) -> Names:
        """The ids of the objects under /objects whose type is (or implements) a type:
        iothreads, memory backends."""
        kinds = {name for name, _ in await self.names("types", implements)}
        entries = await self._run("qom-list", path="/objects")
        found: Names = []
        for entry in entries[:MAX_ENTRIES]:
            kind = _child_type(entry.get("type"))
            if str(entry.get("type", "")).startswith("child<") and kind in kinds:
                found.append((entry["name"], kind))
        return found

    async def _buses(self, _: str) -> Names:
        """The buses of the machine, by the name device_add's bus= takes (``pcie.0``):
        children in the QOM tree below /machine whose type is a bus. Only containers
        and devices are walked (buses hang off devices), level by level, bounded."""
        buses = {name for name, _ in await self.names("types", "bus")}
        devices = {name for name, _ in await self.names("types", "device")}
        if not buses:
            return []
        found: Names = []
        level, walked = ["/machine"], 0
        while level and walked < MAX_WALK:
            level = level[: MAX_WALK - walked]
            walked += len(level)
            listings = await asyncio.gather(*(self._run("qom-list", path=p) for p in level))
            below: list[str] = []
            for path, entries in zip(level, listings):
                for entry in entries[:MAX_ENTRIES]:
                    if not str(entry.get("type", "")).startswith("child<"):
                        continue
                    kind = _child_type(entry["type"])
                    if kind in buses:
                        found.append((entry["name"], f"bus ({kind})"))
                    elif kind == "container" or kind in devices:
                        below.append(f"{path}/{entry['name']}")
            level = below
        return found

    async def _device_types(self, _: str) -> Names:
        types = await self._run("qom-list-types", implements="device", abstract=False)
        return sorted((t["name"], "device type") for t in types)

    async def _device_properties(self, driver: str) -> Names:
        properties = await self._run("device-list-properties", typename=driver)
        return [(p["name"], str(p.get("type", "property"))) for p in properties]


def tidy(names: Names) -> Names:
    """Names as a menu shows them: each once, in natural order (``device[2]`` before
    ``device[10]``), at most :data:`MAX_NAMES`; anything that is not text dropped."""
    seen: dict[str, str] = {}
    for name, meta in names[:MAX_ENTRIES]:
        if isinstance(name, str) and name and name not in seen:
            seen[name] = str(meta)
    return sorted(seen.items(), key=lambda item: natural_key(item[0]))[:MAX_NAMES]


def natural_key(text: str) -> tuple[tuple[int, str], ...]:
    """Sort key reading runs of digits as numbers (by length, then digits: no int() of
    a hostile ten-thousand-digit run)."""
    parts = _DIGITS.split(text)
    return tuple(
        (len(part.lstrip("0")), part.lstrip("0")) if i % 2 else (-1, part.casefold())
        for i, part in enumerate(parts)
    )


def _is_child(entry: dict[str, Any]) -> bool:
    return str(entry.get("type", "")).startswith(("child<", "link<"))


def _child_type(kind: Any) -> str:
    """``child<virtio-net-pci>`` reads as ``virtio-net-pci``."""
    text = str(kind)
    return text[text.index("<") + 1 : -1] if "<" in text and text.endswith(">") else text
