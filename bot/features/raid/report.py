"""The RAID log's section of the engagement health report (declared with `registry.add_report_section` in
commands.register) and its files of `/cadence export`.

- *open*: items open now, counted by kind and by status;
- *added / closed*: items added, and items closed, in the period ([start, end));
- *red* and *past review*: open items now red, or whose review date is before today in the home zone.
Flags: each red item (rank 35), items past their review date (rank 45)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.raid.queries import OPEN, home_today, items_of, past_review, people, ref
from bot.features.raid.settings import KINDS, STATUSES
from bot.kernel.messages import Card, Field
from bot.kernel.registry import Period
from bot.kernel.text import day_text, plural, truncate
from bot.shared.csvfile import to_csv
from storage.models import Engagement
from storage.models.raid import RaidChange

RED_RANK = 35
PAST_REVIEW_RANK = 45


@dataclass
class RaidFigures:
    today: date
    by_kind: dict[str, int] = field(default_factory=dict)  # open items
    by_status: dict[str, int] = field(default_factory=dict)  # open items
    added: int = 0  # in the period
    closed: int = 0  # in the period
    red: list[str] = field(default_factory=list)  # "ACME-R-2 risk: Sandbox keys late (owner Asha)"
    past_review: list[str] = field(default_factory=list)  # "ACME-R-3 (review Fri 8 Jan 2027, owner Victor)"

    @property
    def open(self) -> int:
        return sum(self.by_kind.values())


async def report_figures(session: AsyncSession, engagement: Engagement, period: Period, now: datetime) -> RaidFigures:
    today = home_today(engagement, now)
    f = RaidFigures(today=today, by_kind=dict.fromkeys(KINDS, 0), by_status=dict.fromkeys(STATUSES, 0))
    items = await items_of(session, engagement, open_only=False)
    names = {pid: p.display_name for pid, p in (await people(session, {i.owner_id for i in items})).items()}
    for i in items:
        if period.start <= i.created_at < period.end:
            f.added += 1
        if i.closed_at is not None and period.start <= i.closed_at < period.end:
            f.closed += 1
        if i.state != OPEN:
            continue
        f.by_kind[i.kind] = f.by_kind.get(i.kind, 0) + 1
        f.by_status[i.status] = f.by_status.get(i.status, 0) + 1
        owner = names.get(i.owner_id, "?")
        if i.status == "red":
            f.red.append(f"{ref(engagement, i)} {i.kind}: {truncate(i.text, 80)} (owner {owner})")
        if past_review(i, today) and i.review_on is not None:
            f.past_review.append(f"{ref(engagement, i)} (review {day_text(i.review_on)}, owner {owner})")
    return f


def _counts(table: dict[str, int]) -> str:
    return ", ".join(f"{n} {k}" for k, n in table.items() if n) or "none"


def report_card(f: RaidFigures, period: Period) -> Card:
    if not f.open and not f.added and not f.closed:
        return Card(title="RAID log", fields=[Field("Open", "nothing open (`/raid add`)", short=False)])
    fields = [
        Field("Open by kind", _counts(f.by_kind), short=False),
        Field("Open by status", _counts(f.by_status), short=False),
        Field(f"Added / closed (last {period.name})", f"{f.added} / {f.closed}"),
        Field("Red", "; ".join(f.red) or "none", short=False),
        Field("Past review", "; ".join(f.past_review) or "none", short=False),
    ]
    tone = "danger" if f.red else ("warning" if f.past_review else "info")
    return Card(title="RAID log", fields=fields, tone=tone)


def report_flags(f: RaidFigures, period: Period) -> list[tuple[int, str]]:
    flags = [(RED_RANK, f"Red: {line}.") for line in f.red]
    if f.past_review:
        flags.append((PAST_REVIEW_RANK, f"RAID items past their review date: {', '.join(f.past_review)}."))
    return flags


def report_home(f: RaidFigures) -> list[Field]:
    if not f.open:
        return []
    return [Field("RAID", f"{plural(f.open, 'open item')} · {len(f.red)} red · {len(f.past_review)} past review")]


ITEM_COLUMNS = [
    "id",
    "kind",
    "text",
    "status",
    "state",
    "owner",
    "review_on",
    "created_by",
    "created_at_utc",
    "updated_at_utc",
    "closed_at_utc",
]
CHANGE_COLUMNS = ["item", "at_utc", "by", "field", "from", "to", "note"]


async def export_range(session: AsyncSession, engagement: Engagement, period: Period, now: datetime) -> dict[str, str]:
    """`raid.csv` (items live in the range: added before its end, not closed before its start) and
    `raid_history.csv` (every update in the range, one row per field changed)."""
    items = await items_of(session, engagement, open_only=False)
    by_id = {i.id: i for i in items}
    changes = (
        list(
            await session.scalars(select(RaidChange).where(RaidChange.item_id.in_(list(by_id))).order_by(RaidChange.id))
        )
        if by_id
        else []
    )
    ids: set[int] = {i.owner_id for i in items} | {i.created_by_id for i in items}
    ids |= {c.actor_id for c in changes}
    for c in changes:
        if "owner" in (c.changes or {}):
            ids.update(int(v) for v in c.changes["owner"])
    names = {pid: p.display_name for pid, p in (await people(session, ids)).items()}
    item_rows = []
    for i in items:
        if i.created_at >= period.end or (i.closed_at is not None and i.closed_at < period.start):
            continue
        item_rows.append(
            [
                ref(engagement, i),
                i.kind,
                i.text,
                i.status,
                i.state,
                names.get(i.owner_id, ""),
                i.review_on.isoformat() if i.review_on else "",
                names.get(i.created_by_id, ""),
                i.created_at,
                i.updated_at,
                i.closed_at,
            ]
        )
    change_rows = []
    for c in changes:
        if not period.start <= c.at < period.end:
            continue
        item = by_id[c.item_id]
        pairs = list((c.changes or {}).items()) or [("", ["", ""])]
        for name, (old, new) in pairs:
            if name == "owner":
                old, new = names.get(int(old), old), names.get(int(new), new)
            change_rows.append([ref(engagement, item), c.at, names.get(c.actor_id, ""), name, old, new, c.note])
    return {"raid.csv": to_csv(ITEM_COLUMNS, item_rows), "raid_history.csv": to_csv(CHANGE_COLUMNS, change_rows)}
