"""Read-only look-ups of defects: their ids as people write them, the policy and clocks of a defect, a defect
by id or reference, a member's roles, lists, and a standup answer a defect came from. Nothing here changes a
row (`get(lock=True)` and `find(lock=True)` only lock one for the caller)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.defects import states as st
from bot.features.defects.severity import SEVERITIES
from bot.features.defects.sla import Clock, Policy, resolution_clock, response_clock
from bot.features.milestones.queries import acceptance, calendar_of
from bot.kernel import audit
from bot.kernel.engagements import feature_settings
from bot.kernel.errors import UserError
from storage.models import AuditEntry, Engagement, Membership, Person
from storage.models.change_requests import ChangeRequest
from storage.models.defects import Defect, DefectPause
from storage.models.standups import StandupEntry

ENTITY = "defect"
# Who may turn an out-of-warranty defect into a (billable) change request: the client's admins, since the
# request spends the client's money (docs/two-party.md: a side commits only itself).
CONVERTERS = ("client_sponsor", "client_pm")
FEATURE = "defect"
REF_RE = re.compile(r"^(?:([A-Za-z][A-Za-z0-9]{1,9})-)?(?:D-?)?#?(\d{1,9})$", re.IGNORECASE)


def ref(engagement: Engagement, defect: Defect) -> str:
    """The defect's id as people write it: ACME-D-12."""
    return f"{engagement.key}-D-{defect.number}"


def ref_key(defect: Defect) -> str:
    """The outbox ref of the filing card."""
    return f"defect:{defect.id}"


def engagement_policy(engagement: Engagement) -> Policy:
    return Policy.from_settings(
        feature_settings(engagement, FEATURE), engagement.support_tz or "UTC", engagement.support_country
    )


def policy_of(defect: Defect) -> Policy:
    return Policy.from_snapshot(defect.policy)


def pauses_of(defect: Defect) -> list[tuple[datetime, datetime | None, str]]:
    return [(p.started_at, p.ended_at, p.kind) for p in defect.pauses]


def clocks(defect: Defect, now: datetime) -> tuple[Clock, Clock]:
    """(response, resolution) clocks of `defect` at `now`."""
    policy = policy_of(defect)
    return (
        response_clock(policy, defect.severity, defect.filed_at, defect.acknowledged_at, now),
        resolution_clock(policy, defect.severity, defect.filed_at, pauses_of(defect), now),
    )


def open_pause(defect: Defect) -> DefectPause | None:
    return next((p for p in defect.pauses if p.ended_at is None), None)


async def get(session: AsyncSession, *, defect_id: int, lock: bool = False, skip_locked: bool = False) -> Defect | None:
    """One defect by database id (locked FOR UPDATE when `lock`, fresh from the database).
    With `skip_locked`, None when another transaction holds the row."""
    q = select(Defect).where(Defect.id == defect_id).execution_options(populate_existing=True)
    if lock:
        q = q.with_for_update(skip_locked=skip_locked)
    return await session.scalar(q)


async def exists(session: AsyncSession, defect_id: int) -> bool:
    """Whether the defect exists (without waiting for a lock on it)."""
    return await session.scalar(select(Defect.id).where(Defect.id == defect_id)) is not None


async def find(session: AsyncSession, *, engagement: Engagement, text: str, lock: bool = False) -> Defect:
    """The defect named `text` ("ACME-D-12", "D-12", "#12", "12") in `engagement`, or UserError."""
    m = REF_RE.match((text or "").strip())
    if not m:
        raise UserError(f"“{(text or '').strip()[:40]}” is not a defect id; write it like {engagement.key}-D-12.")
    if m.group(1) and m.group(1).upper() != engagement.key:
        raise UserError(f"{text.strip()} belongs to another engagement; this channel is {engagement.key}.")
    q = (
        select(Defect)
        .where(Defect.engagement_id == engagement.id, Defect.number == int(m.group(2)))
        .execution_options(populate_existing=True)
    )
    if lock:
        q = q.with_for_update()
    defect = await session.scalar(q)
    if defect is None:
        raise UserError(f"There is no defect {engagement.key}-D-{m.group(2)}.")
    return defect


async def roles_in(session: AsyncSession, engagement_id: int, person: Person) -> set[str]:
    m = await session.scalar(
        select(Membership).where(Membership.engagement_id == engagement_id, Membership.person_id == person.id)
    )
    return set(m.roles or []) if m else set()


