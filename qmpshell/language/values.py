"""Values as typed after ``key=`` when no schema says what they are (the untyped rules).

Unquoted text that reads as a JSON scalar (``1``, ``-2.5``, ``1e3``, ``true``, ``null``) or
a Python one (``True``, ``None``) becomes that value; ``{...}`` and ``[...]`` are JSON, or
Python-style literals (single quotes, ``True``, trailing commas); anything else, and
anything quoted, is a string. Nothing is ever evaluated as code: literals are read from
the syntax tree, node by node.
"""

from __future__ import annotations

import json
import warnings

from ..errors import InputError
from ..patterns import compiled

TYPE_CHECKING = False  # typing's, without importing typing (docs/architecture.md, start-up)
if TYPE_CHECKING:
    import ast
    from typing import Any

_NUMBER = r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?\Z"  # compiled when first used
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
    if compiled(_NUMBER).match(text):
        try:
            return strict_json(text)
        except ValueError as exc:  # out of range, or more digits than int() converts
            message = OUT_OF_RANGE if "range" in str(exc) else "number too long"
            raise InputError(message, column) from None
    if text[:1] in ("{", "["):
        return parse_literal(text, column)
    return text


OUT_OF_RANGE = "number out of range"  # what a number beyond a double's range is refused as
_INFINITY = float("inf")


def beyond_a_double(number: float) -> bool:
    """Whether a number read from JSON text overflowed a double (``1e999`` reads as
    infinity, which JSON cannot write back): the one rule behind the shorthand's and
    the /edit document's "number out of range", and a raw line's infinite id."""
    return number in (_INFINITY, -_INFINITY)


def _finite(text: str) -> float:
    number = float(text)
    if beyond_a_double(number):
        raise ValueError(f"{OUT_OF_RANGE}: {text}")
    return number


def _not_json(word: str) -> Any:
    raise ValueError(f"{word} is not JSON")


def strict_json(text: str) -> Any:
    """:func:`json.loads` without its extensions: no NaN, no Infinity, no overflow to inf."""
    return json.loads(text, parse_float=_finite, parse_constant=_not_json)


def parse_literal(text: str, column: int = 0) -> Any:
    """Read a JSON or Python-style object/array literal; :class:`InputError` if it is not one."""
    try:
        return strict_json(text)
    except ValueError:
        pass
    except RecursionError:
        raise InputError("value nested too deeply", column) from None
    import ast  # Python-style literals are the rare case: not paid for at start-up

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. "invalid escape sequence" from the parser
            tree = ast.parse(text.strip(), mode="eval")
        return _literal(tree.body)
    except SyntaxError as exc:
        offset = column + max((exc.offset or 1) - 1, 0)
        raise InputError(f"invalid JSON value: {exc.msg}", offset) from None
    except (RecursionError, MemoryError):
        raise InputError("value nested too deeply", column) from None
    except ValueError:  # Python before 3.11: NUL bytes are not even a syntax error
        raise InputError("invalid JSON value: NUL byte", column) from None
    except _NotLiteral as exc:
        offset = column + exc.offset
        raise InputError(f"invalid JSON value: {exc}", offset) from None


class _NotLiteral(Exception):
    def __init__(self, message: str, node: ast.AST) -> None:
        super().__init__(message)
        self.offset = getattr(node, "col_offset", 0)


def _literal(node: ast.AST) -> Any:
    import ast

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
