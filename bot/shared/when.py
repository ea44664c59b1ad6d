"""Plain-language times for demos and meetings: "next thu 3pm", "tomorrow 10:00 Europe/Berlin", "every other
thursday at 15:00", and (for callers that allow it: meetings) "first tuesday of the month 15:00".

Everything is read in one zone: the zone written in the text (an IANA name, a known abbreviation
or a UTC offset) or, failing that, the speaker's. Relative words ("tomorrow", "next thu") are
relative to the injected clock's *now* in that zone, so results never depend on the machine.

Rules (also in docs/demos.md):
- a clock time is required ("15:00", "3pm", "3:30 pm", "noon") unless the text is relative
  ("in 2 hours");
- a time alone ("3pm") means its next occurrence: today if still ahead, else tomorrow;
- refused: past times; times more than a year ahead; a day of the month without a month
  ("the 5th"); numeric dates that read two ways ("03/04"); a bare "next week"; a local time that
  does not exist (skipped by a DST change) or happens twice (repeated by one); ambiguous zone
  abbreviations (IST, which is India, Ireland or Israel); two zones in one text.
- recurrence is weekly: "every thursday 15:00", "every other thursday at 3pm",
  "every 2 weeks on thursday 15:00", "biweekly on thu 3pm", optionally "starting jan 14" /
  "from next thu" and "until mar 31"; stored as an RFC 5545 RRULE ("FREQ=WEEKLY;INTERVAL=2;BYDAY=TH").
- monthly by weekday, only when the caller passes `monthly=True` (demos stay weekly): "first tuesday of the
  month 15:00", "last friday of the month 10:00", "every month on the 2nd tuesday at 9:00"
  ("FREQ=MONTHLY;BYDAY=1TU", "-1FR", "2TU"); a day of the month ("every month on the 15th") is refused, as
  it falls on a weekend now and then.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from dateparser.date import DateDataParser
from dateutil.rrule import rrulestr

from bot.kernel.errors import UserError
from bot.kernel.zones import _by_city
from bot.shared.dates import check_phrase, has_date_words, split_date_text

MAX_AHEAD = timedelta(days=366)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
RRULE_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")

# Abbreviations read as the civil time of the region (EST in July means New York time, i.e. EDT):
# people write "EST" for "Eastern time" all year round. The confirmation shows the real offset.
ABBREVIATIONS: dict[str, str] = {
    "utc": "UTC",
    "gmt": "UTC",
    "z": "UTC",
    "et": "America/New_York",
    "est": "America/New_York",
    "edt": "America/New_York",
    "ct": "America/Chicago",
    "cst": "America/Chicago",
    "cdt": "America/Chicago",
    "mt": "America/Denver",
    "mst": "America/Denver",
    "mdt": "America/Denver",
    "pt": "America/Los_Angeles",
    "pst": "America/Los_Angeles",
    "pdt": "America/Los_Angeles",
    "nst": "America/St_Johns",
    "ndt": "America/St_Johns",
    "bst": "Europe/London",
    "wet": "Europe/Lisbon",
    "west": "Europe/Lisbon",
    "cet": "Europe/Berlin",
    "cest": "Europe/Berlin",
    "eet": "Europe/Helsinki",
    "eest": "Europe/Helsinki",
    "msk": "Europe/Moscow",
    "npt": "Asia/Kathmandu",
    "pkt": "Asia/Karachi",
    "sgt": "Asia/Singapore",
    "jst": "Asia/Tokyo",
    "kst": "Asia/Seoul",
    "hkt": "Asia/Hong_Kong",
    "aest": "Australia/Sydney",
    "aedt": "Australia/Sydney",
    "awst": "Australia/Perth",
    "nzst": "Pacific/Auckland",
    "nzdt": "Pacific/Auckland",
}
AMBIGUOUS_ABBREVIATIONS: dict[str, str] = {
    "ist": "India (Asia/Kolkata), Ireland (Europe/Dublin) or Israel (Asia/Jerusalem)",
    "ast": "Atlantic (America/Halifax) or Arabia (Asia/Riyadh)",
}

_IANA_RE = re.compile(r"(?<![\w/])([A-Za-z][A-Za-z_\-]*(?:/[A-Za-z0-9_+\-]+){1,2})(?![\w/])")
_OFFSET_RE = re.compile(r"(?<!\w)(?:utc|gmt)\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?(?!\w)", re.I)
_WORD_RE = re.compile(r"[A-Za-z]+")
_TIME_RE = re.compile(
    r"\b\d{1,2}(?::\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.)(?!\w)|\b\d{1,2}:\d{2}\b|\bnoon\b|\bmidday\b|\bmidnight\b",
    re.I,
)
_RELATIVE_RE = re.compile(r"^\s*in\s+(?:an?|\d+)\s+(?:minutes?|mins?|hours?|hrs?)\s*$", re.I)
# Any relative amount, to refuse it for the right reason ("-5 hours" is past, "in 2 years" too far ahead).
_ANY_RELATIVE_RE = re.compile(
    r"^\s*(?:in\s+)?(?P<n>[+-]?\d+|an?)\s+(?P<unit>min|mins|minutes?|hrs?|hours?|days?|weeks?|months?|years?)"
    r"(?P<ago>\s+ago)?\s*$",
    re.I,
)
_NUMERIC_DATE_RE = re.compile(r"(?<![\d:/.-])(\d{1,2})([/.])(\d{1,2})(?:\2(\d{2,4}))?(?![\d:/])")
_ISO_DATE_RE = re.compile(r"\b\d{4}-\d{2}-\d{2}")
_MONTH_RE = re.compile(r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\b", re.I)
_ORDINAL_DAY_RE = re.compile(r"\b(?:the\s+)?(\d{1,2})(?:st|nd|rd|th)\b|\bthe\s+(\d{1,2})\b", re.I)
_WEEKDAY_WORD = r"(?:mon|tue|tues|wed|weds|thu|thur|thurs|fri|sat|sun)(?:day|nesday|rsday|urday|sday)?s?"
_WEEKDAY_RE = re.compile(rf"\b{_WEEKDAY_WORD}\b", re.I)
_NUMBERS = {
    "other": 2,
    "second": 2,
    "2nd": 2,
    "two": 2,
    "third": 3,
    "3rd": 3,
    "three": 3,
    "fourth": 4,
    "4th": 4,
    "four": 4,
    "five": 5,
    "six": 6,
}
_RECUR_RE = re.compile(
    rf"""^\s*(?:
        (?P<every>every|each)\s+
            (?:(?P<n>other|second|2nd|third|3rd|fourth|4th|two|three|four|five|six|\d+)\s+)?
            (?:(?P<unit>weeks?)\b\s*(?:on\s+)?)?
            (?P<day>{_WEEKDAY_WORD})?\b
      | (?P<adverb>weekly|biweekly|bi-weekly|fortnightly)\b\s*(?:on\s+)?(?P<day2>{_WEEKDAY_WORD})?\b
    )""",
    re.I | re.X,
)
_OTHER_FREQ_RE = re.compile(r"\b(daily|monthly|yearly|annually|every\s+(?:\d+\s+)?(?:days?|months?|years?))\b", re.I)
_START_RE = re.compile(
    r"\b(?:starting|start|from|beginning)\b(?:\s+on)?\s+(?P<date>.+?)(?=\s+\buntil\b|\s+\btill\b|$)", re.I
)
_UNTIL_RE = re.compile(r"\b(?:until|till)\s+(?P<date>.+)$", re.I)
# The nth weekday of every month: "first tuesday of the month", "every month on the 2nd tuesday",
# "monthly on the last friday". `lead` or `of` says it is monthly; without either it is not this rule ("every
# second tuesday" stays every other week, as demos have always read it).
_NTH = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4, "last": -1}
_MONTHLY_RE = re.compile(
    rf"""^\s*(?P<lead>(?:every|each)\s+month\s+(?:on\s+)?|monthly\s+(?:on\s+)?)?
        (?:the\s+)?(?P<nth>first|1st|second|2nd|third|3rd|fourth|4th|last)\s+(?P<day>{_WEEKDAY_WORD})\b
        (?P<of>\s+(?:of|in)\s+(?:the|each|every)\s+month\b|\s+monthly\b)?""",
    re.I | re.X,
)


class WhenRefused(UserError):
    """A time we will not schedule, with why and (when there is one) how we read it."""

    def __init__(self, reason: str, *, understood: datetime | None = None, zone: str | None = None) -> None:
        text = reason
        if understood is not None:
            text += f" (I read it as {fmt_local(understood)}{' ' + zone if zone else ''}.)"
        super().__init__(text)
        self.reason = reason
        self.understood = understood


@dataclass(frozen=True)
class Understood:
    """How a `when` text was read. `start` is aware, in `zone`; `rrule` is None for a one-off demo."""

    text: str
    start: datetime
    zone: str
    explicit_zone: bool
    rrule: str | None = None
    until: datetime | None = None
    note: str = ""

    @property
    def tzinfo(self) -> tzinfo:
        return zone_of(self.zone)


def fmt_local(dt: datetime) -> str:
    """'Thu 7 Jan 2027 15:00' in the datetime's own zone."""
    return f"{dt:%a} {dt.day} {dt:%b %Y %H:%M}"


