"""Names close to a misspelt one, for "did you mean" in error messages — pure."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def either(words: Sequence[str]) -> str:
    """``a``, ``a or b``, ``a, b or c``."""
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} or {words[-1]}"


def close_names(name: str, candidates: Iterable[str], fold_case: bool = False) -> list[str]:
    """Up to three of ``candidates`` close to ``name``, closest first; compared in lower
    case with ``fold_case`` (events are upper case, and ``block_job_completed`` is close)."""
    import difflib  # only when something is wrong: scripts that make no mistake skip it

    if not fold_case:
        return difflib.get_close_matches(name, list(candidates), 3)
    by_lower = {candidate.lower(): candidate for candidate in candidates}
    return [by_lower[n] for n in difflib.get_close_matches(name.lower(), list(by_lower), 3)]


def did_you_mean(names: Sequence[str], prefix: str = "") -> str:
    """``; did you mean 'a' or 'b'?`` for the names given (each shown after ``prefix``),
    or nothing when there are none."""
    if not names:
        return ""
    return f"; did you mean {either([repr(prefix + n) for n in names])}?"
