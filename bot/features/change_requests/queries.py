"""Read-only look-ups of change requests: the engagement's settings and policy, a request by id or
reference, its round's decisions and tally, the contingency, what a card shows (`View`), lists, and what
waits for a person. Nothing here changes a row (`load(lock=True)` only locks one for the caller)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.change_requests.money import Contingency
from bot.features.change_requests.policy import Group, Policy, Tally, tally
from bot.features.change_requests.settings import FEATURE
from bot.features.change_requests.states import COMMITTED, OPEN, State
from bot.kernel import audit
from bot.kernel.engagements import feature_settings
from bot.kernel.errors import UserError
from bot.kernel.people import away_reason, by_id, local_date, membership_of, memberships
from bot.kernel.rows import get_or_refuse, must_get
from bot.kernel.text import person as mention
from storage.models import AuditEntry, Engagement, Person
from storage.models.change_requests import ChangeRequest, ChangeRequestDecision
from storage.models.defects import Defect
from storage.models.milestones import Milestone

ENTITY = "change_request"

ID_RE = re.compile(r"^(?:([A-Za-z][A-Za-z0-9]{1,9})-)?(?:CR-?)?#?(\d{1,9})$", re.IGNORECASE)

LIST_FILTERS = ("open", "mine", "pending-me", "all")


def settings(engagement: Engagement) -> dict[str, Any]:
    """The engagement's change-request settings (defaults merged: settings.py, registered by commands.register)."""
    return feature_settings(engagement, FEATURE)


def current_policy(engagement: Engagement) -> Policy:
    s = settings(engagement)
    return Policy.from_dict(
        {"groups": s["groups"], "both_sides_required": s["both_sides_required"], "minor": s["minor"]}
    )


def policy_of(cr: ChangeRequest, engagement: Engagement) -> Policy:
    """The rule that decides the request now: its current round's policy (copied in when the round started, so
    the terms in force then stay with it), as the minor-change rule when its estimate in force is under that
    round's minor threshold."""
    base = Policy.from_dict(cr.policy) if cr.policy else current_policy(engagement)
    return base.for_estimate(cr.effort_hours, cr.cost) if cr.assessed_at is not None else base


# -- one request ------------------------------------------------------------------------------------


async def load(session: AsyncSession, request_id: int, *, lock: bool = False) -> ChangeRequest | None:
    """A request by id; with `lock`, its row is locked until the transaction ends (SELECT … FOR UPDATE)."""
    q = select(ChangeRequest).where(ChangeRequest.id == request_id).execution_options(populate_existing=True)
    if lock:
        # FOR NO KEY UPDATE: serialises writers of the row like FOR UPDATE, but does not wait on the
        # KEY SHARE locks that inserting rows referencing it takes (decisions, audit), so a transaction that
        # did such an insert first cannot deadlock upgrading its lock (see service.lock_engagement).
        q = q.with_for_update(key_share=True)
    return await session.scalar(q)


async def find(session: AsyncSession, engagement: Engagement, token: str, *, lock: bool = False) -> ChangeRequest:
    """`ACME-CR-7`, `CR-7`, `#7` or `7` in `engagement`; UserError if there is no such request."""
    raw = (token or "").strip()
    m = ID_RE.match(raw)
    if not m:
        raise UserError(f"“{raw[:40]}” is not a change request id; use one like `{engagement.key}-CR-7` or `7`.")
    key, number = m.group(1), int(m.group(2))
    if key and key.upper() not in (engagement.key.upper(), "CR"):
        raise UserError(f"{raw} is not a change request of {engagement.key}.")
    cr = await session.scalar(
        select(ChangeRequest).where(ChangeRequest.engagement_id == engagement.id, ChangeRequest.number == number)
    )
    if cr is None:
        raise UserError(f"There is no change request {engagement.key}-CR-{number}.")
    if lock:
        cr = await load(session, cr.id, lock=True)
        if cr is None:
            raise UserError(f"There is no change request {engagement.key}-CR-{number}.")
    return cr


async def member_roles(session: AsyncSession, engagement: Engagement) -> dict[int, list[str]]:
    return {m.person_id: list(m.roles or []) for m in await memberships(session, engagement)}


async def roles_of(session: AsyncSession, engagement: Engagement, person: Person) -> set[str] | None:
    """The person's roles in `engagement`, or None if they are not a member."""
    m = await membership_of(session, engagement, person)
    return None if m is None else set(m.roles or [])


