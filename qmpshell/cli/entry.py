"""The ``qmpshell`` command's entry point (``[project.scripts]``, ``python -m qmpshell``).

It starts with the garbage collector off (the policy: :mod:`qmpshell.collector`).
"""

from __future__ import annotations

from ..collector import off_for_start_up


def main() -> int:
    """Run the command (it exits; see :func:`qmpshell.cli.main.main`)."""
    off_for_start_up()
    from .main import main as run

    return run()
