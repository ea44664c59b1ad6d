"""Time zones: names and cities people type, resolved to IANA zones."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from importlib import resources
from pathlib import Path
from zoneinfo import TZPATH, ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.kernel.errors import UserError

# Abbreviations people type for a zone. Most name several zones (CST is Chicago, Shanghai and Havana) and
# the legacy zone of the same name ("EST") is a fixed offset without daylight saving, which is rarely what
# was meant: so we ask which, suggesting the IANA zones. One suggestion only = that zone.
ABBREVIATION_ZONES: dict[str, tuple[str, ...]] = {
    "est": ("America/New_York", "America/Toronto", "America/Panama"),
    "edt": ("America/New_York", "America/Toronto"),
    "et": ("America/New_York", "America/Toronto"),
    "cst": ("America/Chicago", "America/Mexico_City", "Asia/Shanghai", "America/Havana"),
    "cdt": ("America/Chicago", "America/Havana"),
    "ct": ("America/Chicago", "America/Mexico_City"),
    "mst": ("America/Denver", "America/Phoenix", "America/Edmonton"),
    "mdt": ("America/Denver", "America/Edmonton"),
    "mt": ("America/Denver", "America/Phoenix"),
    "pst": ("America/Los_Angeles", "America/Vancouver", "Asia/Manila"),
    "pdt": ("America/Los_Angeles", "America/Vancouver"),
    "pt": ("America/Los_Angeles", "America/Vancouver"),
    "ist": ("Asia/Kolkata", "Europe/Dublin", "Asia/Jerusalem"),
    "bst": ("Europe/London", "Asia/Dhaka"),
    "gmt": ("Europe/London", "UTC"),
    "ast": ("America/Halifax", "Asia/Riyadh"),
    "hst": ("Pacific/Honolulu",),
    "akst": ("America/Anchorage",),
    "cet": ("Europe/Berlin", "Europe/Paris", "Europe/Madrid", "Europe/Rome"),
    "cest": ("Europe/Berlin", "Europe/Paris", "Europe/Madrid", "Europe/Rome"),
    "eet": ("Europe/Helsinki", "Europe/Athens", "Africa/Cairo"),
    "wet": ("Europe/Lisbon", "Atlantic/Canary"),
    "aest": ("Australia/Sydney", "Australia/Melbourne", "Australia/Brisbane"),
    "aedt": ("Australia/Sydney", "Australia/Melbourne"),
    "acst": ("Australia/Adelaide", "Australia/Darwin"),
    "awst": ("Australia/Perth",),
    "jst": ("Asia/Tokyo",),
    "kst": ("Asia/Seoul",),
    "sgt": ("Asia/Singapore",),
    "hkt": ("Asia/Hong_Kong",),
    "pkt": ("Asia/Karachi",),
    "npt": ("Asia/Kathmandu",),
    "msk": ("Europe/Moscow",),
    "nzst": ("Pacific/Auckland",),
    "nzdt": ("Pacific/Auckland",),
    "wib": ("Asia/Jakarta",),
}
_OFFSET = re.compile(r"^(?:utc|gmt)?\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?$", re.I)
# Two days half a year apart: a zone whose offset is the same on both keeps it all year.
_SAMPLES = (datetime(2027, 1, 15, tzinfo=UTC), datetime(2027, 7, 15, tzinfo=UTC))


@lru_cache(maxsize=1)
def canonical_zones() -> tuple[str, ...]:
    """The zones of zone.tab (one name per zone, no old aliases like Asia/Calcutta), or every Area/City zone."""
    texts: list[str] = []
    try:
        texts.append((resources.files("tzdata") / "zoneinfo" / "zone.tab").read_text(encoding="utf-8"))
    except (ModuleNotFoundError, FileNotFoundError, OSError):
        texts.extend(Path(d, "zone.tab").read_text(encoding="utf-8") for d in TZPATH if Path(d, "zone.tab").exists())
    names = {line.split("\t")[2] for text in texts[:1] for line in text.splitlines() if line and line[0] != "#"}
    names = {n for n in names if n in available_timezones()}
    return tuple(sorted(names or {n for n in available_timezones() if "/" in n and not n.startswith("Etc/")}))


def zones_at_offset(offset: timedelta) -> list[str]:
    """Zones that are at `offset` from UTC all year (UTC+5:45 → Asia/Kathmandu)."""
    return [n for n in canonical_zones() if all(s.astimezone(ZoneInfo(n)).utcoffset() == offset for s in _SAMPLES)]


def _from_abbreviation(raw: str) -> str | None:
    zones = ABBREVIATION_ZONES.get(raw.lower())
    if zones is None:
        return None
    if len(zones) == 1:
        return zones[0]
    raise UserError(
        f"“{raw}” is an abbreviation that more than one zone uses, so I won't guess: did you mean "
        f"{', '.join(f'`{z}`' for z in zones[:-1])} or `{zones[-1]}`? Give the zone name "
        "(these follow daylight saving where the place does)."
    )


def _from_offset(raw: str) -> str | None:
    m = _OFFSET.match(raw.replace(" ", ""))
    if m is None:
        return None
    hours, minutes = int(m.group(2)), int(m.group(3) or 0)
    if hours > 14 or minutes >= 60:
        raise UserError(f"“{raw}” is not a UTC offset (from UTC−12:00 to UTC+14:00).")
    sign = 1 if m.group(1) == "+" else -1
    if hours == minutes == 0:
        return "UTC"
    zones = zones_at_offset(sign * timedelta(hours=hours, minutes=minutes))
    if len(zones) == 1:
        return zones[0]
    if minutes == 0:
        # A fixed whole-hour offset has an IANA name of its own (with the sign reversed, as POSIX has it).
        return f"Etc/GMT{'-' if sign > 0 else '+'}{hours}"
    if zones:
        raise UserError(
            f"Several places are at {raw.upper()} all year: {', '.join(f'`{z}`' for z in zones[:6])}. "
            "Which one? Give the zone name."
        )
    raise UserError(f"No place uses {raw.upper()} all year; give a zone name like `Asia/Kolkata` or a city.")


@lru_cache(maxsize=1)
def _by_city() -> dict[str, list[str]]:
    cities: dict[str, list[str]] = {}
    for name in available_timezones():
        if "/" not in name or name.startswith(("Etc/", "SystemV/")):
            continue
        city = name.rsplit("/", 1)[1].lower().replace("_", " ")
        cities.setdefault(city, []).append(name)
    return cities


def resolve_zone(text: str) -> str:
    """An IANA zone name for `text` ("Asia/Kolkata", "kolkata", "St Johns"); UserError if unknown or
    ambiguous."""
    raw = " ".join(text.strip().split())
    if not raw:
        raise UserError("Tell me a time zone, e.g. `Asia/Kolkata` or a city like `Berlin`.")
    candidate = raw.replace(" ", "_")
    if candidate.upper() in ("UTC", "Z", "ETC/UTC"):
        return "UTC"
    for special in (_from_abbreviation, _from_offset):
        found = special(raw)
        if found is not None:
            return found
    for name in (candidate, candidate.title()):
        if name in available_timezones():
            return name
    lowered = {n.lower(): n for n in available_timezones()}
    if candidate.lower() in lowered:
        return lowered[candidate.lower()]
    city = raw.lower().replace("_", " ").replace(".", "").replace("'", "")
    matches = _by_city().get(city, [])
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise UserError(f"“{raw}” could mean {', '.join(sorted(matches))}; please give the full zone name.")
    raise UserError(f"I don't know the time zone “{raw}”. Try a name like `Europe/Berlin` or a city like `Kolkata`.")


def zone_or_utc(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")
