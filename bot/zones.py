"""Time zones: names and cities people type, resolved to IANA zones."""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.errors import UserError


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
    if candidate.upper() == "UTC":
        return "UTC"
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
