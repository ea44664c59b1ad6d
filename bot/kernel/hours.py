"""Working hours: the one place for their rules. A person works from their start to their end time (default
people.WORKING_HOURS) on their work days, in their own zone, except on their country's public holidays and
their out-of-office days. A slot for a meeting or a demo is checked against every invitee's hours (naming who
is outside and why) with the nearest slot inside everyone's hours suggested, or the best compromise; and the
overlap of both sides' hours on one day is found for `/cadence overlap`."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from itertools import pairwise

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.kernel import sides
from bot.kernel.errors import UserError
from bot.kernel.messages import Button, Card, Field
from bot.kernel.people import UNKNOWN_ZONE, WORKING_HOURS, away_reason, is_workday, zone
from bot.kernel.text import clean, when
from bot.kernel.zones import zone_or_utc
from storage.models import Engagement, Person

DAY_MINUTES = 24 * 60
# What `/cadence hours` accepts: a window of at least an hour (shorter is a typo more often than a day) and at
# most 16 (longer is not working hours any more: nothing would ever be flagged).
MIN_WINDOW = timedelta(hours=1)
MAX_WINDOW = timedelta(hours=16)
# The suggestion search: quarter-hour steps, up to a week either side of the asked start.
STEP = timedelta(minutes=15)
SEARCH = timedelta(days=7)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

Interval = tuple[datetime, datetime]


# -- a person's hours -------------------------------------------------------------------------------------
def _minute(t: time) -> int:
    return t.hour * 60 + t.minute


DEFAULT = (_minute(WORKING_HOURS[0]), _minute(WORKING_HOURS[1]))


def hours_of(person: Person) -> tuple[int, int]:
    """(start, end) in minutes after the person's local midnight: theirs, or the default."""
    start, end = person.work_start_minute, person.work_end_minute
    if start is None or end is None:
        return DEFAULT
    return start, end


def clock(minute: int) -> str:
    """'09:00', '18:30', '24:00'."""
    return f"{minute // 60:02d}:{minute % 60:02d}"


def span_text(start: int, end: int) -> str:
    return f"{clock(start)}–{clock(end)}"


def hours_text(person: Person) -> str:
    """'09:00–18:00'."""
    return span_text(*hours_of(person))


_TIME = r"(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?"
_RANGE = re.compile(rf"^{_TIME}\s*(?:-|–|—|to|until)\s*{_TIME}$", re.IGNORECASE)


def _read_time(hour: str, minute: str | None, half: str | None, shown: str) -> int:
    h, m = int(hour), int(minute or 0)
    if m > 59:
        raise UserError(f"“{shown}” is not a time of day: an hour has 60 minutes. Nothing was changed.")
    if half:
        if not 1 <= h <= 12:
            raise UserError(f"“{shown}” is not a time of day: am and pm go with 1 to 12. Nothing was changed.")
        h = h % 12 + (12 if half.lower().startswith("p") else 0)
    elif h > 24 or (h == 24 and m):
        raise UserError(f"“{shown}” is not a time of day: a day has 24 hours. Nothing was changed.")
    return h * 60 + m


def _typed(typed: str, m: re.Match[str], first: int) -> str:
    """One of the two times as it was typed (groups `first` to `first`+2 of `_RANGE`)."""
    ends = [m.end(g) for g in range(first, first + 3) if m.group(g) is not None]
    return typed[m.start(first) : max(ends)]


