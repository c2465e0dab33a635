"""The command line as the completion scripts see it, read from the argparse parser: each
option's spellings and descriptions, what its value completes to, the positionals.

What a value completes to: the choices when there are some, paths when the metavar names
a file or a socket address (``PATH``, ``ADDRESS``...), the words of ``SUGGESTED_VALUES``
for a free value with usual answers, nothing for any other free value; and the address
also to the config file's named targets after an ``@`` (when the command has
``--targets`` to list them). cli/shellcomplete.py writes the scripts from it.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from .options import actions

# "targets": a path, or after an @ a target the config file names (qmpshell --targets).
ValueKind = Literal["files", "words", "free", "targets"]

#: Metavars whose values live in the filesystem (a UNIX socket is a file too).
FILE_METAVARS = frozenset({"PATH", "FILE", "DIR", "DIRECTORY", "ADDRESS", "SOCKET", "TRANSCRIPT"})

#: Values worth offering for options that take any text (keyed by argparse dest).
SUGGESTED_VALUES: dict[str, tuple[str, ...]] = {"events": ("all", "none")}

# Option names and offered words are written into the scripts unquoted (case patterns,
# word lists), so they are held to characters no shell treats specially.
_OPTION_NAME = re.compile(r"--?[A-Za-z0-9][A-Za-z0-9_.-]*\Z")
_PLAIN_WORD = re.compile(r"[A-Za-z0-9_.,+@%/-]+\Z")


@dataclass(frozen=True)
class Value:
    """What an option or a positional argument takes: its name and how it completes."""

    name: str
    kind: ValueKind
    words: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class Option:
    """One option: its spellings (with a description for each), and its value if any."""

    spellings: tuple[tuple[str, str], ...]
    value: Value | None
    repeatable: bool
    ends_command: bool  # --help: nothing else makes sense after it

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.spellings)


@dataclass(frozen=True)
class CommandLine:
    """The command-line interface of a program, as far as completion needs it."""

    prog: str
    options: tuple[Option, ...]
    positionals: tuple[Value, ...]

    def option_names(self) -> tuple[str, ...]:
        return tuple(name for option in self.options for name in option.names)

    def options_taking(self, kind: ValueKind) -> list[Option]:
        return [o for o in self.options if o.value is not None and o.value.kind == kind]


def describe(parser: argparse.ArgumentParser) -> CommandLine:
    """Read the options and positional arguments of ``parser`` that completion needs."""
    options: list[Option] = []
    positionals: list[Value] = []
    named = any("--targets" in action.option_strings for action in actions(parser))
    for action in actions(parser):
        if action.help == argparse.SUPPRESS:
            continue
        if not action.option_strings:
            value = _value(action, _summary(action, parser.prog))
            if named and value.kind == "files":
                value = Value(value.name, "targets", description=value.description)
            positionals.append(value)
            continue
        for name in action.option_strings:
            if not _OPTION_NAME.match(name):
                raise ValueError(f"option {name!r} cannot be written into a completion script")
        summary = _summary(action, parser.prog)
        spellings = tuple(
            (name, _negated(action, name) or summary) for name in action.option_strings
        )
        options.append(
            Option(
                spellings,
                # A value only ever attached with "=" (--reconnect[=SECONDS]): the word
                # after the option is not its value.
                _value(action)
                if action.nargs != 0 and not getattr(action, "attached_only", False)
                else None,
                repeatable=isinstance(
                    action,
                    (argparse._AppendAction, argparse._AppendConstAction, argparse._CountAction),
                ),
                ends_command=isinstance(action, (argparse._HelpAction, argparse._VersionAction)),
            )
        )
    return CommandLine(parser.prog, tuple(options), tuple(positionals))


# --- reading the parser ---------------------------------------------------------------


def _value(action: argparse.Action, description: str = "") -> Value:
    if isinstance(action.metavar, str):
        name = action.metavar
    else:
        name = action.dest.upper() if action.option_strings else action.dest
    if action.choices is not None:
        return Value(name, "words", _plain_words(action.choices), description)
    if action.dest in SUGGESTED_VALUES:
        return Value(name, "words", _plain_words(SUGGESTED_VALUES[action.dest]), description)
    if name.upper() in FILE_METAVARS:
        return Value(name, "files", description=description)
    return Value(name, "free", description=description)


def _plain_words(words: Iterable[object]) -> tuple[str, ...]:
    result = tuple(str(w) for w in words)
    for word in result:
        if not _PLAIN_WORD.match(word):
            raise ValueError(f"value {word!r} cannot be written into a completion script")
    return result


def _summary(action: argparse.Action, prog: str) -> str:
    """The help of ``action`` cut to its first clause, short enough for a menu."""
    text = action.help or ""
    if "%" in text:
        params = {k: v for k, v in vars(action).items() if v is not argparse.SUPPRESS}
        params["prog"] = prog
        if params.get("choices") is not None:
            params["choices"] = ", ".join(str(c) for c in action.choices or ())
        text = text % params
    text = " ".join(text.split())
    # Details come after the first " (", "; " or ": " (defaults, alternatives, examples).
    for mark in (" (", "; ", ": "):
        text = text.split(mark, 1)[0]
    return text


def _negated(action: argparse.Action, name: str) -> str | None:
    """The description of the ``--no-`` spelling of a boolean option."""
    boolean = getattr(argparse, "BooleanOptionalAction", None)
    if boolean is None or not isinstance(action, boolean) or not name.startswith("--no-"):
        return None
    return f"turn off --{name[len('--no-') :]}"