def zone_of(name: str) -> tzinfo:
    """A tzinfo for a stored zone name: IANA, or a fixed offset written "UTC+05:30"."""
    m = re.fullmatch(r"UTC([+-])(\d{2}):(\d{2})", name)
    if m:
        sign = 1 if m.group(1) == "+" else -1
        return timezone(sign * timedelta(hours=int(m.group(2)), minutes=int(m.group(3))), name)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UserError(f"I don't know the time zone “{name}”.") from exc


@lru_cache(maxsize=1)
def _zones_lower() -> dict[str, str]:
    return {n.lower(): n for n in available_timezones()}


def extract_zone(text: str) -> tuple[str, str | None, str]:
    """Split an explicit zone off `text`: (rest, zone name or None, note). Refuses two zones."""
    found: list[tuple[str, str]] = []  # (zone, note)
    rest = text

    def _iana(m: re.Match[str]) -> str:
        name = _zones_lower().get(m.group(1).lower())
        if name is None:
            return m.group(0)
        found.append((name, ""))
        return " "

    rest = _IANA_RE.sub(_iana, rest)

    def _offset(m: re.Match[str]) -> str:
        hours, minutes = int(m.group(2)), int(m.group(3) or 0)
        if hours > 14 or minutes >= 60:
            raise WhenRefused(f"“{m.group(0)}” is not a UTC offset I know.")
        name = "UTC" if hours == 0 and minutes == 0 else f"UTC{m.group(1)}{hours:02d}:{minutes:02d}"
        found.append((name, ""))
        return " "

    rest = _OFFSET_RE.sub(_offset, rest)

    def _abbr(m: re.Match[str]) -> str:
        word = m.group(0).lower()
        if word in AMBIGUOUS_ABBREVIATIONS:
            raise WhenRefused(
                f"“{m.group(0)}” is ambiguous: it could be {AMBIGUOUS_ABBREVIATIONS[word]}. "
                "Write the zone name instead, e.g. `Asia/Kolkata`."
            )
        if word in ABBREVIATIONS and (word != "z" and (len(word) > 2 or m.group(0).isupper())):
            name = ABBREVIATIONS[word]
            note = "" if name == "UTC" else f"{m.group(0).upper()} read as {name} local time"
            found.append((name, note))
            return " "
        return m.group(0)

    rest = _WORD_RE.sub(_abbr, rest)
    if not found:
        rest = _city_suffix(rest, found)
    zones = {z for z, _ in found}
    if len(zones) > 1:
        raise WhenRefused(f"I found more than one time zone ({', '.join(sorted(zones))}); give just one.")
    rest = " ".join(rest.split())
    if not found:
        return rest, None, ""
    return rest, found[0][0], found[0][1]