def parse_hours(text: str) -> tuple[int, int]:
    """'10:00-19:00', '10am-7pm', '9:30 - 18:30' → (start, end) minutes after local midnight. Refuses an
    impossible time, an end before the start (an overnight window), under MIN_WINDOW or over MAX_WINDOW."""
    typed = clean(text, limit=60, what="The working hours", multiline=False)
    m = _RANGE.match(typed)
    if not m:
        raise UserError(
            f"I can't read “{typed}” as working hours. Write a start and an end, e.g. `/cadence hours 10:00-19:00` "
            "or `/cadence hours 10am-7pm`. Nothing was changed."
        )
    h1, m1, a1, h2, m2, a2 = m.groups()
    start = _read_time(h1, m1, a1, _typed(typed, m, 1))
    end = _read_time(h2, m2, a2, _typed(typed, m, 4))
    if start >= DAY_MINUTES:
        raise UserError("Working hours cannot start at 24:00; start at 00:00 of the day. Nothing was changed.")
    if end <= start:
        raise UserError(
            f"The end ({clock(end)}) is not after the start ({clock(start)}). Working hours start and end on the "
            f"same day, e.g. `/cadence hours {clock(DEFAULT[0])}-{clock(DEFAULT[1])}`; an overnight window "
            f"({span_text(start, end)}) isn't supported. Nothing was changed."
        )
    length = timedelta(minutes=end - start)
    if length < MIN_WINDOW:
        raise UserError(f"{span_text(start, end)} is shorter than an hour. Nothing was changed.")
    if length > MAX_WINDOW:
        raise UserError(
            f"{span_text(start, end)} is longer than {int(MAX_WINDOW.total_seconds() // 3600)} hours; working hours "
            "are when you can be asked to meet. Nothing was changed."
        )
    return start, end


def _at(day: date, minute: int, tz: tzinfo) -> datetime:
    """The wall time `minute` after `day`'s midnight in `tz`, as a real instant (a wall time a DST change skipped
    is moved past the gap)."""
    wall = datetime.combine(day, time(0), tzinfo=tz) + timedelta(minutes=minute)
    return wall.astimezone(UTC).astimezone(tz)


def window(person: Person, day: date) -> tuple[datetime, datetime] | None:
    """The person's working window on their local date `day` (aware, in their zone), or None when it is not a
    work day, a public holiday of their country or an out-of-office day."""
    if not is_workday(person, day) or away_reason(person, day):
        return None
    tz = zone(person)
    start, end = hours_of(person)
    return _at(day, start, tz), _at(day, end, tz)


# -- a slot against everyone's hours ----------------------------------------------------------------------
@dataclass(frozen=True)
class Outside:
    """Someone a slot falls outside the working hours of: `local` the slot's start in their zone ("Fri 01:30
    Asia/Kolkata"), `reason` why ("before their working hours (09:00–18:00)", "their day off (Saturday)")."""

    person: Person
    local: str
    reason: str


@dataclass(frozen=True)
class SlotCheck:
    """A slot [start, start+minutes) checked: who is outside their hours, and the nearest start inside
    everyone's (suggestion_fits_all) or, when no such start is within a week, the best compromise (fewest
    people outside, then nearest). suggestion None: everyone is inside, or nothing nearby is better."""

    start: datetime
    minutes: int
    outside: tuple[Outside, ...]
    suggestion: datetime | None
    suggestion_fits_all: bool
    # Invitees whose zone is not known (another company's member whose profile withholds it): their hours
    # cannot be checked, so they are named instead of being judged on UTC.
    unknown: tuple[Person, ...] = ()


def zone_known(person: Person) -> bool:
    """False for someone whose platform withholds their zone and who has not set one (`/cadence tz`)."""
    return person.tz_source != UNKNOWN_ZONE


def local_text(person: Person, instant: datetime) -> str:
    """'Fri 01:30 Asia/Kolkata'."""
    tz = zone(person)
    return f"{instant.astimezone(tz):%a %H:%M} {tz.key}"


def _reason(person: Person, start: datetime, end: datetime) -> str | None:
    """Why [start, end) is outside the person's working hours, or None when it is inside."""
    tz = zone(person)
    local = start.astimezone(tz)
    day = local.date()
    if not is_workday(person, day):
        return f"their day off ({WEEKDAYS[day.weekday()]})"
    away = away_reason(person, day)
    if away:
        return f"a public holiday: {away.removeprefix('holiday: ')}" if away.startswith("holiday:") else away
    opens, closes = hours_of(person)
    if start.astimezone(UTC) < _at(day, opens, tz).astimezone(UTC):
        return f"before their working hours ({span_text(opens, closes)})"
    if end.astimezone(UTC) > _at(day, closes, tz).astimezone(UTC):
        return f"after their working hours ({span_text(opens, closes)})"
    return None


