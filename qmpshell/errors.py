"""The errors qmpshell's protocol layer raises, each with a message a user can act on.

Every exception here derives from :class:`QMPShellError`, so a caller that only wants
"something went wrong, tell the user" catches one class and prints ``str(exc)``.
"""

from __future__ import annotations

import enum

TYPE_CHECKING = False  # typing's, without importing typing (docs/architecture.md, start-up)
if TYPE_CHECKING:
    from typing import Any


class QMPShellError(Exception):
    """Base of every error qmpshell raises on purpose; ``str()`` is the one-line message."""


class ConnectError(QMPShellError):
    """The address could not be reached (no such socket, refused, permission denied...).

    ``reason`` is a short machine-friendly word (``"not-found"``, ``"refused"``,
    ``"permission"``, ``"not-a-socket"``, ``"resolve"``, ``"timeout"``, ``"os"``; ``"qmp"``:
    a QMP monitor where a guest agent was expected, ``"agent"`` the other way round).
    """

    def __init__(self, message: str, reason: str = "os") -> None:
        super().__init__(message)
        self.reason = reason


class ProtocolError(QMPShellError):
    """The peer sent bytes that are not a stream of JSON objects."""


class NotQMPError(ConnectError):
    """The peer at the address does not behave like a QMP server (no greeting, not JSON)."""

    def __init__(self, message: str, reason: str = "not-qmp") -> None:
        super().__init__(message, reason)


class NegotiationError(QMPShellError):
    """The server refused ``qmp_capabilities``."""


class ConnectionLost(QMPShellError):
    """The connection closed (QEMU quit, crashed or was killed) or failed while in use."""


class SessionEnded(ConnectionLost):
    """The connection closed after a ``quit`` the client sent: the end that was asked
    for, not a failure (QEMU may close before its reply to ``quit`` is read)."""


class DuplicateId(QMPShellError):
    """A command's id is that of another still in flight: the replies could not be told
    apart, so it is not sent."""


class ReplyTimeout(QMPShellError):
    """No reply came for a command within the timeout."""


class CommandError(QMPShellError):
    """A command got an ``error`` reply; raised by :meth:`QMPClient.execute`.

    ``error_class`` and ``desc`` are QEMU's words, unparsed; ``reply`` is the whole message.
    """

    def __init__(self, command: str, reply: dict[str, Any]) -> None:
        error = reply.get("error")
        if not isinstance(error, dict):
            error = {}
        self.command = command
        self.reply = reply
        self.error_class = str(error.get("class", "GenericError"))
        self.desc = str(error.get("desc", ""))
        super().__init__(f"{command}: {self.error_class}: {self.desc}")


class InputError(QMPShellError):
    """A line the user typed cannot be turned into a QMP message.

    ``column`` (0-based) points at the offending place in the line when known.
    ``incomplete`` says the line may yet become right by typing more (an unclosed quote,
    a missing argument), so an editor should not mark it while the user types.
    """

    def __init__(self, message: str, column: int | None = None, incomplete: bool = False) -> None:
        super().__init__(message)
        self.column = column
        self.incomplete = incomplete


class ExitStatus(enum.IntEnum):
    OK = 0  # every command succeeded
    COMMAND_FAILED = 1  # a command got an error reply, timed out, or could not be parsed
    USAGE = 2  # bad command line
    CONNECTION = 3  # the connection could not be made, or was lost
    # Ended by a signal: cleaned up, then the command dies of that signal, as its caller
    # expects (a shell loop stops at Ctrl-C); a shell reports 128 + the signal's number.
    HANGUP = 129  # SIGHUP (the terminal went away)
    INTERRUPTED = 130  # Ctrl-C / SIGINT
    READER_GONE = 141  # SIGPIPE: the reader of stdout went away (| head -1), said nothing
    TERMINATED = 143  # SIGTERM
