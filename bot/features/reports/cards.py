"""The report as neutral cards: the weekly/on-demand report (with its chart attached: `build_report`) and
the App Home summary, laid out from the registered sections (each renders its own card and App Home fields).
Names are plain text, not mentions: a weekly post must not ping the whole team."""

from __future__ import annotations

import base64
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.reports import figures
from bot.features.reports.chart import chart_data, render_async
from bot.features.reports.figures import Figures
from bot.kernel.messages import Attachment, Card, Field
from bot.kernel.text import duration as text_duration
from bot.kernel.text import when
from storage.models import Engagement

if TYPE_CHECKING:
    from bot.features.reports.court import Court
    from bot.kernel.registry import Period, ReportSection

log = logging.getLogger("cadence.reports")


def duration(delta: timedelta | None) -> str:
    """ "45 min", "2 h 05 min", "3 d 4 h"; "—" when there is nothing to average."""
    return "—" if delta is None else text_duration(delta)


def court_card(courts: list[Court], period: Period) -> Card:
    """Per defect and change request: how long the ball was in each side's court (bot/features/reports/court.py)."""
    lines = [f"{c.ref}: vendor {duration(c.vendor)} · client {duration(c.client)}" for c in courts]
    return Card(title="Ball in court", text="\n".join(lines) or "nothing open in this period")


def report_card(f: Figures, png: bytes | None = None, *, footer: str = "") -> Card:
    eng = f.engagement
    sections = []
    if f.flags:
        sections.append(Card(title="⚠️ Needs attention", text="\n".join(f"• {x}" for x in f.flags), tone="danger"))
    sections += [s.card(f.values[s.name], f.period) for s in f.sections]
    card = Card(
        title=f"{eng.key} health report — last {f.period.name}",
        text=(
            f"{eng.name}: {when(f.period.start, 'date')} – {when(f.period.end, 'date')}. "
            + (
                f"{len(f.flags)} thing{'s' if len(f.flags) != 1 else ''} need{'' if len(f.flags) != 1 else 's'} "
                "attention."
                if f.flags
                else "Nothing needs attention."
            )
        ),
        sections=sections,
        footer=footer,
        tone="warning" if f.flags else "good",
    )
    if png:
        name = f"{eng.key}-health-{f.now:%Y%m%d}.png"
        card.attachments.append(
            Attachment(
                filename=name,
                content_b64=base64.b64encode(png).decode("ascii"),
                mime="image/png",
                title=f"{eng.key} health, last weeks",
            )
        )
    return card


def home_card(f: Figures) -> Card:
    """The App Home block of one engagement: the same figures, compact."""
    fields: list[Field] = []
    for s in f.sections:
        if s.home is not None:
            fields += s.home(f.values[s.name])
    return Card(
        title=f"{f.engagement.key} — {f.engagement.name} · last {f.period.name}",
        text="\n".join(f"⚠️ {x}" for x in f.flags),
        fields=fields,
        tone="warning" if f.flags else "good",
        footer="`/cadence report` posts the full report with charts.",
    )


def footer_for(next_at: datetime | None, lateness: timedelta | None = None) -> str:
    parts = []
    if lateness is not None and lateness > timedelta(minutes=5):
        parts.append(f"Sent {duration(lateness)} late (Cadence was unavailable at the scheduled time).")
    if next_at is not None:
        parts.append(f"Next weekly report {when(next_at)}.")
    return " ".join(parts)


async def build_report(
    session: AsyncSession,
    sections: list[ReportSection],
    engagement: Engagement,
    now: datetime,
    period: str = "week",
    *,
    footer: str = "",
) -> Card:
    """The report card of `engagement` for the period ending at `now`, its chart attached; `sections`: the
    registry's."""
    f = await figures.gather(session, sections, engagement, now, period)
    png = None
    try:
        png = await render_async(chart_data(f))
    except Exception:  # a chart that fails to draw must not cost the report
        log.exception("report chart of %s failed", engagement.key)
    return report_card(f, png, footer=footer)
