"""The prompt of one connection in one mode: prompt_toolkit's session with its history,
completion, input highlighting, key bindings and toolbar (:mod:`qmpshell.ui.repl`
keeps one per connection and mode)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from ..language.mode import Mode

if TYPE_CHECKING:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.formatted_text import StyleAndTextTuples
    from prompt_toolkit.history import History

    from ..session.live import LiveNames
    from ..session.runner import LineRunner
    from .output import Output

# What the input highlighter asks of the shell: the span of a line the parser refuses.
Fault = Callable[[str], "tuple[int, int] | None"]


def make_prompt_session(
    runner: LineRunner,
    live: LiveNames,
    output: Output,
    mode: Mode,
    history: History,
    *,
    toolbar: Callable[[], StyleAndTextTuples],
    queue: Callable[[list[str], str], None],
    fault: Fault,
    schema_ready: Callable[[], Awaitable[None]],
    targets: Callable[[], list[str]],
    named: Callable[[], list[str]],
    complete_while_typing: bool,
) -> PromptSession[str]:
    """A prompt for ``runner``'s lines in ``mode``, its history ``history``."""
    from prompt_toolkit.completion import Completer
    from prompt_toolkit.lexers import Lexer
    from prompt_toolkit.styles import Style

    from .completer import MARKED, EscapedCompleter, HmpCompleter, ShellCompleter
    from .editline import editing
    from .key_bindings import key_bindings
    from .lexer import INPUT_ERROR, INPUT_STYLE, input_lexer
    from .screen import continuation, escaping_processor, fitting_session

    completer: Completer
    lexer: Lexer | None
    if mode is Mode.HMP:
        completer = HmpCompleter(live, runner.meta.names, targets, named)
        lexer = None
    else:
        agent = runner.agent
        completer = ShellCompleter(
            lambda: runner.parser.schema,
            lambda: runner.in_transaction,
            runner.meta.names,
            None if agent else live,
            agent.completions if agent else None,
            ready=schema_ready,
            targets=targets,
            named=named,
        )
        lexer = input_lexer(fault)
    if output.color:
        style = dict(INPUT_STYLE)
        style["bottom-toolbar"] = "noreverse bg:#303030 fg:#d0d0d0"
    else:  # no colour at all, but the mark on a line that will not parse stays
        style = {INPUT_ERROR: "underline"}
    style[MARKED.removeprefix("class:")] = "italic"  # deprecated, unstable: no colour
    return fitting_session()(
        history=history,
        lexer=lexer,
        style=Style.from_dict(style),
        bottom_toolbar=toolbar,
        key_bindings=key_bindings(queue, editing(runner, output)),
        prompt_continuation=continuation,
        include_default_pygments_style=False,
        completer=EscapedCompleter(completer),
        input_processors=[escaping_processor()],
        complete_while_typing=complete_while_typing,
        complete_in_thread=False,
    )


def fault_span(runner: LineRunner, text: str) -> tuple[int, int] | None:
    """The span of ``text`` the parser would refuse, for the input highlighter."""
    if not text.strip() or text.lstrip()[:1] in ("/", "#"):
        return None
    error = runner.check(text)
    if error is None or error.incomplete or error.column is None:
        return None
    start = min(error.column, max(len(text) - 1, 0))
    end = start
    while end < len(text) and not text[end].isspace():
        end += 1
    return start, max(end, start + 1)