def _city_suffix(text: str, found: list[tuple[str, str]]) -> str:
    """A city at the end ("tomorrow 10:00 Berlin", "3pm new york time") names the zone, when it is
    one zone's city and nothing else."""
    words = text.split()
    if words and words[-1].lower() == "time":
        words = words[:-1]
    for n in (3, 2, 1):
        if len(words) <= n:
            continue
        city = " ".join(words[-n:]).lower().replace(".", "").replace("'", "")
        if len(city) < 4:
            continue
        matches = _by_city().get(city, [])
        if len(matches) == 1:
            found.append((matches[0], f"{' '.join(words[-n:])} read as {matches[0]}"))
            return " ".join(words[:-n])
    return text


def _normalise(text: str) -> str:
    text = text.replace("\u2013", "-").replace("\u2014", "-")
    return " ".join(text.split())


def _localize(naive: datetime, zone: tzinfo, zone_name: str) -> datetime:
    """Attach `zone`, refusing a wall time skipped or repeated by a DST change."""
    first = naive.replace(tzinfo=zone, fold=0)
    second = naive.replace(tzinfo=zone, fold=1)
    if first.utcoffset() != second.utcoffset():
        roundtrip = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
        if roundtrip != naive:
            raise WhenRefused(
                f"{naive:%H:%M} on {naive:%a %-d %b %Y} does not exist in {zone_name}: "
                "the clocks jump over it (daylight saving time). Pick another time."
            )
        raise WhenRefused(
            f"{naive:%H:%M} on {naive:%a %-d %b %Y} happens twice in {zone_name} "
            "(the clocks go back that night). Pick another time."
        )
    return first


