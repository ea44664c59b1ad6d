"""Text rules shared by every front end: cleaning untrusted input, bounding lengths, and the inline
tokens (a time, a person) that each renderer turns into its platform's form.

Tokens are delimited by Unicode private-use characters, which `clean()` strips from user input,
so a user cannot forge a token (or a mention) by typing one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date, datetime, timedelta

TOKEN_OPEN = "\ue000"
TOKEN_CLOSE = "\ue001"
TOKEN_RE = re.compile("\ue000(time|person|date):([^\ue000\ue001]*)\ue001")

# Generous bounds; platform limits are larger, contracts do not need essays in a title.
MAX_COMMAND = 4000
MAX_TITLE = 150
MAX_TEXT = 3000

# C0/C1 controls (tab and newline kept), and the invisible or direction-changing characters that make a
# title display as something other than what it is: zero-width space/non-joiner/joiner and the LRM/RLM
# marks (U+200B–200F), bidi embeddings and overrides (U+202A–202E), isolates (U+2066–2069), the word
# joiner and invisible operators (U+2060–2064), the Arabic letter mark (U+061C), the Mongolian vowel
# separator (U+180E) and the byte-order mark (U+FEFF). The zero-width joiner and tag characters are
# handled apart: they are kept where they build an emoji (👩‍💻, 🏴󠁧󠁢󠁳󠁣󠁴󠁿).
_CONTROL = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u180e\u200b\u200c\u200e\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)
ZWJ = "\u200d"
_TAG_FIRST, _TAG_LAST, _CANCEL_TAG = 0xE0000, 0xE007F, "\U000e007f"
_BLACK_FLAG = "\U0001f3f4"  # the base of emoji tag sequences (subdivision flags)
_EMOJI_MODIFIERS = "\ufe0f\u20e3"  # variation selector 16, combining keycap


def _is_emoji(ch: str) -> bool:
    """Pictographic enough to take part in a ZWJ sequence: symbols (So), skin-tone modifiers (Sk) and the
    emoji presentation selector."""
    return ch in _EMOJI_MODIFIERS or (ord(ch) >= 0x2000 and unicodedata.category(ch) in ("So", "Sk"))


def _is_tag(ch: str) -> bool:
    return _TAG_FIRST <= ord(ch) <= _TAG_LAST


def _drop_invisible(text: str) -> str:
    """Remove ZWJs outside emoji sequences and tag characters outside emoji tag sequences (🏴 + tags + cancel
    tag); everything else invisible is already gone (`_CONTROL`)."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == ZWJ:
            if out and _is_emoji(out[-1]) and i + 1 < n and _is_emoji(text[i + 1]):
                out.append(ch)
            i += 1
        elif ch == _BLACK_FLAG and i + 1 < n and _is_tag(text[i + 1]):
            j = i + 1
            while j < n and _is_tag(text[j]) and text[j] != _CANCEL_TAG:
                j += 1
            if j < n and text[j] == _CANCEL_TAG and j - i - 1 <= 8:
                out.append(text[i : j + 1])  # a whole, well-formed tag sequence
            else:
                out.append(ch)  # a broken one: keep the flag, drop the tags
            i = j + 1 if j < n and text[j] == _CANCEL_TAG else j
        elif _is_tag(ch):
            i += 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


class InputTooLong(ValueError):
    def __init__(self, what: str, limit: int, got: int) -> None:
        super().__init__(f"{what} is too long ({got} characters; the limit is {limit}).")
        self.what, self.limit, self.got = what, limit, got


def clean(text: str | None, *, limit: int | None = None, what: str = "The text", multiline: bool = True) -> str:
    """Normalise untrusted text: NFC, no control, bidi or invisible characters (see `_CONTROL`; a ZWJ or tag
    characters only inside an emoji sequence), no private-use characters (our token delimiters), trimmed.
    The one place untrusted text is cleaned: every entry point of the core goes through it. Raises
    InputTooLong past `limit`."""
    if text is None:
        return ""
    text = unicodedata.normalize("NFC", str(text))
    text = "".join(ch for ch in text if not ("\ue000" <= ch <= "\uf8ff"))
    text = _drop_invisible(_CONTROL.sub("", text))
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


def strip_tokens(text: str, render: Callable[[str, str, str], str] | None = None) -> str:
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
