"""When the weekly report goes out: the report's weekday and time in the engagement's home zone,
DST-correct (the local wall time is kept; the UTC instant moves with the zone's offset).

One timer row per engagement and ISO week, keyed `report.weekly:{engagement id}:{ISO year}-W{week}`:
after each firing the next week's row is materialised, so a duplicate is impossible and a restart
loses nothing. Re-planned when an engagement is created, when its report settings change and when
its home zone changes."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.reports.settings import DEFAULTS, FEATURE
from bot.kernel.engagements import feature_settings
from bot.kernel.zones import zone_or_utc
from storage.models import Engagement, Timer

if TYPE_CHECKING:
    from bot.kernel.dispatcher import Cadence

KIND = "report.weekly"
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def settings(engagement: Engagement) -> dict[str, Any]:
    """The engagement's report settings, sanitised (weekday 0–6, time HH:MM, enabled)."""
    s = feature_settings(engagement, FEATURE)
    try:
        weekday = int(s.get("weekday", DEFAULTS["weekday"])) % 7
    except (TypeError, ValueError):
        weekday = DEFAULTS["weekday"]
    try:
        at = _hhmm(s.get("time", DEFAULTS["time"]))
    except (TypeError, ValueError):
        at = _hhmm(DEFAULTS["time"])
    return {"weekday": weekday, "time": at, "enabled": bool(s.get("enabled", DEFAULTS["enabled"]))}


def _hhmm(text: object) -> time:
    hh, mm = (int(x) for x in str(text).split(":", 1))
    return time(hh, mm)


def next_slot(engagement: Engagement, after: datetime) -> datetime:
    """The first report time strictly after `after` (UTC)."""
    conf = settings(engagement)
    zone = zone_or_utc(engagement.home_tz)
    local = after.astimezone(zone)
    day = local.date() + timedelta(days=(conf["weekday"] - local.weekday()) % 7)
    for _ in range(3):
        candidate = datetime.combine(day, conf["time"], tzinfo=zone).astimezone(UTC)
        if candidate > after:
            return candidate
        day += timedelta(days=7)
    raise AssertionError("unreachable")  # pragma: no cover


def key_for(engagement: Engagement, slot: datetime) -> str:
    iso = slot.astimezone(zone_or_utc(engagement.home_tz)).isocalendar()
    return f"{KIND}:{engagement.id}:{iso.year}-W{iso.week:02d}"


def prefix(engagement: Engagement) -> str:
    return f"{KIND}:{engagement.id}:"


async def plan(
    session: AsyncSession, core: Cadence, engagement: Engagement, after: datetime, *, keep: str | None = None
) -> Timer | None:
    """Make the next weekly report timer of `engagement` the only pending one (None when reports are
    off). A week whose report already went out is skipped. `keep`: the key of a timer that is firing
    right now (left alone)."""
    pending = list(
        await session.scalars(
            select(Timer).where(Timer.key.startswith(prefix(engagement), autoescape=True), Timer.status == "pending")
        )
    )
    if not settings(engagement)["enabled"]:
        for t in pending:
            if t.key != keep:
                t.status = "cancelled"
        return None
    slot = next_slot(engagement, after)
    for _ in range(520):  # ten years of weeks: a week that already had its report is skipped
        existing = await core.timers.get(session, key_for(engagement, slot))
        if existing is None or (existing.status in ("pending", "cancelled") and existing.key != keep):
            break
        slot = next_slot(engagement, slot)
    key = key_for(engagement, slot)
    for t in pending:
        if t.key not in (key, keep):
            t.status = "cancelled"
    return await core.timers.schedule(
        session, kind=KIND, due_at=slot, key=key, payload={"engagement": engagement.id}, engagement_id=engagement.id
    )


def describe(engagement: Engagement) -> str:
    conf = settings(engagement)
    if not conf["enabled"]:
        return "Weekly report: off."
    return (
        f"Weekly report: {DAY_NAMES[conf['weekday']].capitalize()} {conf['time']:%H:%M} "
        f"{engagement.home_tz} (home zone)."
    )
