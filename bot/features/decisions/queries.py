"""Read-only look-ups of decisions and action items: ids, lists, the dispute window, the link a decision names
(through the change requests', defects' and milestones' own queries), the meeting it belongs to, and who among
the seated members a name means. Nothing here writes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.change_requests import queries as change_requests
from bot.features.defects import queries as defects
from bot.features.meetings.queries import just_ended, meeting_ref
from bot.features.milestones import queries as milestones
from bot.features.milestones.queries import calendar_of
from bot.kernel.errors import UserError
from bot.kernel.people import CLIENT_ROLES, by_id, memberships
from bot.kernel.sides import ALL_ADMINS
from storage.models import Engagement, Identity, Person
from storage.models.decisions import ActionItem, Decision
from storage.models.meetings import Meeting, MeetingOccurrence
from storage.models.standups import StandupEntry

DEC_RE = re.compile(r"^(?:([A-Za-z][A-Za-z0-9]{1,9})-)?(?:DEC-?)?#?(\d{1,9})$", re.IGNORECASE)
ACTION_RE = re.compile(r"^(?:([A-Za-z][A-Za-z0-9]{1,9})-)?(?:A-?)?#?(\d{1,9})$", re.IGNORECASE)
# A change request, defect or milestone named anywhere in a decision's text: ACME-CR-7, ACME-D-12, ACME-M-1.
LINK_IN_TEXT = re.compile(r"\b([A-Za-z][A-Za-z0-9]{1,9})-(CR|D|M)-(\d{1,9})\b", re.IGNORECASE)
# After a bar: `| CR-7`, `| D-12`, `| M-1`, with or without the engagement's key.
LINK_AFTER_BAR = re.compile(r"^(?:([A-Za-z][A-Za-z0-9]{1,9})-)?(CR|D|M)-?#?(\d{1,9})$", re.IGNORECASE)
LINK_KINDS = {"CR": "change_request", "D": "defect", "M": "milestone"}
# With no meeting behind us, "disputed since the last meeting" looks back this far.
NO_MEETING_LOOKBACK = timedelta(days=7)


def decision_ref(engagement: Engagement, decision: Decision) -> str:
    return f"{engagement.key}-DEC-{decision.number}"


def action_ref(engagement: Engagement, item: ActionItem) -> str:
    return f"{engagement.key}-A-{item.number}"


def decision_key(decision: Decision) -> str:
    """The outbox ref of a decision's own card."""
    return f"decision:{decision.id}"


def action_key(item: ActionItem) -> str:
    return f"action:{item.id}"


def minutes_key(occurrence_id: int) -> str:
    """The outbox ref of the one card a meeting's recorded decisions and action items are posted in."""
    return f"minutes:{occurrence_id}"


def home_today(engagement: Engagement, now: datetime) -> date:
    return calendar_of(engagement).local_date(now)


def dispute_closes(engagement: Engagement, decided_at: datetime, days: int) -> datetime:
    """The end of the `days`th business day after the decision's date in the engagement's home calendar (the
    milestones' client calendar: home zone, Mon–Fri, the client country's holidays): local midnight after it."""
    cal = calendar_of(engagement)
    last = cal.add_days(cal.local_date(decided_at), days)
    return cal.at(last + timedelta(days=1), time(0, 0))


def last_open_day(engagement: Engagement, decision: Decision) -> date:
    """The last day a dispute was accepted, in the home calendar (the day before the closing midnight)."""
    return calendar_of(engagement).local_date(decision.dispute_closes_at) - timedelta(days=1)


def _key_matches(engagement: Engagement, key: str | None, raw: str, what: str, short: str) -> None:
    if key and key.upper() not in (engagement.key.upper(), short):
        raise UserError(f"{raw} is not {what} of {engagement.key}.")


async def find_decision(session: AsyncSession, engagement: Engagement, token: str) -> Decision:
    raw = (token or "").strip()
    m = DEC_RE.match(raw)
    if not m:
        raise UserError(f"“{raw[:40]}” is not a decision id; use one like `{engagement.key}-DEC-1`.")
    _key_matches(engagement, m.group(1), raw, "a decision", "DEC")
    found = await session.scalar(
        select(Decision).where(Decision.engagement_id == engagement.id, Decision.number == int(m.group(2)))
    )
    if found is None:
        raise UserError(f"There is no decision {engagement.key}-DEC-{int(m.group(2))}.")
    return found


