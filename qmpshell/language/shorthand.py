"""The shorthand language: what a typed line means, as QMP messages.

    command [key=value ...]        query-block; device_del id=nic0
    key.sub=value                  dotted keys build nested objects
    key="quoted value"             quotes are removed; \\" \\\\ \\n \\t \\uXXXX inside
    key=[1, 2] key={"a": 1}        JSON or Python-style literals, spaces allowed inside
    {"execute": ...}               raw JSON, sent exactly as written
    transaction( ... )             a transaction: actions on the lines between, or on one
                                   line separated by '|'
    !oob command ...               execute out of band (needs the oob capability)

With a schema (:mod:`qmpshell.language.typecheck`) values are typed by their declared member type;
without one, the untyped rules of :mod:`qmpshell.language.values` apply. Everything here is pure:
no socket, no terminal.
"""

from __future__ import annotations

from ..errors import InputError
from .rawjson import as_typed, is_documented_reply, parse_raw_json, starts_object
from .schema import Schema
from .syntax import (
    BAR,
    CLOSE,
    OOB,
    TRANSACTION,
    Message,
    Word,
    build_tree,
    split_words,
    untyped_tree,
)
from .typecheck import Typer


class Parser:
    """Turns lines into QMP messages, keeping the state of an open transaction block.

    ``schema`` (when set) types and checks every shorthand argument; raw JSON is never
    altered. :meth:`feed` returns the message a line completes, or None while a
    transaction block stays open. A line that fails changes nothing.
    """

    def __init__(self, schema: Schema | None = None) -> None:
        self.schema = schema
        # Scripts: a block with a refused action is not sent at all (at a prompt the
        # refused action is only left out, and can be typed again).
        self.all_or_nothing = False
        self._spoiled = False
        self._actions: list[Message] | None = None
        self._recent: dict[str, tuple[Schema | None, Message]] = {}

    @property
    def in_transaction(self) -> bool:
        return self._actions is not None

    @property
    def pending_actions(self) -> int:
        """How many actions the open transaction block holds (0 when none is open)."""
        return len(self._actions) if self._actions is not None else 0

    def cancel(self) -> bool:
        """Drop an open transaction block; True if there was one."""
        was_open = self._actions is not None
        self._actions = None
        self._spoiled = False
        return was_open

    def check(self, line: str) -> InputError | None:
        """What :meth:`feed` would refuse in ``line``, without changing any state."""
        saved = self._actions, self._spoiled
        try:
            self.feed(line)
        except InputError as exc:
            return exc
        finally:
            self._actions, self._spoiled = saved
        return None

    def refused_in_block(self) -> None:
        """A line of the open block was refused before it was fed (a pipe on an action
        line): as for a refused action, a script's block is then not sent."""
        if self.all_or_nothing and self._actions is not None:
            self._spoiled = True

    def completes(self, line: str) -> bool:
        """Whether :meth:`feed` would make a message of ``line`` (not take it into a
        transaction block), without changing any state; True too when it would refuse
        it, for :meth:`feed` to say why."""
        saved = self._actions, self._spoiled
        try:
            return self.feed(line) is not None
        except InputError:
            return True  # refused: feed says why, as for any line
        finally:
            self._actions, self._spoiled = saved

    def feed(self, line: str) -> Message | None:
        """The message ``line`` completes, or None while a transaction block is open."""
        if self._actions is None:
            line = as_typed(line)
            if starts_object(line):
                return parse_raw_json(line)  # a RawJSON: its text is what is sent
            if is_documented_reply(line):
                raise InputError(
                    "a line starting with '<-' is QEMU's reply in its documentation, not a "
                    "command; the '->' lines are the commands",
                    line.index("<"),
                )
        if self._actions is None:
            # Scripts repeat lines (polling query-status, query-jobs...): a line outside a
            # block means the same every time for the same schema.
            cached = self._recent.get(line)
            if cached is not None and cached[0] is self.schema:
                return copy_message(cached[1])
        message = self._feed(line)
        if message is not None and not self.in_transaction and len(line) <= _RECENT_LENGTH:
            if len(self._recent) >= _RECENT_LINES:
                self._recent.pop(next(iter(self._recent)))
            self._recent[line] = (self.schema, copy_message(message))
        return message

    def _feed(self, line: str) -> Message | None:
        if not line or line.isspace():
            raise InputError("empty command", 0)
        words = split_words(line)
        if self._actions is not None:
            return self._transaction_lines(words, self._actions)
        first = words[0]
        if first.text == TRANSACTION:
            return self._transaction_lines(words[1:], [])
        if first.text == OOB:
            if len(words) < 2:
                raise InputError("!oob needs a command after it", first.end, incomplete=True)
            message = self._command(words[1], words[2:])
            command = self.schema.command(words[1].text) if self.schema else None
            if command is not None and not command.allow_oob:
                raise InputError(f"{command.name} cannot run out of band", words[1].start)
            return {"exec-oob": message.pop("execute"), **message}
        return self._command(first, words[1:])

    def _transaction_lines(self, words: list[Word], actions: list[Message]) -> Message | None:
        closing = bool(words) and words[-1].text == CLOSE and words[-1].key is None
        if closing:
            words = words[:-1]
        try:
            stray = next((w for w in words if w.text == CLOSE and w.key is None), None)
            if stray is not None:
                raise InputError("')' must end the line", stray.start)
            new_actions = [self._action(group) for group in _split_on_bars(words) if group]
        except InputError:
            if self.all_or_nothing:  # the block is open (or stays so), and is not sent
                self._actions, self._spoiled = (None, False) if closing else (actions, True)
            raise
        actions = actions + new_actions
        if closing:
            spoiled, self._actions, self._spoiled = self._spoiled, None, False
            if spoiled:
                raise InputError("the transaction is not sent: an action in it was refused", 0)
            return {"execute": "transaction", "arguments": {"actions": actions}}
        self._actions = actions
        return None

    def _action(self, words: list[Word]) -> Message:
        head = words[0]
        if head.key is not None:
            raise InputError(
                f"expected an action name, got '{head.text}'",
                head.start,
            )
        tree = build_tree(words[1:])
        if self.schema is None or self.schema.command("transaction") is None:
            return {"type": head.text, "data": untyped_tree(tree)}

        return Typer(self.schema).action(head.text, head.start, tree)

    def _command(self, head: Word, words: list[Word]) -> Message:
        if head.key is not None or head.text in (BAR, CLOSE):
            raise InputError(
                f"expected a command name, got '{head.text}'",
                head.start,
            )
        tree = build_tree(words)
        if self.schema is None:
            arguments = untyped_tree(tree)
        else:
            from .typecheck import Typer

            arguments = Typer(self.schema).command(head.text, head.start, tree)
        message: Message = {"execute": head.text}
        if arguments:
            message["arguments"] = arguments
        return message


