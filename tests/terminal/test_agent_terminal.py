"""Guest agent mode in a terminal (tmux), against a real qemu-ga on this machine: completion
from guest-info.

The agent runs with every command that would act on the host itself blocked
(guest_agent.AGENT_BLOCKED), so tests cannot harm the machine."""

from __future__ import annotations

import sys
from pathlib import Path

from guest_agent import AgentProcess
from tmux import Tmux


def test_completion_from_guest_info(
    shell_env: dict[str, str], agent: AgentProcess, tmp_path: Path
) -> None:
    env = dict(shell_env)
    env.pop("PROMPT_TOOLKIT_NO_CPR")
    screen = Tmux(tmp_path, env, [sys.executable, "-m", "qmpshell", "--ga", agent.path])
    try:
        screen.wait_for(r"Connected to the guest agent at .* \(qemu-ga 7\.")
        screen.wait_for(r"\(QGA\)")
        screen.type("guest-get-t")
        screen.wait_for(r"guest-get-time\s+command")
        screen.wait_for(r"guest-get-timezone\s+command")
        screen.type("C-u", "guest-shut")
        screen.wait_for(r"guest-shutdown\s+disabled")
        screen.type("C-u", "guest-ping", "Enter")
        screen.wait_for("OK")
        screen.wait_for(r"│ guest agent 7\.")
    finally:
        screen.close()
