"""Text rules shared by every front end: cleaning untrusted input, bounding lengths, and the inline
tokens (a time, a person) that each renderer turns into its platform's form.

Tokens are delimited by Unicode private-use characters, which `clean()` strips from user input,
so a user cannot forge a token (or a mention) by typing one.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta

TOKEN_OPEN = "\ue000"
TOKEN_CLOSE = "\ue001"
TOKEN_RE = re.compile("\ue000(time|person|date):([^\ue000\ue001]*)\ue001")

# Generous bounds; platform limits are larger, contracts do not need essays in a title.
MAX_COMMAND = 4000
MAX_TITLE = 150
MAX_TEXT = 3000

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


class InputTooLong(ValueError):
    def __init__(self, what: str, limit: int, got: int) -> None:
        super().__init__(f"{what} is too long ({got} characters; the limit is {limit}).")
        self.what, self.limit, self.got = what, limit, got


def clean(text: str | None, *, limit: int | None = None, what: str = "The text", multiline: bool = True) -> str:
    """Normalise untrusted text: NFC, no control or bidi-override characters, no private-use
    characters (our token delimiters), trimmed. Raises InputTooLong past `limit`."""
    if text is None:
        return ""
    text = unicodedata.normalize("NFC", str(text))
    text = "".join(ch for ch in text if not ("\ue000" <= ch <= "\uf8ff"))
    text = _CONTROL.sub("", text)
    if not multiline:
        text = " ".join(text.split())
    text = text.strip()
    if limit is not None and len(text) > limit:
        raise InputTooLong(what, limit, len(text))
    return text


def when(dt: datetime, style: str = "datetime") -> str:
    """A point in time that each reader sees in their own zone. style: datetime | date | time."""
    if dt.tzinfo is None:
        raise ValueError("when() needs a zone-aware datetime")
    return f"{TOKEN_OPEN}time:{int(dt.timestamp())}|{style}{TOKEN_CLOSE}"


def person(person_id: int, fallback: str) -> str:
    """A mention of a person; rendered as a platform mention where the person has an identity."""
    fallback = fallback.replace("|", "/")
    return f"{TOKEN_OPEN}person:{person_id}|{clean(fallback, multiline=False)}{TOKEN_CLOSE}"


def parse_token(kind: str, body: str) -> tuple[str, str]:
    value, _, extra = body.partition("|")
    return value, extra


def strip_tokens(text: str, render=None) -> str:  # noqa: ANN001
    """Replace tokens using `render(kind, value, extra) -> str` (default: the fallback text)."""

    def _sub(m: re.Match[str]) -> str:
        kind = m.group(1)
        value, extra = parse_token(kind, m.group(2))
        if render is not None:
            return render(kind, value, extra)
        if kind == "time":
            return datetime.fromtimestamp(int(value)).astimezone().isoformat(timespec="minutes")
        return extra or value

    return TOKEN_RE.sub(_sub, text)


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"


def duration(delta: timedelta) -> str:
    """A span as people read it: "45 min", "2 h 05 min", "3 d 4 h"; "-45 min" when overdue."""
    sign = "-" if delta < timedelta(0) else ""
    minutes = int(abs(delta).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{sign}{days} d {hours} h"
    if hours:
        return f"{sign}{hours} h {mins:02d} min"
    return f"{sign}{mins} min"


def plural(n: int, word: str, many: str | None = None) -> str:
    """`1 day`, `5 days`, `2 replies` (with `many`): never `day(s)`."""
    return f"{n} {word if n == 1 else (many or word + 's')}"


# One date format and one timestamp format for every card and export a person reads.
def day_text(day: date | datetime) -> str:
    """'Sun 6 Dec 2026'."""
    return f"{day:%a} {day.day} {day:%b %Y}"


def moment_text(instant: datetime, style: str = "datetime", zone_name: str | None = None) -> str:
    """'Sun 6 Dec 2026 09:45 Asia/Kathmandu' (style datetime), 'Sun 6 Dec 2026' (date), '09:45 Asia/Kathmandu'
    (time), in the instant's own zone, named by its IANA name (never a bare +0545)."""
    name = zone_name or getattr(instant.tzinfo, "key", None) or instant.tzname() or "UTC"
    if style == "date":
        return day_text(instant)
    if style == "time":
        return f"{instant:%H:%M} {name}"
    return f"{day_text(instant)} {instant:%H:%M} {name}"
