"""SLA figures: `defect_stats()` for any period (the weekly report uses it; `/defect report` shows it).

Definitions (docs/defects.md):
- a clock's outcome counts in the period in which it became known: *met* when it stopped in time
  (at the stop), *missed* when its deadline passed first (at the deadline) — so a defect is counted
  once per clock, and a breach counts even while the defect is still open;
- compliance = met / (met + missed), per clock;
- MTTA = mean wall-clock time from filing to first acknowledgement, over defects acknowledged in the
  period; MTTR = mean wall-clock time from filing to resolution, over defects resolved in the period
  (and not reopened since).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.defects import states as st
from bot.features.defects.queries import clocks, ref
from bot.features.defects.severity import SEVERITIES
from bot.features.defects.sla import Clock
from storage.models import Engagement
from storage.models.defects import Defect

PERIODS = {"week": timedelta(days=7), "month": timedelta(days=30)}


def _outcome(defect: Defect, clock: Clock, now: datetime) -> tuple[str, datetime] | None:
    """("met"|"missed", when it became known) for one clock at `now`, or None while undecided."""
    mark = getattr(defect, f"{clock.name}_breached_at")
    if mark is not None:
        return "missed", mark
    if clock.breached:
        return "missed", clock.due_at if clock.due_at is not None else now
    if clock.stopped_at is not None:
        return "met", clock.stopped_at
    return None


async def defect_stats(session: AsyncSession, engagement: Engagement, start: datetime, end: datetime) -> dict[str, Any]:
    """SLA figures of `engagement` for [start, end): open defects (as of `end`) by severity with time
    left, response/resolution compliance, MTTA, MTTR, breaches, out-of-warranty defects."""
    defects = list(
        await session.scalars(
            select(Defect).where(Defect.engagement_id == engagement.id, Defect.filed_at < end).order_by(Defect.number)
        )
    )
    result: dict[str, Any] = {
        "engagement": engagement.key,
        "start": start,
        "end": end,
        "filed": 0,
        "open_by_severity": dict.fromkeys(SEVERITIES, 0),
        "open": [],
        "response": {"met": 0, "missed": 0, "pct": None},
        "resolution": {"met": 0, "missed": 0, "pct": None},
        "mtta": None,
        "mttr": None,
        "mtta_seconds": None,
        "mttr_seconds": None,
        "breaches": [],
        "out_of_warranty": [],
    }
    ack_times: list[timedelta] = []
    fix_times: list[timedelta] = []
    for d in defects:
        rid = ref(engagement, d)
        response, resolution = clocks(d, end)
        if start <= d.filed_at < end:
            result["filed"] += 1
            if d.out_of_warranty:
                result["out_of_warranty"].append(rid)
        if d.state in st.ACTIVE:
            result["open_by_severity"][d.severity] += 1
            running = response if response.running else resolution
            result["open"].append(
                {
                    "ref": rid,
                    "id": d.id,
                    "title": d.title,
                    "severity": d.severity,
                    "state": d.state,
                    "clock": running.name,
                    "due_at": running.due_at,
                    "time_left": running.remaining,
                    "paused": running.paused,
                    "breached": bool(
                        response.breached or resolution.breached or d.response_breached_at or d.resolution_breached_at
                    ),
                    "out_of_warranty": d.out_of_warranty,
                }
            )
        for clock in (response, resolution):
            outcome = _outcome(d, clock, end)
            if outcome is None or not (start <= outcome[1] < end):
                continue
            result[clock.name][outcome[0]] += 1
            if outcome[0] == "missed":
                result["breaches"].append(
                    {
                        "ref": rid,
                        "id": d.id,
                        "title": d.title,
                        "severity": d.severity,
                        "clock": clock.name,
                        "at": outcome[1],
                        "out_of_warranty": d.out_of_warranty,
                    }
                )
        if d.acknowledged_at is not None and start <= d.acknowledged_at < end:
            ack_times.append(d.acknowledged_at - d.filed_at)
        if d.resolved_at is not None and start <= d.resolved_at < end:
            fix_times.append(d.resolved_at - d.filed_at)
    for name in ("response", "resolution"):
        met, missed = result[name]["met"], result[name]["missed"]
        result[name]["pct"] = round(100.0 * met / (met + missed), 1) if met + missed else None
    if ack_times:
        result["mtta"] = sum(ack_times, timedelta(0)) / len(ack_times)
        result["mtta_seconds"] = result["mtta"].total_seconds()
    if fix_times:
        result["mttr"] = sum(fix_times, timedelta(0)) / len(fix_times)
        result["mttr_seconds"] = result["mttr"].total_seconds()
    result["breaches"].sort(key=lambda b: b["at"])
    result["open"].sort(key=lambda o: (o["severity"], o["time_left"]))
    return result