async def find_action(session: AsyncSession, engagement: Engagement, token: str) -> ActionItem:
    raw = (token or "").strip()
    m = ACTION_RE.match(raw)
    if not m:
        raise UserError(f"“{raw[:40]}” is not an action item id; use one like `{engagement.key}-A-1`.")
    _key_matches(engagement, m.group(1), raw, "an action item", "A")
    found = await session.scalar(
        select(ActionItem).where(ActionItem.engagement_id == engagement.id, ActionItem.number == int(m.group(2)))
    )
    if found is None:
        raise UserError(f"There is no action item {engagement.key}-A-{int(m.group(2))}.")
    return found


async def load_decision(session: AsyncSession, decision_id: int, *, lock: bool = False) -> Decision | None:
    q = select(Decision).where(Decision.id == decision_id).execution_options(populate_existing=True)
    if lock:
        q = q.with_for_update(key_share=True)
    return await session.scalar(q)


async def load_action(session: AsyncSession, item_id: int, *, lock: bool = False) -> ActionItem | None:
    q = select(ActionItem).where(ActionItem.id == item_id).execution_options(populate_existing=True)
    if lock:
        q = q.with_for_update(key_share=True)
    return await session.scalar(q)


async def decisions_of(
    session: AsyncSession, engagement: Engagement, *, disputed: bool = False, limit: int | None = None
) -> list[Decision]:
    """The engagement's decisions, newest first."""
    q = select(Decision).where(Decision.engagement_id == engagement.id)
    if disputed:
        q = q.where(Decision.disputed_at.is_not(None))
    q = q.order_by(Decision.number.desc())
    if limit:
        q = q.limit(limit)
    return list(await session.scalars(q))


async def actions_of(
    session: AsyncSession, engagement: Engagement, *, open_only: bool = False, owner: Person | None = None
) -> list[ActionItem]:
    """The engagement's action items, earliest due first."""
    q = select(ActionItem).where(ActionItem.engagement_id == engagement.id)
    if open_only:
        q = q.where(ActionItem.state == "open")
    if owner is not None:
        q = q.where(ActionItem.owner_id == owner.id)
    return list(await session.scalars(q.order_by(ActionItem.due_date, ActionItem.number)))


async def open_actions_of_owner(session: AsyncSession, person: Person) -> list[ActionItem]:
    return list(
        await session.scalars(
            select(ActionItem)
            .where(ActionItem.owner_id == person.id, ActionItem.state == "open")
            .order_by(ActionItem.id)
        )
    )


async def on_card(session: AsyncSession, card_ref: str) -> tuple[list[Decision], list[ActionItem]]:
    """The decisions and action items posted under one card (a meeting's minutes)."""
    ds = list(await session.scalars(select(Decision).where(Decision.card_ref == card_ref).order_by(Decision.number)))
    items = list(
        await session.scalars(select(ActionItem).where(ActionItem.card_ref == card_ref).order_by(ActionItem.number))
    )
    return ds, items


# Names of the people on this job's cards and exports: the kernel's one look-up.
people = by_id


# -- what a decision links to -----------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    kind: str  # change_request | defect | milestone
    id: int
    ref: str  # "ACME-CR-7 · Export to CSV"


async def resolve_link(session: AsyncSession, engagement: Engagement, kind: str, token: str) -> Link:
    """The change request, defect or milestone `token` names in `engagement`, found by that feature's own
    queries; their UserError ("There is no change request ACME-CR-9.") when it does not exist."""
    if kind == "CR":
        cr = await change_requests.find(session, engagement, token)
        return Link("change_request", cr.id, f"{engagement.key}-CR-{cr.number} · {cr.title}")
    if kind == "D":
        d = await defects.find(session, engagement=engagement, text=token)
        return Link("defect", d.id, f"{defects.ref(engagement, d)} · {d.title}")
    m = await milestones.find(session, engagement, token)
    return Link("milestone", m.id, f"{milestones.ref(engagement, m)} · {m.title}")


