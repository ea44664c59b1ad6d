"""What a Confirm button carries, the part both jobs' drafts share: the value written into the button, read
back and checked again (a client can tamper with it), the same draft at a working-hours suggestion, and the key
that lets a second Confirm find what the first one saved."""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Self, TypeVar

from bot.kernel import hours
from bot.kernel.errors import UserError
from bot.kernel.text import MAX_TITLE, clean
from bot.shared.recurrence import moved_to, validate_rule
from bot.shared.when import zone_of
from storage.models import Engagement

INVALID = "That confirmation is not valid any more. Nothing was changed; please ask again."


class EventDraft:
    """The base of a job's `Draft` dataclass, which declares the fields (their order is the button value's):
    op ("new" | "move"), start (ISO, aware), tz, rrule, title, duration, key (new: the future event's
    draft_key), occ (move: the occurrence), seq (move: the event's sequence when the draft was made, so a stale
    draft is refused), eng (the engagement it was made in), and the job's own."""

    monthly: ClassVar[bool] = False  # whether a monthly rule is accepted (meetings), or weekly ones only (demos)
    max_duration: ClassVar[int]

    if TYPE_CHECKING:
        # Declared by the job's dataclass; here for the type checker only (a dataclass field here would come first).
        __dataclass_fields__: ClassVar[dict[str, Any]]
        op: str
        start: str
        tz: str
        rrule: str | None
        title: str | None
        duration: int | None
        key: str | None
        occ: int | None
        seq: int | None
        eng: int | None

        def __init__(self, **fields: Any) -> None: ...

    def to_value(self) -> str:
        return json.dumps({k: v for k, v in asdict(self).items() if v is not None}, separators=(",", ":"))

    @property
    def start_at(self) -> datetime:
        return datetime.fromisoformat(self.start).astimezone(UTC)

    def check(self) -> None:
        """The job's own checks of a draft read back from a button; raise ValueError to refuse it."""

    @classmethod
    def from_value(cls, value: str) -> Self:
        """Parse and re-check a button value (a client can tamper with it)."""
        try:
            data = json.loads(value)
            draft = cls(**{k: data[k] for k in data if k in cls.__dataclass_fields__})
            if draft.op not in ("new", "move"):
                raise ValueError("op")
            if datetime.fromisoformat(draft.start).tzinfo is None:  # start_at would read it in the server zone
                raise ValueError("naive")
            zone_of(draft.tz)
            if draft.rrule is not None:
                validate_rule(draft.rrule, monthly=cls.monthly)
            if draft.duration is not None and not 5 <= int(draft.duration) <= cls.max_duration:
                raise ValueError("duration")
            if draft.title is not None:
                draft.title = clean(draft.title, limit=MAX_TITLE, what="The title", multiline=False)
            draft.check()
        except (ValueError, TypeError, KeyError, AttributeError, UserError) as exc:
            raise UserError(INVALID) from exc
        return draft


D = TypeVar("D", bound=EventDraft)


def at_suggestion(draft: D, check: hours.SlotCheck) -> D | None:
    """The same draft at the start suggested by a working-hours check (a series keeps its rhythm on the
    suggested weekday), or None when there is no suggestion."""
    if check.suggestion is None:
        return None
    start, rule = moved_to(check.suggestion, draft.tz, draft.rrule)
    return replace(draft, start=start, rrule=rule)


def new_draft_key() -> str:
    return uuid.uuid4().hex


def check_engagement(draft: EventDraft, engagement: Engagement) -> None:
    """A Confirm pressed in another engagement than the one the draft was made in changes nothing."""
    if draft.eng is not None and draft.eng != engagement.id:
        raise UserError("That confirmation belongs to another engagement; nothing was changed.")
