"""CSV for exports (change orders, SLA reviews, hand-over): one place for the spreadsheet-safety rule."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import UTC, datetime

# A cell starting with one of these is run as a formula by spreadsheets (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def stamp(value: datetime | None) -> str:
    """The one timestamp format of every export: UTC, ISO 8601 to the second ("2027-01-04T08:00:00+00:00")."""
    if value is None:
        return ""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)  # SQLite gives stored UTC back naive
    return aware.astimezone(UTC).isoformat(timespec="seconds")


def cell(value: object) -> str:
    """A value as CSV text: datetimes in UTC ISO form, formula-like text prefixed with a quote."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return stamp(value)
    text = str(value)
    if text[:1] in FORMULA_STARTS:
        return "'" + text
    return text


def to_csv(header: list[str], rows: Iterable[Iterable[object]]) -> str:
    """A CSV document (RFC 4180 line endings) with a header row."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([cell(v) for v in row])
    return buf.getvalue()


def read_rows(text: str) -> tuple[list[str], list[dict[str, str]]]:
    """A CSV document back as (header, rows): to narrow an export's rows to a range."""
    reader = csv.DictReader(io.StringIO(text))
    return list(reader.fieldnames or []), list(reader)


def write_rows(header: list[str], rows: list[dict[str, str]]) -> str:
    """Rows that came out of `read_rows`, written back unchanged (cells already made safe)."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=header, lineterminator="\r\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def instant(text: str | None) -> datetime | None:
    """A `stamp` read back (a quote prefix dropped); None when empty or unreadable."""
    if not text:
        return None
    try:
        dt = datetime.fromisoformat(text.lstrip("'"))
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)
