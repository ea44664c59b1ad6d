"""The contract's history as CSV (every amendment, whatever an export's range: it says what is in force), for
the engagement's export (bot/features/reports/export.py). Here, not in the kernel's contract module: the kernel
does not import the shared CSV helpers."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.kernel import contract
from bot.kernel.registry import Term
from bot.shared.csvfile import to_csv
from storage.models import Engagement

CSV_COLUMNS = [
    "amendment",
    "term",
    "from",
    "to",
    "status",
    "proposed_by",
    "proposed_side",
    "proposed_at_utc",
    "decided_by",
    "decided_at_utc",
    "reason",
]


async def export_csv(session: AsyncSession, eng: Engagement, terms: dict[str, Term]) -> str:
    """The whole contract history; `terms`: the registry's contract terms (their labels)."""
    rows = await contract.history(session, eng)
    people = {p.id: p.display_name for p in await contract.people_of(session, rows)}
    return to_csv(
        CSV_COLUMNS,
        (
            [
                f"{eng.key}-A-{r.number}",
                terms[r.term].label if r.term in terms else r.term,
                r.old_text,
                r.new_text,
                r.status,
                people.get(r.proposed_by_id or 0, ""),
                r.proposed_side,
                r.proposed_at.isoformat(),
                people.get(r.decided_by_id or 0, ""),
                r.decided_at.isoformat() if r.decided_at else "",
                r.reason or "",
            ]
            for r in rows
        ),
    )
