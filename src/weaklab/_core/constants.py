"""Constants shared by every layer."""

from __future__ import annotations

from typing import Final

ABSTAIN: Final[int] = -1
"""The vote of a source that does not label an item."""

MAX_INT8_CLASSES: Final[int] = 127
MAX_CLASSES: Final[int] = 32767
STATE_SCHEMA_VERSION: Final[int] = 1

TINY: Final[float] = 1e-300
"""Floor before a log or a division where any positive value is meaningful (keeps ``log`` finite)."""

EPS: Final[float] = 1e-12
"""Clip for estimated probabilities before a log (scores, posteriors): far below any estimate that matters."""
