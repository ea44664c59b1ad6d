"""SLA figures: `defect_stats()` for any period (`/defect report` shows it), and the defects' section of the
engagement health report (`report_figures` … `export_range`, declared with `registry.add_report_section` in
commands.register).

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

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.defects import export
from bot.features.defects import states as st
from bot.features.defects.queries import clocks, ref
from bot.features.defects.severity import SEVERITIES
from bot.features.defects.sla import Clock
from bot.kernel.messages import Card, Field
from bot.kernel.registry import Period
from bot.kernel.text import duration, plural
from bot.shared.csvfile import instant, read_rows, write_rows
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


# -- the health report's section ---------------------------------------------------------------------------
async def report_figures(
    session: AsyncSession, engagement: Engagement, period: Period, now: datetime
) -> dict[str, Any]:
    """`defect_stats()` for the period."""
    return await defect_stats(session, engagement, period.start, period.end)


@dataclass
class DefectWeek:
    start: datetime
    end: datetime
    response_pct: float | None
    resolution_pct: float | None
    open_at_end: int


async def weeks(session: AsyncSession, engagement: Engagement, now: datetime, count: int) -> list[DefectWeek]:
    """SLA compliance in each of the last `count` 7-day windows ending at `now`, and how many defects were open
    (filed, not resolved or closed) at each window's end — from the defects and the intervals they sat
    resolved, so past weeks are exact even after later changes."""
    defects = list(await session.scalars(select(Defect).where(Defect.engagement_id == engagement.id)))
    out = []
    for w in range(count, 0, -1):
        end = now - timedelta(days=7 * (w - 1))
        start = end - timedelta(days=7)
        stats = await defect_stats(session, engagement, start, end)
        out.append(
            DefectWeek(
                start,
                end,
                stats["response"]["pct"],
                stats["resolution"]["pct"],
                sum(1 for d in defects if _open_at(d, end)),
            )
        )
    return out


def _open_at(defect: Defect, at: datetime) -> bool:
    if defect.filed_at >= at:
        return False
    if defect.closed_at is not None and defect.closed_at <= at:
        return False
    for p in defect.pauses:
        if p.kind == "resolved" and p.started_at <= at and (p.ended_at is None or at < p.ended_at):
            return False
    return True


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:g} %"


def _duration(delta: timedelta | None) -> str:
    return "—" if delta is None else duration(delta)


def report_card(d: dict[str, Any], period: Period) -> Card:
    open_counts = " · ".join(f"{sev.upper()} {n}" for sev, n in d["open_by_severity"].items())

    def compliance(block: dict) -> str:
        if block["pct"] is None:
            return "— (nothing due)"
        return f"{block['pct']:g} % ({block['met']} met, {block['missed']} missed)"

    fields = [
        Field("Open now", open_counts, short=False),
        Field(f"Filed (last {period.name})", str(d["filed"])),
        Field(f"Breaches (last {period.name})", str(len(d["breaches"]))),
        Field("Response SLA", compliance(d["response"])),
        Field("Resolution SLA", compliance(d["resolution"])),
        Field("MTTA", _duration(d["mtta"])),
        Field("MTTR", _duration(d["mttr"])),
    ]
    return Card(title="Defects", fields=fields, tone="danger" if d["breaches"] else "info")


def report_flags(d: dict[str, Any], period: Period) -> list[tuple[int, str]]:
    """SLA breaches in the period (rank 60)."""
    if not d["breaches"]:
        return []
    n = len(d["breaches"])
    refs = ", ".join(sorted({b["ref"] for b in d["breaches"]}))
    return [(60, f"{plural(n, 'SLA breach', 'SLA breaches')} in the last {period.name}: {refs}.")]


def report_home(d: dict[str, Any]) -> list[Field]:
    opened = d["open_by_severity"]
    return [
        Field(
            "Defects",
            f"{sum(opened.values())} open (S1 {opened.get('s1', 0)}) · "
            f"response {_pct(d['response']['pct'])} · "
            f"resolution {_pct(d['resolution']['pct'])}",
        ),
        Field("MTTA / MTTR", f"{_duration(d['mtta'])} / {_duration(d['mttr'])}"),
    ]


async def export_range(session: AsyncSession, engagement: Engagement, period: Period, now: datetime) -> dict[str, str]:
    """`defects.csv`: the defects live at some point of the range (filed before its end, not closed before its
    start), from the feature's own export."""
    header, rows = read_rows(await export.export_csv(session, engagement, now))
    kept = []
    for r in rows:
        filed, closed = instant(r.get("filed_at_utc")), instant(r.get("closed_at_utc"))
        if filed is not None and filed < period.end and (closed is None or closed >= period.start):
            kept.append(r)
    return {"defects.csv": write_rows(header, kept)}
