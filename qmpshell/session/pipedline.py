"""A line through a pipe, ``LINE |! COMMAND``: the line sent as it would be alone, its
successful reply handed to the user's shell command (:mod:`qmpshell.session.pipe`), all
before the next line is sent, so that the command's output comes where the line stands."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from ..errors import InputError
from ..language.mode import Mode
from ..language.pipe import Piped
from ..language.rawjson import is_raw_json
from ..language.shorthand import Parser
from ..protocol.client import QMPClient
from .display import Display
from .lines import (
    NO_HMP,
    hmp_message,
    hmp_succeeded,
    is_cpu_line,
    qmp_display,
    qmp_message,
    show_hmp,
)
from .pipe import ending, run_command, stdin_bytes
from .schemaload import SchemaLoad

Message = dict[str, Any]


class Runner(Protocol):
    """What a piped line needs of the :class:`~qmpshell.session.runner.LineRunner`."""

    client: QMPClient
    output: Display
    parser: Parser
    schema_load: SchemaLoad
    cpu_index: int | None
    piping: bool

    async def refuse(self, line: str, error: InputError, where: str) -> None: ...

    async def hmp_available(self) -> bool: ...

    def qmp_judge(self, message: Message, reply: Message) -> bool: ...

    def send(
        self,
        message: Message,
        where: str,
        show: Callable[[Message], None],
        judge: Callable[[Message, Message], bool],
        *,
        replayed: bool = True,
    ) -> bool | Awaitable[bool]: ...


async def run_piped(runner: Runner, piped: Piped, where: str) -> bool:
    """Send the line of ``piped``, and its reply to its shell command
    (:mod:`qmpshell.session.pipe`); True when both succeeded. Done before the next
    line is sent, so that the command's output comes where the line stands."""

    reply = await _piped_reply(runner, piped, where)
    if reply is None:
        return False
    runner.piping = True
    status = await run_command(piped.command, stdin_bytes(reply, piped.mode), runner.output)
    if status == 0:
        return True
    if status is not None:  # None: stopped by the shell, and said
        runner.output.error(f"{where}: {ending(status)}" if where else ending(status))
    return False


async def _piped_reply(runner: Runner, piped: Piped, where: str) -> Message | None:
    """The successful reply to the line of ``piped``; None when the line was refused
    or failed, said as it would be of the line alone."""
    line = piped.line
    replies: list[Message] = []
    try:
        message = await _piped_message(runner, piped)
    except InputError as exc:
        await runner.refuse(line, exc, where)
        return None
    if message is None:
        return None
    hmp = piped.mode is Mode.HMP
    judge = hmp_succeeded if hmp else runner.qmp_judge
    outcome = runner.send(message, where, replies.append, judge)
    if isinstance(outcome, bool):
        return None  # a guest agent's command without reply, or refused (said)
    succeeded = await outcome
    if not replies:
        return None  # no reply in time: said already
    reply = replies[0]
    if not succeeded:  # shown as it would be without the pipe
        if hmp:
            show_hmp(runner.output, runner.parser.schema, line.strip(), reply)
        else:
            qmp_display(runner.output, message, where)(reply)
        return None
    return reply


async def _piped_message(runner: Runner, piped: Piped) -> Message | None:
    """The message of the line of ``piped``; None (said) when HMP is not there."""
    line = piped.line
    if piped.mode is Mode.HMP:
        if not await runner.hmp_available():
            runner.output.error(NO_HMP)
            return None
        text = line.strip()
        if is_cpu_line(text):
            raise InputError("cpu chooses a CPU and prints nothing for a pipe", 0)
        return hmp_message(text, runner.cpu_index)
    if runner.parser.in_transaction or not is_raw_json(line.strip()):
        await runner.schema_load.ensure()
    if not runner.parser.completes(line):
        runner.parser.refused_in_block()
        raise InputError(
            "this line goes into a transaction block, which has no reply yet for a "
            "pipe: put '|!' after the ')' that sends the block",
            len(line),
        )
    message = qmp_message(runner.parser, line, oob_enabled=runner.client.oob_enabled)
    assert message is not None  # completes() said so
    return message
