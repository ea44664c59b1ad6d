"""Tables of the teams feature (added by its issue)."""
from __future__ import annotations

from storage.models.base import Base  # noqa: F401
