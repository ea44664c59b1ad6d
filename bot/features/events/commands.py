"""What either job's command handlers share: who may use them, the confirmation card with its Confirm and
Discard buttons, and the answers to Confirm and Discard."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.events.cards import schedule_text
from bot.features.events.drafts import D, EventDraft, at_suggestion, check_engagement
from bot.features.events.kinds import EventKind, Occ, S
from bot.kernel import hours
from bot.kernel.context import Ctx
from bot.kernel.errors import UserError
from bot.kernel.messages import Card, Field, Reply
from bot.kernel.registry import Hook
from bot.kernel.text import clean, when
from storage.models import Engagement

if TYPE_CHECKING:
    from bot.kernel.dispatcher import Cadence

Replan = Callable[[AsyncSession, "Cadence", Engagement, datetime], Awaitable[object]]


def member(ctx: Ctx) -> Engagement:
    """The engagement of the conversation, if the person is one of its members."""
    engagement = ctx.require_engagement()
    if ctx.membership is None:
        raise UserError(f"Only members of {engagement.key} can do that; ask a PM to add you with `/cadence role`.")
    return engagement


def confirmed(ctx: Ctx, draft_type: type[D], value: str) -> tuple[Engagement, D]:
    """The engagement and the draft behind a Confirm button, re-checked (a client can tamper with the value)."""
    engagement = member(ctx)
    draft = draft_type.from_value(value)
    check_engagement(draft, engagement)
    return engagement, draft


def confirmation_card(
    kind: EventKind[S, Occ], title: str, text: str, fields: list[Field], draft: EventDraft, check: hours.SlotCheck
) -> Card:
    """The confirmation (bot/kernel/hours.py: confirmation_card): when the slot is outside someone's working
    hours it says who and why and offers the suggested start as a second Confirm (a series keeps its rhythm on
    the suggested weekday); the organizer may still confirm as is."""
    suggested = at_suggestion(draft, check)
    offer = hours.Confirmation(
        f"{kind.name}.confirm",
        draft.to_value(),
        f"{kind.name}.discard",
        (suggested.to_value(), suggested.start_at, suggested.tz) if suggested is not None else None,
    )
    return hours.confirmation_card(title, text, fields, offer, check)


def scheduled(
    kind: EventKind[S, Occ], engagement: Engagement, series: S, occ: Occ, created: bool, follows: str
) -> Reply:
    """The Confirm button's card after a new event was saved (`follows`: what comes next), or found saved by
    an earlier Confirm of the same draft."""
    ref = kind.ref(engagement, series)
    if not created:
        return Reply(
            update=Card(title="Already scheduled", text=f"{ref} · {series.title} was saved already.", tone="info")
        )
    return Reply(
        update=Card(
            title=f"Scheduled {ref}: {series.title}",
            text=f"{schedule_text(series, occ.starts_at)} — {when(occ.starts_at)} your time. Announced in the home "
            f"channel with a calendar invite; {follows}",
            tone="good",
        )
    )


def moved(kind: EventKind[S, Occ], engagement: Engagement, series: S, occ: Occ, now_text: str) -> Reply:
    """The Confirm button's card after a move (`now_text`: where it is now, in the event's zone)."""
    return Reply(
        update=Card(
            title=f"Moved {kind.ref(engagement, series)}",
            text=f"Now {now_text} — {when(occ.starts_at)} your time. The updated invite is in the home channel.",
            tone="good",
        )
    )


async def on_discard(ctx: Ctx, value: str) -> Reply:
    return Reply(update=Card(text="Not saved. Nothing was changed.", tone="info"))


def replan_on_settings_change(owner: str, replan: Replan) -> Hook:
    """The `engagement_settings_changed` hook of a job: when its settings (`owner`, the job's settings name)
    change, the pending timers of its upcoming occurrences are planned again (`replan`: the job's
    service.replan_upcoming)."""

    async def hook(
        session: AsyncSession, core: Cadence, engagement: Engagement, feature: str | None = None, **_: object
    ) -> None:
        if feature == owner:
            await replan(session, core, engagement, core.clock.now())

    return hook


# A length of time in a settings command: '24h', '15m', '1h30', '2d', '60' (minutes).
_LENGTH_RE = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)(?:m|min)?)?")
MAX_REMINDERS = 5
MAX_LEAD = 14 * 1440  # minutes: a reminder or an agenda up to two weeks before


def length_minutes(token: str) -> int:
    """'24h', '15m', '1h30', '2d', '60' (minutes) → minutes; refused clearly otherwise."""
    m = _LENGTH_RE.fullmatch(token.strip().lower())
    if not m or not any(m.groups()):
        raise UserError(
            f"“{clean(token, limit=20, multiline=False)}” is not a length of time; write `24h`, `15m`, `90` or `2d`."
        )
    d, h, mins = (int(x or 0) for x in m.groups())
    return d * 1440 + h * 60 + mins


def reminder_minutes(text: str, *, what: str, usage: str) -> list[int]:
    """`/… settings reminders 24h,15m` (or `none`): the reminders' lead times, longest first; up to five, each
    between 1 minute and 14 days before the `what` (demo, meeting)."""
    tokens = [t for t in text.replace(",", " ").split() if t]
    if not tokens:
        raise UserError(f"Usage: `{usage}` (or `none`).")
    values = [] if tokens == ["none"] else sorted({length_minutes(t) for t in tokens}, reverse=True)
    if len(values) > MAX_REMINDERS or any(not 1 <= v <= MAX_LEAD for v in values):
        raise UserError(f"Up to five reminders, each between 1 minute and 14 days before the {what}.")
    return values
