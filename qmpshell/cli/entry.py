"""The ``qmpshell`` command's entry point (``[project.scripts]``, ``python -m qmpshell``).

Starting up makes tens of thousands of objects that live as long as the command: the
modules' functions and classes, then the schema's entries. Python's cyclic garbage
collector, run every 700 new objects, would scan them again and again, 4 ms of a
one-shot script's life for nothing to collect. So the command starts with the collector
off: :func:`qmpshell.cli.main.main` turns it back on for a session, once what start-up
made is frozen out of its way, and leaves it off for a one-shot script, which is short
and makes next to no cyclic garbage (300 objects in a script of 40,000 lines).
"""

from __future__ import annotations

import gc


def main() -> int:
    """Run the command (it exits; see :func:`qmpshell.cli.main.main`)."""
    gc.disable()
    from .main import main as run

    return run()
