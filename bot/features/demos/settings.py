"""The defaults of the demo settings, their one place (registered by commands.register; an engagement's values,
sanitised: `service.settings(engagement)`)."""

from __future__ import annotations

from typing import Any

FEATURE = "demo"

DEFAULTS: dict[str, Any] = {
    "reminder_minutes": [1440, 60],  # reminders this many minutes before a demo
    "agenda_hours_before": 24,  # the vendor is asked for the agenda this long before
    "duration_minutes": 60,
    "default_title": "Sprint demo",
    "stale_check": True,  # whether the check for demos left without an outcome (reminders.stale_check) runs
}

# The stale-demo check runs weekly at the report's weekday and time (the "report" settings); these stand in when
# this Cadence runs without the report feature (no report defaults registered) or its values do not parse.
STALE_CHECK_SLOT: dict[str, Any] = {"weekday": 0, "time": "09:00"}
