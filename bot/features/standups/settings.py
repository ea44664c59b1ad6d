"""Standup settings of an engagement (their defaults: DEFAULTS below, registered by commands.register) and who
takes part."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.standups.schedule import PromptRule, parse_hhmm
from bot.kernel import people
from bot.kernel.engagements import feature_settings
from bot.kernel.rows import must_get
from bot.kernel.zones import zone_or_utc
from storage.models import Engagement, Membership, Person

FEATURE = "standup"

# The defaults of the standup settings, their one place (registered by commands.register):
# enabled; roles that take part unless they /standup leave (others may /standup join); days (Mon=0);
# prompt_time (each participant's local time); questions; blocker_question (1-based, 0 = none);
# reminder_minutes (0 = none); digest_time; digest_zone (None = the engagement's home zone);
# digest_channel ("home", or "digest": a channel bound with /standup config channel here KEY).
DEFAULTS: dict[str, Any] = {
    "enabled": True,
    "roles": ["vendor_pm", "vendor_lead", "developer", "qa"],
    "days": [0, 1, 2, 3, 4],
    "prompt_time": "09:30",
    "questions": [
        "What did you finish since the last standup?",
        "What will you do next?",
        "Anything blocking you?",
    ],
    "blocker_question": 3,
    "reminder_minutes": 60,
    "digest_time": "10:00",
    "digest_zone": None,
    "digest_channel": "home",
}
DEFAULT_QUESTIONS: list[str] = DEFAULTS["questions"]

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
        own = set(person.work_days if person.work_days is not None else people.WORK_DAYS)
        return PromptRule(
            zone=people.zone(person),
            at=self.prompt_time,
            days=frozenset(self.days & own),
            skip=lambda d: people.away_reason(person, d),
        )


def settings(engagement: Engagement) -> StandupSettings:
    raw = feature_settings(engagement, FEATURE)
    questions = tuple(str(q) for q in (raw.get("questions") or DEFAULT_QUESTIONS))
    blocker = int(raw.get("blocker_question") or 0)
    return StandupSettings(
        enabled=bool(raw.get("enabled", DEFAULTS["enabled"])),
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
            out.append(m.person if m.person is not None else await must_get(session, Person, m.person_id))
    return out


async def is_participant(
    session: AsyncSession, engagement: Engagement, person: Person, membership: Membership | None = None
) -> bool:
    """`membership`: the person's membership of `engagement`, if the caller has it (saves a query)."""
    conf = settings(engagement)
    if not conf.enabled:
        return False
    m = membership if membership is not None else await people.membership_of(session, engagement, person)
    return m is not None and takes_part(m, conf)
