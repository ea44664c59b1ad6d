"""The rules of an engagement's set-up: creating it, binding channels, seating people (and the zones that
follow a side's first admin), a person's work days, holidays and absences, and changing a setting (a
contract term by amendment). `/cadence …` (commands.py) parses and calls these."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.kernel import announce, audit, contract, sides
from bot.kernel.context import Ctx, Place
from bot.kernel.engagements import bind, feature_settings, keep_currency, new_engagement, update_feature_settings
from bot.kernel.errors import UserError
from bot.kernel.messages import Card
from bot.kernel.people import role_label, zone
from bot.kernel.registry import Registry
from bot.kernel.text import person
from bot.shared.numbers import Money
from storage.models import Absence, ChannelBinding, Engagement, Membership, Person
from storage.results import rowcount

if TYPE_CHECKING:
    from bot.kernel.dispatcher import Cadence

# Engagement columns a person set with `/cadence settings`, which seating no longer derives.
EXPLICIT = contract.EXPLICIT_KEY
# `/cadence settings` names, as the home channel reads them.
SETTINGS = {
    "name": "engagement name",
    "home_tz": "home time zone (client's)",
    "support_tz": "vendor support zone (business-hours clocks)",
    "support_country": "vendor's holiday calendar",
    "client_country": "client's holiday calendar",
    "budget": "budget",
    "contingency": "contingency, % of budget",
    "iteration_days": "iteration length in days",
}
# Contract terms another feature changes (its command parses the value): `/cadence settings` points there.
ELSEWHERE = {
    "window_days": "/milestone settings window_days 15",
    "deemed_acceptance": "/milestone settings deemed_acceptance on",
    "warranty_months": "/milestone settings warranty_months 12",
    "warranty_end": "/milestone settings warranty_months 12",
}
# `/cadence settings` names that are contract terms (bot/kernel/contract.py): a change is an amendment.
CONTRACT_SETTINGS = {
    "support_tz": "sla.zone",
    "support_country": "sla.country",
    "budget": "budget",
    "contingency": "contingency",
    "iteration_days": "iteration_days",
}


def explicit_columns(eng: Engagement) -> list[str]:
    return list(feature_settings(eng, "engagement").get(EXPLICIT, []))


async def create_engagement(
    session: AsyncSession, registry: Registry, *, key: str, name: str, person: Person, now: datetime
) -> Engagement:
    """A new engagement set up by `person`, in their zone until the client's first admin is seated; the contract
    terms' columns start at the defaults their terms declared in the registry."""
    engagement = new_engagement(
        registry,
        key=key,
        name=name,
        home_tz=person.tz or "UTC",
        settings={},
        created_at=now,
        created_by_id=person.id,
    )
    session.add(engagement)
    await session.flush()
    return engagement


async def heal_binding(session: AsyncSession, place: Place) -> bool:
    """What the admins' "can no longer post" notice asks for: once the bot is back, setup here heals the
    binding (a failed binding gets no posts at all). True if one was healed."""
    healed = await session.execute(
        update(ChannelBinding)
        .where(
            ChannelBinding.platform == place.platform,
            ChannelBinding.workspace_id == place.workspace_id,
            ChannelBinding.channel_id == place.channel_id,
            ChannelBinding.failed_reason.is_not(None),
        )
        .values(failed_reason=None)
        .execution_options(synchronize_session=False)
    )
    return bool(rowcount(healed))


async def bind_here(
    session: AsyncSession, engagement: Engagement, place: Place, *, purpose: str, now: datetime
) -> None:
    """Bind the conversation `place` to `engagement` for `purpose` (home, escalation)."""
    await bind(
        session,
        engagement,
        platform=place.platform,
        workspace_id=place.workspace_id,
        channel_id=place.channel_id,
        channel_name=place.channel_name,
        conversation_ref=place.conversation_ref,
        purpose=purpose,
        now=now,
    )