def outside_of(person: Person, start: datetime, minutes: int) -> Outside | None:
    """The person, their local time and why, when [start, start+minutes) is outside their working hours."""
    reason = _reason(person, start, start + timedelta(minutes=minutes))
    return None if reason is None else Outside(person=person, local=local_text(person, start), reason=reason)


def _windows_between(person: Person, lo: datetime, hi: datetime) -> list[Interval]:
    """The person's working windows (UTC) on every local date from `lo`'s to `hi`'s, in order."""
    tz = zone(person)
    day, last = lo.astimezone(tz).date(), hi.astimezone(tz).date()
    out: list[Interval] = []
    while day <= last:
        w = window(person, day)
        if w is not None:
            out.append((w[0].astimezone(UTC), w[1].astimezone(UTC)))
        day += timedelta(days=1)
    return out


def suggest(people: Sequence[Person], start: datetime, minutes: int, *, now: datetime) -> tuple[datetime | None, bool]:
    """The nearest start to `start` (quarter-hour steps outward, later before earlier at the same distance, up
    to a week either way, never before `now`) inside everyone's hours: (it, True); else the best compromise
    (fewest people outside, then nearest): (it, False), or (None, False) when none is better than `start`."""
    start = start.astimezone(UTC)
    length = timedelta(minutes=minutes)
    # Each person's windows over the whole search, once: a slot is inside their hours when one window holds it
    # (the same answer as `_reason`, without a zone conversion per step).
    lo, hi = start - SEARCH - timedelta(days=1), start + SEARCH + length + timedelta(days=1)
    windows = [_windows_between(p, lo, hi) for p in people]

    def outside(at: datetime) -> int:
        end = at + length
        return sum(1 for ws in windows if not any(s <= at and end <= e for s, e in ws))

    best, best_count = None, outside(start)
    if best_count == 0:
        return None, True
    steps = int(SEARCH / STEP)
    for k in range(1, steps + 1):
        for candidate in (start + k * STEP, start - k * STEP):
            if candidate <= now:
                continue
            count = outside(candidate)
            if count == 0:
                return candidate, True
            if count < best_count:
                best, best_count = candidate, count
    return best, False


async def invitees(session: AsyncSession, engagement: Engagement) -> list[Person]:
    """Who a meeting or demo of the engagement invites: its seated members, both sides."""
    return list((await _seated_people(session, engagement)).values())


async def _seated_people(session: AsyncSession, engagement: Engagement) -> dict[int, Person]:
    """The seated members' people by id, in seating order, in one query (with their absences, which the checks
    read). By id, not `m.person`: a membership loaded for the actor has that relationship left unloaded."""
    ids = list(dict.fromkeys(m.person_id for m in await sides.seated(session, engagement)))
    found = {p.id: p for p in await session.scalars(select(Person).where(Person.id.in_(ids)))} if ids else {}
    return {pid: found[pid] for pid in ids if pid in found}


async def check_slot(
    session: AsyncSession, engagement: Engagement, start: datetime, minutes: int, *, now: datetime
) -> SlotCheck:
    """Check [start, start+minutes) against every seated member's working hours (both sides)."""
    everyone = await invitees(session, engagement)
    people = [p for p in everyone if zone_known(p)]
    outside = tuple(o for p in people if (o := outside_of(p, start, minutes)) is not None)
    suggestion, fits = suggest(people, start, minutes, now=now) if outside else (None, True)
    unknown = tuple(p for p in everyone if not zone_known(p))
    return SlotCheck(start, minutes, outside, suggestion, fits, unknown)


def unknown_fields(people: Sequence[Person], *, left_out: str = "not checked") -> list[Field]:
    """Who could not be checked (a slot) or counted (an overlap) because their zone is unknown, and how that
    changes."""
    if not people:
        return []
    names = ", ".join(p.display_name for p in people)
    return [Field("Zone unknown", f"{names}: {left_out} (`/cadence tz <zone>` sets theirs).", short=False)]