def _check_numeric_dates(text: str) -> str | None:
    """The dateparser DATE_ORDER to use for a numeric date in `text`; refuses one that reads two ways."""
    order = None
    for m in _NUMERIC_DATE_RE.finditer(text):
        a, b = int(m.group(1)), int(m.group(3))
        if a > 31 or b > 31 or (a > 12 and b > 12):
            raise WhenRefused(f"“{m.group(0)}” is not a date I can read.")
        if a <= 12 and b <= 12 and a != b:
            raise WhenRefused(
                f"“{m.group(0)}” could be {a} {_month(b)} or {b} {_month(a)}. "
                "Write the month as a word (`3 Apr`) or use 2027-04-03."
            )
        order = "MDY" if b > 12 else "DMY"
    return order


def _month(n: int) -> str:
    return date(2000, n, 1).strftime("%b")


def _check_day_of_month_only(text: str, base_local: datetime) -> None:
    if _MONTH_RE.search(text) or _ISO_DATE_RE.search(text) or _NUMERIC_DATE_RE.search(text):
        return
    m = _ORDINAL_DAY_RE.search(text)
    if m:
        guess, _ = _dateparse(text, base_local, None)
        day = m.group(1) or m.group(2)
        raise WhenRefused(
            f"“{m.group(0).strip()}” has no month, so I can't be sure which one you mean. "
            f"Add it, e.g. `{day} {(guess or base_local):%b} 15:00`.",
            understood=_maybe_local(guess, base_local.tzinfo),
            zone=str(base_local.tzinfo) if base_local.tzinfo else None,
        )


def _maybe_local(naive: datetime | None, zone: tzinfo | None) -> datetime | None:
    if naive is None or zone is None:
        return None
    return naive.replace(tzinfo=zone)


_DAY_ABBR = re.compile(r"\b(mon|tues?|weds?|thu|thur|thurs|fri|sat|sun)\b\.?", re.I)
_DAY_FULL = {
    "mon": "monday",
    "tue": "tuesday",
    "tues": "tuesday",
    "wed": "wednesday",
    "weds": "wednesday",
    "thu": "thursday",
    "thur": "thursday",
    "thurs": "thursday",
    "fri": "friday",
    "sat": "saturday",
    "sun": "sunday",
}


def _dateparse(text: str, base_local: datetime, order: str | None) -> tuple[datetime | None, str | None]:
    # dateparser reads "next thu" but not "next wed"/"next sat": give it full day names.
    text = _DAY_ABBR.sub(lambda m: _DAY_FULL[m.group(1).lower()], text)
    settings = {
        "RELATIVE_BASE": base_local.replace(tzinfo=None),
        "PREFER_DATES_FROM": "future",
        "RETURN_AS_TIMEZONE_AWARE": False,
        "DATE_ORDER": order or "DMY",
        "PREFER_DAY_OF_MONTH": "first",
    }
    parser = DateDataParser(languages=["en"], settings=settings)
    data = parser.get_date_data(text)
    return data.date_obj, data.period


