"""Asking for a zone the platform will not tell: a member of another company's workspace whose profile
withholds it (tz_source "unknown", bot/kernel/people.py). Their prompts and reminders would silently fall at UTC;
instead they are asked once — a card with buttons for the likely zones (the engagement's home zone and those
of its members) — and told that, until they answer, their times are UTC. Channel posts need no answer: they
carry the platform's per-reader time tokens (bot/kernel/text.py `when`)."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.kernel.errors import UserError
from bot.kernel.messages import Button, Card, Reply
from bot.kernel.people import UNKNOWN_ZONE, memberships, zone
from bot.kernel.registry import Registry
from bot.kernel.zones import zone_or_utc
from storage.models import Engagement, Membership, Person

if TYPE_CHECKING:
    from bot.kernel.context import Ctx
    from bot.kernel.dispatcher import Cadence

PICK = "zone.pick"
MAX_CANDIDATES = 4  # buttons besides UTC: a short question, not a zone list


async def candidates(session: AsyncSession, engagement: Engagement, person: Person) -> list[str]:
    """Likely zones, most likely first: the engagement's home zone, then its members' zones by how many share
    them. UTC is offered separately."""
    counts: Counter[str] = Counter()
    for m in await memberships(session, engagement):
        if m.person_id == person.id:
            continue
        other = await session.get(Person, m.person_id)
        if other is not None and other.tz_source != UNKNOWN_ZONE and other.tz != "UTC":
            counts[other.tz] += 1
    ordered = [engagement.home_tz] if engagement.home_tz and engagement.home_tz != "UTC" else []
    ordered += [z for z, _ in counts.most_common() if z not in ordered]
    return ordered[:MAX_CANDIDATES]


def question(person: Person, engagement: Engagement, zones: list[str]) -> Card:
    buttons = [Button(z.replace("_", " "), PICK, f"{person.id}|{z}") for z in zones]
    buttons.append(Button("UTC", PICK, f"{person.id}|UTC"))
    return Card(
        title=f"{engagement.key}: which time zone are you in?",
        text=(
            "Your chat profile doesn't share your time zone with Cadence, so your standup prompts and reminders "
            "are scheduled in UTC until you pick one. Times posted in the channel already show in your own zone."
        ),
        buttons=buttons,
        footer="Not listed? Mention Cadence with `cadence tz <city>`, e.g. `@Cadence cadence tz Chicago`.",
        tone="warning",
    )


async def ask_once(session: AsyncSession, core: Cadence, person: Person, engagement: Engagement) -> None:
    """Ask `person` for their zone, once ever (the key is recorded with the question, in its transaction)."""
    if person.tz_source != UNKNOWN_ZONE:
        return
    if not await core.claim_event("zone_ask", str(person.id))(session):
        return
    card = question(person, engagement, await candidates(session, engagement, person))
    await core.outbox.dm(session, person, card, ref_key=f"zone_ask:{person.id}", engagement_id=engagement.id)


async def on_membership_changed(
    session: AsyncSession, core: Cadence, *, engagement: Engagement, person: Person, **_: Any
) -> None:
    await ask_once(session, core, person, engagement)


async def on_tz_changed(session: AsyncSession, core: Cadence, *, person: Person, **_: Any) -> None:
    """Their profile turned out to withhold the zone after they were seated: ask in their first engagement."""
    if person.tz_source != UNKNOWN_ZONE:
        return
    engagement_id = await session.scalar(
        select(Membership.engagement_id).where(Membership.person_id == person.id).order_by(Membership.id).limit(1)
    )
    engagement = await session.get(Engagement, engagement_id) if engagement_id else None
    if engagement is not None:
        await ask_once(session, core, person, engagement)


async def pick(ctx: Ctx, value: str) -> Reply:
    """A zone button: sets the clicker's own zone (the question in a shared thread is theirs alone)."""
    person_id, _, name = value.partition("|")
    if person_id != str(ctx.person.id):
        raise UserError("That question is for someone else. Set your own zone with `cadence tz <city>`.")
    if not name or zone_or_utc(name).key != name:
        raise UserError("That is not a time zone I know. Nothing was changed.")
    changed = name != ctx.person.tz
    ctx.person.tz, ctx.person.tz_source = name, "user"
    if changed:
        await ctx.core.emit(ctx.session, "person_tz_changed", person=ctx.person)
    local = ctx.now.astimezone(zone(ctx.person))
    done = Card(text=f"Time zone set: {name} (it is {local:%H:%M} there). Change it any time with `cadence tz`.")
    return Reply(private=[done], update=done)


def register(registry: Registry) -> None:
    registry.add_hook("membership_changed", on_membership_changed)
    registry.add_hook("person_tz_changed", on_tz_changed)
    registry.add_action(PICK, pick)
