"""``--libvirt`` without a domain: list the running domains, and on a terminal ask which
one to open."""

from __future__ import annotations

from collections.abc import Callable

from ..escape import escape_lines
from ..protocol.libvirt_transport import Domain, running_domains
from .console import Console


def choose_domain(
    uri: str | None, console: Console, read: Callable[[str], str] = input
) -> str | None:
    """List the running domains at ``uri``; on a terminal (stdin), read the user's choice
    (a number from the list or a name) and return that domain's name. None: nothing
    chosen (only listed, none running, or the user gave no answer)."""
    where, domains = running_domains(uri)
    if not domains:
        console.error(f"no domain is running on {where}")
        return None
    console.stdout.write(escape_lines(layout(domains)))  # names and states from libvirt
    console.stdout.flush()
    if not console.stdin_is_terminal:
        return None
    while True:
        try:
            answer = read("open which domain (number or name; empty to quit)? ").strip()
        except EOFError:
            return None
        if not answer:
            return None
        chosen = pick(domains, answer)
        if chosen is not None:
            return chosen.name
        console.error(f"no domain '{answer}' in the list")


def layout(domains: list[Domain]) -> str:
    """The list as a table: its number to choose it by, name, id and state."""
    rows = [("", "Name", "Id", "State")]
    rows += [(str(n), d.name, str(d.ident), d.state) for n, d in enumerate(domains, 1)]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = []
    for number, name, ident, state in rows:
        cells = (number.rjust(widths[0]), name.ljust(widths[1]), ident.rjust(widths[2]), state)
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines) + "\n"


def pick(domains: list[Domain], answer: str) -> Domain | None:
    """The domain an answer names: its number in the list, else its name."""
    if answer.isdigit() and 1 <= int(answer) <= len(domains):
        return domains[int(answer) - 1]
    return next((d for d in domains if d.name == answer), None)
