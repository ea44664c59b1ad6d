"""Plain-language dates in a person's own zone, and the one rule for finding a date phrase inside a text.

Every command that takes a date (and maybe a text beside it) reads it here, so Slack, Teams and the console
agree:
- `split_date_text("Sprint 4 demo next thu 3pm")` → phrase "next thu 3pm", rest "Sprint 4 demo": the date
  phrase is the run of date words in the text (title before or after it);
- `check_phrase(...)` refuses what is impossible or not understood, naming the part: `feb 30`, `25:30`,
  `99pm`, `2026-13-01`, `next blursday`. A text search would otherwise read these as some other real date
  (dateparser reads `feb 30 at 10:00` as 5 February), and we never guess;
- `parse_date` / `parse_range` read calendar dates; the two ends of a range without years are in the same
  year (the end in the next year only when it would otherwise come first).
"""

from __future__ import annotations

import calendar
import difflib
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import dateparser
from dateparser.search import search_dates

from bot.kernel.errors import UserError
from bot.kernel.text import day_text

RANGE_SPLIT = re.compile(r"\s+(?:to|until|till|through|-|–)\s+", re.IGNORECASE)

MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTH_WORD = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_MONTH_RE = re.compile(rf"^{_MONTH_WORD}$", re.I)
_WEEKDAY_RE = re.compile(
    r"^(?:mon|tue|tues|wed|weds|thu|thur|thurs|fri|sat|sun)(?:day|nesday|rsday|urday|sday)?s?\.?$", re.I
)
_DAY_WORDS = {"today", "tomorrow", "tonight", "yesterday", "noon", "midday", "midnight", "now", "eod", "weekend"}
_UNITS = re.compile(r"^(?:min|mins|minutes?|h|hrs?|hours?|days?|weeks?|fortnights?|months?|years?)$", re.I)
_CLOCK_RE = re.compile(r"^(?:\d{1,3}(?::\d{2})?(?:am|pm|a\.m\.|p\.m\.)|\d{1,3}:\d{2}(?::\d{2})?)$", re.I)
_AMPM = re.compile(r"^(?:am|pm|a\.m\.|p\.m\.)$", re.I)
_ISO_RE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")
_NUMERIC_DATE = re.compile(r"^\d{1,2}[/.]\d{1,2}(?:[/.]\d{2,4})?$")
_ORDINAL = re.compile(r"^\d{1,2}(?:st|nd|rd|th),?$", re.I)
_NUMBER = re.compile(r"^[+-]?\d{1,4},?$")
_ZONE_WORD = re.compile(r"^(?:[A-Za-z_]+/[A-Za-z0-9_+\-/]+|(?:utc|gmt)(?:[+-]\d{1,2}(?::?\d{2})?)?|[A-Z]{2,5})$", re.I)
_ZONE_ABBR = re.compile(r"^[A-Z]{2,5}$")
# Words that join date words into one phrase ("next thu at 3pm", "every other thursday", "2 to 5 jan").
_JOINERS = {
    "next",
    "this",
    "coming",
    "last",
    "at",
    "on",
    "@",
    "in",
    "the",
    "of",
    "every",
    "each",
    "other",
    "from",
    "starting",
    "until",
    "till",
    "to",
    "through",
    "-",
    "–",
    "a",
    "an",
    "and",
    "weekly",
    "biweekly",
    "bi-weekly",
    "fortnightly",
    "morning",
    "afternoon",
    "evening",
    "ago",
    "time",
}
# Joiners kept at the start of a phrase: "next thu", "every other thu", "in 2 hours".
_LEADING = {"next", "this", "coming", "last", "every", "each", "weekly", "biweekly", "bi-weekly", "fortnightly", "in"}
# Words that end like a weekday but are ordinary words, never refused as a misspelt day.
_NOT_DATES = {"birthday", "holiday", "holidays", "payday", "heyday", "midday", "doomsday", "someday", "workday"}


@dataclass(frozen=True)
class Split:
    """A text split around its date phrase: `phrase` as typed, `rest` the other words (the title)."""

    phrase: str
    rest: str


