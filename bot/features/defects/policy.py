"""Changing the SLA policy: `proposed_change` reads `/defect policy …` into the contract term it changes (the
service proposes it: the SLA is a contract term, so the other side approves, bot/kernel/contract.py). Changes
apply to defects filed afterwards (each defect keeps the policy it was filed under)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.features.defects.calendar import BusinessHours, check_country
from bot.features.defects.queries import FEATURE, engagement_policy
from bot.features.defects.severity import parse_severity
from bot.features.defects.sla import CAL_BUSINESS, _hhmm, validate_change
from bot.kernel.engagements import feature_settings
from bot.kernel.zones import resolve_zone
from storage.models import Engagement

HELP = (
    "`/defect policy s3 response 6h` · `/defect policy s2 resolution 2d` · `/defect policy s3 calendar 24x7` · "
    "`/defect policy hours 08:00-17:00` · `/defect policy zone Europe/Berlin` · `/defect policy country DE` · "
    "`/defect policy warn 80`"
)


@dataclass
class Change:
    """One SLA value to change: the contract term, its new wording, and the engagement columns or settings."""

    term: str
    new_text: str
    columns: dict[str, object] = field(default_factory=dict)
    settings: dict[str, dict[str, object]] = field(default_factory=dict)


def proposed_change(engagement: Engagement, words: list[str]) -> Change:
    """The change `/defect policy <words>` asks for; ValueError saying why it makes no sense."""
    head = words[0].lower()
    before = feature_settings(engagement, FEATURE)
    sev = parse_severity(head)
    columns: dict[str, object] = {}
    settings: dict[str, dict[str, object]] = {}
    if sev and len(words) >= 3:
        changed = validate_change(engagement_policy(engagement).data, sev, words[1].lower(), " ".join(words[2:]))
        diff = {k: v for k, v in changed[sev].items() if before[sev].get(k) != v}
        settings = {FEATURE: {sev: diff}}
        entry = {**before[sev], **diff}
        cal = "business hours" if entry.get("calendar") == CAL_BUSINESS else "24×7"
        term = f"sla.{sev}"
        new_text = f"response {entry['response']} · resolution {entry['resolution']} · {cal}"
    elif head == "hours" and len(words) == 2 and "-" in words[1]:
        start, end = words[1].split("-", 1)
        BusinessHours(start=_hhmm(start), end=_hhmm(end))
        hours = {"start": f"{_hhmm(start):%H:%M}", "end": f"{_hhmm(end):%H:%M}"}
        settings = {FEATURE: {"hours": hours}}
        term, new_text = "sla.hours", f"{hours['start']}–{hours['end']}"
    elif head == "warn" and len(words) == 2:
        pct = int(words[1].rstrip("%"))
        if not 1 <= pct <= 99:
            raise ValueError("The warning must be between 1 and 99 %.")
        settings = {FEATURE: {"warn_pct": pct}}
        term, new_text = "sla.warn_pct", f"{pct} %"
    elif head == "zone" and len(words) >= 2:
        tz = resolve_zone(" ".join(words[1:]))
        columns = {"support_tz": tz}
        term, new_text = "sla.zone", tz
    elif head == "country" and len(words) == 2:
        country = None if words[1].lower() in ("none", "-") else check_country(words[1])
        columns = {"support_country": country}
        term, new_text = "sla.country", country or "none"
    else:
        raise ValueError(f"I didn't understand that. {HELP}")
    return Change(term=term, new_text=new_text, columns=columns, settings=settings)