def parse_clock(text: str) -> time:
    """'15:00', '3pm', '3:30 pm', 'noon' → a wall-clock time."""
    t = text.strip().lower().replace(".", "")
    if t in ("noon", "midday"):
        return time(12, 0)
    if t == "midnight":
        return time(0, 0)
    m = re.fullmatch(r"(\d{1,2})(?::(\d{2}))?\s*(am|pm)?", t)
    if not m or (m.group(2) is None and m.group(3) is None):
        raise WhenRefused(f"“{text}” is not a time of day; write it like `15:00` or `3pm`.")
    hour, minute = int(m.group(1)), int(m.group(2) or 0)
    if m.group(3):
        if not 1 <= hour <= 12:
            raise WhenRefused(f"“{text}” is not a time of day.")
        hour = hour % 12 + (12 if m.group(3) == "pm" else 0)
    if hour > 23 or minute > 59:
        raise WhenRefused(f"“{text}” is not a time of day.")
    return time(hour, minute)


def _weekday_index(word: str) -> int:
    w = word.lower()[:3]
    return ("mon", "tue", "wed", "thu", "fri", "sat", "sun").index(w)


def parse_when(text: str, *, now: datetime, speaker_tz: str, monthly: bool = False) -> Understood:
    """Read a `when` text in the speaker's zone (or the zone it names). Raises WhenRefused. `monthly`: monthly
    rules by weekday are read too (meetings); without it a series repeats by weeks (demos)."""
    if now.tzinfo is None:
        raise ValueError("now must be zone-aware")
    raw = _normalise(text)
    if not raw:
        raise WhenRefused("Tell me when, e.g. `next thu 3pm` or `every other thursday 15:00`.")
    if len(raw) > 200:
        raise WhenRefused("That time is too long to read (200 characters at most).")
    rest, explicit, note = extract_zone(raw)
    zone_name = explicit or speaker_tz
    zone = zone_of(zone_name)
    rest = re.sub(r"^(?:on|at)\s+", "", rest.strip(), flags=re.I)
    try:
        check_phrase(rest)
    except UserError as exc:
        raise WhenRefused(exc.message) from exc
    nth = _MONTHLY_RE.match(rest)
    if monthly and nth and (nth.group("lead") or nth.group("of")):
        return _parse_monthly(
            raw, rest, nth, now=now, zone=zone, zone_name=zone_name, explicit=explicit is not None, note=note
        )
    if _OTHER_FREQ_RE.search(rest) or (nth and (nth.group("lead") or nth.group("of"))):
        if monthly:
            raise WhenRefused(
                "A series repeats by weeks (`every monday 11:00`, `every other thursday 15:00`) or on a weekday of "
                "the month (`first tuesday of the month 15:00`, `last friday of the month 10:00`, "
                "`every month on the 2nd tuesday at 9:00`)."
            )
        raise WhenRefused(
            "Demos repeat by weeks: `every thursday 15:00`, `every 2 weeks on thu 3pm`, "
            "`every 4 weeks on monday 10:00`."
        )
    rec = _RECUR_RE.match(rest)
    if rec and (rec.group("every") or rec.group("adverb")):
        return _parse_recurring(
            raw, rest, rec, now=now, zone=zone, zone_name=zone_name, explicit=explicit is not None, note=note
        )
    start = _parse_single(rest, now=now, zone=zone, zone_name=zone_name)
    return Understood(text=raw, start=start, zone=zone_name, explicit_zone=explicit is not None, note=note)


def _parse_single(rest: str, *, now: datetime, zone: tzinfo, zone_name: str) -> datetime:
    if not rest:
        raise WhenRefused("I found a time zone but no time; add one, e.g. `next thu 3pm`.")
    relative = bool(_RELATIVE_RE.match(rest))
    if not relative:
        _refuse_relative(rest, now)
    if not relative and not has_date_words(rest):
        raise WhenRefused(f"I couldn't find a date or time in “{rest}”. Try `next thu 3pm` or `14 Jan 15:00`.")
    if not relative and not _TIME_RE.search(rest):
        raise WhenRefused(f"“{rest}” has no time of day; add one like `15:00` or `3pm`.")
    order = _check_numeric_dates(rest)
    base = now.astimezone(zone)
    _check_day_of_month_only(rest, base)
    naive, period = _dateparse(rest, base, order)
    if naive is None:
        raise WhenRefused(f"I couldn't read “{rest}” as a date and time. Try `next thu 3pm` or `14 Jan 15:00`.")
    if period not in ("day", "time", None):
        raise WhenRefused(f"“{rest}” names a {period}, not a day; say which day, e.g. `next thu 3pm`.")
    naive = naive.replace(second=0, microsecond=0)
    if relative:
        # dateparser added the offset to the local wall time; redo it on the absolute clock.
        delta = naive - base.replace(tzinfo=None, second=0, microsecond=0)
        start_dt = (now.replace(second=0, microsecond=0) + delta).astimezone(zone)
    else:
        start_dt = _localize(naive, zone, zone_name)
    _check_range(start_dt, now, zone_name)
    return start_dt


