"""The decisions feature's settings and their defaults — the one place they are declared.

Stored per engagement under the "decisions" key of its settings (`bot.kernel.engagements.feature_settings`)."""

from __future__ import annotations

from typing import Any

from bot.kernel.engagements import feature_settings
from storage.models import Engagement

FEATURE = "decisions"

DEFAULTS: dict[str, Any] = {
    # Either side may dispute a decision until the end of this many business days after it, in the
    # engagement's home calendar (home zone, Mon–Fri, the client country's holidays).
    "dispute_business_days": 2,
}


def settings(engagement: Engagement) -> dict[str, Any]:
    return feature_settings(engagement, FEATURE)


def dispute_days(engagement: Engagement) -> int:
    """The dispute window in business days, at least one whatever was stored."""
    try:
        return max(1, int(settings(engagement).get("dispute_business_days") or DEFAULTS["dispute_business_days"]))
    except (TypeError, ValueError):
        return int(DEFAULTS["dispute_business_days"])
