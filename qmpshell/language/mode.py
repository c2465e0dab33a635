"""Which monitor a line is for: QMP (shorthand or raw JSON) or HMP (the human monitor)."""

from __future__ import annotations

import enum


class Mode(enum.Enum):
    QMP = "qmp"
    HMP = "hmp"
