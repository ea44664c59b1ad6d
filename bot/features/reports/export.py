"""`/cadence export [from] [to]`: the engagement's record for a date range — change requests (and
every recorded step), defects, demo outcomes and standup answers — as CSV files in one zip.

The files are the registered report sections' (`export` of `registry.add_report_section`: each feature writes
its own, narrowed to the range), in the order of the sections' names, then the contract's history (the
engagement feature's `contract_export`). A feature that is not registered has no file. Times are UTC (ISO
8601); the range is read as whole days in the engagement's home zone."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.engagement import contract_export
from bot.kernel.registry import Period, ReportSection, Term
from bot.kernel.text import plural
from bot.kernel.zones import zone_or_utc
from bot.shared.csvfile import stamp
from storage.models import Engagement


@dataclass
class Bundle:
    filename: str
    content: bytes
    counts: dict[str, int] = field(default_factory=dict)  # CSV name -> data rows


def bounds(engagement: Engagement, first: date, last: date) -> tuple[datetime, datetime]:
    """[first 00:00, the day after last 00:00) in the home zone, as UTC instants."""
    zone = zone_or_utc(engagement.home_tz)
    start = datetime.combine(first, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return start, end


async def build(
    session: AsyncSession,
    engagement: Engagement,
    first: date,
    last: date,
    now: datetime,
    terms: dict[str, Term],
    sections: Iterable[ReportSection],
) -> Bundle:
    """The zip for [first, last] (home-zone dates); `terms`: the registry's contract terms, `sections` its
    report sections."""
    start, end = bounds(engagement, first, last)
    span = Period("range", start, end, first, last)
    files: dict[str, str] = {}
    for section in sorted(sections, key=lambda s: s.name):
        if section.export is not None:
            files.update(await section.export(session, engagement, span, now))
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
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        made = now.astimezone(UTC).timetuple()[:6]
        for name, text in [("README.txt", "\r\n".join(readme) + "\r\n"), *files.items()]:
            info = zipfile.ZipInfo(name, date_time=made)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, text.encode("utf-8"))
    filename = f"{engagement.key}-export-{first:%Y%m%d}-{last:%Y%m%d}.zip"
    return Bundle(filename=filename, content=buf.getvalue(), counts=counts)
