"""The defaults of the RAID log's settings, their one place (registered by commands.register; an engagement's
values: `settings(engagement)`)."""

from __future__ import annotations

from typing import Any

from bot.kernel.engagements import feature_settings
from storage.models import Engagement

FEATURE = "raid"

KINDS = ("risk", "assumption", "issue", "dependency")
STATUSES = ("red", "amber", "green")

DEFAULTS: dict[str, Any] = {
    # An item added without a status: not yet judged harmless (green) nor urgent (red).
    "default_status": "amber",
}


def settings(engagement: Engagement) -> dict[str, Any]:
    return feature_settings(engagement, FEATURE)


def default_status(engagement: Engagement) -> str:
    value = settings(engagement).get("default_status")
    return value if value in STATUSES else str(DEFAULTS["default_status"])
