"""The defaults of the meeting settings, their one place (registered by commands.register), the kinds of meeting
with their default titles, and the engagement's values sanitised (`settings(engagement)`)."""

from __future__ import annotations

from typing import Any

from bot.features.events.commands import MAX_LEAD
from bot.kernel.engagements import feature_settings
from storage.models import Engagement

FEATURE = "meeting"

DEFAULTS: dict[str, Any] = {
    "reminder_minutes": [1440, 15],  # reminders this many minutes before each meeting, in the home channel
    "agenda_lead_minutes": 60,  # the agenda is built and posted this long before each meeting
    "duration_minutes": 60,
}

# The kinds of meeting and the title each gets when none is given. A sync is the default kind.
KINDS: dict[str, str] = {"sync": "Weekly sync", "review": "Monthly review", "kickoff": "Kick-off", "other": "Meeting"}
DEFAULT_KIND = "sync"
MAX_DURATION = 8 * 60


def settings(engagement: Engagement) -> dict[str, Any]:
    """The engagement's meeting settings, sanitised (they are editable data): a bad value falls back to the
    default above."""
    s = feature_settings(engagement, FEATURE)
    try:
        s["reminder_minutes"] = sorted({int(m) for m in s.get("reminder_minutes") or [] if 0 < int(m) <= MAX_LEAD})[
            ::-1
        ]
    except (TypeError, ValueError):
        s["reminder_minutes"] = list(DEFAULTS["reminder_minutes"])
    for key, low, high in (("agenda_lead_minutes", 1, MAX_LEAD), ("duration_minutes", 5, MAX_DURATION)):
        try:
            s[key] = max(low, min(int(s.get(key) or DEFAULTS[key]), high))
        except (TypeError, ValueError):
            s[key] = DEFAULTS[key]
    return s
