"""Records: named tuples declared as classes, the way ``typing.NamedTuple`` declares them.

``typing.NamedTuple`` checks each field's annotation as a type, and under ``from
__future__ import annotations`` every annotation is a string, which it compiles: the
first ``compile()`` of a process makes CPython build its 119 classes of AST nodes. A
one-shot script paid some 4 ms of its start-up for the checks of the records it reads
(addresses, the greeting, the schema's members and commands, the shorthand's words).
:class:`Record` makes the same class (:func:`collections.namedtuple`, with the class's
methods and docstring on it) from the names and defaults alone; mypy sees
``typing.NamedTuple`` itself, and checks the annotations where they belong.
"""

from __future__ import annotations

import collections

TYPE_CHECKING = False  # typing's, without importing typing (docs/architecture.md, start-up)
if TYPE_CHECKING:
    from typing import Any
    from typing import NamedTuple as Record
else:
    # What the class body may not set, as for typing.NamedTuple: the tuple's own.
    _PROHIBITED = frozenset(
        {"__new__", "__init__", "__slots__", "__getnewargs__", "_fields", "_field_defaults"}
        | {"_make", "_replace", "_asdict", "_source"}
    )
    _SPECIAL = frozenset({"__module__", "__qualname__", "__annotations__"})

    class _RecordType(type):
        def __new__(cls, name: str, bases: tuple[type, ...], namespace: dict[str, Any]) -> Any:
            if not bases:  # Record itself
                return super().__new__(cls, name, bases, namespace)
            fields = list(namespace.get("__annotations__", {}))
            defaults = [namespace[field] for field in fields if field in namespace]
            if fields[len(fields) - len(defaults) :] != [f for f in fields if f in namespace]:
                raise TypeError(f"{name}: a field without a default follows one with a default")
            record = collections.namedtuple(
                name, fields, defaults=defaults, module=namespace["__module__"]
            )
            record.__qualname__ = namespace["__qualname__"]
            for key, value in namespace.items():
                if key in _PROHIBITED:
                    raise AttributeError(f"{name}: cannot overwrite the record's {key}")
                if key not in _SPECIAL and key not in fields:
                    setattr(record, key, value)
            return record

    class Record(metaclass=_RecordType):
        """The base of a record: see the module's docstring."""


__all__ = ["Record"]
