"""Completion scripts for the ``qmpshell`` command itself, in bash, zsh and fish.

The scripts are generated from the argparse parser of ``options.build_parser()``, so they
offer exactly the options the command accepts. The copies in ``completions/`` are this
module's output, checked by the tests; after changing an option, regenerate them with::

    python -m qmpshell --completions bash > completions/qmpshell.bash
    python -m qmpshell --completions zsh > completions/_qmpshell
    python -m qmpshell --completions fish > completions/qmpshell.fish

What a value completes to is read from the parser: the choices when there are some, paths
when the metavar names a file or a socket address (``PATH``, ``ADDRESS``...), the words of
``SUGGESTED_VALUES`` for a free value with usual answers, and nothing for any other free
value. After a ``--`` of its own comes the QEMU command line: its first word completes
to a command on ``PATH``, the later ones to paths.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from .options import actions, build_parser

SHELLS = ("bash", "zsh", "fish")

ValueKind = Literal["files", "words", "free"]

#: Metavars whose values live in the filesystem (a UNIX socket is a file too).
FILE_METAVARS = frozenset({"PATH", "FILE", "DIR", "DIRECTORY", "ADDRESS", "SOCKET", "TRANSCRIPT"})

#: Values worth offering for options that take any text (keyed by argparse dest).
SUGGESTED_VALUES: dict[str, tuple[str, ...]] = {"events": ("all", "none")}

# Option names and offered words are written into the scripts unquoted (case patterns,
# word lists), so they are held to characters no shell treats specially.
_OPTION_NAME = re.compile(r"--?[A-Za-z0-9][A-Za-z0-9_.-]*\Z")
_PLAIN_WORD = re.compile(r"[A-Za-z0-9_.,+@%/-]+\Z")

_ADVICE = (
    "Generated from qmpshell's options by qmpshell/shellcomplete.py; do not edit.\n"
    "Regenerate it with\n"
    "  python -m qmpshell --completions {shell} > completions/{file}\n"
)


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
    for action in actions(parser):
        if action.help == argparse.SUPPRESS:
            continue
        if not action.option_strings:
            positionals.append(_value(action, _summary(action, parser.prog)))
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


def completion_script(shell: str, parser: argparse.ArgumentParser | None = None) -> str:
    """The completion script for ``shell`` ("bash", "zsh" or "fish").

    ``parser`` defaults to the ``qmpshell`` command's own.
    """
    if parser is None:
        parser = build_parser()
    command = describe(parser)
    if shell == "bash":
        return _bash(command)
    if shell == "zsh":
        return _zsh(command)
    if shell == "fish":
        return _fish(command)
    raise ValueError(f"no completion script for shell {shell!r}; choose {', '.join(SHELLS)}")


def script_file(shell: str, prog: str = "qmpshell") -> str:
    """The name under which each shell looks for the script (``completions/`` holds them)."""
    return {"bash": f"{prog}.bash", "zsh": f"_{prog}", "fish": f"{prog}.fish"}[shell]


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


def _header(shell: str, prog: str, usage: str) -> str:
    """The comment that opens a script: what it is, how to regenerate it, how to use it."""
    text = f"{shell} completion for {prog}.\n" + _ADVICE.format(
        shell=shell, file=script_file(shell, prog)
    )
    return "".join(f"# {line}".rstrip() + "\n" for line in (text + usage).splitlines())


# --- bash -------------------------------------------------------------------------------

_BASH_BODY = """\
# Complete $cur as a path, with bash-completion's _filedir when it is loaded.
_{fn}_files() {{
    if declare -F _filedir >/dev/null; then
        _filedir
        return
    fi
    compopt -o filenames 2>/dev/null
    local path
    while IFS= read -r path; do
        COMPREPLY+=("$path")
    done < <(compgen -f -- "$cur")
}}

# Complete $cur as one of the given words.
_{fn}_words() {{
    local word
    for word in "$@"; do
        [[ $word == "$cur"* ]] && COMPREPLY+=("$word")
    done
}}