_UNIT_DAYS = {"min": 0, "hou": 0, "hrs": 0, "hr": 0, "day": 1, "wee": 7, "mon": 31, "yea": 366}


def _refuse_relative(rest: str, now: datetime) -> None:
    """An amount of time that is not `in N minutes/hours`: refuse for the right reason."""
    m = _ANY_RELATIVE_RE.match(rest)
    if m is None:
        return
    n_text = m.group("n").lower()
    n = 1 if n_text in ("a", "an") else int(n_text)
    if n < 0 or m.group("ago"):
        raise WhenRefused(f"“{rest}” is in the past.")
    unit = m.group("unit").lower()
    days = n * _UNIT_DAYS.get(unit[:3], _UNIT_DAYS.get(unit[:2], 0))
    if days > MAX_AHEAD.days:
        raise WhenRefused(f"“{rest}” is more than a year ahead; demos are scheduled up to a year ahead.")
    raise WhenRefused(f"“{rest}” has no time of day; say the day and time, e.g. `next thu 3pm`.")


def _check_range(start: datetime, now: datetime, zone_name: str) -> None:
    if start <= now:
        raise WhenRefused("That time is in the past.", understood=start, zone=zone_name)
    if start - now > MAX_AHEAD:
        raise WhenRefused("That is more than a year ahead; is the year right?", understood=start, zone=zone_name)


def _parse_recurring(
    raw: str, rest: str, rec: re.Match[str], *, now: datetime, zone: tzinfo, zone_name: str, explicit: bool, note: str
) -> Understood:
    n_word = (rec.group("n") or "").lower()
    adverb = (rec.group("adverb") or "").lower()
    if adverb:
        interval = 1 if adverb == "weekly" else 2
    elif n_word:
        interval = _NUMBERS.get(n_word) or int(n_word)
    else:
        interval = 1
    if not 1 <= interval <= 12:
        raise WhenRefused("Demos repeat every 1 to 12 weeks.")
    if rec.group("every") and n_word.isdigit() and not rec.group("unit"):
        raise WhenRefused(f"Every {n_word} what? Say `every {n_word} weeks on thursday 15:00`.")
    day_word = rec.group("day") or rec.group("day2")
    tail = rest[rec.end() :].strip()
    until = None
    m_until = _UNTIL_RE.search(tail)
    if m_until:
        until_text = m_until.group("date")
        tail = tail[: m_until.start()].strip()
        until_naive, _ = _dateparse(until_text, now.astimezone(zone), _check_numeric_dates(until_text))
        if until_naive is None:
            raise WhenRefused(f"I couldn't read “{until_text}” as the last date.")
        until = datetime.combine(until_naive.date(), time(23, 59), tzinfo=zone)
    start_date: date | None = None
    m_start = _START_RE.search(tail)
    start_text = None
    if m_start:
        start_text = m_start.group("date").strip()
        tail = tail[: m_start.start()].strip()
    tail = re.sub(r"^(?:at|@)\s+|\s+(?:at|@)\s+", " ", f" {tail} ").strip()
    tail = re.sub(r"^(?:on\s+)", "", tail, flags=re.I)
    if day_word is None:
        # "every 2 weeks next thu 3pm" / "every 2 weeks from next thu 3pm": the first date gives the day.
        first_text = " ".join(x for x in (tail, start_text) if x)
        if not first_text:
            raise WhenRefused("On which day and at what time? E.g. `every 2 weeks on thursday 15:00`.")
        first = _parse_single(first_text, now=now, zone=zone, zone_name=zone_name)
        weekday = first.weekday()
        clock = first.time().replace(tzinfo=None)
        start_date = first.date()
    else:
        weekday = _weekday_index(day_word)
        clock_text = tail
        if not clock_text or not _TIME_RE.fullmatch(clock_text.strip()):
            if not clock_text:
                raise WhenRefused("At what time? E.g. `every other thursday at 15:00`.")
            raise WhenRefused(f"I couldn't read “{clock_text}” as a time of day; write it like `15:00` or `3pm`.")
        clock = parse_clock(clock_text)
        if start_text:
            _check_day_of_month_only(start_text, now.astimezone(zone))
            sd, _ = _dateparse(start_text, now.astimezone(zone), _check_numeric_dates(start_text))
            if sd is None:
                raise WhenRefused(f"I couldn't read “{start_text}” as the first date.")
            start_date = sd.date()
    base_local = now.astimezone(zone)
    day = start_date or base_local.date()
    day += timedelta(days=(weekday - day.weekday()) % 7)
    first_dt = _localize(datetime.combine(day, clock), zone, zone_name)
    if first_dt <= now:
        if start_date is not None and start_text is not None:
            raise WhenRefused("The first demo would be in the past.", understood=first_dt, zone=zone_name)
        day += timedelta(days=7)
        first_dt = _localize(datetime.combine(day, clock), zone, zone_name)
    _check_range(first_dt, now, zone_name)
    if until is not None and until < first_dt:
        raise WhenRefused("The last date is before the first demo.", understood=first_dt, zone=zone_name)
    rule = f"FREQ=WEEKLY;INTERVAL={interval};BYDAY={RRULE_DAYS[weekday]}"
    if until is not None:
        rule += f";UNTIL={until.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    return Understood(
        text=raw, start=first_dt, zone=zone_name, explicit_zone=explicit, rrule=rule, until=until, note=note
    )