async def round_decisions(session: AsyncSession, cr: ChangeRequest) -> list[ChangeRequestDecision]:
    rows = await session.scalars(
        select(ChangeRequestDecision)
        .where(ChangeRequestDecision.request_id == cr.id, ChangeRequestDecision.round == cr.round)
        .order_by(ChangeRequestDecision.at, ChangeRequestDecision.id)
        .execution_options(populate_existing=True)
    )
    return list(rows)


async def my_decision(session: AsyncSession, cr: ChangeRequest, person: Person) -> ChangeRequestDecision | None:
    """The decision `person` clicked in the request's current round (for themselves or as a delegate)."""
    return await session.scalar(
        select(ChangeRequestDecision).where(
            ChangeRequestDecision.request_id == cr.id,
            ChangeRequestDecision.decided_by_id == person.id,
            ChangeRequestDecision.round == cr.round,
        )
    )


async def tally_of(session: AsyncSession, cr: ChangeRequest, engagement: Engagement) -> Tally:
    decisions = {d.approver_id: d.decision for d in await round_decisions(session, cr)}
    return tally(policy_of(cr, engagement), await member_roles(session, engagement), cr.requester_id, decisions)


# Names of the people on this job's cards and exports: the kernel's one look-up.
people = by_id


async def history(session: AsyncSession, cr: ChangeRequest) -> list[AuditEntry]:
    """Every recorded step of the request, oldest first."""
    return await audit.history(session, entity_type=ENTITY, entity_id=cr.id)


# -- the contingency --------------------------------------------------------------------------------


async def committed(session: AsyncSession, engagement: Engagement, *, exclude: int | None = None) -> Decimal:
    """Approved cost drawn from the contingency (approved, scheduled and delivered requests)."""
    q = select(func.coalesce(func.sum(ChangeRequest.cost), 0)).where(
        ChangeRequest.engagement_id == engagement.id, ChangeRequest.state.in_([s.value for s in COMMITTED])
    )
    if exclude is not None:
        q = q.where(ChangeRequest.id != exclude)
    return Decimal(str(await session.scalar(q) or 0)).quantize(Decimal("0.01"))


async def contingency(session: AsyncSession, engagement: Engagement, *, exclude: int | None = None) -> Contingency:
    budget = Decimal(str(engagement.budget)) if engagement.budget is not None else None
    return Contingency.of(budget, engagement.contingency_pct, await committed(session, engagement, exclude=exclude))


async def has_amounts(session: AsyncSession, eng: Engagement) -> bool:
    """Whether any amount was agreed in the engagement's currency: a budget, or a change request's cost."""
    if eng.budget:
        return True
    costed = await session.scalar(
        select(ChangeRequest.id).where(ChangeRequest.engagement_id == eng.id, ChangeRequest.cost.is_not(None)).limit(1)
    )
    return costed is not None


# -- what a card shows ------------------------------------------------------------------------------


@dataclass
class View:
    """Everything the card shows, gathered by `view()`."""

    cr: ChangeRequest
    engagement: Engagement
    people: dict[int, Person]
    policy: Policy
    tally: Tally | None
    decisions: list[ChangeRequestDecision]  # current round
    contingency: Contingency
    currency: str = ""
    away: dict[int, str] = field(default_factory=dict)  # approver id → why away today
    defect: str | None = None  # ACME-D-4: the out-of-warranty defect this request was converted from
    milestone: str | None = None  # ACME-M-2: the milestone an approved schedule impact moves
    # A revised estimate took the request over its round's minor threshold: the card says the normal rule is back.
    was_minor: bool = False

    def who(self, pid: int | None) -> str:
        if pid is None:
            return "Cadence"
        p = self.people.get(pid)
        return mention(pid, p.display_name if p else f"person {pid}")


