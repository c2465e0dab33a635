"""A long JSON string taken as it arrives, for the decoder (:mod:`.decoder`): decoded
into one text that grows in place, and put back where the decoder's mark stood for it
once its message is parsed."""

from __future__ import annotations

import codecs

TYPE_CHECKING = False  # typing's, without importing typing (docs/architecture.md, start-up)
if TYPE_CHECKING:
    from typing import Any


class LongString:
    """A JSON string without escapes, decoded as its bytes arrive into one text that
    grows in place: CPython extends a string held by nothing but the local variable it
    is added to and stored back in, rather than copying it."""

    def __init__(self) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")()
        self._text = ""

    def add(self, data: bytes | memoryview, final: bool = False) -> None:
        """Decode ``data`` onto the text; :class:`UnicodeDecodeError`, with nothing
        taken, when it is not UTF-8."""
        piece = self._utf8.decode(data, final)
        text, self._text = self._text, ""
        text += piece  # in place: ``text`` is its only reference
        self._text = text

    def end(self, data: bytes | memoryview) -> str:
        """The whole text, once ``data``, the last of its bytes, is added."""
        self.add(data, final=True)
        text, self._text = self._text, ""
        return text

    def bytes_so_far(self) -> bytes:
        """The bytes taken so far, as they came (UTF-8 decoded and encoded again)."""
        return self._text.encode() + self._utf8.getstate()[0]


def put_back(value: Any, strings: dict[str, str]) -> Any:
    """``value`` with each mark of the decoder's marks replaced by the long
    string it stands for (keys too)."""
    if isinstance(value, str):
        return strings.get(value, value)
    # Loops, not comprehensions: one frame a level (see MAX_DEPTH).
    if isinstance(value, dict):
        members = {}
        for key, item in value.items():
            members[strings.get(key, key)] = put_back(item, strings)
        return members
    if isinstance(value, list):
        items = []
        for item in value:
            items.append(put_back(item, strings))
        return items
    return value