def _kind(words: list[str], i: int) -> str:
    """'date' (a word that is a date or time by itself), 'joiner', 'number', 'odd' (looks like a misspelt
    date word) or 'text'."""
    w = words[i]
    low = w.lower().strip(",")
    nxt = words[i + 1].lower() if i + 1 < len(words) else ""
    if low in _DAY_WORDS or _MONTH_RE.match(low) or _WEEKDAY_RE.match(low):
        return "date"
    if _CLOCK_RE.match(low) or _ISO_RE.match(low) or _NUMERIC_DATE.match(low) or _ORDINAL.match(low):
        return "date"
    if _UNITS.match(low) and i > 0 and _NUMBER.match(words[i - 1]):
        return "date"
    if _AMPM.match(low):
        return "date"
    if _NUMBER.match(low):
        return "date" if (_UNITS.match(nxt) or _AMPM.match(nxt)) else "number"
    if low in ("a", "an") and _UNITS.match(nxt):
        return "date"
    if low in _JOINERS:
        return "joiner"
    if _ZONE_WORD.match(w) and ("/" in w or low.startswith(("utc", "gmt")) or _ZONE_ABBR.match(w)):
        return "zone"
    if _looks_like_date_word(low):
        return "odd"
    return "text"


def _looks_like_date_word(low: str) -> bool:
    if low in _NOT_DATES or len(low) < 4 or not low.isalpha():
        return False
    if low.endswith(("sday", "nday", "rday", "iday")):
        return True
    close = difflib.get_close_matches(low, [*WEEKDAYS, *MONTHS, "tomorrow", "today", "tonight"], n=1, cutoff=0.8)
    return bool(close)


def _runs(words: list[str]) -> list[tuple[int, int]]:
    """Runs of date-ish words [start, end), trimmed of joiners and lone numbers at their edges."""
    kinds = [_kind(words, i) for i in range(len(words))]
    runs: list[tuple[int, int]] = []
    i = 0
    while i < len(words):
        if kinds[i] == "text":
            i += 1
            continue
        j = i
        while j < len(words) and kinds[j] != "text":
            j += 1
        a, b = i, j

        while (
            a < b and not _keep(words, kinds, a, a, b) and not (kinds[a] == "joiner" and words[a].lower() in _LEADING)
        ):
            a += 1
        while b > a and not _keep(words, kinds, b - 1, a, b):
            b -= 1
        if any(kinds[k] in ("date", "odd") for k in range(a, b)):
            runs.append((a, b))
        i = j
    return runs


def _keep(words: list[str], kinds: list[str], k: int, a: int, b: int) -> bool:
    """Whether word `k` stays at the edge of the run [a, b)."""
    if kinds[k] in ("date", "odd", "zone"):
        return True
    if kinds[k] == "number":  # a day or a year beside a month word ("3 dec", "dec 3 2027")
        return any(_MONTH_RE.match(words[m].lower()) for m in (k - 1, k + 1, k - 2) if a <= m < b)
    return False


def _odd_words(words: list[str]) -> list[str]:
    return [w for i, w in enumerate(words) if _kind(words, i) == "odd"]


def split_date_text(text: str, *, now: datetime | None = None, tz: ZoneInfo | None = None) -> Split:
    """Find the date phrase in `text` ("Sprint 4 demo next thu 3pm", "today 10:00 Sprint 4 demo").

    The phrase is the one run of date words; the rest, with the joining words at its edges removed, is the
    text. Refuses (UserError) when there is no date phrase, when two runs could each be the date, and when a
    word beside the date looks like part of it but is not understood ("next blursday at noon")."""
    words = text.split()
    runs = _runs(words)
    if not runs:
        odd = _odd_words(words)
        if odd:
            raise UserError(f"I don't understand “{odd[0]}” as a day or a time.")
        raise UserError(f"I found no date or time in “{' '.join(words)[:80]}”.")
    if len(runs) > 1:
        runs = _pick_run(words, runs, now=now, tz=tz)
    a, b = runs[0]
    phrase = " ".join(words[a:b])
    check_phrase(phrase)
    before = _strip_edges(words[:a], leading=False)
    after = _strip_edges(words[b:], leading=True)
    rest = " ".join([*before, *after]).strip(" ,;:-–")
    return Split(phrase=phrase, rest=rest)


def _strip_edges(words: list[str], *, leading: bool) -> list[str]:
    """'Sprint demo on' → 'Sprint demo': the joiners that belonged to the date phrase go with it."""
    out = list(words)
    edge_words = {"at", "on", "@", "-", "–", ",", "|"}
    while out and out[0 if leading else -1].lower() in edge_words:
        out.pop(0 if leading else -1)
    return out