_{fn}() {{
    local cur=${{COMP_WORDS[COMP_CWORD]}} prev=${{COMP_WORDS[COMP_CWORD-1]}} i command
    COMPREPLY=()
    # After a "--" of its own comes the QEMU command line: the binary, then its arguments.
    for ((i = 1; i < COMP_CWORD; i++)); do
        [[ ${{COMP_WORDS[i]}} == -- ]] || continue
        if ((i + 1 == COMP_CWORD)) && [[ $cur != */* ]]; then
            while IFS= read -r command; do
                COMPREPLY+=("$command")
            done < <(compgen -c -- "$cur")
        else
            _{fn}_files
        fi
        return 0
    done
    # bash splits --option=value at the "=" into three words.
    if [[ $cur == = && $prev == --* ]]; then
        cur=
    elif [[ $prev == = ]] && ((COMP_CWORD > 2)); then
        prev=${{COMP_WORDS[COMP_CWORD-2]}}
    fi
    case $prev in
{value_cases}    esac
    if [[ $cur == -* ]]; then
        _{fn}_words {options}
        return 0
    fi
{positional}}}

complete -F _{fn} {prog}
"""


def _bash(command: CommandLine) -> str:
    fn = _function_name(command.prog)
    cases = []
    files = [name for o in command.options_taking("files") for name in o.names]
    if files:
        cases.append(_bash_case(files, f"_{fn}_files"))
    for option in command.options_taking("words"):
        assert option.value is not None
        cases.append(_bash_case(option.names, f"_{fn}_words {' '.join(option.value.words)}"))
    free = [name for o in command.options_taking("free") for name in o.names]
    if free:
        cases.append(_bash_case(free, "# a value of the user's own: nothing to offer"))
    positional = "".join(
        f"    # {value.name}: {value.description}\n    {_bash_value(value, fn)}\n"
        for value in command.positionals[:1]
    )
    body = _BASH_BODY.format(
        fn=fn,
        prog=command.prog,
        value_cases="".join(cases),
        options=_wrap(command.option_names(), indent=12),
        positional=positional,
    )
    usage = (
        "Use it from ~/.bashrc with\n"
        f'  eval "$({command.prog} --completions bash)"\n'
        f"or copy it to ~/.local/share/bash-completion/completions/{command.prog}.\n"
    )
    return _header("bash", command.prog, usage) + "\n" + body


def _bash_case(names: Sequence[str], action: str) -> str:
    return f"        {'|'.join(names)})\n            {action}\n            return 0 ;;\n"


def _bash_value(value: Value, fn: str) -> str:
    if value.kind == "files":
        return f"_{fn}_files"
    if value.kind == "words":
        return f"_{fn}_words {' '.join(value.words)}"
    return "return 0"


def _wrap(words: Sequence[str], indent: int, width: int = 92) -> str:
    """Words on lines of at most ``width`` characters, continued with backslashes."""
    lines: list[str] = []
    line = ""
    for word in words:
        if line and indent + len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return f" \\\n{' ' * indent}".join(lines)


# --- zsh --------------------------------------------------------------------------------

_ZSH_BODY = """\
_{fn}() {{
    local i
    # After a "--" of its own comes the QEMU command line: the binary, then its arguments.
    for ((i = 2; i < CURRENT; i++)); do
        [[ $words[i] == -- ]] || continue
        if ((i + 1 == CURRENT)); then
            _command_names -e
        else
            _files
        fi
        return
    done
    _arguments -s -S : \\
{specs}
}}

if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
    # Autoloaded from $fpath: this file is the body of _{fn}, called to complete.
    _{fn} "$@"
elif (( $+functions[compdef] )); then
    compdef _{fn} {prog}
else
    print -u2 "{prog} completion: run 'autoload -U compinit && compinit' before loading it"
fi
"""


def _zsh(command: CommandLine) -> str:
    fn = _function_name(command.prog)
    specs: list[str] = []
    for option in command.options:
        if option.ends_command:
            exclusion = "(- : *)"
        elif option.repeatable:
            exclusion = "*"
        else:
            exclusion = f"({' '.join(option.names)})"
        for name, description in option.spellings:
            spec = f"{exclusion}{name}"
            if option.value is not None:
                spec += "+" if len(name) == 2 else "="
            spec += f"[{_zsh_escape(description)}]"
            if option.value is not None:
                spec += f":{_zsh_value(option.value)}"
            specs.append(spec)
    for number, value in enumerate(command.positionals, 1):
        specs.append(f"{number}::{_zsh_value(value)}")  # "::": may be left out
    lines = " \\\n".join(f"        {_zsh_quote(spec)}" for spec in specs)
    usage = (
        f"Use it by putting this file, named {script_file('zsh', command.prog)}, in a directory\n"
        "of $fpath before compinit runs, or by sourcing it after compinit:\n"
        f"  source <({command.prog} --completions zsh)\n"
    )
    header = f"#compdef {command.prog}\n" + _header("zsh", command.prog, usage)
    return header + "\n" + _ZSH_BODY.format(fn=fn, prog=command.prog, specs=lines)


def _zsh_value(value: Value) -> str:
    """The ``MESSAGE:ACTION`` that ends an _arguments spec taking ``value``."""
    message = _zsh_escape(value.name).replace(":", "\\:")
    if value.kind == "files":
        return f"{message}:_files"
    if value.kind == "words":
        return f"{message}:({' '.join(value.words)})"
    return f"{message}: "  # a single space: show the message, offer nothing


def _zsh_escape(text: str) -> str:
    return re.sub(r"([\\\[\]])", r"\\\1", text)


def _zsh_quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


# --- fish -------------------------------------------------------------------------------

_FISH_FUNCTIONS = """\
# The QEMU command line follows a "--" of its own: the binary, then its arguments.
function __{fn}_after_dashes
    contains -- -- (commandline -opc)
end

function __{fn}_qemu_binary
    set -l words (commandline -opc)
    set -l dashes (contains -i -- -- $words); and test $dashes -eq (count $words)
end
"""


def _fish(command: CommandLine) -> str:
    fn = _function_name(command.prog)
    before = f"-n 'not __{fn}_after_dashes'"
    lines = [f"complete -c {command.prog} -f"]
    for option in command.options:
        for description, names in _by_description(option.spellings):
            flags = " ".join(f"-s {n[1:]}" if len(n) == 2 else f"-l {n[2:]}" for n in names)
            line = f"complete -c {command.prog} {before} {flags}"
            if option.value is not None:
                line += _fish_value(option.value)
            lines.append(f"{line} -d {_fish_quote(description)}")
    for value in command.positionals[:1]:
        lines.append(f"# {value.name}: {value.description}")
        lines.append(f"complete -c {command.prog} {before}{_fish_value(value, option=False)}")
    lines.append(
        f"complete -c {command.prog} -n __{fn}_qemu_binary -x -a '(__fish_complete_command)'"
    )
    lines.append(
        f"complete -c {command.prog} -n '__{fn}_after_dashes; and not __{fn}_qemu_binary' -F"
    )
    usage = (
        "Use it with\n"
        f"  {command.prog} --completions fish | source\n"
        f"or copy it to ~/.config/fish/completions/{command.prog}.fish.\n"
    )
    return (
        _header("fish", command.prog, usage)
        + "\n"
        + _FISH_FUNCTIONS.format(fn=fn)
        + "\n"
        + "\n".join(lines)
        + "\n"
    )


def _by_description(spellings: Sequence[tuple[str, str]]) -> list[tuple[str, list[str]]]:
    """The names of an option grouped by their description, so -l and --logfile share one."""
    groups: dict[str, list[str]] = {}
    for name, description in spellings:
        groups.setdefault(description, []).append(name)
    return list(groups.items())


def _fish_value(value: Value, option: bool = True) -> str:
    required = " -r" if option else ""
    if value.kind == "files":
        return f"{required} -F"
    if value.kind == "words":
        return f"{required} -f -a {_fish_quote(' '.join(value.words))}"
    return f"{required} -f"


def _fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _function_name(prog: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", prog)