_RECENT_LINES = 256
_RECENT_LENGTH = 4096  # a longer line is not kept: it would hold its megabytes


def copy_message(message: Message) -> Message:
    """A copy deep enough that the caller may change what it gets (JSON values only)."""
    return {k: copy_message(v) if isinstance(v, dict) else v for k, v in message.items()}


def _split_on_bars(words: list[Word]) -> list[list[Word]]:
    groups: list[list[Word]] = [[]]
    for word in words:
        if word.text == BAR and word.key is None:
            groups.append([])
        else:
            groups[-1].append(word)
    return groups


def parse_line(line: str, schema: Schema | None = None) -> Message:
    """One complete line to one message (a one-line transaction included)."""
    message = Parser(schema).feed(line)
    if message is None:
        raise InputError("the transaction is not closed: end it with ')'", len(line), True)
    return message


def commands_named(line: str) -> list[str]:
    """The command a line outside a transaction block runs, as :meth:`Parser.feed` finds
    it: the first word, the one after ``!oob``, ``transaction`` for a block, a raw JSON
    object's ``execute`` (never typed, but its arguments are looked at for what is
    deprecated); none for a line refused before its words are typed. A one-shot script
    reads only what its lines' commands need of a cached schema."""
    line = as_typed(line)
    if starts_object(line):
        try:
            raw = parse_raw_json(line)
            name = raw.get("execute", raw.get("exec-oob"))
        except InputError:
            return []
        return [name] if isinstance(name, str) else []
    if is_documented_reply(line) or not line.strip():
        return []
    try:
        words = split_words(line)
    except InputError:
        return []
    first = words[0]
    if first.text == TRANSACTION:
        return ["transaction"]
    if first.text == OOB:
        return [words[1].text] if len(words) > 1 else []
    return [first.text]
