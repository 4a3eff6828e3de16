"""grants' own demo, loaded first by ``grants demo``."""
from __future__ import annotations

from .legacy import load  # noqa: F401 - until the generic demo replaces it

TITLE = "grants"
