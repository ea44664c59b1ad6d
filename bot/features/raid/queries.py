"""Read-only look-ups of the RAID log: an item's id as people write it (`ACME-R-4`), an item by id, the open
items in the order people read them, what is red or past its review date, and an item's history. Nothing here
changes a row."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.kernel.errors import UserError
from bot.kernel.people import by_id
from bot.kernel.zones import zone_or_utc
from storage.models import Engagement, Person
from storage.models.raid import RaidChange, RaidItem

ENTITY = "raid"
OPEN, CLOSED = "open", "closed"
# `ACME-R-4`, `R-4`, `R4`, `#4`, `4`. Milestones' rectification items are `ACME-M-1-R1`: the `-M-` keeps them apart.
REF_RE = re.compile(r"^(?:([A-Za-z][A-Za-z0-9]{1,9})-)?(?:R-?)?#?(\d{1,9})$", re.IGNORECASE)
LIST_FILTERS = ("open", "all", "red", "mine")


def ref(engagement: Engagement, item: RaidItem) -> str:
    return f"{engagement.key}-R-{item.number}"


def home_today(engagement: Engagement, now: datetime) -> date:
    """Today in the engagement's home zone: the calendar the channel, the report and agendas read."""
    return now.astimezone(zone_or_utc(engagement.home_tz)).date()


def past_review(item: RaidItem, today: date) -> bool:
    return item.state == OPEN and item.review_on is not None and item.review_on < today


async def find(session: AsyncSession, engagement: Engagement, token: str, *, lock: bool = False) -> RaidItem:
    """The item named `token` in `engagement`, or UserError."""
    raw = (token or "").strip()
    m = REF_RE.match(raw)
    if not m:
        raise UserError(f"“{raw[:40]}” is not a RAID item id; write it like {engagement.key}-R-3.")
    if m.group(1) and m.group(1).upper() not in (engagement.key.upper(), "R"):
        raise UserError(f"{raw} is not an item of {engagement.key}'s RAID log.")
    q = select(RaidItem).where(RaidItem.engagement_id == engagement.id, RaidItem.number == int(m.group(2)))
    if lock:
        q = q.with_for_update()
    item = await session.scalar(q.execution_options(populate_existing=True))
    if item is None:
        raise UserError(f"There is no RAID item {engagement.key}-R-{m.group(2)}.")
    return item


def reading_order(items: list[RaidItem], today: date) -> list[RaidItem]:
    """Reds first, then items past their review date, then the rest; by number within each."""
    return sorted(items, key=lambda i: (i.status != "red", not past_review(i, today), i.number))


async def items_of(session: AsyncSession, engagement: Engagement, *, open_only: bool = True) -> list[RaidItem]:
    q = select(RaidItem).where(RaidItem.engagement_id == engagement.id)
    if open_only:
        q = q.where(RaidItem.state == OPEN)
    return list(await session.scalars(q.order_by(RaidItem.number)))


async def listing(
    session: AsyncSession, engagement: Engagement, which: str, person: Person, now: datetime
) -> list[RaidItem]:
    """The items of `/raid list <which>` (LIST_FILTERS) in reading order: open items (`all`: closed ones too,
    after the open ones), `red`: the open reds, `mine`: the open items `person` owns."""
    today = home_today(engagement, now)
    rows = await items_of(session, engagement, open_only=which != "all")
    if which == "red":
        rows = [i for i in rows if i.status == "red"]
    elif which == "mine":
        rows = [i for i in rows if i.owner_id == person.id]
    return sorted(reading_order(rows, today), key=lambda i: i.state != OPEN)


async def attention(session: AsyncSession, engagement: Engagement, now: datetime) -> list[RaidItem]:
    """Open items that are red or past their review date, in reading order (the agenda's and the report's)."""
    today = home_today(engagement, now)
    rows = [i for i in await items_of(session, engagement) if i.status == "red" or past_review(i, today)]
    return reading_order(rows, today)


async def changes(session: AsyncSession, item: RaidItem) -> list[RaidChange]:
    rows = await session.scalars(select(RaidChange).where(RaidChange.item_id == item.id).order_by(RaidChange.id))
    return list(rows)


# Names of the people on this job's cards and exports: the kernel's one look-up.
people = by_id


@dataclass(frozen=True)
class Counts:
    """Open items by kind and by status."""

    by_kind: dict[str, int]
    by_status: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_kind.values())
