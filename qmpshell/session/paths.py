"""Where qmpshell keeps its files: the XDG base directories, each with a ``qmpshell``
folder of its own (``$XDG_STATE_HOME/qmpshell`` for history, ``$XDG_CACHE_HOME/qmpshell``
for the schema cache, ``$XDG_CONFIG_HOME/qmpshell`` for configuration)."""

from __future__ import annotations

import os
from collections.abc import Mapping

# Each kind of file: its variable, and the default below HOME when that is unset or empty.
_BASES = {
    "state": ("XDG_STATE_HOME", (".local", "state")),
    "cache": ("XDG_CACHE_HOME", (".cache",)),
    "config": ("XDG_CONFIG_HOME", (".config",)),
    "data": ("XDG_DATA_HOME", (".local", "share")),
}


def qmpshell_dir(kind: str, environ: Mapping[str, str] = os.environ) -> str:
    """qmpshell's folder of ``kind`` (``state``, ``cache``, ``config``, ``data``). A
    relative path in the variable is ignored, as the XDG specification says. (A string,
    not a ``Path``: pathlib costs a one-shot script's start-up 4 ms.)"""
    variable, default = _BASES[kind]
    base = environ.get(variable, "")
    if not os.path.isabs(base):
        base = os.path.join(os.path.expanduser("~"), *default)
    return os.path.join(base, "qmpshell")