def warning_fields(check: SlotCheck) -> list[Field]:
    """What a confirmation card shows when the slot is outside someone's hours: who, their local time and why,
    and the suggestion in each reader's own time. Empty when everyone is inside their hours."""
    if not check.outside:
        return []
    lines = [f"{o.person.display_name} — {o.local}: {o.reason}" for o in check.outside]
    fields = [Field("Outside working hours", "\n".join(lines), short=False)]
    if check.suggestion is None:
        fields.append(Field("Suggested", "No time within a week either way suits more people.", short=False))
    elif check.suggestion_fits_all:
        fields.append(
            Field("Suggested", f"{when(check.suggestion)} (your time): inside everyone's working hours.", short=False)
        )
    else:
        fields.append(
            Field(
                "Suggested",
                f"{when(check.suggestion)} (your time): the best compromise. No time within a week either way is "
                "inside everyone's working hours; this one leaves the fewest people outside theirs.",
                short=False,
            )
        )
    return fields


OUT_OF_HOURS = (
    "It falls outside someone's working hours or on their day off (below): confirm as is, or use the suggested time."
)


def use_label(start: datetime, zone_name: str) -> str:
    """The button that confirms at the suggested start: 'Use Thu 7 Jan 10:30 America/New_York' (a button label
    cannot show each reader their own time: it is the time in the zone the organizer wrote)."""
    local = start.astimezone(zone_or_utc(zone_name))
    return f"Use {local:%a} {local.day} {local:%b %H:%M} {zone_name}"


@dataclass(frozen=True)
class Confirmation:
    """What a confirm-before-saving card offers (a demo's, a meeting's): the Confirm action and its draft value,
    the Cancel action, and the same draft moved to the check's suggestion (value, start, zone), if any."""

    confirm_action: str
    value: str
    cancel_action: str
    suggested: tuple[str, datetime, str] | None = None


def confirmation_card(title: str, text: str, fields: list[Field], offer: Confirmation, check: SlotCheck) -> Card:
    """The one confirmation card of everything people are invited to: as asked when everyone is inside their
    working hours; else in the warning tone, naming who is outside and why, with a second button that confirms
    at the suggested start (the organizer may still confirm as is)."""
    warning = warning_fields(check)
    buttons = [Button("Confirm", offer.confirm_action, offer.value, "primary")]
    if warning and offer.suggested is not None:
        value, start, zone_name = offer.suggested
        buttons.append(Button(use_label(start, zone_name), offer.confirm_action, value, "default"))
    buttons.append(Button("Cancel", offer.cancel_action, "", "default"))
    return Card(
        title=title,
        text=f"{text} {OUT_OF_HOURS}" if warning else text,
        fields=[*fields, *warning, *unknown_fields(check.unknown)],
        buttons=buttons,
        tone="warning" if warning else "info",
        footer="Nothing is saved until you confirm.",
    )


# -- both sides' overlap on one day -----------------------------------------------------------------------
@dataclass(frozen=True)
class Overlap:
    """Both sides' working hours on the asker's local date `day` (the span [start, end) of that date in their
    zone). `windows`: when everyone counted is at work. When there is none: `closest`, the longest stretch with
    the most people at work (someone of each side if possible) and `missing`, who is not at work then; and
    `gap`, the two moments (one side's stretch ends, the other's begins) nearest to each other, when each side
    has a stretch of its own."""

    day: date
    start: datetime
    end: datetime
    people: Mapping[str, tuple[Person, ...]]
    windows: tuple[Interval, ...]
    closest: Interval | None
    missing: tuple[Outside, ...]
    gap: Interval | None


def at_work(person: Person, lo: datetime, hi: datetime) -> list[Interval]:
    """The person's working windows that fall in [lo, hi), clipped, in UTC."""
    tz = zone(person)
    first = lo.astimezone(tz).date() - timedelta(days=1)
    out: list[Interval] = []
    for i in range(4):
        w = window(person, first + timedelta(days=i))
        if w is None:
            continue
        s, e = max(w[0].astimezone(UTC), lo), min(w[1].astimezone(UTC), hi)
        if s < e:
            out.append((s, e))
    return out


def _intersect(a: list[Interval], b: list[Interval]) -> list[Interval]:
    out = []
    for s1, e1 in a:
        for s2, e2 in b:
            s, e = max(s1, s2), min(e1, e2)
            if s < e:
                out.append((s, e))
    return sorted(out)