def _split_tail(tail: str, *, now: datetime, zone: tzinfo) -> tuple[str, str | None, datetime | None]:
    """A series' words after its rule: (the clock text, the "starting …" text or None, the "until" end or None)."""
    until = None
    m_until = _UNTIL_RE.search(tail)
    if m_until:
        until_text = m_until.group("date")
        tail = tail[: m_until.start()].strip()
        until_naive, _ = _dateparse(until_text, now.astimezone(zone), _check_numeric_dates(until_text))
        if until_naive is None:
            raise WhenRefused(f"I couldn't read “{until_text}” as the last date.")
        until = datetime.combine(until_naive.date(), time(23, 59), tzinfo=zone)
    start_text = None
    m_start = _START_RE.search(tail)
    if m_start:
        start_text = m_start.group("date").strip()
        tail = tail[: m_start.start()].strip()
    tail = re.sub(r"^(?:at|@)\s+|\s+(?:at|@)\s+", " ", f" {tail} ").strip()
    return re.sub(r"^(?:on\s+)", "", tail, flags=re.I), start_text, until


def _parse_monthly(
    raw: str, rest: str, m: re.Match[str], *, now: datetime, zone: tzinfo, zone_name: str, explicit: bool, note: str
) -> Understood:
    """The nth (or last) weekday of every month at a clock time: FREQ=MONTHLY;BYDAY=1TU (-1FR for the last)."""
    nth = _NTH[m.group("nth").lower()]
    weekday = _weekday_index(m.group("day"))
    clock_text, start_text, until = _split_tail(rest[m.end() :].strip(), now=now, zone=zone)
    if not clock_text:
        raise WhenRefused("At what time? E.g. `first tuesday of the month 15:00`.")
    if not _TIME_RE.fullmatch(clock_text.strip()):
        raise WhenRefused(f"I couldn't read “{clock_text}” as a time of day; write it like `15:00` or `3pm`.")
    clock = parse_clock(clock_text)
    base_local = now.astimezone(zone)
    day = base_local.date()
    if start_text:
        _check_day_of_month_only(start_text, base_local)
        sd, _ = _dateparse(start_text, base_local, _check_numeric_dates(start_text))
        if sd is None:
            raise WhenRefused(f"I couldn't read “{start_text}” as the first date.")
        day = sd.date()
    rule = f"FREQ=MONTHLY;BYDAY={nth}{RRULE_DAYS[weekday]}"
    first_dt = None
    for naive in rrulestr(rule, dtstart=datetime.combine(day, clock)):
        candidate = _localize(naive, zone, zone_name)
        if candidate > now:
            first_dt = candidate
            break
        if start_text:
            raise WhenRefused("The first meeting would be in the past.", understood=candidate, zone=zone_name)
    assert first_dt is not None  # a monthly rule without an end always has a next date
    _check_range(first_dt, now, zone_name)
    if until is not None:
        if until < first_dt:
            raise WhenRefused("The last date is before the first meeting.", understood=first_dt, zone=zone_name)
        rule += f";UNTIL={until.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    return Understood(
        text=raw, start=first_dt, zone=zone_name, explicit_zone=explicit, rrule=rule, until=until, note=note
    )


