"""Severities S1–S4 and the one table of words people use for them."""

from __future__ import annotations

import re

SEVERITIES = ("s1", "s2", "s3", "s4")

MEANING = {
    "s1": "System down, no workaround (Level 1 fault)",
    "s2": "Core function broken (Level 2 fault)",
    "s3": "Function impaired, workaround exists",
    "s4": "Cosmetic or minor",
}

# Every spelling people use for a severity, normalised (lower case, single spaces). One table.
ALIASES: dict[str, str] = {}
for _n, _words in {
    1: ("critical", "crit", "blocker", "urgent", "sev1", "p1", "p0", "level 1", "l1", "fault 1"),
    2: ("major", "high", "sev2", "p2", "level 2", "l2", "fault 2"),
    3: ("medium", "moderate", "normal", "sev3", "p3", "level 3", "l3", "fault 3"),
    4: ("minor", "low", "cosmetic", "trivial", "sev4", "p4", "level 4", "l4", "fault 4"),
}.items():
    for _w in (
        f"s{_n}",
        f"s {_n}",
        f"sev {_n}",
        f"severity {_n}",
        f"severity{_n}",
        f"p {_n}",
        f"level{_n}",
        f"lvl {_n}",
        f"lvl{_n}",
        str(_n),
        *_words,
    ):
        ALIASES[_w] = f"s{_n}"

_LONGEST = max(len(k.split()) for k in ALIASES)


def _norm(text: str) -> str:
    return re.sub(r"[\s\-_:]+", " ", text.strip().lower()).strip()


def parse_severity(text: str) -> str | None:
    """ "sev1", "P1", "Level 1", "critical", "s 1" → "s1"; None when it is not a severity."""
    return ALIASES.get(_norm(text))


def split_severity(text: str) -> tuple[str | None, str]:
    """Split "s1 Login is down" / "level 1: Login is down" into ("s1", "Login is down").
    Tries the longest leading alias first; returns (None, text) when the text starts with none."""
    words = text.split()
    for n in range(min(_LONGEST, len(words)), 0, -1):
        head = " ".join(words[:n])
        sev = parse_severity(head.rstrip(":,-"))
        if sev is None:
            continue
        rest = " ".join(words[n:]).lstrip(":,- ").strip()
        return sev, rest
    return None, text.strip()


def label(sev: str) -> str:
    return sev.upper()


def rank(sev: str) -> int:
    """1 for S1 (most urgent) … 4 for S4."""
    return int(sev[1])
