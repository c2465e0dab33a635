"""The interactive shell in a pty (pexpect), typed at as a person would."""

from __future__ import annotations

import re
import sys

import pexpect
from waiting import wait_idle

PROMPT = r"\(QEMU\)"  # prompt_toolkit moves the cursor instead of writing the space


def spawn(env: dict[str, str], *args: str, color: str = "never") -> pexpect.spawn:
    """qmpshell in a pty; without colour unless asked, so that text can be matched."""
    child = pexpect.spawn(
        sys.executable,
        ["-m", "qmpshell", "--color", color, *args],
        env=env,
        encoding="utf-8",
        timeout=10,
        dimensions=(40, 120),
    )
    return child


def quit_at_prompt(child: pexpect.spawn) -> None:
    """Wait for the prompt and for the shell to read keys, then Ctrl-D, and see it end."""
    child.expect(PROMPT)
    wait_idle(child.pid)
    child.sendeof()
    child.expect(pexpect.EOF)


def echoed(text: str) -> str:
    """A pattern for ``text`` as the terminal shows it: highlighting codes may sit
    between any two characters."""
    return r"(?:\x1b\[[0-9;?]*[A-Za-z])*".join(re.escape(char) for char in text)


def type_line(child: pexpect.spawn, text: str) -> None:
    """Type as a person does: the keys, a look at the screen, then Enter."""
    child.send(text)
    child.expect(echoed(text))
    child.send("\r")
