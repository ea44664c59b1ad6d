"""`/cadence export [from] [to]`: the engagement's record for a date range — change requests (and
every recorded step), defects, demo outcomes and standup answers — as CSV files in one zip.

Each feature's own export is used where it exists (`bot.features.change_requests.export.build`,
`bot.features.defects.export.export_csv`) and its rows are narrowed to the range; demos and standups have no
export function, so their tables are read here. A feature that is not installed is listed in the
bundle's README.txt instead of failing the export. Times are UTC (ISO 8601); the range is read as
whole days in the engagement's home zone."""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.engagement import contract_export
from bot.kernel.registry import Term
from bot.kernel.text import plural
from bot.kernel.zones import zone_or_utc
from bot.shared.csvfile import stamp, to_csv
from storage.models import Engagement, Person

# The features the export reads, each optional: a name set to None here is a feature not installed on this
# Cadence, listed in the bundle's README.txt instead of a file.
try:
    from bot.features.change_requests import export as cr_export
except ImportError:
    cr_export = None  # type: ignore[assignment]
try:
    from bot.features.defects import export as defect_export
except ImportError:
    defect_export = None  # type: ignore[assignment]
try:
    from bot.features.demos import cards as demo_cards
    from storage.models.demos import Demo, DemoAgendaItem, DemoOccurrence, DemoOutcome
except ImportError:
    demo_cards = None  # type: ignore[assignment]
try:
    from storage.models.standups import StandupEntry
except ImportError:
    StandupEntry = None  # type: ignore[assignment,misc]


@dataclass
class Bundle:
    filename: str
    content: bytes
    counts: dict[str, int] = field(default_factory=dict)  # CSV name -> data rows
    missing: list[str] = field(default_factory=list)  # features not installed


def _rows(text: str) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text))
    return list(reader.fieldnames or []), list(reader)


