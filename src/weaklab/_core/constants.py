"""Constants shared by every layer."""

from __future__ import annotations

from typing import Final

ABSTAIN: Final[int] = -1
"""The vote of a source that does not label an item."""

MAX_INT8_CLASSES: Final[int] = 127
MAX_CLASSES: Final[int] = 32767
STATE_SCHEMA_VERSION: Final[int] = 1
