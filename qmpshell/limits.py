"""How much of anything qmpshell takes from outside: the limits every layer holds to.

Pure, and below every layer: the decoder holds a peer's messages to them, the language
holds what the user types to the same.
"""

from __future__ import annotations

from typing import Any

# The deepest nesting of arrays and objects a message may have, from the peer or typed.
# The walks over a message (json's, the redaction's, protocol/message.py's) recurse, up to two
# frames a level, and Python stops at 1,000 frames: 256 leaves room for the stack they
# start from. QEMU's messages nest about a dozen levels (query-block: one more per
# backing image).
MAX_DEPTH = 256


def nesting_exceeds(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether ``value`` nests arrays and objects more than ``limit`` levels deep; a
    walk without recursion, so any depth can be asked about."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        kind = type(item)
        if kind is not dict and kind is not list:
            continue
        if depth > limit:
            return True
        children = item.values() if kind is dict else item
        stack.extend((child, depth + 1) for child in children)
    return False