async def seat(
    ctx: Ctx,
    eng: Engagement,
    membership: Membership,
    target: Person,
    before: list[str],
    after: list[str],
    *,
    how: str,
    zone_known: bool = True,
) -> None:
    """Apply a checked change of seats: derive the zones that follow a side's first admin, tell the home
    channel, record it, and let features react (a request waiting on someone who lost a role)."""
    membership.roles = after
    explicit = explicit_columns(eng)
    gained = set(after) - set(before)
    if gained & sides.ADMINS["client"] and "home_tz" not in explicit:
        client_admins = [m for m in await sides.admins_of(ctx.session, eng, "client") if m.id != membership.id]
        if not client_admins:  # the client's first admin: the home zone becomes theirs
            eng.home_tz = target.tz or eng.home_tz
    if "vendor_pm" in gained and "support_tz" not in explicit:
        others = [m for m in await sides.seated(ctx.session, eng) if m.id != membership.id]
        pms = [m for m in others if "vendor_pm" in m.roles]
        # The SLA calendar is a contract term: it follows the vendor PM only while one side could set it alone
        # (the vendor's first admin, or no client admin yet). A vendor re-seating its PM later changes no clock;
        # moving the calendar then is an amendment the client approves.
        vendor_had_admin = any(sides.is_admin(m.roles, "vendor") for m in others)
        client_has_admin = any(sides.is_admin(m.roles, "client") for m in others)
        if not pms and (not vendor_had_admin or not client_has_admin):
            # the vendor PM's office hours and holidays run the business-hours SLA clocks
            eng.support_tz = target.tz or eng.support_tz
            if "support_country" not in explicit and target.country:
                eng.support_country = target.country
    shown = ", ".join(role_label(r) for r in after) or "no role"
    was = ", ".join(role_label(r) for r in before) or "no role"
    note = {
        "first admin": " (the first admin of their side, seated by the other side)",
        "set-up": " (ran the set-up)",
    }.get(how, "")
    guess = (
        f"\nTheir time zone is not known yet, so times for {target.display_name} are a guess ({target.tz}) "
        "until they set it; I've asked them."
        if not zone_known and after
        else ""
    )
    card = Card(
        title=f"Seats in {eng.key}",
        text=f"{person(target.id, target.display_name)}: {was} → {shown}{note}. "
        f"Changed by {person(ctx.person.id, ctx.person.display_name)}.{guess}",
    )
    data = {"person_id": target.id, "before": before, "after": after, "how": how}
    if how == "set-up":  # the set-up card itself says who is seated: one post, not two
        await audit.record(
            ctx.session,
            now=ctx.now,
            engagement_id=eng.id,
            entity_type="membership",
            entity_id=membership.id,
            action="roles_changed",
            actor=ctx.person,
            data=data,
        )
    else:
        await announce.rule_change(
            ctx, eng, card, entity_type="membership", entity_id=membership.id, action="roles_changed", data=data
        )
    await ctx.core.emit(ctx.session, "membership_changed", engagement=eng, person=target)


# -- a person's days: work days, holidays, absences (prompts and clocks follow: absence_changed) ----------
async def set_work_days(session: AsyncSession, core: Cadence, who: Person, days: list[int]) -> None:
    who.work_days = sorted(days)
    await core.emit(session, "absence_changed", person=who)


async def set_working_hours(who: Person, hours: tuple[int, int] | None) -> None:
    """`who`'s working hours (minutes after their local midnight, checked by hours.parse_hours), or None: the
    default again. Meetings and demos read them when they are scheduled; nothing already planned moves."""
    who.work_start_minute, who.work_end_minute = hours if hours is not None else (None, None)


async def set_country(session: AsyncSession, core: Cadence, who: Person, code: str | None) -> None:
    who.country = code
    await core.emit(session, "absence_changed", person=who)


async def clear_absences(session: AsyncSession, core: Cadence, who: Person, now: datetime) -> None:
    """Remove `who`'s absences that have not ended yet (in their zone)."""
    today = now.astimezone(zone(who)).date()
    for a in list(who.absences):
        if a.end >= today:
            who.absences.remove(a)
    await core.emit(session, "absence_changed", person=who)


async def add_absence(session: AsyncSession, core: Cadence, who: Person, start: date, end: date, now: datetime) -> None:
    who.absences.append(Absence(start=start, end=end, created_at=now))
    await session.flush()
    await core.emit(session, "absence_changed", person=who)


# -- settings ------------------------------------------------------------------------------------------
def shown(column: str, value: object) -> str:
    if value is None:
        return "none" if column.endswith("country") else "not set"
    if column == "budget":
        return f"{value:,.2f}"
    if column == "contingency_pct":
        return f"{value:g} % of the budget"
    if column == "iteration_days":
        return f"{value} days"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


async def change_setting(ctx: Ctx, eng: Engagement, name: str, column: str, parsed: object) -> str | None:
    """Apply a parsed `/cadence settings` change: a contract term becomes an amendment (returns what to tell
    the person); the client side's settings are theirs once they have an admin; the rest change at once and
    the home channel is told (returns None)."""
    if isinstance(parsed, Money):  # the budget keeps its currency: one currency per engagement
        keep_currency(eng, parsed.currency, what="The budget")
        parsed = parsed.amount
    if name in CONTRACT_SETTINGS:
        said = await contract.amend(
            ctx, eng, term=CONTRACT_SETTINGS[name], new_text=shown(column, parsed), columns={column: parsed}
        )
        return said
    if name == "client_country" or name == "home_tz":
        side = sides.side_of(ctx.roles)
        if side != "client" and await sides.admins_of(ctx.session, eng, "client"):
            raise UserError(f"The {SETTINGS[name]} is the client side's to set. Nothing changed.")
    before = shown(column, getattr(eng, column))
    setattr(eng, column, parsed)
    if column == "home_tz":
        explicit = set(explicit_columns(eng)) | {"home_tz"}
        update_feature_settings(eng, "engagement", {EXPLICIT: sorted(explicit)})
    after = shown(column, parsed)
    await announce.rule_change(
        ctx,
        eng,
        Card(
            text=f"{person(ctx.person.id, ctx.person.display_name)} changed the {SETTINGS[name]}: {before} → {after}."
        ),
        entity_type="engagement",
        entity_id=eng.id,
        action="setting_changed",
        data={"setting": name, "before": before, "after": after},
    )
    await ctx.core.emit(ctx.session, "engagement_settings_changed", engagement=eng, feature="engagement")
    return None
