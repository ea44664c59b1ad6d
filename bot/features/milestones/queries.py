"""Read-only look-ups of milestones, rounds, rectification items, readiness and the warranty. Nothing here
writes; other features (defects, reports) may use `warranty_until` and `readiness`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.milestones.window import ClientCalendar
from bot.kernel.errors import UserError
from bot.kernel.people import by_id
from storage.models import Engagement
from storage.models.defects import Defect
from storage.models.milestones import (
    Milestone,
    MilestoneChange,
    MilestoneRound,
    ProjectAcceptance,
    RectificationItem,
)

# `ACME-M-3`, `M-3`, `M3`, `#3`, `3`; a rectification item adds `-R2`.
ID_RE = re.compile(r"^(?:([A-Za-z][A-Za-z0-9]{1,9})-)?(?:M-?)?#?(\d{1,9})$", re.IGNORECASE)
ITEM_RE = re.compile(r"^(?:([A-Za-z][A-Za-z0-9]{1,9})-)?(?:M-?)?#?(\d{1,9})-?R(\d{1,4})$", re.IGNORECASE)
# Defects that no longer count against readiness (the defects feature's resolved and closed states).
DONE_DEFECT_STATES = ("resolved", "closed")
# The readiness bar: no open critical (S1) defect, and open major (S2) ones under this share of all filed.
MAJOR_BAR_PCT = 1.0


def ref(engagement: Engagement, milestone: Milestone) -> str:
    return f"{engagement.key}-M-{milestone.number}"


def item_ref(engagement: Engagement, milestone: Milestone, item: RectificationItem) -> str:
    return f"{ref(engagement, milestone)}-R{item.number}"


def calendar_of(engagement: Engagement) -> ClientCalendar:
    """The client's calendar: the engagement's home zone (the client's) and the client country's holidays."""
    return ClientCalendar(tz=engagement.home_tz or "UTC", country=engagement.client_country)


def _key_matches(engagement: Engagement, key: str | None, raw: str) -> None:
    if key and key.upper() not in (engagement.key.upper(), "M"):
        raise UserError(f"{raw} is not a milestone of {engagement.key}.")


async def find(session: AsyncSession, engagement: Engagement, token: str) -> Milestone:
    """The milestone `token` names in `engagement`; UserError when there is none."""
    raw = (token or "").strip()
    m = ID_RE.match(raw)
    if not m:
        raise UserError(f"“{raw[:40]}” is not a milestone id; use one like `{engagement.key}-M-1` or `1`.")
    _key_matches(engagement, m.group(1), raw)
    found = await session.scalar(
        select(Milestone).where(Milestone.engagement_id == engagement.id, Milestone.number == int(m.group(2)))
    )
    if found is None:
        raise UserError(f"There is no milestone {engagement.key}-M-{int(m.group(2))}.")
    return found


async def find_item(session: AsyncSession, engagement: Engagement, token: str) -> tuple[Milestone, RectificationItem]:
    raw = (token or "").strip()
    m = ITEM_RE.match(raw)
    if not m:
        raise UserError(
            f"“{raw[:40]}” is not a rectification item; use one like `{engagement.key}-M-1-R2` (`/milestone show` "
            "lists them)."
        )
    _key_matches(engagement, m.group(1), raw)
    milestone = await find(session, engagement, m.group(2))
    item = await session.scalar(
        select(RectificationItem).where(
            RectificationItem.milestone_id == milestone.id, RectificationItem.number == int(m.group(3))
        )
    )
    if item is None:
        raise UserError(f"{ref(engagement, milestone)} has no rectification item R{int(m.group(3))}.")
    return milestone, item


async def load(session: AsyncSession, milestone_id: int, *, lock: bool = False) -> Milestone | None:
    q = select(Milestone).where(Milestone.id == milestone_id).execution_options(populate_existing=True)
    if lock:
        # FOR NO KEY UPDATE: serialises the decisions on one milestone without waiting on the KEY SHARE locks
        # that inserting rows referencing it takes (rounds, items, audit entries).
        q = q.with_for_update(key_share=True)
    return await session.scalar(q)


async def all_of(session: AsyncSession, engagement: Engagement) -> list[Milestone]:
    return list(
        await session.scalars(
            select(Milestone).where(Milestone.engagement_id == engagement.id).order_by(Milestone.number)
        )
    )


async def final_of(session: AsyncSession, engagement: Engagement) -> Milestone | None:
    return await session.scalar(
        select(Milestone).where(Milestone.engagement_id == engagement.id, Milestone.final.is_(True)).limit(1)
    )


async def round_of(session: AsyncSession, milestone: Milestone, number: int | None = None) -> MilestoneRound | None:
    """A round of the milestone (its current one by default)."""
    return await session.scalar(
        select(MilestoneRound)
        .where(MilestoneRound.milestone_id == milestone.id, MilestoneRound.round == (number or milestone.round))
        .execution_options(populate_existing=True)
    )


async def rounds(session: AsyncSession, milestone: Milestone) -> list[MilestoneRound]:
    return list(
        await session.scalars(
            select(MilestoneRound).where(MilestoneRound.milestone_id == milestone.id).order_by(MilestoneRound.round)
        )
    )


async def items(session: AsyncSession, milestone: Milestone, *, open_only: bool = False) -> list[RectificationItem]:
    q = select(RectificationItem).where(RectificationItem.milestone_id == milestone.id)
    if open_only:
        q = q.where(RectificationItem.done_at.is_(None))
    return list(await session.scalars(q.order_by(RectificationItem.number)))


async def pending_change(session: AsyncSession, milestone: Milestone) -> MilestoneChange | None:
    return await session.scalar(
        select(MilestoneChange).where(MilestoneChange.milestone_id == milestone.id, MilestoneChange.status == "pending")
    )


# Names of the people on this job's cards and exports: the kernel's one look-up.
people = by_id


async def acceptance(session: AsyncSession, engagement: Engagement) -> ProjectAcceptance | None:
    return await session.scalar(select(ProjectAcceptance).where(ProjectAcceptance.engagement_id == engagement.id))


async def warranty_until(session: AsyncSession, engagement: Engagement) -> date | None:
    """The warranty's last day, once the project is accepted (the final milestone); None before."""
    found = await acceptance(session, engagement)
    return found.warranty_until if found else None


@dataclass(frozen=True)
class Readiness:
    """Open S1 (critical) and S2 (major) defects against the bar: none critical, majors under 1 % of all
    defects filed in the engagement."""

    critical: list[str] = field(default_factory=list)  # "ACME-D-4 Checkout down"
    major: list[str] = field(default_factory=list)
    filed: int = 0

    @property
    def major_pct(self) -> float:
        return 100.0 * len(self.major) / self.filed if self.filed else 0.0

    @property
    def met(self) -> bool:
        return not self.critical and self.major_pct < MAJOR_BAR_PCT

    def text(self) -> str:
        head = (
            f"{len(self.critical)} open critical (S1), {len(self.major)} open major (S2) of "
            f"{self.filed} defects filed ({self.major_pct:.1f} %)."
        )
        verdict = (
            "The bar (0 critical, under 1 % major) is met."
            if self.met
            else "⚠️ The bar (0 critical, under 1 % major) is NOT met."
        )
        named = [f"S1 {d}" for d in self.critical] + [f"S2 {d}" for d in self.major]
        return "\n".join([head, verdict, *named])


async def readiness(session: AsyncSession, engagement: Engagement) -> Readiness:
    """The open S1 and S2 defects of the engagement, read from the defects table (read-only)."""
    rows = list(
        await session.scalars(
            select(Defect)
            .where(
                Defect.engagement_id == engagement.id,
                Defect.severity.in_(("s1", "s2")),
                Defect.state.not_in(DONE_DEFECT_STATES),
            )
            .order_by(Defect.number)
        )
    )
    filed = await session.scalar(select(func.count(Defect.id)).where(Defect.engagement_id == engagement.id)) or 0

    def named(d: Defect) -> str:
        return f"{engagement.key}-D-{d.number} {d.title}"

    return Readiness(
        critical=[named(d) for d in rows if d.severity == "s1"],
        major=[named(d) for d in rows if d.severity == "s2"],
        filed=int(filed),
    )
