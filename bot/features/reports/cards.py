"""The report as neutral cards: the weekly/on-demand report (with its chart attached: `build_report`) and
the App Home summary. Names are plain text, not mentions: a weekly post must not ping the whole team."""

from __future__ import annotations

import base64
import logging
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.reports import figures
from bot.features.reports.chart import chart_data, render_async
from bot.features.reports.figures import Figures
from bot.kernel.messages import Attachment, Card, Field
from bot.kernel.text import duration as text_duration
from bot.kernel.text import plural, when
from storage.models import Engagement

STATE_LABELS = {
    "submitted": "Submitted",
    "assessed": "Assessed",
    "pending_approval": "Pending approval",
    "approved": "Approved",
    "rejected": "Rejected",
    "withdrawn": "Withdrawn",
    "scheduled": "Scheduled",
    "delivered": "Delivered",
}
OUTCOME_LABELS = {
    "accepted": "Accepted",
    "accepted_with_remarks": "Accepted with remarks",
    "not_accepted": "Not accepted",
}
NOT_INSTALLED = "not installed on this Cadence"

log = logging.getLogger("cadence.reports")


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value:g} %"


def duration(delta: timedelta | None) -> str:
    """ "45 min", "2 h 05 min", "3 d 4 h"; "—" when there is nothing to average."""
    return "—" if delta is None else text_duration(delta)


def money(amount: Decimal | None, currency: str = "") -> str:
    if amount is None:
        return "—"
    text = f"{amount:,.2f}"
    return f"{currency} {text}".strip() if currency else text


def _standups(f: Figures) -> Card:
    s = f.standups
    if s is None:
        return Card(title="Standups", text=NOT_INSTALLED)
    fields = [Field(p.name, f"{p.answered}/{p.expected} ({pct(p.pct)})") for p in s.people]
    text = (
        f"Participation {pct(s.pct)}: {s.answered} of {s.expected} prompted standups answered.\n"
        if s.expected
        else "No standup was prompted in this period.\n"
    )
    text += f"Blockers raised {s.blockers_raised}, closed {s.blockers_closed}; open now {s.blockers_open}."
    return Card(
        title="Standups",
        text=text,
        fields=fields or [Field("Participants", "none yet")],
        tone="warning" if s.blockers_open else "info",
    )


def _change_requests(f: Figures) -> Card:
    c = f.change_requests
    if c is None:
        return Card(title="Change requests", text=NOT_INSTALLED)
    states = ", ".join(f"{STATE_LABELS.get(k, k)} {v}" for k, v in c.by_state.items() if v) or "none yet"
    fields = [
        Field("By state", states, short=False),
        Field(f"Filed (last {f.period.name})", str(c.filed)),
        Field(f"Approved (last {f.period.name})", str(c.approved)),
        Field("Approved cost", money(c.approved_cost, c.currency)),
    ]
    if c.contingency_fund is None or c.contingency_left is None:
        fields.append(Field("Contingency left", "no budget set (`/cadence settings budget …`)"))
    else:
        share = f" ({float(c.contingency_left / c.contingency_fund * 100):.0f} %)" if c.contingency_fund else ""
        left, fund = money(c.contingency_left, c.currency), money(c.contingency_fund, c.currency)
        fields.append(Field("Contingency left", f"{left} of {fund}{share}"))
    return Card(title="Change requests", fields=fields, tone="warning" if c.waiting else "info")


def _defects(f: Figures) -> Card:
    d = f.defects
    if d is None:
        return Card(title="Defects", text=NOT_INSTALLED)
    open_counts = " · ".join(f"{sev.upper()} {n}" for sev, n in d["open_by_severity"].items())

    def compliance(block: dict) -> str:
        if block["pct"] is None:
            return "— (nothing due)"
        return f"{block['pct']:g} % ({block['met']} met, {block['missed']} missed)"

    fields = [
        Field("Open now", open_counts, short=False),
        Field(f"Filed (last {f.period.name})", str(d["filed"])),
        Field(f"Breaches (last {f.period.name})", str(len(d["breaches"]))),
        Field("Response SLA", compliance(d["response"])),
        Field("Resolution SLA", compliance(d["resolution"])),
        Field("MTTA", duration(d["mtta"])),
        Field("MTTR", duration(d["mttr"])),
    ]
    return Card(title="Defects", fields=fields, tone="danger" if d["breaches"] else "info")


