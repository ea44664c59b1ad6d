"""The milestones feature's settings and their defaults — the one place they are declared.

Stored per engagement under the "milestones" key of its settings (`bot.kernel.engagements.feature_settings`);
an engagement only stores what it changed. `window_days`, `deemed_acceptance` and `warranty_months` are
contract terms in the domain (docs/milestones.md): until the contract knows them they are read here."""

from __future__ import annotations

from datetime import time
from typing import Any

from bot.kernel.engagements import feature_settings
from storage.models import Engagement

FEATURE = "milestones"

DEFAULTS: dict[str, Any] = {
    # The acceptance window: business days in the client's calendar (home zone, client country's holidays).
    "window_days": 10,
    # At the window's end without a decision: False = escalate to the client sponsor only; True = also
    # record the milestone as deemed accepted.
    "deemed_acceptance": False,
    # The warranty started by the project acceptance (the final milestone), in months; allowed 6–12.
    "warranty_months": 6,
    # A rejection's reasons become rectification items due this many business days later.
    "rectify_days": 5,
    # Vendor admins are told of a due date this many business days before it, at their local morning.
    "due_reminder_days": 3,
    # Local morning of a reminder (each reader's own zone; the channel's is the home zone).
    "morning": "09:00",
    # Both PMs are asked to hold the warranty review this many days before the warranty ends.
    "review_days_before": 30,
}
WARRANTY_MONTHS = range(6, 13)


def settings(engagement: Engagement) -> dict[str, Any]:
    """The engagement's milestone settings: the defaults (registered by commands.register) overlaid with what it
    changed."""
    return feature_settings(engagement, FEATURE)


def morning(engagement: Engagement) -> time:
    text = str(settings(engagement).get("morning") or DEFAULTS["morning"])
    try:
        hours, minutes = (int(x) for x in text.split(":", 1))
        return time(hours, minutes)
    except ValueError:
        return time(9, 0)


def warranty_months(engagement: Engagement) -> int:
    """The warranty length, held to the allowed 6–12 months whatever was stored."""
    months = int(settings(engagement).get("warranty_months") or DEFAULTS["warranty_months"])
    return min(max(months, WARRANTY_MONTHS.start), WARRANTY_MONTHS.stop - 1)
