"""``python -m qmpshell``."""

from __future__ import annotations

import sys

from .cli.entry import main

sys.exit(main())