async def listing(
    session: AsyncSession, engagement: Engagement, flt: str, person: Person, now: datetime
) -> list[Defect]:
    """The defects of `/defect list <flt>` (open, mine, s1…s4, breached, resolved, closed, all), most severe first."""
    q = select(Defect).where(Defect.engagement_id == engagement.id)
    if flt in ("open", "mine", *SEVERITIES):
        q = q.where(Defect.state.in_(st.ACTIVE))
    if flt in SEVERITIES:
        q = q.where(Defect.severity == flt)
    if flt == "mine":
        q = q.where(or_(Defect.assignee_id == person.id, Defect.reporter_id == person.id))
    if flt == "closed":
        q = q.where(Defect.state == st.CLOSED)
    if flt == "resolved":
        q = q.where(Defect.state == st.RESOLVED)
    rows = list(await session.scalars(q.order_by(Defect.severity, Defect.number)))
    if flt == "breached":
        rows = [
            d
            for d in rows
            if d.state != st.CLOSED
            and (d.response_breached_at or d.resolution_breached_at or any(c.breached for c in clocks(d, now)))
        ]
    return rows


async def open_for(session: AsyncSession, person: Person) -> list[Defect]:
    """Open defects assigned to this person, then ones they reported; most urgent first."""
    rows = list(
        await session.scalars(
            select(Defect)
            .where(Defect.state.in_(st.ACTIVE), or_(Defect.assignee_id == person.id, Defect.reporter_id == person.id))
            .order_by(Defect.severity, Defect.filed_at)
        )
    )
    rows.sort(key=lambda d: (d.assignee_id != person.id, d.severity, d.filed_at))
    return rows


async def history(
    session: AsyncSession, defect: Defect, *, last: int = 20
) -> tuple[list[AuditEntry], dict[int, Person]]:
    """The defect's `last` recorded steps (oldest first) and the people they assigned it to."""
    entries = (await audit.history(session, entity_type=ENTITY, entity_id=defect.id))[-last:]
    assignees: dict[int, Person] = {}
    for e in entries:
        assignee_id = e.data.get("to") if e.action == "assigned" else e.data.get("assigned_to")
        if assignee_id is not None and int(assignee_id) not in assignees:
            assignee = await session.get(Person, int(assignee_id))
            if assignee is not None:
                assignees[int(assignee_id)] = assignee
    return entries, assignees


async def standup_answer_in(session: AsyncSession, engagement: Engagement, answer_id: int) -> bool:
    """Whether the standup answer exists in this engagement (form state comes back from the client)."""
    entry = await session.get(StandupEntry, answer_id)
    return entry is not None and entry.engagement_id == engagement.id


@dataclass(frozen=True)
class Warranty:
    """What a defect's card says about the warranty: filed within it (until when), after it ended (when), or
    neither (before the project acceptance); and the change request it was converted to, if any."""

    until: date | None = None  # the warranty's last day, once the project is accepted
    within: bool = False  # filed on or after the project acceptance, up to the warranty's end
    change_request: str | None = None  # ACME-CR-3


async def warranty_until(session: AsyncSession, engagement: Engagement) -> date | None:
    found = await acceptance(session, engagement)
    return found.warranty_until if found else None


def filed_after(engagement: Engagement, until: date | None, filed_at: datetime) -> bool:
    """Filed after the warranty's last day, in the client's calendar (the acceptance's own)."""
    return until is not None and calendar_of(engagement).local_date(filed_at) > until


async def warranty(session: AsyncSession, engagement: Engagement, defect: Defect) -> Warranty:
    found = await acceptance(session, engagement)
    cr = await converted_to(session, defect)
    cr_ref = f"{engagement.key}-CR-{cr.number}" if cr else None
    if found is None:
        return Warranty(change_request=cr_ref)
    filed_on = calendar_of(engagement).local_date(defect.filed_at)
    return Warranty(
        until=found.warranty_until,
        within=found.accepted_on <= filed_on <= found.warranty_until,
        change_request=cr_ref,
    )


async def converted_to(session: AsyncSession, defect: Defect) -> ChangeRequest | None:
    return await session.scalar(select(ChangeRequest).where(ChangeRequest.defect_id == defect.id))