def _all_at_work(ivs: list[list[Interval]], lo: datetime, hi: datetime) -> list[Interval]:
    common = [(lo, hi)]
    for iv in ivs:
        common = _intersect(common, iv)
    return common


def _stretches(
    people: list[tuple[str, Person]], ivs: dict[int, list[Interval]], lo: datetime, hi: datetime
) -> list[tuple[Interval, frozenset[int]]]:
    """The day cut where anyone starts or stops work, merged where the same people are at work."""
    cuts = sorted({lo, hi, *(t for iv in ivs.values() for s, e in iv for t in (s, e))})
    out: list[tuple[Interval, frozenset[int]]] = []
    for a, b in pairwise(cuts):
        present = frozenset(p.id for _, p in people if any(s <= a and b <= e for s, e in ivs[p.id]))
        if out and out[-1][1] == present and out[-1][0][1] == a:
            out[-1] = ((out[-1][0][0], b), present)
        else:
            out.append(((a, b), present))
    return out


def _nearest(x: list[Interval], y: list[Interval]) -> Interval | None:
    """The end of a stretch of one list and the start of one of the other that are nearest to each other."""
    best: Interval | None = None
    for a in x:
        for b in y:
            pair = (a[1], b[0]) if a[1] <= b[0] else (b[1], a[0]) if b[1] <= a[0] else None
            if pair and (best is None or pair[1] - pair[0] < best[1] - best[0]):
                best = pair
    return best


def overlap(people_by_side: Mapping[str, Sequence[Person]], day: date, tz: tzinfo) -> Overlap:
    """When everyone in `people_by_side` (side → people) is at work, each at their own hours, on the local date
    `day` of the zone `tz` (the asker's); or what comes closest."""
    lo = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
    hi = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    counted = {side: tuple(people) for side, people in people_by_side.items()}
    everyone = [(side, p) for side, people in counted.items() for p in people]
    ivs = {p.id: at_work(p, lo, hi) for _, p in everyone}
    windows = _all_at_work(list(ivs.values()), lo, hi) if everyone else []
    closest: Interval | None = None
    missing: tuple[Outside, ...] = ()
    gap: Interval | None = None
    if not windows and everyone:
        side_of = {p.id: side for side, p in everyone}
        stretches = [(iv, present) for iv, present in _stretches(everyone, ivs, lo, hi) if present]
        if stretches:

            def rank(item: tuple[Interval, frozenset[int]]) -> tuple[bool, int, timedelta, float]:
                (s, e), present = item
                both = len({side_of[i] for i in present}) == len(counted)
                return both, len(present), e - s, -s.timestamp()  # the earliest of equals

            (s, e), present = max(stretches, key=rank)
            closest = (s, e)
            missing = tuple(
                Outside(person=p, local=local_text(p, s), reason=_reason(p, s, e) or "not at work all that time")
                for _, p in everyone
                if p.id not in present
            )
        by_side = [_all_at_work([ivs[p.id] for p in people], lo, hi) for people in counted.values() if people]
        if len(by_side) == 2 and all(by_side):
            gap = _nearest(by_side[0], by_side[1])
    return Overlap(
        day=day,
        start=lo,
        end=hi,
        people=counted,
        windows=tuple(windows),
        closest=closest,
        missing=missing,
        gap=gap,
    )


async def sides_of(session: AsyncSession, engagement: Engagement) -> dict[str, tuple[Person, ...]]:
    """The engagement's seated members by side ("client", "vendor"), each side's people with a known zone first,
    and under "unknown" those whose zone is not known (they cannot be counted in an overlap)."""
    out: dict[str, list[Person]] = {side: [] for side in (*sides.SIDES, "unknown")}
    people = await _seated_people(session, engagement)
    for m in await sides.seated(session, engagement):
        side = sides.side_of(m.roles)
        person = people.get(m.person_id)
        if side is not None and person is not None and all(p.id != person.id for ps in out.values() for p in ps):
            out[side if zone_known(person) else "unknown"].append(person)
    return {side: tuple(people) for side, people in out.items()}