async def view(session: AsyncSession, cr: ChangeRequest, engagement: Engagement, now: datetime) -> View:
    """Everything the request's card shows."""
    decisions = await round_decisions(session, cr)
    pol = policy_of(cr, engagement)
    t = None
    if cr.state not in (State.SUBMITTED, State.ASSESSED, State.WITHDRAWN):
        t = tally(
            pol,
            await member_roles(session, engagement),
            cr.requester_id,
            {d.approver_id: d.decision for d in decisions},
        )
    ids = {cr.requester_id} | {d.approver_id for d in decisions} | {d.decided_by_id for d in decisions}
    if cr.assessed_by_id:
        ids.add(cr.assessed_by_id)
    if t is not None:
        ids |= set(t.approvers())
    ppl = await people(session, ids)
    away = {}
    if cr.state == State.PENDING_APPROVAL and t is not None:
        for pid in t.approvers():
            p = ppl.get(pid)
            reason = away_reason(p, local_date(p, now)) if p else None
            if reason:
                away[pid] = reason
    was_minor = False
    if cr.state == State.PENDING_APPROVAL and pol.minor is not None and not pol.minor_applied:
        steps = await audit.history(session, entity_type=ENTITY, entity_id=cr.id)
        was_minor = any(e.action == "minor_no_longer" for e in steps)
    # A committed request's own cost is already in the committed sum.
    cont = await contingency(session, engagement)
    return View(
        cr=cr,
        engagement=engagement,
        people=ppl,
        policy=pol,
        tally=t,
        decisions=decisions,
        contingency=cont,
        currency=settings(engagement).get("currency") or "",
        away=away,
        was_minor=was_minor,
        **await links(session, cr, engagement),
    )


async def links(session: AsyncSession, cr: ChangeRequest, engagement: Engagement) -> dict[str, str | None]:
    """The ids of the defect the request came from and the milestone it names, as people write them."""
    d = await session.get(Defect, cr.defect_id) if cr.defect_id else None
    m = await session.get(Milestone, cr.milestone_id) if cr.milestone_id else None
    return {
        "defect": f"{engagement.key}-D-{d.number}" if d else None,
        "milestone": f"{engagement.key}-M-{m.number} “{m.title}”" if m else None,
    }


async def policy_holders(
    session: AsyncSession, engagement: Engagement, pol: Policy
) -> list[tuple[Group, list[str], int]]:
    """Each approver group of `pol` with the names of the members holding its roles, and how many they are."""
    members = await member_roles(session, engagement)
    out = []
    for g in pol.groups:
        holders = [pid for pid, rs in members.items() if set(rs) & set(g.roles)]
        names = []
        for pid in holders:
            p = await get_or_refuse(session, Person, pid)
            names.append(p.display_name)
        out.append((g, names, len(holders)))
    return out


# -- lists ------------------------------------------------------------------------------------------


async def listing(
    session: AsyncSession, engagement: Engagement, which: str, person: Person, now: datetime
) -> list[tuple[ChangeRequest, list[str]]]:
    """The requests of `/cr list <which>` (one of LIST_FILTERS), each with the names of the approvers it
    waits for. `pending-me`: those waiting for `person`, or for someone away whose delegate they are."""
    q = select(ChangeRequest).where(ChangeRequest.engagement_id == engagement.id).order_by(ChangeRequest.number)
    if which == "open":
        q = q.where(ChangeRequest.state.in_([s.value for s in OPEN]))
    elif which == "mine":
        q = q.where(ChangeRequest.requester_id == person.id)
    elif which == "pending-me":
        q = q.where(ChangeRequest.state == State.PENDING_APPROVAL.value)
    rows = list(await session.scalars(q))
    out: list[tuple[ChangeRequest, list[str]]] = []
    for cr in rows:
        names: list[str] = []
        if cr.state == State.PENDING_APPROVAL:
            waiting = (await tally_of(session, cr, engagement)).waiting_for()
            if which == "pending-me":
                if cr.requester_id == person.id:
                    continue  # a requester never decides their own request
                principals = [pid for pid in waiting if pid != person.id]
                mine = person.id in waiting
                for pid in principals:
                    p = await get_or_refuse(session, Person, pid)
                    if p.delegate_id == person.id and away_reason(p, local_date(p, now)):
                        mine = True
                if not mine:
                    continue
            for pid in waiting:
                p = await get_or_refuse(session, Person, pid)
                names.append(p.display_name)
        out.append((cr, names))
    return out


async def waiting_for(
    session: AsyncSession, person: Person, *, limit: int = 5
) -> list[tuple[ChangeRequest, Engagement]]:
    """The requests waiting for this person's own decision, longest waiting first (at most `limit`)."""
    rows = await session.scalars(
        select(ChangeRequest)
        .where(ChangeRequest.state == State.PENDING_APPROVAL.value)
        .order_by(ChangeRequest.pending_since)
    )
    out: list[tuple[ChangeRequest, Engagement]] = []
    for cr in rows:
        eng = await must_get(session, Engagement, cr.engagement_id)
        if await roles_of(session, eng, person) is None:
            continue
        t = await tally_of(session, cr, eng)
        if person.id not in t.waiting_for():
            continue
        out.append((cr, eng))
        if len(out) == limit:
            break
    return out
