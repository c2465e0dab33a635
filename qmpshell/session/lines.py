"""What a line means, whoever sends it: the message a QMP or HMP line makes, how its reply
is shown and judged, and what is said when it gets none.

The one home of these rules for both drivers of a session: the asyncio
:class:`~qmpshell.session.runner.LineRunner` (the interactive shell, scripts) and the
blocking run of one-shot scripts (:mod:`qmpshell.modes.oneshot`). Nothing here does I/O
or imports asyncio.
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import InputError
from ..language.rawjson import RawJSON, is_raw_json
from ..language.schema import Schema
from ..language.shorthand import Parser
from ..limits import MAX_DEPTH, nesting_exceeds
from ..patterns import compiled
from ..protocol.message import RawMessage

TYPE_CHECKING = False  # typing's, without importing typing (docs/architecture.md, start-up)
if TYPE_CHECKING:
    from typing import Any

    from .display import Display

Message = dict[str, "Any"]

NO_HMP = (
    "this server has no human monitor (no human-monitor-command; qemu-storage-daemon "
    "speaks QMP only): staying in QMP mode"
)


def has_hmp(schema: Schema | None) -> bool:
    """Whether the server has a human monitor (qemu-storage-daemon has none)."""
    return schema is None or "human-monitor-command" in schema.commands


def is_skipped(line: str) -> bool:
    """Blank lines and ``#`` comments do nothing."""
    text = line.strip()
    return not text or text.startswith("#")


def qmp_message(parser: Parser, line: str, *, oob_enabled: bool) -> Message | None:
    """The message a QMP line (shorthand or raw JSON) makes, typed by the parser's schema;
    None when the line was an action taken into an open transaction block. A raw line
    comes as a :class:`RawMessage`, to be sent as written. Raises :class:`InputError`
    (with a word on where a line meant for elsewhere goes: :func:`hint`)."""
    try:
        message = parser.feed(line)
        if message is not None and nesting_exceeds(message):
            # The limit the decoder sets QEMU's messages: the walks over a message
            # (the id's key, the transcript's redaction) rely on it.
            raise InputError(f"the message is nested more than {MAX_DEPTH} levels deep", 0)
        if message is not None and "exec-oob" in message and not oob_enabled:
            raise InputError(
                "out-of-band execution needs the oob capability, which was not "
                "negotiated (the server does not offer it, or -N was given)",
                0,
            )
    except InputError as exc:
        raise hint(parser, line.strip(), exc) from None
    if isinstance(message, RawJSON):  # sent as written
        return RawMessage(message.text, message, faithful=message.faithful)
    return message


def new_warnings(said: set[str], schema: Schema | None, message: Message, where: str) -> list[str]:
    """The warnings a QMP ``message`` about to be sent earns (a deprecated or unstable
    command, argument or value: :func:`~qmpshell.language.features.uses`) that the
    session has not said yet, now counted in ``said``: each is said once a session, however
    often the name is sent. The session's drivers say them (:meth:`Display.note`) after
    the replies to the lines before."""
    if schema is None:
        return []
    from ..language.features import uses, warning

    prefix = f"{where}: " if where else ""
    fresh: list[str] = []
    for use in uses(schema, message):
        text = warning(use)
        if text not in said:
            said.add(text)
            fresh.append(prefix + text)
    return fresh


def hint(parser: Parser, text: str, error: InputError) -> InputError:
    """A line meant for elsewhere (``info status``, ``help``, ``exit``): say where."""
    from ..language.hmp import misdirected

    schema = parser.schema
    if parser.in_transaction or error.incomplete or is_raw_json(text):
        return error
    commands = schema.commands if schema is not None else ()
    said = misdirected(text, commands, has_hmp(schema))
    return error if said is None else InputError(said, 0)


def command_name(message: Message) -> str:
    return str(message.get("execute", message.get("exec-oob", "command")))


def qmp_display(output: Display, message: Message, where: str) -> Callable[[Message], None]:
    """How the reply to a QMP ``message`` is shown: whole, or only its return value
    (``-r`` in scripts)."""
    if output.return_only and not output.interactive:
        name = command_name(message)
        what = f"{where}: {name}" if where else name
        return lambda reply: output.return_value(reply, what)
    return output.reply


def qmp_succeeded(reply: Message) -> bool:
    return "error" not in reply


def is_cpu_line(line: str) -> bool:
    """Whether an HMP line is ``cpu N``: it chooses the CPU of the lines after it, and
    qmpshell asks QEMU itself whether that CPU is there."""
    return compiled(r"\s*cpu(?:\s|$)").match(line) is not None


def hmp_message(text: str, cpu_index: int | None) -> Message:
    """The ``human-monitor-command`` that runs HMP line ``text`` (on the CPU chosen)."""
    arguments: Message = {"command-line": text}
    if cpu_index is not None:
        arguments["cpu-index"] = cpu_index
    return {"execute": "human-monitor-command", "arguments": arguments}


def show_hmp(output: Display, schema: Schema | None, line: str, reply: Message) -> None:
    """An HMP reply: its text; a QMP command typed in HMP mode is told where it goes."""
    text = reply.get("return")
    if not isinstance(text, str):
        output.reply(reply)
        return
    output.hmp(text)
    from ..language.hmp import unknown_hmp_command

    name = unknown_hmp_command(text)
    if name and schema is not None and name in schema.commands:
        output.note(f"this looks like a QMP command: /qmp {line}")


def hmp_succeeded(message: Message, reply: Message) -> bool:
    """HMP reports most failures as text in a successful reply."""
    from ..language.hmp import is_failure

    text = reply.get("return")
    line = str(message.get("arguments", {}).get("command-line", ""))
    return isinstance(text, str) and not is_failure(text, line)


def without_own_id(reply: Message, own_id: bool) -> Message:
    """The reply as shown: without the id the client added."""
    return {k: v for k, v in reply.items() if k != "id"} if own_id else reply


def strays(where: str, count: int) -> str:
    """Said when QEMU answered one unparsable line with ``count`` more errors."""
    prefix = f"{where}: " if where else ""
    errors = "error" if count == 1 else "errors"
    return (
        f"{prefix}QEMU answered with {count} more {errors} without id as its JSON "
        "parser recovered (only the first is shown)"
    )


def timed_out(where: str, message: Message, error: Exception) -> str:
    """Said when the reply to ``message`` did not come in time."""
    prefix = f"{where}: " if where else ""
    return f"{prefix}{command_name(message)}: {error}"
