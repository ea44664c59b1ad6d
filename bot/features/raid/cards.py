"""What the RAID log looks like: an item's card (with its history), the list, the red notice in the channel and
the owner's review reminder. Built from what queries.py gathers; nothing here writes."""

from __future__ import annotations

from datetime import date

from bot.features.raid.queries import OPEN, past_review, ref
from bot.kernel.messages import Card, Field
from bot.kernel.text import day_text, truncate, when
from bot.kernel.text import person as mention
from storage.models import Engagement, Person
from storage.models.raid import RaidChange, RaidItem

DOT = {"red": "🔴", "amber": "🟠", "green": "🟢"}
TONE = {"red": "danger", "amber": "warning", "green": "good"}


def who(people: dict[int, Person], pid: int | None) -> str:
    if pid is None:
        return "Cadence"
    p = people.get(pid)
    return mention(pid, p.display_name if p else f"person {pid}")


def review_text(item: RaidItem, today: date) -> str:
    if item.review_on is None:
        return "no review date"
    late = " (past)" if past_review(item, today) else ""
    return f"review {day_text(item.review_on)}{late}"


def line(eng: Engagement, item: RaidItem, people: dict[int, Person], today: date, *, limit: int = 120) -> str:
    """One line per item: `🔴 ACME-R-2 risk · text — owner @x · review Mon 11 Jan 2027 (past)`."""
    state = "" if item.state == OPEN else " · closed"
    return (
        f"{DOT.get(item.status, '')} {ref(eng, item)} {item.kind} · {truncate(item.text, limit)} — "
        f"owner {who(people, item.owner_id)} · {review_text(item, today)}{state}"
    )


def _change_text(field: str, old: object, new: object, people: dict[int, Person]) -> str:
    if field == "owner":
        return f"owner {who(people, int(str(old)))} → {who(people, int(str(new)))}"
    if field == "review_on":
        shown = [day_text(date.fromisoformat(str(v))) if v else "none" for v in (old, new)]
        return f"review {shown[0]} → {shown[1]}"
    return f"{field} {old} → {new}"


def history_lines(history: list[RaidChange], people: dict[int, Person]) -> list[str]:
    out = []
    for c in history:
        parts = [_change_text(k, v[0], v[1], people) for k, v in (c.changes or {}).items()]
        if c.note:
            parts.append(f"note “{truncate(c.note, 200)}”")
        out.append(f"{when(c.at)} · {who(people, c.actor_id)} · {'; '.join(parts) or 'no change'}")
    return out


def item_card(
    eng: Engagement, item: RaidItem, people: dict[int, Person], today: date, history: list[RaidChange] | None = None
) -> Card:
    fields = [
        Field("Kind", item.kind.capitalize()),
        Field("Status", f"{DOT.get(item.status, '')} {item.status}"),
        Field("Owner", who(people, item.owner_id)),
        Field("Review", review_text(item, today)),
        Field("Raised by", f"{who(people, item.created_by_id)} — {when(item.created_at)}", short=False),
    ]
    if item.state != OPEN and item.closed_at is not None:
        fields.append(Field("Closed", when(item.closed_at)))
    sections = []
    if history:
        sections.append(Card(title="History", text="\n".join(history_lines(history, people))))
    return Card(
        title=f"{ref(eng, item)} · {item.kind} · {truncate(item.text, 120)}",
        text=item.text if len(item.text) > 120 else "",
        fields=fields,
        sections=sections,
        tone=TONE.get(item.status, "info") if item.state == OPEN else "info",
        footer=f"Update: `/raid update {ref(eng, item)} red|amber|green | review <date> | owner @name | closed | "
        "note <text>`",
    )


LIST_TITLES = {
    "open": "Open RAID items",
    "all": "All RAID items",
    "red": "Red RAID items",
    "mine": "Your open RAID items",
}


def list_card(eng: Engagement, which: str, items: list[RaidItem], people: dict[int, Person], today: date) -> Card:
    lines = [line(eng, i, people, today) for i in items]
    if len(lines) > 50:
        more = len(lines) - 50
        lines = [*lines[:50], f"… and {more} more (`/cadence export` has them all)."]
    return Card(
        title=f"{LIST_TITLES[which]} — {eng.key}",
        text="\n".join(lines) or "None.",
        footer="Reds first, then items past their review date. Add one with `/raid add risk … owner @name`.",
    )


def red_notice(
    eng: Engagement, item: RaidItem, people: dict[int, Person], actor: Person, today: date, *, new: bool
) -> Card:
    how = "raised" if new else "turned red"
    return Card(
        title=f"🔴 {ref(eng, item)} {item.kind} {how}",
        text=f"{truncate(item.text, 500)}\n{mention(actor.id, actor.display_name)} {how} it; owner "
        f"{who(people, item.owner_id)}, {review_text(item, today)}.",
        tone="danger",
    )


def reminder_card(eng: Engagement, item: RaidItem) -> Card:
    return Card(
        title=f"Review today: {ref(eng, item)} {item.kind}",
        text=f"{truncate(item.text, 500)}\nYou own this {item.kind} ({DOT.get(item.status, '')} {item.status}); "
        f"its review date is today. Update it with `/raid update {ref(eng, item)} green|amber|red`, a new "
        "`review <date>`, `note <text>` or `closed`.",
        tone=TONE.get(item.status, "info"),
    )
