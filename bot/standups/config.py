"""Standup settings of an engagement (defaults in bot/engagements.py DEFAULTS["standup"]) and who
takes part."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot import people
from bot.engagements import feature_settings
from bot.standups.schedule import PromptRule, parse_hhmm
from bot.zones import zone_or_utc
from storage.models import Engagement, Membership, Person

FEATURE = "standup"

DEFAULT_QUESTIONS = [
    "What did you finish since the last standup?",
    "What will you do next?",
    "Anything blocking you?",
]

# The same values as bot/engagements.py DEFAULTS["standup"] (kept here too as a fallback).
DEFAULTS: dict[str, Any] = {
    "enabled": True,
    # Members with one of these roles take part unless they /standup leave; others may /standup join.
    "roles": ["vendor_pm", "vendor_lead", "developer", "qa"],
    "days": [0, 1, 2, 3, 4],
    "prompt_time": "09:30",
    "questions": list(DEFAULT_QUESTIONS),
    # 1-based number of the question that asks about blockers (0 = none).
    "blocker_question": 3,
    "reminder_minutes": 60,
    "digest_time": "10:00",
    "digest_zone": None,  # None = the engagement's home zone
    "digest_channel": "home",  # "home" or "digest" (a channel bound with /standup config channel here)
}

MAX_QUESTIONS = 10
MAX_QUESTION_LEN = 200


@dataclass(frozen=True)
class StandupSettings:
    enabled: bool
    roles: frozenset[str]
    days: frozenset[int]
    prompt_time: time
    questions: tuple[str, ...]
    blocker_index: int | None  # 0-based, None = no blocker question
    reminder: timedelta
    digest_time: time
    digest_zone: ZoneInfo
    digest_purpose: str

    def rule_for(self, person: Person) -> PromptRule:
        """When `person` is prompted: the prompt time in their zone, on engagement days that are also
        their work days, skipping their holidays and out-of-office."""
        own = set(person.work_days if person.work_days is not None else [0, 1, 2, 3, 4])
        return PromptRule(
            zone=people.zone(person),
            at=self.prompt_time,
            days=frozenset(self.days & own),
            skip=lambda d: people.away_reason(person, d),
        )


def settings(engagement: Engagement) -> StandupSettings:
    raw = {**DEFAULTS, **feature_settings(engagement, FEATURE)}
    questions = tuple(str(q) for q in (raw.get("questions") or DEFAULT_QUESTIONS))
    blocker = int(raw.get("blocker_question") or 0)
    return StandupSettings(
        enabled=bool(raw.get("enabled", True)),
        roles=frozenset(raw.get("roles") or DEFAULTS["roles"]),
        days=frozenset(int(d) for d in (raw.get("days") or DEFAULTS["days"])),
        prompt_time=_time(raw.get("prompt_time"), DEFAULTS["prompt_time"]),
        questions=questions,
        blocker_index=blocker - 1 if 1 <= blocker <= len(questions) else None,
        reminder=timedelta(minutes=int(raw.get("reminder_minutes") or 0)),
        digest_time=_time(raw.get("digest_time"), DEFAULTS["digest_time"]),
        digest_zone=zone_or_utc(raw.get("digest_zone") or engagement.home_tz),
        digest_purpose="digest" if raw.get("digest_channel") == "digest" else "home",
    )


def _time(value: Any, default: str) -> time:
    try:
        return parse_hhmm(str(value))
    except ValueError:
        return parse_hhmm(default)


def takes_part(membership: Membership, conf: StandupSettings) -> bool:
    if membership.standup_opt_in is not None:
        return bool(membership.standup_opt_in)
    return bool(conf.roles.intersection(membership.roles or []))


async def participants(session: AsyncSession, engagement: Engagement) -> list[Person]:
    """Everyone prompted in this engagement, in membership order."""
    conf = settings(engagement)
    if not conf.enabled:
        return []
    out = []
    for m in await people.memberships(session, engagement):
        if takes_part(m, conf):
            out.append(m.person if m.person is not None else await session.get(Person, m.person_id))
    return out


async def is_participant(session: AsyncSession, engagement: Engagement, person: Person) -> bool:
    conf = settings(engagement)
    if not conf.enabled:
        return False
    m = await people.membership_of(session, engagement, person)
    return m is not None and takes_part(m, conf)
