"""SLA policy and clock computation, pure (no database, no clock of its own).

A defect has two clocks, both started at its filing time:

- the response clock stops at the first acknowledgement;
- the resolution clock stops at resolve, does not run while the defect waits on the client or sits
  resolved (each such interval is a *pause*), and runs again from where it stopped on reopen.

Targets come from the policy (per severity: response, resolution, calendar 24×7 or business hours).
Because pauses are kept as intervals of real time, a severity change recomputes both targets from the
original filing time in the new severity's calendar, with the pause time already accrued kept.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from bot.features.defects.calendar import ZERO, AroundTheClock, BusinessHours, Calendar
from bot.features.defects.severity import SEVERITIES

RESPONSE = "response"
RESOLUTION = "resolution"
CLOCKS = (RESPONSE, RESOLUTION)
CAL_24X7 = "24x7"
CAL_BUSINESS = "business"

# The defaults of the defect settings (the SLA policy), their one place (registered by commands.register): S1–S4
# targets per clock and calendar; business hours in the engagement's support_tz, skipping support_country's
# holidays; warn_pct of a target elapsed before the warning. All of them are contract terms (bot/kernel/contract.py):
# changed by amendment once both sides have an admin.
DEFAULT_POLICY: dict[str, Any] = {
    "hours": {"start": "09:00", "end": "18:00", "days": [0, 1, 2, 3, 4]},
    "warn_pct": 75,
    "s1": {"response": "1h", "resolution": "24h", "calendar": CAL_24X7},
    "s2": {"response": "4h", "resolution": "48h", "calendar": CAL_24X7},
    "s3": {"response": "8h", "resolution": "5d", "calendar": CAL_BUSINESS},
    "s4": {"response": "2d", "resolution": "15d", "calendar": CAL_BUSINESS},
}

_UNIT = {
    "d": "d",
    "day": "d",
    "days": "d",
    "h": "h",
    "hr": "h",
    "hrs": "h",
    "hour": "h",
    "hours": "h",
    "m": "m",
    "min": "m",
    "mins": "m",
    "minute": "m",
    "minutes": "m",
}
log = logging.getLogger("cadence.defects")


def _zone_ok(tz: str) -> bool:
    try:
        BusinessHours(tz=tz)
        return True
    except ValueError:
        return False


_PART = re.compile(r"(\d+)\s*([a-z]+)")


def parse_duration(text: str) -> str:
    """Normalise "1h30m", "90 min", "2 business days", "1d 4h" to "1h30m" / "2d" / "1d4h".
    Days are calendar days on a 24×7 clock and business days (one window) on business hours.
    Raises ValueError with a reason."""
    t = text.strip().lower().replace("business", " ").replace(",", " ").replace("and", " ")
    if not t:
        raise ValueError("Give a duration such as 4h, 90m or 2d.")
    pos, days, hours, minutes = 0, 0, 0, 0
    for m in _PART.finditer(t):
        if t[pos : m.start()].strip():
            break
        unit = _UNIT.get(m.group(2))
        if unit is None:
            raise ValueError(f"I don't know the unit {m.group(2)!r}; use d, h or m (e.g. 4h, 90m, 2d).")
        n = int(m.group(1))
        days, hours, minutes = days + n * (unit == "d"), hours + n * (unit == "h"), minutes + n * (unit == "m")
        pos = m.end()
    if pos == 0 or t[pos:].strip():
        raise ValueError(f"{text.strip()!r} is not a duration; use e.g. 4h, 90m, 2d or 1d4h.")
    hours, minutes = hours + minutes // 60, minutes % 60
    if days == hours == minutes == 0:
        raise ValueError("A target must be longer than zero.")
    if days > 365 or hours > 24 * 365:
        raise ValueError("That target is longer than a year.")
    return "".join(f"{n}{u}" for n, u in ((days, "d"), (hours, "h"), (minutes, "m")) if n)


def duration_of(text: str, day: timedelta) -> timedelta:
    """A normalised duration as a timedelta, a day being `day` long."""
    total = ZERO
    for n, unit in re.findall(r"(\d+)([dhm])", text):
        total += {"d": day, "h": timedelta(hours=1), "m": timedelta(minutes=1)}[unit] * int(n)
    return total


def _hhmm(text: str) -> time:
    m = re.fullmatch(r"(\d{1,2})(?::(\d{2}))?", text.strip())
    if not m or int(m.group(1)) > 23 or int(m.group(2) or 0) > 59:
        raise ValueError(f"{text!r} is not a time of day (HH:MM).")
    return time(int(m.group(1)), int(m.group(2) or 0))


@dataclass(frozen=True)
class Policy:
    """A resolved policy: the business-hours calendar and the target table."""

    data: dict[str, Any]
    tz: str = "UTC"
    country: str | None = None

    @classmethod
    def from_settings(cls, settings: dict[str, Any] | None, tz: str, country: str | None) -> Policy:
        merged = copy.deepcopy(DEFAULT_POLICY)
        for key, value in (settings or {}).items():
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key].update(value)
            else:
                merged[key] = value
        return cls(data=merged, tz=tz or "UTC", country=country or None)

    def snapshot(self) -> dict[str, Any]:
        """What a defect keeps: the policy in force when it was filed."""
        return {**copy.deepcopy(self.data), "tz": self.tz, "country": self.country}

    @classmethod
    def from_snapshot(cls, snap: dict[str, Any]) -> Policy:
        snap = dict(snap)
        tz, country = snap.pop("tz", "UTC"), snap.pop("country", None)
        return cls.from_settings(snap, tz, country)

    @property
    def warn_pct(self) -> int:
        return int(self.data.get("warn_pct", DEFAULT_POLICY["warn_pct"]))

    def business_hours(self) -> BusinessHours:
        hours = {**DEFAULT_POLICY["hours"], **self.data.get("hours", {})}
        start, end = _hhmm(hours["start"]), _hhmm(hours["end"])
        weekdays = frozenset(hours["days"])
        try:
            return BusinessHours(tz=self.tz, country=self.country, start=start, end=end, weekdays=weekdays)
        except ValueError:
            # A zone or holiday calendar this installation no longer knows: keep the clock running on
            # what is known (UTC / no holidays) rather than failing every command; logged loudly.
            log.error("defect policy: unusable support zone %r or country %r; falling back", self.tz, self.country)
            tz = self.tz if _zone_ok(self.tz) else "UTC"
            return BusinessHours(tz=tz, country=None, start=start, end=end, weekdays=weekdays)

    def calendar(self, severity: str) -> Calendar:
        kind = self.data[severity].get("calendar", CAL_24X7)
        return self.business_hours() if kind == CAL_BUSINESS else AroundTheClock()

    def target_text(self, severity: str, clock: str) -> str:
        return self.data[severity][clock]

    def target(self, severity: str, clock: str) -> timedelta:
        return duration_of(self.data[severity][clock], self.calendar(severity).day_length())

    def describe_target(self, severity: str, clock: str) -> str:
        text = self.data[severity][clock]
        if self.data[severity].get("calendar") == CAL_BUSINESS:
            return f"{text} business"
        return text


def validate_change(settings: dict[str, Any], severity: str, what: str, value: str) -> dict[str, Any]:
    """Apply one `/defect policy` change to a settings dict (returns the new dict) or raise ValueError."""
    new = copy.deepcopy(settings)
    if severity not in SEVERITIES:
        raise ValueError("Severity must be one of S1–S4.")
    entry = dict(new.get(severity) or {})
    if what in (RESPONSE, RESOLUTION):
        entry[what] = parse_duration(value)
    elif what == "calendar":
        v = value.strip().lower().replace("×", "x").replace("*", "x").replace("/", "x")
        if v in ("24x7", "24 x 7", "always", "24h"):
            entry["calendar"] = CAL_24X7
        elif v in ("business", "business hours", "business-hours", "office", "bh"):
            entry["calendar"] = CAL_BUSINESS
        else:
            raise ValueError("Calendar must be 24x7 or business.")
    else:
        raise ValueError("Change response, resolution or calendar.")
    new[severity] = entry
    return new


# --------------------------------------------------------------------------- clocks

Pause = tuple[datetime, "datetime | None"]


def _running_segments(start: datetime, pauses: Sequence[Pause]) -> Iterable[tuple[datetime, datetime | None]]:
    """Intervals in which a clock started at `start` runs: [start, ∞) minus the pauses.
    The last segment's end is None (runs on) unless an open pause ends it for good."""
    cursor: datetime | None = start
    for p_start, p_end in sorted(pauses, key=lambda p: p[0]):
        if cursor is None:
            break
        if p_end is not None and p_end <= cursor:
            continue
        if p_start > cursor:
            yield cursor, p_start
        cursor = p_end if p_end is None or p_end > cursor else cursor
    if cursor is not None:
        yield cursor, None