def _pick_run(
    words: list[str], runs: list[tuple[int, int]], *, now: datetime | None, tz: ZoneInfo | None
) -> list[tuple[int, int]]:
    """Of several runs, the one dateparser's text search finds a date in; if it finds several, refuse."""
    settings: dict[str, Any] = {"PREFER_DATES_FROM": "future"}
    if now is not None:
        settings["RELATIVE_BASE"] = now.astimezone(tz).replace(tzinfo=None) if tz else now.replace(tzinfo=None)
    found = search_dates(" ".join(words), languages=["en"], settings=settings) or []
    spans = [s.lower() for s, _ in found]
    hits = [r for r in runs if any(s in " ".join(words[r[0] : r[1]]).lower() for s in spans)]
    # A run with a time of day is the when of a meeting; a lone month word is more likely part of a title.
    timed = [
        r for r in (hits or runs) if any(_CLOCK_RE.match(w) or w.lower() in _DAY_WORDS for w in words[r[0] : r[1]])
    ]
    chosen = timed or hits
    if len(chosen) == 1:
        return chosen
    shown = " and ".join(f"“{' '.join(words[a:b])}”" for a, b in runs[:3])
    raise UserError(f"I found more than one date ({shown}); put the title after a `|`, e.g. `next thu 3pm | Title`.")


_CLOCK_AMPM = re.compile(r"(?<![\w:])(\d{1,3})(?::(\d{1,2}))?\s*(am|pm|a\.m\.|p\.m\.)(?![\w])", re.I)
_CLOCK_24 = re.compile(r"(?<![\w:/.-])(\d{1,3}):(\d{1,2})(?::\d{2})?(?![\w:])")
_MONTH_DAY = re.compile(rf"\b({_MONTH_WORD})\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(\d{{4}}))?", re.I)
_DAY_MONTH = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH_WORD})(?:,?\s+(\d{{4}}))?", re.I)
_ISO_IN = re.compile(r"(?<![\d-])(\d{4})-(\d{1,2})-(\d{1,2})(?![\d-])")


def check_phrase(text: str) -> None:
    """Refuse a date phrase with an impossible or not-understood part, naming that part."""
    for m in _CLOCK_AMPM.finditer(text):
        hour, minute = int(m.group(1)), int(m.group(2) or 0)
        if not 1 <= hour <= 12 or minute > 59:
            raise UserError(f"“{m.group(0)}” is not a time of day; write it like `3pm` or `15:00`.", field="when")
    for m in _CLOCK_24.finditer(text):
        hour, minute = int(m.group(1)), int(m.group(2))
        if hour > 23 or minute > 59 or len(m.group(2)) != 2:
            raise UserError(f"“{m.group(0)}” is not a time of day (00:00 to 23:59).", field="when")
    for m in _ISO_IN.finditer(text):
        _real_date(m.group(0), int(m.group(1)), int(m.group(2)), int(m.group(3)))
    for m in _MONTH_DAY.finditer(text):
        _month_day(m.group(0), m.group(1), int(m.group(2)), m.group(3))
    for m in _DAY_MONTH.finditer(text):
        _month_day(m.group(0), m.group(2), int(m.group(1)), m.group(3))
    words = text.split()
    odd = _odd_words(words)
    if odd:
        raise UserError(f"I don't understand “{odd[0]}” in “{' '.join(words)[:80]}” as a day or a time.", field="when")


def _month_day(shown: str, month_word: str, day: int, year: str | None) -> None:
    month = _month_number(month_word)
    if month is None:
        return
    most = calendar.monthrange(int(year) if year else 2028, month)[1]  # 2028: a leap year, 29 Feb exists
    if not 1 <= day <= most:
        raise UserError(f"“{shown.strip()}” is not a date: {MONTHS[month - 1].title()} has {most} days.", field="when")


def _month_number(word: str) -> int | None:
    low = word.lower().rstrip(".")[:3]
    for i, name in enumerate(MONTHS):
        if name.startswith(low):
            return i + 1
    return None


def _real_date(shown: str, year: int, month: int, day: int) -> date:
    if not 1 <= month <= 12:
        raise UserError(f"“{shown}” is not a date: there is no month {month} (write dates as YYYY-MM-DD).")
    try:
        return date(year, month, day)
    except ValueError:
        most = calendar.monthrange(year, month)[1]
        raise UserError(f"“{shown}” is not a date: {MONTHS[month - 1].title()} {year} has {most} days.") from None


