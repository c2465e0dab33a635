"""Several connections in one interactive session: ``/connect``, ``/target``,
``/targets`` and ``/all``.

The session starts with one member, the target of the command line. ``/connect`` opens
another (an address, or ``@NAME`` from the config file), through an opener the command
line gives (it knows the options: timeout, transcript, reconnection), and makes it the
current one. Each member has its own client and line runner: its own schema, mode
(QMP or HMP), jobs and event log. Once there are several, events and the prompt say
which member they are of. A member whose connection is lost stays in the list, marked
lost, until ``/connect`` opens it again; the session ends when the last one is lost.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import TYPE_CHECKING

from ..errors import (
    CommandError,
    ConnectionLost,
    InputError,
    QMPShellError,
    ReplyTimeout,
    SessionEnded,
)
from ..escape import escape_text
from ..language.spelling import close_names, did_you_mean
from .events import Event, run_state_after

if TYPE_CHECKING:
    from ..protocol.client import QMPClient
    from .reconnect import Reconnector
    from .runner import LineRunner

# The meta-commands /all refuses: they would change the session, not run on each member.
_NOT_FOR_ALL = ("/all", "/connect", "/target", "/targets", "/quit", "/edit", "/watch")


class Member:
    """One connection of the session: its name, its runner and client, and how to close
    it (the command line's part: a transcript, a reconnection)."""

    def __init__(
        self,
        name: str,
        address: str,
        runner: LineRunner,
        close: Callable[[], Awaitable[None]],
        reconnect: Reconnector | None = None,
        spec: str | None = None,
        key: str | None = None,
    ) -> None:
        self.name = name
        self.address = address  # as the toolbar and /targets show it
        self.spec = spec  # what /connect opens it as again (@NAME); None: it cannot
        self.key = key or address  # the monitor it is, however it was spelt
        self.runner = runner
        self.close = close
        self.reconnect = reconnect  # the member's Reconnector (--reconnect), if any
        self.run_state: str | None = None
        self.reconnecting = False  # --reconnect is bringing it back
        runner.client.add_event_handler(self.on_event)

    @property
    def client(self) -> QMPClient:
        return self.runner.client

    @property
    def lost(self) -> bool:
        return self.client.disconnect_reason is not None and not self.reconnecting

    def on_event(self, event: Event) -> None:
        self.run_state = run_state_after(self.run_state, event)

    async def read_run_state(self) -> None:
        """The run state, for the toolbar and /targets; as a step of a reconnection, a
        timeout (like a lost connection) fails the attempt (session/reconnect.py)."""
        if self.runner.agent is not None:
            return
        try:
            status = await self.client.execute("query-status", timeout=self.runner.timeout)
        except CommandError:
            return  # qemu-storage-daemon has no run state
        except ConnectionLost:
            return  # said by whoever sees the connection gone
        if isinstance(status, dict):
            self.run_state = str(status.get("status", "")) or None

    async def refresh_run_state(self) -> None:
        """The run state, none from a QEMU too slow to say (the prompt will not wait)."""
        with suppress(ReplyTimeout):
            await self.read_run_state()

    def parts(self) -> list[str]:
        """What it is and how it is: the QEMU (or guest agent), the run state or the
        reconnection under way; the toolbar's and /targets' words."""
        runner = self.runner
        parts = []
        if runner.agent is not None:
            parts.append("guest agent " + runner.agent.version)
        elif self.client.greeting is not None:
            parts.append("QEMU " + ".".join(str(n) for n in self.client.greeting.version))
        attempt = self.reconnect.attempt if self.reconnect is not None else 0
        if self.reconnecting and attempt:
            parts.append(f"disconnected, reconnecting (attempt {attempt})")
        elif self.reconnecting:
            parts.append("disconnected, reconnecting")
        elif self.run_state:
            parts.append(self.run_state)
        return parts

    def state(self) -> str:
        """What /targets says of it: :meth:`parts` and the mode, or the loss."""
        reason = self.client.disconnect_reason
        if isinstance(reason, SessionEnded):
            return "closed: QEMU quit"
        if reason is not None and not self.reconnecting:
            return f"lost: {reason}"
        return ", ".join([*self.parts(), self.runner.mode.value.upper()])


# Opens a member for /connect's argument; raises QMPShellError (one line) when it cannot.
Opener = Callable[[str, str], Awaitable[Member]]
# The monitor /connect's argument names, however spelt (a socket's real path); raises
# InputError when it names none.
Identify = Callable[[str], str]


class Fleet:
    """The members of an interactive session and which one lines go to."""

    def __init__(self, opener: Opener | None = None, identify: Identify | None = None) -> None:
        self.members: list[Member] = []
        self.current: Member | None = None
        self.opener = opener
        self.identify = identify
        self._recent: list[Member] = []  # the members switched to, the latest last
        self.named: list[str] = []  # the config file's named targets (/connect @NAME)
        self._replaced: list[Member] = []  # lost ones /connect opened again: to close
        self.on_join: list[Callable[[Member], None]] = []  # the UI's, for each new member

    @property
    def several(self) -> bool:
        return len(self.members) > 1

    def label(self, member: Member) -> str | None:
        """The name events and prompts are marked with: only once there are several."""
        return member.name if self.several else None

    def add(self, member: Member) -> None:
        """A member joins (replacing a lost one of its name) and becomes the current one."""
        self._replaced += [m for m in self.members if m.name == member.name]
        self.members = [m for m in self.members if m.name != member.name]
        self.members.append(member)
        if len(self.members) == 2:  # the first one's transcript lines now need its name
            first = self.members[0].client.transcript
            if first is not None and first.target is None:
                first.target = self.members[0].name
        for listener in self.on_join:
            listener(member)
        self.switch(member)

    def switch(self, member: Member) -> None:
        self.current = member
        self._recent = [m for m in self._recent if m is not member] + [member]

    def find(self, name: str) -> Member:
        """The member named ``name``; a one-line error naming the others."""
        for member in self.members:
            if member.name == name:
                return member
        names = [m.name for m in self.members]
        hint = did_you_mean(close_names(name, names)) or f"; open: {', '.join(names)}"
        raise InputError(f"no target named {escape_text(name)!r}{hint}")

    def live(self) -> list[Member]:
        return [m for m in self.members if not m.lost]

    def next_live(self, but: Member | None = None) -> Member | None:
        """A member to go on with when ``but`` (the current one) is lost: the one used
        last before it, else the first open one."""
        live = [m for m in self.live() if m is not but]
        used = [m for m in reversed(self._recent) if m in live]
        return next(iter(used or live), None)

    async def connect(self, text: str, name: str | None = None) -> Member:
        """Open ``text`` (an address or ``@NAME``) as a new member, the current one,
        called ``name`` (by default :func:`short_name`, made unique)."""
        if self.opener is None:
            raise InputError("/connect works in the interactive shell only")
        if name is not None and (name[:1] in ("@", "/", "-") or not name.isprintable()):
            raise InputError(
                f"{escape_text(name)!r} cannot name a connection: a NAME does not start "
                "with @, / or -"
            )
        live = self.live()
        key = self.identify(text) if self.identify is not None else text
        for member in live:
            if member.key == key:
                shown = escape_text(member.name)
                raise InputError(f"{text} is open already as {shown}; /target {shown} goes to it")
        taken = {member.name for member in live}
        if name is None:
            name = short_name(text)
            number = 2
            while name in taken:
                name = f"{short_name(text)}-{number}"
                number += 1
        elif name in taken:
            raise InputError(f"a target is called {escape_text(name)!r} already")
        member = await self.opener(text, name)
        await member.refresh_run_state()
        self.add(member)
        return member

    async def close_all(self) -> None:
        """Close every member, and those replaced: at the end of the session."""
        for member in [*self._replaced, *self.members]:
            await member.close()

    def table(self) -> str:
        """/targets: each member, the current one starred, with its address and state."""
        rows = [("", "NAME", "ADDRESS", "STATE")]
        for member in self.members:
            mark = "*" if member is self.current else ""
            rows.append((mark, member.name, member.address, member.state()))
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        lines = [
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[3]
            for row in rows
        ]
        return "\n".join(line.rstrip() for line in lines)


def short_name(text: str) -> str:
    """What a connection is called by default: ``@NAME``'s name, a socket's file name
    without ``.sock`` (``/run/vm1.sock``: ``vm1``), else the address as given."""
    if text.startswith("@"):
        return text[1:] or text
    base = text.rstrip("/").rsplit("/", 1)[-1] if "/" in text else text
    for suffix in (".sock", ".socket"):
        if base.endswith(suffix) and len(base) > len(suffix):
            return base[: -len(suffix)]
    return base or text


async def run_on_all(fleet: Fleet, line: str, where: str) -> bool:
    """``/all LINE``: run LINE on each open member in turn, under a heading with its
    name; True when it succeeded on all. A member lost meanwhile fails alone."""
    if not line:
        raise InputError("usage: /all LINE (a QMP or HMP line, /hmp LINE or /qmp LINE)")
    first = line.split()[0]
    if first in _NOT_FOR_ALL:
        raise InputError(f"/all runs QMP and HMP lines, not {first}")
    members = fleet.live()
    ok = True
    for done, member in enumerate(members):
        output = member.runner.output
        output.heading(member.name)
        try:
            ok = await member.runner.run_line(line, where) and ok
        except asyncio.CancelledError:  # Ctrl-C: say where it stopped
            left = [m.name for m in members[done + 1 :]]
            if left:
                output.note(f"/all stopped: not run on {', '.join(left)}")
            raise
        except QMPShellError as exc:  # its connection lost meanwhile, above all
            output.error(f"{member.name}: {exc}")
            ok = False
    skipped = len(fleet.members) - len(members)
    if skipped and members:
        closed = f"{skipped} closed connection{'s' if skipped != 1 else ''}"
        members[-1].runner.output.note(f"{closed} left out")
    return ok
