"""How much of anything qmpshell takes from outside: the limits every layer holds to.

Pure, and below every layer: the decoder holds a peer's messages to them, the language
holds what the user types to the same.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing's, without importing typing (docs/architecture.md, start-up)
if TYPE_CHECKING:
    from typing import Any


# The deepest nesting of arrays and objects a message may have, from the peer or typed.
# The walks over a message (json's, the redaction's, protocol/message.py's) recurse, up to two
# frames a level, and Python stops at 1,000 frames: 256 leaves room for the stack they
# start from. QEMU's messages nest about a dozen levels (query-block: one more per
# backing image).
MAX_DEPTH = 256


def nesting_exceeds(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether ``value`` nests arrays and objects more than ``limit`` levels deep; a
    walk without recursion, so any depth can be asked about. It goes a level at a time
    and keeps only the containers of the next (a schema reply's 200,000 strings and
    numbers are looked at once and dropped)."""
    level = [value] if type(value) is dict or type(value) is list else []
    depth = 1
    while level:
        if depth > limit:
            return True
        below = []
        for item in level:
            for child in item.values() if type(item) is dict else item:
                kind = type(child)
                if kind is dict or kind is list:
                    below.append(child)
        level = below
        depth += 1
    return False
