"""Regular expressions compiled the first time they are used, not when a module is imported.

The re module compiles in Python, and a character class that reaches past Latin-1 (the
escapes' invisible characters, lone surrogates) takes it about half a millisecond: the
patterns of the modules a one-shot script loads cost its start-up some 4 ms, for matches
most scripts never make. A module keeps the source of such a pattern and asks
:func:`compiled` for it where it matches.
"""

from __future__ import annotations

import re

TYPE_CHECKING = False  # typing's, without importing typing (docs/architecture.md, start-up)
if TYPE_CHECKING:
    from typing import Any, AnyStr

_COMPILED: dict[Any, re.Pattern[Any]] = {}


def compiled(source: AnyStr) -> re.Pattern[AnyStr]:
    """``source`` compiled, once: the same pattern object at every call (kept for the
    life of the process, unlike the re module's own cache of 512)."""
    pattern = _COMPILED.get(source)
    if pattern is None:
        pattern = _COMPILED[source] = re.compile(source)
    return pattern
