"""What the interactive shell keeps for each connection of the session beside its
member (session/fleet.py): what prompt_toolkit and completion need of it."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from ..errors import ConnectionLost
from ..language.mode import Mode
from ..session.fleet import Member
from ..session.live import LiveNames

if TYPE_CHECKING:
    from prompt_toolkit import PromptSession


class Seat:
    """What the shell keeps for one connection of the session (session/fleet.py)."""

    def __init__(self, member: Member) -> None:
        self.member = member
        self.live: LiveNames = LiveNames(member.client)
        self.catalogue: asyncio.Future[Any] | None = None  # HMP's, loading or loaded
        self.watched_load: asyncio.Future[None] | None = None  # the schema load we report
        # One prompt per mode, each with its own completion and highlighting.
        self.sessions: dict[Mode, PromptSession[str]] = {}
        self.watcher: asyncio.Future[None] | None = None  # its connection's watch
        self.gave_up: ConnectionLost | None = None  # --reconnect waited in vain
