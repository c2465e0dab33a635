"""The first thing a QMP server says: its greeting, and waiting for it.

QEMU accepts a second client on a monitor socket but greets it only once the first has
left, so a silent server is usually a busy one: :func:`await_greeting` lets the caller
say so after :data:`PATIENCE` seconds, and goes on waiting until the timeout. A guest
agent is silent too, but answers at once: the client sends it :data:`PROBE` then. A busy
QEMU reads the probe only after its greeting, refuses it (nothing is negotiated yet) with
the probe's id, which the client knows of no command, so the reply is dropped.
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import NotQMPError
from ..patterns import compiled
from ..records import Record

TYPE_CHECKING = False  # typing's, without importing typing (docs/architecture.md, start-up)
if TYPE_CHECKING:
    import asyncio
    from typing import Any

Message = dict[str, "Any"]

# A greeting comes at once; a second of silence means someone else holds the monitor.
PATIENCE = 1.0

PROBE_ID = "qmpshell-agent-probe"
PROBE: Message = {"execute": "guest-ping", "id": PROBE_ID}

# The start of a QMP greeting, compact or pretty=on. A JSON string cannot hold an
# unescaped quote, so this occurs only as the structure of a message, never inside one.
_GREETING_START = rb'[ \t\r\n]*\{[ \t\r\n]*"QMP"[ \t\r\n]*:'  # compiled when first used


class Greeting(Record):
    """The server's greeting, with the fields a user wants at hand."""

    raw: Message
    version: tuple[int, int, int] = (0, 0, 0)
    package: str = ""
    capabilities: tuple[str, ...] = ()

    @classmethod
    def from_message(cls, message: Message) -> Greeting:
        body = message.get("QMP")
        if not isinstance(body, dict):
            body = {}
        version = body.get("version")
        if not isinstance(version, dict):
            version = {}
        qemu = version.get("qemu")
        if not isinstance(qemu, dict):
            qemu = {}
        numbers = tuple(_version_number(qemu.get(k)) for k in ("major", "minor", "micro"))
        if -1 in numbers:  # a peer's nonsense (Infinity, "x", 10**400): no version known
            numbers = (0, 0, 0)
        package = version.get("package")
        caps = body.get("capabilities")
        return cls(
            raw=message,
            version=numbers,  # type: ignore[arg-type]
            package=package if isinstance(package, str) else "",
            capabilities=tuple(c for c in caps if isinstance(c, str))
            if isinstance(caps, list)
            else (),
        )

    @property
    def version_text(self) -> str:
        text = ".".join(str(n) for n in self.version)
        # Shown only through Output or the toolbar, which escape what they show.
        return f"{text} ({self.package})" if self.package else text


def _version_number(value: Any) -> int:
    """A version field as a number, 0 when absent, -1 when it is not a plausible one."""
    if value is None:
        return 0
    if type(value) is int and 0 <= value < 1 << 31:
        return value
    return -1


def answers_probe(message: Message) -> bool:
    """Whether a message before any greeting is a guest agent's answer to :data:`PROBE`."""
    return message.get("id") == PROBE_ID and "return" in message


def starts_with_greeting(data: bytes) -> bool:
    """Whether the first bytes of a stream are a QMP greeting (a guest agent says
    nothing first, so ``--ga`` on a QMP monitor is told at once)."""
    return compiled(_GREETING_START).match(data) is not None


async def await_greeting(
    waiter: asyncio.Future[Message],
    address: object,
    timeout: float | None,
    on_silence: Callable[[], None] | None = None,
) -> Greeting:
    """The greeting ``waiter`` receives, within ``timeout`` seconds (None: however long
    it takes); ``on_silence()`` is called once if none has come after :data:`PATIENCE`.
    Raises :class:`NotQMPError` when the time is up."""
    import asyncio

    notice = None
    if on_silence is not None and (timeout is None or timeout > PATIENCE):
        notice = asyncio.get_running_loop().call_later(PATIENCE, on_silence)
    try:
        message = await asyncio.wait_for(asyncio.shield(waiter), timeout)
    except asyncio.TimeoutError:
        raise no_greeting(address, timeout or 0) from None
    finally:
        if notice is not None:
            notice.cancel()
    return Greeting.from_message(message)


def no_greeting(address: object, timeout: float) -> NotQMPError:
    return NotQMPError(
        f"no QMP greeting from {address} within {timeout:g}s: another client "
        "may be connected to this monitor (QEMU serves one at a time), "
        "or it is not a QMP monitor",
        "no-greeting",
    )
