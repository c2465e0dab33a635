"""The garbage collector's policy, in one place: when it runs and what it looks at.

Starting up makes tens of thousands of objects that live as long as the command: the
modules' functions and classes, then the schema's entries. Python's cyclic collector, run
every 700 new objects, would scan them again and again: 4 ms of a one-shot script's life
for nothing to collect. So:

- the command starts with the collector off (:func:`off_for_start_up`, ``cli/entry.py``);
- a one-shot script leaves it off to the end: it is short and makes next to no cyclic
  garbage (300 objects in a script of 40,000 lines);
- a session turns it back on once what start-up made is frozen out of its way
  (:func:`on_for_session`, ``cli/main.py``);
- the interactive shell freezes again once the schema is loaded (:func:`freeze_what_lives`,
  ``ui/repl.py``): a full collection of the schema's 100,000 objects took 35 ms during a
  flood of events, longer than an event may wait to be shown.
"""

from __future__ import annotations

import gc


def off_for_start_up() -> None:
    """The collector off while the command starts (and for a one-shot script, to its end)."""
    gc.disable()


def on_for_session() -> None:
    """A session lasts: the collector back on, past what start-up made, frozen out of its
    way. Nothing to do when it was never turned off (main() called as a library)."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def freeze_what_lives() -> None:
    """What the session holds by now (its modules, the schema, the screen) lives as long
    as it does: kept out of the collector's sight, so that a full collection walks only
    what is new. Not collected first: that would be such a pause itself, and what is
    garbage by now is mostly freed already, without the collector."""
    gc.freeze()