def instant_at(calendar: Calendar, start: datetime, pauses: Sequence[Pause], amount: timedelta) -> datetime | None:
    """When the clock will have run for `amount`, or None if an open pause stops it before that."""
    remaining = amount
    for seg_start, seg_end in _running_segments(start, pauses):
        if seg_end is None:
            return calendar.add(seg_start, remaining)
        available = calendar.elapsed(seg_start, seg_end)
        if available >= remaining:
            return calendar.add(seg_start, remaining)
        remaining -= available
    return None


def elapsed_at(calendar: Calendar, start: datetime, pauses: Sequence[Pause], now: datetime) -> timedelta:
    """How long the clock has run by `now`."""
    total = ZERO
    for seg_start, seg_end in _running_segments(start, pauses):
        if seg_start >= now:
            break
        total += calendar.elapsed(seg_start, min(now, seg_end) if seg_end is not None else now)
    return total


@dataclass(frozen=True)
class Clock:
    """One SLA clock of one defect, computed at `now`."""

    name: str  # RESPONSE or RESOLUTION
    target: timedelta
    target_text: str
    elapsed: timedelta
    due_at: datetime | None  # None while paused (the deadline is not yet known)
    warn_at: datetime | None
    stopped_at: datetime | None  # response: acknowledged; resolution: resolved (while resolved)
    paused: bool  # waiting on the client
    breached: bool  # the target was exceeded (before the stop, or by now)

    @property
    def running(self) -> bool:
        return self.stopped_at is None and not self.paused

    @property
    def remaining(self) -> timedelta:
        return self.target - self.elapsed

    @property
    def pct(self) -> int:
        if not self.target:
            return 100
        return int(self.elapsed * 100 // self.target)


def warn_amount(target: timedelta, pct: int) -> timedelta:
    return timedelta(microseconds=target // timedelta(microseconds=1) * pct // 100)


def response_clock(
    policy: Policy, severity: str, filed_at: datetime, acknowledged_at: datetime | None, now: datetime
) -> Clock:
    cal = policy.calendar(severity)
    target = policy.target(severity, RESPONSE)
    due = cal.add(filed_at, target)
    stop = acknowledged_at
    until = min(now, stop) if stop else now
    elapsed = cal.elapsed(filed_at, until)
    return Clock(
        name=RESPONSE,
        target=target,
        target_text=policy.describe_target(severity, RESPONSE),
        elapsed=elapsed,
        due_at=due,
        warn_at=cal.add(filed_at, warn_amount(target, policy.warn_pct)),
        stopped_at=stop,
        paused=False,
        breached=stop > due if stop else now >= due,
    )


def resolution_clock(
    policy: Policy,
    severity: str,
    filed_at: datetime,
    pauses: Sequence[tuple[datetime, datetime | None, str]],
    now: datetime,
) -> Clock:
    """`pauses`: (start, end or None, kind) with kind "waiting" (paused) or "resolved" (stopped)."""
    cal = policy.calendar(severity)
    target = policy.target(severity, RESOLUTION)
    intervals = [(s, e) for s, e, _k in pauses if s <= now]
    open_pause = next(((s, k) for s, e, k in pauses if e is None), None)
    due = instant_at(cal, filed_at, intervals, target)
    warn = instant_at(cal, filed_at, intervals, warn_amount(target, policy.warn_pct))
    elapsed = elapsed_at(cal, filed_at, intervals, now)
    stopped_at = open_pause[0] if open_pause and open_pause[1] == "resolved" else None
    return Clock(
        name=RESOLUTION,
        target=target,
        target_text=policy.describe_target(severity, RESOLUTION),
        elapsed=elapsed,
        due_at=due,
        warn_at=warn,
        stopped_at=stopped_at,
        paused=bool(open_pause and open_pause[1] == "waiting"),
        breached=elapsed > target or (open_pause is None and elapsed >= target),
    )