def _courts(f: Figures) -> Card:
    """Per defect and change request: how long the ball was in each side's court (bot/features/reports/court.py)."""
    lines = [f"{c.ref}: vendor {duration(c.vendor)} · client {duration(c.client)}" for c in f.courts]
    return Card(title="Ball in court", text="\n".join(lines) or "nothing open in this period")


def _demos(f: Figures) -> Card:
    m = f.demos
    if m is None:
        return Card(title="Demos", text=NOT_INSTALLED)
    if m.last_at is None:
        last = "none yet"
    else:
        outcome = (
            OUTCOME_LABELS.get(m.last_outcome, "outcome not recorded yet")
            if m.last_outcome
            else "outcome not recorded yet"
        )
        last = f"{m.last_ref} {m.last_title} · {when(m.last_at)} — {outcome}"
        if m.last_remarks:
            last += f": {m.last_remarks[:200]}"
    nxt = f"{m.next_ref} {m.next_title} · {when(m.next_at)}" if m.next_at else "none planned (`/demo schedule`)"
    tone = "danger" if m.last_outcome == "not_accepted" else ("warning" if m.stale_flag else "info")
    return Card(
        title="Demos", fields=[Field("Last demo", last, short=False), Field("Next demo", nxt, short=False)], tone=tone
    )


def report_card(f: Figures, png: bytes | None = None, *, footer: str = "") -> Card:
    eng = f.engagement
    sections = []
    if f.flags:
        sections.append(Card(title="⚠️ Needs attention", text="\n".join(f"• {x}" for x in f.flags), tone="danger"))
    sections += [_standups(f), _change_requests(f), _defects(f), _courts(f), _demos(f)]
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
    fields = []
    if f.standups is not None:
        fields.append(
            Field("Standups", f"{pct(f.standups.pct)} answered · {plural(f.standups.blockers_open, 'blocker')} open")
        )
    if f.change_requests is not None:
        c = f.change_requests
        left = (
            f"{money(c.contingency_left, c.currency)} contingency left"
            if c.contingency_fund is not None
            else "no budget set"
        )
        fields.append(Field("Change requests", f"{c.by_state.get('pending_approval', 0)} pending approval · {left}"))
    if f.defects is not None:
        d = f.defects
        opened = d["open_by_severity"]
        fields.append(
            Field(
                "Defects",
                f"{sum(opened.values())} open (S1 {opened.get('s1', 0)}) · "
                f"response {pct(d['response']['pct'])} · "
                f"resolution {pct(d['resolution']['pct'])}",
            )
        )
        fields.append(Field("MTTA / MTTR", f"{duration(d['mtta'])} / {duration(d['mttr'])}"))
    if f.demos is not None:
        m = f.demos
        fields.append(
            Field(
                "Last demo",
                (f"{when(m.last_at, 'date')} — " + (OUTCOME_LABELS.get(m.last_outcome or "", "no outcome yet")))
                if m.last_at
                else "none yet",
            )
        )
        fields.append(Field("Next demo", when(m.next_at) if m.next_at else "none planned"))
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
    session: AsyncSession, engagement: Engagement, now: datetime, period: str = "week", *, footer: str = ""
) -> Card:
    """The report card of `engagement` for the period ending at `now`, its chart attached."""
    f = await figures.gather(session, engagement, now, period)
    png = None
    try:
        png = await render_async(chart_data(f))
    except Exception:  # a chart that fails to draw must not cost the report
        log.exception("report chart of %s failed", engagement.key)
    return report_card(f, png, footer=footer)