def link_token(text: str) -> tuple[str, str, str | None]:
    """(the decision's text, the link's kind CR|D|M or "", its token) from `text | CR-7` or an id written in
    the text (`ACME-CR-7`). A bar followed by something that is no such id is refused."""
    if "|" in text:
        body, _, tail = text.rpartition("|")
        tail = tail.strip()
        if tail:
            m = LINK_AFTER_BAR.match(tail)
            if not m:
                raise UserError(
                    f"After `|` give a change request, defect or milestone id (`CR-7`, `D-12`, `M-1`); "
                    f"“{tail[:40]}” is none of them. Nothing was recorded."
                )
            return body.strip(), m.group(2).upper(), tail
        text = body
    m = LINK_IN_TEXT.search(text)
    if m:
        return text.strip(), m.group(2).upper(), m.group(0)
    return text.strip(), "", None


# -- meetings ---------------------------------------------------------------------------------------


async def meeting_now(session: AsyncSession, engagement: Engagement, now: datetime) -> tuple[int, int, str] | None:
    """(meeting id, occurrence id, "ACME-MTG-2 · Weekly sync") of the meeting that has just ended, if any."""
    found = await just_ended(session, engagement, now)
    if found is None:
        return None
    meeting, occ = found
    return meeting.id, occ.id, f"{meeting_ref(engagement, meeting)} · {meeting.title}"


def meeting_label(engagement: Engagement, meeting: Meeting) -> str:
    return f"{meeting_ref(engagement, meeting)} · {meeting.title}"


async def last_meeting_end(session: AsyncSession, engagement: Engagement, now: datetime) -> datetime:
    """When the engagement's last meeting before `now` ended (cancelled ones do not count); a week back when
    there was none."""
    ended = await session.scalar(
        select(func.max(MeetingOccurrence.ends_at)).where(
            MeetingOccurrence.engagement_id == engagement.id,
            MeetingOccurrence.status.in_(("scheduled", "ended")),
            MeetingOccurrence.ends_at <= now,
        )
    )
    return ended if ended is not None else now - NO_MEETING_LOOKBACK


# -- people -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    person: Person
    roles: tuple[str, ...]
    handles: tuple[str, ...]

    @property
    def client(self) -> bool:
        return bool(CLIENT_ROLES.intersection(self.roles))


async def seated_members(session: AsyncSession, engagement: Engagement) -> list[Member]:
    """Everyone holding a role in the engagement, with their handles on every platform."""
    out = []
    for ms in await memberships(session, engagement):
        if not ms.roles:
            continue
        person = await session.get(Person, ms.person_id)
        if person is None:
            continue
        handles = tuple(
            h.lower()
            for h in await session.scalars(select(Identity.handle).where(Identity.person_id == person.id))
            if h
        )
        out.append(Member(person, tuple(ms.roles), handles))
    return out


def match_member(members: list[Member], name: str) -> Member | None:
    """The one seated member `name` means: their handle, display name, or first name when only one has it.
    None when nobody or more than one matches."""
    wanted = name.strip().lstrip("@").strip().lower()
    if not wanted:
        return None
    for rule in (
        lambda m: wanted in m.handles,
        lambda m: (m.person.display_name or "").lower() == wanted,
        lambda m: (m.person.display_name or "").split(" ")[0].lower() == wanted,
    ):
        found = [m for m in members if rule(m)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            return None
    return None


async def admin_ids(session: AsyncSession, engagement: Engagement) -> tuple[int, ...]:
    """The person ids of both sides' admins (who may also mark any action item done)."""
    return tuple(m.person_id for m in await memberships(session, engagement) if ALL_ADMINS.intersection(m.roles or []))


async def occurrence_engagement(session: AsyncSession, occurrence_id: int) -> int | None:
    """The engagement a meeting occurrence belongs to (the clicker is then checked against it)."""
    return await session.scalar(select(MeetingOccurrence.engagement_id).where(MeetingOccurrence.id == occurrence_id))


async def standup_answer_in(session: AsyncSession, engagement: Engagement, answer_id: int) -> bool:
    """Whether the standup answer exists in this engagement (form state comes back from the client)."""
    found = await session.scalar(select(StandupEntry.engagement_id).where(StandupEntry.id == answer_id))
    return found == engagement.id