def parse_date(text: str, *, now: datetime, tz: ZoneInfo, prefer: str = "future", base: date | None = None) -> date:
    """One calendar date, read in the person's zone relative to `now` (or to the day `base`, for the end of
    a range); UserError naming the part that does not parse."""
    raw = " ".join(text.split())
    if not raw:
        raise UserError("Give a date, e.g. `dec 24` or `2027-01-10`.")
    check_phrase(raw)
    iso = _ISO_IN.fullmatch(raw)
    if iso:
        return _real_date(raw, int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
    relative = now.astimezone(tz).replace(tzinfo=None)
    if base is not None:
        relative = datetime.combine(base, relative.time())
    parsed = dateparser.parse(
        raw,
        settings={
            "RELATIVE_BASE": relative,
            "PREFER_DATES_FROM": prefer,
            "PREFER_DAY_OF_MONTH": "first",
            "RETURN_AS_TIMEZONE_AWARE": False,
            "DATE_ORDER": "YMD" if re.match(r"^\d{4}", raw) else "DMY",
        },
        languages=["en"],
    )
    if parsed is None:
        raise UserError(f"I couldn't read “{raw}” as a date. Try `dec 24` or `2027-01-10`.")
    return parsed.date()


# A date someone plans for further ahead than this is a typo more often than a plan.
YEARS_AHEAD = 5
_YEARS = {1: "a year", 2: "two years", 5: "five years"}


def read_day_ahead(phrase: str, *, now: datetime, tz: ZoneInfo, years: int = YEARS_AHEAD) -> tuple[date, str]:
    """A date someone plans for (a due date, a review date) in plain language, read in their zone: (the date,
    how it was read: '“fri” read as Fri 8 Jan 2027 in your zone, Asia/Kolkata'). Today is fine; a past date, or
    one more than `years` ahead, is refused saying how it was read."""
    phrase = " ".join((phrase or "").split())
    day = parse_date(phrase, now=now, tz=tz)
    today = now.astimezone(tz).date()
    if day < today:
        raise UserError(f"“{phrase}” reads as {day_text(day)}, which is past (today is {day_text(today)} in {tz.key}).")
    if day - today > timedelta(days=years * 366):
        raise UserError(f"“{phrase}” reads as {day_text(day)}, more than {_YEARS.get(years, f'{years} years')} ahead.")
    return day, f"“{phrase}” read as {day_text(day)} in your zone, {tz.key}"


def _has_year(text: str) -> bool:
    return bool(re.search(r"\b\d{4}\b", text))


def _absolute_without_year(text: str) -> bool:
    """`dec 31`, `31/12`: a calendar day that names no year (and so takes the range's)."""
    low = text.lower()
    return not _has_year(low) and bool(re.search(rf"\b{_MONTH_WORD}\b|\b\d{{1,2}}[/.]\d{{1,2}}\b", low))


def parse_range(
    text: str, *, now: datetime, tz: ZoneInfo, prefer: str = "future", max_days: int = 366
) -> tuple[date, date]:
    """ "dec 24 to jan 2" → (2026-12-24, 2027-01-02); a single date is a one-day range. An end without a
    year is read in the start's year (the next one when it would come before the start)."""
    parts = RANGE_SPLIT.split(text.strip(), maxsplit=1)
    start = parse_date(parts[0], now=now, tz=tz, prefer=prefer)
    if len(parts) == 1:
        return start, start
    end = parse_date(parts[1], now=now, tz=tz, prefer=prefer)
    if _absolute_without_year(parts[1]):
        end = _same_year(end, start.year)
        if end < start:
            end = _same_year(end, start.year + 1)
    if (end - start).days > max_days:
        raise UserError(f"That range is longer than {max_days} days; please give a shorter one.")
    return start, end


def _same_year(day: date, year: int) -> date:
    try:
        return day.replace(year=year)
    except ValueError:  # 29 Feb in a year without one
        return day.replace(year=year, day=28)


def span_days(start: date, end: date) -> int:
    """Days in an inclusive range."""
    return (end - start).days + 1


def has_date_words(text: str) -> bool:
    """Whether `text` has any date or time word at all ("blah blah" has none)."""
    return bool(_runs(text.split()))
