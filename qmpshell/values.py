"""Values as typed after ``key=`` when no schema says what they are (the untyped rules).

Unquoted text that reads as a JSON scalar (``1``, ``-2.5``, ``1e3``, ``true``, ``null``) or
a Python one (``True``, ``None``) becomes that value; ``{...}`` and ``[...]`` are JSON, or
Python-style literals (single quotes, ``True``, trailing commas); anything else, and
anything quoted, is a string. Nothing is ever evaluated as code: literals are read from
the syntax tree, node by node.
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any

from .errors import InputError

_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?\Z")
_WORDS: dict[str, Any] = {
    "true": True,
    "false": False,
    "null": None,
    "True": True,
    "False": False,
    "None": None,
}


def untyped_value(text: str, quoted: bool = False, column: int = 0) -> Any:
    """The JSON value of ``text`` by the untyped rules; ``quoted`` text is always a string."""
    if quoted:
        return text
    if text in _WORDS:
        return _WORDS[text]
    if _NUMBER.match(text):
        return json.loads(text)
    if text[:1] in ("{", "["):
        return parse_literal(text, column)
    return text


def parse_literal(text: str, column: int = 0) -> Any:
    """Read a JSON or Python-style object/array literal; :class:`InputError` if it is not one."""
    try:
        return json.loads(text)
    except ValueError:
        pass
    except RecursionError:
        raise InputError("value nested too deeply", column) from None
    try:
        tree = ast.parse(text.strip(), mode="eval")
        return _literal(tree.body)
    except SyntaxError as exc:
        offset = column + max((exc.offset or 1) - 1, 0)
        raise InputError(f"invalid JSON value: {exc.msg}", offset) from None
    except (RecursionError, MemoryError):
        raise InputError("value nested too deeply", column) from None
    except _NotLiteral as exc:
        offset = column + exc.offset
        raise InputError(f"invalid JSON value: {exc}", offset) from None


class _NotLiteral(Exception):
    def __init__(self, message: str, node: ast.AST) -> None:
        super().__init__(message)
        self.offset = getattr(node, "col_offset", 0)


def _literal(node: ast.AST) -> Any:
    if isinstance(node, ast.Constant):
        value = node.value
        if value is None or isinstance(value, (str, bool, int)):
            return value
        if isinstance(value, float) and value == value and abs(value) != float("inf"):
            return value
        raise _NotLiteral(f"{type(value).__name__} is not a JSON value", node)
    if isinstance(node, ast.Name):
        if node.id in _WORDS:
            return _WORDS[node.id]
        raise _NotLiteral(f"'{node.id}' is not a value (quote strings)", node)
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_literal(element) for element in node.elts]
    if isinstance(node, ast.Dict):
        result: dict[str, Any] = {}
        for key, item in zip(node.keys, node.values):
            if key is None or not isinstance(key, ast.Constant) or not isinstance(key.value, str):
                raise _NotLiteral("object keys must be strings", key or node)
            result[key.value] = _literal(item)
        return result
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, (ast.USub, ast.UAdd))
        and isinstance(node.operand, ast.Constant)
        and type(node.operand.value) in (int, float)
    ):
        number = _literal(node.operand)
        return -number if isinstance(node.op, ast.USub) else number
    raise _NotLiteral("only JSON or Python literals are allowed", node)
