"""Milestones' part of every meeting agenda (`registry.add_agenda_section("milestones", order=50, …)`): the
milestones not accepted yet that are overdue or due within two weeks of the moment the agenda is built, in the
client's calendar, read through this feature's queries."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.milestones.queries import all_of, calendar_of, ref
from bot.kernel.text import day_text, plural, truncate
from storage.models import Engagement

TITLE = "Milestones due within two weeks or overdue"
AHEAD = timedelta(days=14)
ACCEPTED = ("accepted", "deemed_accepted")
STATE_TEXT = {"submitted": "submitted, waiting for acceptance", "rejected": "rejected, to resubmit"}


async def lines(session: AsyncSession, engagement: Engagement, now: datetime, kind: str) -> list[str]:
    """One line per milestone, by due date: `ACME-M-2 · Beta — overdue since Fri 8 Jan 2027 (3 days)` or
    `ACME-M-3 · Go-live (final) — due Fri 22 Jan 2027, in 11 days · submitted, waiting for acceptance`."""
    today = calendar_of(engagement).local_date(now)
    out = []
    for m in sorted(await all_of(session, engagement), key=lambda m: (m.due_date, m.number)):
        if m.state in ACCEPTED or m.due_date > today + AHEAD:
            continue
        days = (m.due_date - today).days
        if days < 0:
            when_ = f"overdue since {day_text(m.due_date)} ({plural(-days, 'day')})"
        elif days == 0:
            when_ = "due today"
        else:
            when_ = f"due {day_text(m.due_date)}, in {plural(days, 'day')}"
        state = STATE_TEXT.get(m.state)
        final = " (final)" if m.final else ""
        out.append(
            f"{ref(engagement, m)} · {truncate(m.title, 80)}{final} — {when_}" + (f" · {state}" if state else "")
        )
    return out