# "milestone ACME-M-1" (or "M-1", "#1") anywhere in `/demo new` or `/demo schedule`: the demo's milestone.
_MILESTONE_RE = re.compile(
    r"(?:^|(?<=\s))milestone\s+(?P<id>(?:[A-Za-z][A-Za-z0-9]{1,9}-)?M-?\d{1,9}|#\d{1,9})(?=\s|$|[|,;])",
    re.IGNORECASE,
)


def split_milestone(args: str) -> tuple[str, str | None]:
    """Take the milestone phrase out of the arguments, so it is read neither as part of the date nor the
    title: ("next thu 3pm | Re-demo", "ACME-M-1") from "next thu 3pm milestone ACME-M-1 | Re-demo". Only a
    milestone id counts ("Milestone review next thu 3pm", "Milestone 2 review" stay text); two are refused."""
    found = list(_MILESTONE_RE.finditer(args))
    if not found:
        return args, None
    if len(found) > 1:
        raise UserError("A demo shows one milestone; name it once (`milestone ACME-M-1`).")
    m = found[0]
    rest = (args[: m.start()].rstrip() + " " + args[m.end() :].lstrip()).strip()
    return re.sub(r"\s+\|", " |", rest), m.group("id")


def split_when_title(args: str) -> tuple[str, str | None]:
    """Split `/demo schedule` arguments into (when, title).

    - `next thu 3pm | Sprint 4 demo` — a `|` separates the time (left) from the title (right);
    - `"Sprint 4 demo" next thu 3pm` or `next thu 3pm "Sprint 4 demo"` — a quoted title, either end;
    - anything else is all time, and the title is the default.
    """
    text = args.strip()
    if "|" in text:
        when, _, title = text.partition("|")
        return when.strip(), (title.strip() or None)
    m = re.match(r'^\s*["“”\'‘’](?P<t>[^"“”]+?)["“”\'‘’]\s*(?P<rest>.*)$', text)
    if m:
        return m.group("rest").strip(), m.group("t").strip()
    m = re.match(r'^(?P<rest>.*?)\s*["“”](?P<t>[^"“”]+)["“”]\s*$', text)
    if m:
        return m.group("rest").strip(), m.group("t").strip()
    return text, None


def read_when_title(
    args: str, *, now: datetime, speaker_tz: str, monthly: bool = False
) -> tuple[Understood, str | None]:
    """`/demo schedule` arguments → (how the time was read, the title or None).

    A `|` or a quoted title separates them as typed; otherwise the whole text is tried as a time, and when
    it is not one, the date phrase is found inside it (title before or after: "Sprint 4 demo next thu 3pm")
    by the one rule every command shares (`bot.shared.dates.split_date_text`). `monthly`: as for parse_when."""
    when_text, title = split_when_title(args)
    if title is not None:
        return parse_when(when_text, now=now, speaker_tz=speaker_tz, monthly=monthly), title
    try:
        return parse_when(when_text, now=now, speaker_tz=speaker_tz, monthly=monthly), None
    except WhenRefused as whole:
        try:
            split = split_date_text(when_text, now=now, tz=ZoneInfo("UTC"))
        except UserError:
            raise whole from None
        if not split.rest:
            raise
        return parse_when(split.phrase, now=now, speaker_tz=speaker_tz, monthly=monthly), split.rest
