"""The defaults of the weekly report's settings, their one place (registered by commands.register; an
engagement's values, sanitised: `schedule.settings(engagement)`)."""

from __future__ import annotations

from typing import Any

FEATURE = "report"

DEFAULTS: dict[str, Any] = {"weekday": 0, "time": "09:00", "enabled": True}  # Monday 09:00 in the home zone