def _rewrite(header: list[str], rows: list[dict[str, str]]) -> str:
    """Rows that came out of a feature's CSV, written back unchanged (cells already made safe)."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=header, lineterminator="\r\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        dt = datetime.fromisoformat(text.lstrip("'"))
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def bounds(engagement: Engagement, first: date, last: date) -> tuple[datetime, datetime]:
    """[first 00:00, the day after last 00:00) in the home zone, as UTC instants."""
    zone = zone_or_utc(engagement.home_tz)
    start = datetime.combine(first, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return start, end


# -- change requests -------------------------------------------------------------------------------
async def change_requests(
    session: AsyncSession, engagement: Engagement, start: datetime, end: datetime
) -> dict[str, str] | None:
    """Requests filed in the range or with a recorded step in it, and the steps in the range."""
    if cr_export is None:
        return None
    requests_csv, steps_csv = await cr_export.build(session, engagement)
    s_header, steps = _rows(steps_csv)
    steps = [s for s in steps if (at := _when(s.get("at_utc"))) is not None and start <= at < end]
    touched = {s["request"] for s in steps}
    r_header, requests = _rows(requests_csv)
    requests = [
        r
        for r in requests
        if r.get("id") in touched or ((at := _when(r.get("requested_at_utc"))) is not None and start <= at < end)
    ]
    return {
        "change_requests.csv": _rewrite(r_header, requests),
        "change_request_history.csv": _rewrite(s_header, steps),
    }


# -- defects ---------------------------------------------------------------------------------------
async def defects(
    session: AsyncSession, engagement: Engagement, start: datetime, end: datetime, now: datetime
) -> dict[str, str] | None:
    """Defects that were live at some point of the range: filed before its end, not closed before
    its start."""
    if defect_export is None:
        return None
    header, rows = _rows(await defect_export.export_csv(session, engagement, now))
    kept = []
    for r in rows:
        filed, closed = _when(r.get("filed_at_utc")), _when(r.get("closed_at_utc"))
        if filed is not None and filed < end and (closed is None or closed >= start):
            kept.append(r)
    return {"defects.csv": _rewrite(header, kept)}


# -- demos -----------------------------------------------------------------------------------------
DEMO_COLUMNS = [
    "demo",
    "title",
    "starts_at_utc",
    "ends_at_utc",
    "status",
    "outcome",
    "remarks",
    "recorded_by",
    "recorded_at_utc",
    "agenda",
]


async def demo_outcomes(
    session: AsyncSession, engagement: Engagement, start: datetime, end: datetime
) -> dict[str, str] | None:
    """Every demo that took (or was to take) place in the range, with its outcome and agenda."""
    if demo_cards is None:
        return None
    rows = list(
        await session.execute(
            select(DemoOccurrence, Demo, DemoOutcome, Person)
            .join(Demo, Demo.id == DemoOccurrence.demo_id)
            .outerjoin(DemoOutcome, DemoOutcome.occurrence_id == DemoOccurrence.id)
            .outerjoin(Person, Person.id == DemoOutcome.recorded_by_id)
            .where(
                DemoOccurrence.engagement_id == engagement.id,
                DemoOccurrence.starts_at >= start,
                DemoOccurrence.starts_at < end,
                DemoOccurrence.status != "replaced",
            )
            .order_by(DemoOccurrence.starts_at, DemoOccurrence.id)
        )
    )
    out = []
    for occ, demo, outcome, who in rows:
        agenda = list(
            await session.execute(
                select(Person.display_name, DemoAgendaItem.text)
                .join(Person, Person.id == DemoAgendaItem.person_id)
                .where(DemoAgendaItem.occurrence_id == occ.id)
                .order_by(DemoAgendaItem.id)
            )
        )
        out.append(
            [
                demo_cards.demo_ref(engagement, demo),
                demo.title,
                occ.starts_at,
                occ.ends_at,
                occ.status,
                demo_cards.OUTCOME_LABELS.get(outcome.outcome, outcome.outcome) if outcome else "",
                outcome.remarks if outcome else "",
                who.display_name if who else "",
                outcome.recorded_at if outcome else None,
                " | ".join(f"{name}: {text}" for name, text in agenda),
            ]
        )
    return {"demo_outcomes.csv": to_csv(DEMO_COLUMNS, out)}


# -- standups --------------------------------------------------------------------------------------
STANDUP_COLUMNS = [
    "date",
    "person",
    "status",
    "prompted",
    "answered_at_utc",
    "late",
    "question",
    "answer",
    "blocker",
    "blocker_closed_at_utc",
]


async def standup_answers(
    session: AsyncSession, engagement: Engagement, first: date, last: date
) -> dict[str, str] | None:
    """One row per question answered (or left open) per person and standup date in the range."""
    if StandupEntry is None:
        return None
    rows = list(
        await session.execute(
            select(StandupEntry, Person)
            .join(Person, Person.id == StandupEntry.person_id)
            .where(StandupEntry.engagement_id == engagement.id, StandupEntry.day >= first, StandupEntry.day <= last)
            .order_by(StandupEntry.day, Person.display_name, StandupEntry.id)
        )
    )
    out = []
    for e, p in rows:
        questions = list(e.questions or [])
        answers = list(e.answers or [])
        for i, q in enumerate(questions or [""]):
            answer = answers[i] if i < len(answers) else None
            is_blocker = e.blocker_index is not None and i == e.blocker_index
            out.append(
                [
                    e.day.isoformat(),
                    p.display_name,
                    e.status,
                    "yes" if e.expected else "no",
                    e.answered_at,
                    "yes" if e.late else "no",
                    q,
                    answer or "",
                    e.blocker if is_blocker else "",
                    e.blocker_closed_at if is_blocker else None,
                ]
            )
    return {"standup_answers.csv": to_csv(STANDUP_COLUMNS, out)}


# -- the bundle ------------------------------------------------------------------------------------
async def build(
    session: AsyncSession, engagement: Engagement, first: date, last: date, now: datetime, terms: dict[str, Term]
) -> Bundle:
    """The zip for [first, last] (home-zone dates); `terms`: the registry's contract terms."""
    start, end = bounds(engagement, first, last)
    files: dict[str, str] = {}
    missing = []
    for feature, part in (
        ("change requests", await change_requests(session, engagement, start, end)),
        ("defects", await defects(session, engagement, start, end, now)),
        ("demos", await demo_outcomes(session, engagement, start, end)),
        ("standups", await standup_answers(session, engagement, first, last)),
    ):
        if part is None:
            missing.append(feature)
        else:
            files.update(part)
    # The terms and amendments.
    files["contract_history.csv"] = await contract_export.export_csv(session, engagement, terms)
    counts = {name: max(0, len(list(csv.reader(io.StringIO(text)))) - 1) for name, text in files.items()}
    readme = [
        f"Cadence export of {engagement.key} — {engagement.name}",
        f"Range: {first.isoformat()} to {last.isoformat()} (whole days in {engagement.home_tz}),",
        f"       i.e. {stamp(start)} to {stamp(end)} UTC.",
        f"Made: {stamp(now)} UTC. All times in the files are UTC, written one way: {stamp(now)}.",
        "",
        *(f"{name}: {plural(n, 'row')}" for name, n in counts.items()),
    ]
    if missing:
        readme += ["", "Not installed on this Cadence (no file): " + ", ".join(missing)]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        made = now.astimezone(UTC).timetuple()[:6]
        for name, text in [("README.txt", "\r\n".join(readme) + "\r\n"), *files.items()]:
            info = zipfile.ZipInfo(name, date_time=made)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, text.encode("utf-8"))
    filename = f"{engagement.key}-export-{first:%Y%m%d}-{last:%Y%m%d}.zip"
    return Bundle(filename=filename, content=buf.getvalue(), counts=counts, missing=missing)
