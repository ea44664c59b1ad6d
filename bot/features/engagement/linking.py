"""`/cadence link`: one person, several platform identities.

Identities are per platform (a Slack user, a Teams user, a console name) and each starts as its own
person. `/cadence link` (in a direct message) gives a one-time code; `/cadence link CODE` sent from the
other platform joins the two: the identities, memberships (roles merged), absences and settings of one
person move to the other. Only a hash of the code is stored; it expires after 15 minutes and works once.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, select, update

from bot.kernel import audit, sides
from bot.kernel.context import Ctx
from bot.kernel.errors import UserError
from bot.kernel.messages import Card, Reply
from bot.kernel.registry import Registry
from storage.models import Absence, Engagement, Identity, Membership, Person
from storage.models.teams import LinkCode

CODE_TTL = timedelta(minutes=15)
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
CODE_LENGTH = 8


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


def normalize(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def code_hash(code: str) -> str:
    return hashlib.sha256(normalize(code).encode()).hexdigest()


async def link(ctx: Ctx) -> Reply:
    """/cadence link — get a code; /cadence link CODE — join this identity with the code's person."""
    code = ctx.args.strip()
    if not code:
        return await _issue(ctx)
    return await _redeem(ctx, code)


async def _issue(ctx: Ctx) -> Reply:
    if not ctx.place.is_dm:
        raise UserError("Ask me for a link code in a direct message: whoever sees the code can join your identities.")
    await ctx.session.execute(delete(LinkCode).where(LinkCode.person_id == ctx.person.id))
    code = new_code()
    ctx.session.add(
        LinkCode(code_hash=code_hash(code), person_id=ctx.person.id, created_at=ctx.now, expires_at=ctx.now + CODE_TTL)
    )
    minutes = int(CODE_TTL.total_seconds() // 60)
    return Reply(
        private=[
            Card(
                title="Link your identities",
                text=(
                    f"Your one-time code: {code}\n"
                    f"On your other platform, send `/cadence link {code}` to Cadence (in Teams: `cadence link {code}`) "
                    f"within {minutes} minutes. Keep it to yourself."
                ),
            )
        ]
    )


async def _redeem(ctx: Ctx, code: str) -> Reply:
    if len(normalize(code)) != CODE_LENGTH:
        raise UserError("A link code looks like `ABCD-EFGH`. Get one with `/cadence link` on your other platform.")
    row = await ctx.session.scalar(select(LinkCode).where(LinkCode.code_hash == code_hash(code)))
    if row is None or row.expires_at <= ctx.now:
        if row is not None:
            await ctx.session.delete(row)
        raise UserError(
            "That link code is unknown or has expired. Get a new one with `/cadence link` (in a direct "
            "message) on your other platform."
        )
    other = await ctx.session.get(Person, row.person_id)
    await ctx.session.delete(row)
    if other is None or other.id == ctx.person.id:
        return Reply.say("These identities are already linked: you are one person here.")
    # The older person stays (their history points at them); the newer one's identities join it.
    survivor, merged = (other, ctx.person) if other.id < ctx.person.id else (ctx.person, other)
    platforms = await merge_people(ctx, survivor, merged)
    await audit.record(
        ctx.session,
        now=ctx.now,
        engagement_id=None,
        entity_type="person",
        entity_id=survivor.id,
        action="identities_linked",
        actor=survivor,
        data={"merged_person_id": merged.id, "identities": platforms},
    )
    ctx.person = survivor
    return Reply.say(
        f"Linked. You are one person on {', '.join(sorted({p.split(':')[0] for p in platforms}))}: "
        "your roles, time zone and absences are shared.",
        tone="good",
    )


async def merge_people(ctx: Ctx, survivor: Person, merged: Person) -> list[str]:
    """Move `merged`'s identities, memberships (roles merged), absences and settings to `survivor`.
    The `merged` row stays (audit and feature records may point at it) with no identities."""
    session = ctx.session
    await _refuse_both_sides(ctx, survivor, merged)
    identities = list(await session.scalars(select(Identity).where(Identity.person_id.in_((survivor.id, merged.id)))))
    for ident in identities:
        ident.person_id = survivor.id
    kept = {
        m.engagement_id: m for m in await session.scalars(select(Membership).where(Membership.person_id == survivor.id))
    }
    changed: list[int] = []
    for m in list(await session.scalars(select(Membership).where(Membership.person_id == merged.id))):
        mine = kept.get(m.engagement_id)
        if mine is None:
            m.person_id = survivor.id
        else:
            mine.roles = list(dict.fromkeys([*(mine.roles or []), *(m.roles or [])]))
            if mine.standup_opt_in is None:
                mine.standup_opt_in = m.standup_opt_in
            if m.joined_at and mine.joined_at and m.joined_at < mine.joined_at:
                mine.joined_at = m.joined_at
            await session.delete(m)
        changed.append(m.engagement_id)
    await session.flush()
    await session.execute(update(Absence).where(Absence.person_id == merged.id).values(person_id=survivor.id))
    await session.execute(update(Person).where(Person.delegate_id == merged.id).values(delegate_id=survivor.id))
    await session.execute(delete(LinkCode).where(LinkCode.person_id == merged.id))
    tz_changed = False
    if merged.tz_source == "user" and survivor.tz_source != "user":
        survivor.tz, survivor.tz_source, tz_changed = merged.tz, "user", survivor.tz != merged.tz
    elif survivor.tz_source == "unknown" and merged.tz_source == "platform":
        # The survivor's zone was a guess (seated, never seen); the other account's platform knew it.
        survivor.tz, survivor.tz_source, tz_changed = merged.tz, "platform", survivor.tz != merged.tz
    elif survivor.tz in (None, "", "UTC") and merged.tz not in (None, "", "UTC"):
        survivor.tz, tz_changed = merged.tz, True
    if not survivor.country and merged.country:
        survivor.country = merged.country
    if getattr(survivor, "default_engagement_id", None) is None and getattr(merged, "default_engagement_id", None):
        survivor.default_engagement_id = merged.default_engagement_id
    await session.flush()
    # Features whose rows point at people (requesters, answers, assignees) may re-point them.
    await ctx.core.emit(session, "person_merged", survivor=survivor, merged=merged)
    if tz_changed:
        await ctx.core.emit(session, "person_tz_changed", person=survivor)
    for engagement_id in dict.fromkeys(changed):
        engagement = await session.get(Engagement, engagement_id)
        if engagement is not None:
            await ctx.core.emit(session, "membership_changed", engagement=engagement, person=survivor)
    return [f"{i.platform}:{i.workspace_id}:{i.user_id}" for i in identities]


async def _refuse_both_sides(ctx: Ctx, survivor: Person, merged: Person) -> None:
    """One person holds roles on one side of an engagement only: linking two accounts seated on different sides
    of the same engagement would seat one person on both (the client's sponsor approving as the vendor)."""
    seats = {
        m.engagement_id: m.roles or []
        for m in await ctx.session.scalars(select(Membership).where(Membership.person_id == survivor.id))
    }
    for m in await ctx.session.scalars(select(Membership).where(Membership.person_id == merged.id)):
        mine, theirs = sides.side_of(seats.get(m.engagement_id, [])), sides.side_of(m.roles or [])
        if mine and theirs and mine != theirs:
            engagement = await ctx.session.get(Engagement, m.engagement_id)
            key = engagement.key if engagement else str(m.engagement_id)
            raise UserError(
                f"These accounts are seated on different sides of {key} (one on the {mine} side, one on the "
                f"{theirs} side), and one person holds roles on one side only. Nothing was linked: ask an admin "
                "to take one of the seats first."
            )


def register(registry: Registry) -> None:
    registry.add_command(
        "cadence",
        "link",
        link,
        usage="/cadence link [CODE]",
        summary="link your Slack, Teams and console identities (a one-time code)",
        open_to_outsiders=True,
    )
