"""The rules of standups: a person's entry for one local date (opening it, answering it in the DM or the form,
changing it until the digest, completing it, the blocker it raises or closes); who may change the settings and
what a change does (announced, prompts re-planned), the questions' edits, taking part; planning each
participant's one pending prompt and each day's digest; sending a prompt; updating a posted digest. Timer
handlers are in timers.py, look-ups in queries.py, what people see in cards.py."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.standups import cards, queries
from bot.features.standups.schedule import digest_instant
from bot.features.standups.settings import (
    FEATURE,
    MAX_QUESTION_LEN,
    MAX_QUESTIONS,
    StandupSettings,
    is_participant,
    settings,
)
from bot.kernel import announce, people
from bot.kernel.engagements import bind, feature_settings, update_feature_settings
from bot.kernel.errors import UserError
from bot.kernel.messages import Card, Form
from bot.kernel.rows import get_or_refuse, must_get
from bot.kernel.text import MAX_TEXT, clean, day_text
from bot.kernel.text import person as mention
from bot.kernel.timers import key_starts_with
from storage.models import Engagement, Membership, Person, Timer
from storage.models.standups import StandupDigest, StandupEntry

if TYPE_CHECKING:
    from bot.kernel.context import Ctx
    from bot.kernel.dispatcher import Cadence

PROMPT = "standup.prompt"
REMINDER = "standup.reminder"
DIGEST = "standup.digest"

NO_BLOCKER = re.compile(
    r"^(no(ne|pe|thing)?|nil|n/?a|-+|no blockers?|nothing blocking( me)?|not blocked|all good|"
    r"no,? all good|nothing( at all)?|no blockers? today|none today)[.!]?$",
    re.IGNORECASE,
)
SKIP_WORDS = ("skip", "pass")
# Who may change the standup settings (besides whoever created the engagement).
CONFIG_ROLES = ("client_sponsor", "client_pm", "vendor_pm", "vendor_lead")


def says_no_blocker(text: str | None) -> bool:
    return bool(text and NO_BLOCKER.match(text.strip()))


def clean_answer(text: str | None) -> str:
    return clean(text, limit=MAX_TEXT, what="Your answer")


async def open_entry(
    session: AsyncSession, engagement: Engagement, person: Person, day: date, conf: StandupSettings, now: datetime
) -> StandupEntry:
    """The entry of (engagement, person, day), created with today's questions if there is none."""
    entry = await queries.get_entry(session, engagement.id, person.id, day)
    if entry is None:
        entry = StandupEntry(
            engagement_id=engagement.id,
            person_id=person.id,
            day=day,
            questions=list(conf.questions),
            blocker_index=conf.blocker_index,
            answers=[None] * len(conf.questions),
            position=0,
            status="open",
            expected=False,
            updated_at=now,
            late=False,
            extra={},
        )
        session.add(entry)
        await session.flush()
    return entry


def current_question(entry: StandupEntry) -> tuple[int, str] | None:
    if entry.position < len(entry.questions):
        return entry.position, entry.questions[entry.position]
    return None


def answer_current(entry: StandupEntry, text: str | None, now: datetime) -> None:
    """Answer (or, with None, skip) the current question of the conversation flow."""
    answers = list(entry.answers or [None] * len(entry.questions))
    answers += [None] * (len(entry.questions) - len(answers))
    answers[entry.position] = text
    entry.answers = answers
    entry.position += 1
    entry.updated_at = now


def set_answers(entry: StandupEntry, values: list[str | None], now: datetime) -> None:
    entry.answers = [v or None for v in values]
    entry.position = len(entry.questions)
    entry.updated_at = now


async def complete(
    session: AsyncSession,
    core: Cadence,
    engagement: Engagement,
    person: Person,
    entry: StandupEntry,
    now: datetime,
) -> None:
    """Mark the entry answered: blocker bookkeeping, no more reminder, and the digest updated in place
    when it was already posted (the answer is then marked late)."""
    first_time = entry.answered_at is None
    entry.status = "answered"
    entry.position = len(entry.questions)
    if first_time:
        entry.answered_at = now
        entry.answer_tz = people.zone(person).key
    entry.updated_at = now
    await _apply_blocker(session, entry, now)
    await core.timers.cancel(session, f"standup.reminder:{engagement.id}:{person.id}:{entry.day.isoformat()}")
    digest = await queries.digest_of(session, engagement.id, entry.day)
    if digest is not None:
        if first_time:
            entry.late = True
            digest.late_count += 1
        await refresh_digest(session, core, engagement, digest, now)


# -- answering: in the DM, in the form, early with `/standup`, changed with `/standup edit` ----------------------
async def answer_message(session: AsyncSession, core: Cadence, person: Person, text: str, now: datetime) -> list[Card]:
    """A plain DM answers the current question of the person's open standup (`skip`/`pass` skips it): the next
    question, or the thanks and the next engagement's prompt. [] when no standup waits for an answer."""
    waiting = await queries.answering_entries(session, person)
    if not waiting:
        return []
    entry = waiting[0]
    engagement = await get_or_refuse(session, Engagement, entry.engagement_id)
    if current_question(entry) is None:
        entry.position = 0
    value = None if text.strip().lower().rstrip(".!") in SKIP_WORDS else clean_answer(text)
    answer_current(entry, value or None, now)
    if current_question(entry) is not None:
        return [cards.next_question_card(entry)]
    late = (await queries.digest_of(session, entry.engagement_id, entry.day)) is not None
    await complete(session, core, engagement, person, entry, now)
    out = [cards.thanks_card(engagement, entry, late=late)]
    if len(waiting) > 1:
        nxt = waiting[1]
        other = await get_or_refuse(session, Engagement, nxt.engagement_id)
        out.append(cards.prompt_card(other, nxt))
    return out


async def own_entry(session: AsyncSession, person: Person, entry_id: object) -> tuple[StandupEntry, Engagement]:
    """The entry a button or form names, refused unless it is `person`'s."""
    try:
        entry = await session.get(StandupEntry, int(str(entry_id)))
    except (TypeError, ValueError):
        entry = None
    if entry is None or entry.person_id != person.id:
        raise UserError("That standup is not yours to answer.")
    return entry, await get_or_refuse(session, Engagement, entry.engagement_id)


async def form_for(session: AsyncSession, person: Person, entry_id: object) -> Form:
    """The answer form of an entry (a prompt's "Answer in a form"): to change it once answered, until the digest."""
    entry, engagement = await own_entry(session, person, entry_id)
    if entry.status == "answered":
        if await queries.digest_of(session, entry.engagement_id, entry.day) is not None:
            raise UserError("You already answered, and the digest is posted; it can no longer be changed.")
        return cards.answer_form(engagement, entry, edit=True)
    return cards.answer_form(engagement, entry)


async def entry_to_answer(session: AsyncSession, person: Person, entry_id: object) -> tuple[StandupEntry, Engagement]:
    """The entry a submitted answer form names: `person`'s, and not answered before its digest was posted."""
    entry, engagement = await own_entry(session, person, entry_id)
    if entry.status == "answered" and await queries.digest_of(session, entry.engagement_id, entry.day) is not None:
        raise UserError("The digest for that day is already posted; answers can no longer be changed.")
    return entry, engagement


async def save_answers(
    session: AsyncSession,
    core: Cadence,
    person: Person,
    entry: StandupEntry,
    engagement: Engagement,
    answers: list[str | None],
    now: datetime,
) -> Card:
    """The form's answers (cleaned, one per question, at least one) to an entry_to_answer: saved; the thanks."""
    digest = await queries.digest_of(session, entry.engagement_id, entry.day)
    edited = entry.status == "answered"
    set_answers(entry, answers, now)
    await complete(session, core, engagement, person, entry, now)
    return cards.thanks_card(engagement, entry, late=digest is not None, edited=edited)


async def today_form(session: AsyncSession, engagement: Engagement, person: Person, now: datetime) -> Form:
    """Today's standup (the person's local date) to answer now, or to change once answered."""
    day = now.astimezone(people.zone(person)).date()
    existing = await queries.get_entry(session, engagement.id, person.id, day)
    if existing is not None and existing.status == "answered":
        return await edit_form(session, engagement, person)
    entry = await open_entry(session, engagement, person, day, settings(engagement), now)
    return cards.answer_form(engagement, entry)


async def edit_form(session: AsyncSession, engagement: Engagement, person: Person) -> Form:
    """The latest answers whose digest is not out yet, to change."""
    rows = list(
        await session.scalars(
            select(StandupEntry)
            .where(
                StandupEntry.engagement_id == engagement.id,
                StandupEntry.person_id == person.id,
                StandupEntry.status == "answered",
            )
            .order_by(StandupEntry.day.desc())
            .limit(3)
        )
    )
    for entry in rows:
        if await queries.digest_of(session, engagement.id, entry.day) is None:
            return cards.answer_form(engagement, entry, edit=True)
    if rows:
        raise UserError(
            f"The digest for {day_text(rows[0].day)} is already posted; answers can no longer be "
            "changed. Type `/standup` to answer a new day."
        )
    raise UserError("You have no standup answers to change yet. Type `/standup` to answer today's.")


async def member_engagement(session: AsyncSession, person: Person, engagement_id: object) -> Engagement:
    """The engagement a button names (App Home), refused unless `person` is a member."""
    try:
        engagement = await session.get(Engagement, int(str(engagement_id)))
    except (TypeError, ValueError):
        engagement = None
    if engagement is None or await people.membership_of(session, engagement, person) is None:
        raise UserError("You are not a member of that engagement.")
    return engagement


# -- settings: who may change them, what a change does, the questions, taking part ---------------------------------
def may_configure(ctx: Ctx) -> None:
    eng = ctx.require_engagement()
    if eng.created_by_id == ctx.person.id:
        return
    ctx.require_role(*CONFIG_ROLES)


async def change_settings(ctx: Ctx, changes: dict[str, Any]) -> None:
    """Store standup setting changes, say them in the home channel (they are the engagement's rules too, not
    only recorded) and re-plan everyone's prompts and the digest."""
    eng = ctx.require_engagement()
    before = {k: feature_settings(eng, FEATURE).get(k) for k in changes}
    update_feature_settings(eng, FEATURE, changes)
    shown = "; ".join(
        f"{k.replace('_', ' ')}: {cards.setting_text(k, before[k])} → {cards.setting_text(k, v)}"
        for k, v in changes.items()
    )
    await announce.rule_change(
        ctx,
        eng,
        Card(text=f"{mention(ctx.person.id, ctx.person.display_name)} changed the standup settings: {shown}."),
        entity_type="engagement",
        entity_id=eng.id,
        action="standup_config_changed",
        data={"before": before, "after": changes},
    )
    await plan_engagement(ctx.session, ctx.core, eng, ctx.now)


async def use_digest_channel(ctx: Ctx) -> None:
    """The channel of `ctx` (not a DM) becomes the engagement's digest channel."""
    eng = ctx.require_engagement()
    await bind(
        ctx.session,
        eng,
        platform=ctx.place.platform,
        workspace_id=ctx.place.workspace_id,
        channel_id=ctx.place.channel_id,
        channel_name=ctx.place.channel_name,
        conversation_ref=ctx.place.conversation_ref,
        purpose="digest",
        now=ctx.now,
    )
    await change_settings(ctx, {"digest_channel": "digest"})


def check_question(text: str) -> str:
    q = clean(text, limit=MAX_QUESTION_LEN, what="A question", multiline=False)
    if not q:
        raise UserError("Write the question, e.g. `/standup config question add Any risks?`")
    return q


def questions_problem(questions: list[str]) -> str | None:
    """Why a list of questions cannot be the standup's, or None."""
    if not questions:
        return "A standup needs at least one question."
    if len(questions) > MAX_QUESTIONS:
        return f"At most {MAX_QUESTIONS} questions."
    return None


def add_question(questions: list[str], blocker: int, text: str) -> tuple[list[str], int]:
    if len(questions) >= MAX_QUESTIONS:
        raise UserError(f"At most {MAX_QUESTIONS} questions.")
    return [*questions, check_question(text)], blocker


def remove_question(questions: list[str], blocker: int, i: int) -> tuple[list[str], int]:
    """Remove question `i` (1-based); the blocker question keeps its mark (none when it is the one removed)."""
    rest = questions[: i - 1] + questions[i:]
    return rest, 0 if blocker == i else blocker - 1 if blocker > i else blocker


def move_question(questions: list[str], blocker: int, a: int, b: int) -> tuple[list[str], int]:
    """Move question `a` to position `b` (1-based); the blocker mark moves with its question."""
    marked = [(q, i + 1 == blocker) for i, q in enumerate(questions)]
    marked.insert(b - 1, marked.pop(a - 1))
    return [q for q, _ in marked], next((i + 1 for i, (_, is_b) in enumerate(marked) if is_b), 0)


async def take_part(
    session: AsyncSession, core: Cadence, engagement: Engagement, person: Person, now: datetime, *, yes: bool
) -> tuple[date, datetime] | None:
    """`person` takes part in (or leaves) the engagement's standup, whatever their roles: their next prompt."""
    m = await people.ensure_membership(session, engagement, person, now)
    m.standup_opt_in = yes
    return await plan_person(session, core, engagement, person, now)


async def _apply_blocker(session: AsyncSession, entry: StandupEntry, now: datetime) -> None:
    """A blocker answer raises a blocker (or repeats an open one); "none" closes the person's open ones."""
    idx = entry.blocker_index
    text = entry.answers[idx] if idx is not None and idx < len(entry.answers or []) else None
    earlier_open = list(
        await session.scalars(
            select(StandupEntry)
            .where(
                StandupEntry.engagement_id == entry.engagement_id,
                StandupEntry.person_id == entry.person_id,
                StandupEntry.day < entry.day,
                StandupEntry.blocker.is_not(None),
                StandupEntry.blocker_closed_at.is_(None),
            )
            .order_by(StandupEntry.day)
        )
    )
    if not text:
        # Skipped: nothing learned; an earlier blocker stays as it was.
        entry.blocker = None
        entry.blocker_of_id = None
        return
    if says_no_blocker(text):
        entry.blocker = None
        entry.blocker_of_id = None
        for old in earlier_open:
            old.blocker_closed_at = now
            old.blocker_closed_by = "answer"
        return
    entry.blocker = text
    same = next((o for o in earlier_open if _norm(o.blocker) == _norm(text)), None)
    entry.blocker_of_id = (same.blocker_of_id or same.id) if same is not None else None


def _norm(text: str | None) -> str:
    return " ".join((text or "").lower().split()).rstrip(".!")


async def close_blockers(
    session: AsyncSession, engagement_id: int, person_id: int, now: datetime, how: str = "explicit"
) -> int:
    rows = list(
        await session.scalars(
            select(StandupEntry).where(
                StandupEntry.engagement_id == engagement_id,
                StandupEntry.person_id == person_id,
                StandupEntry.blocker.is_not(None),
                StandupEntry.blocker_closed_at.is_(None),
            )
        )
    )
    for row in rows:
        row.blocker_closed_at = now
        row.blocker_closed_by = how
    return len({r.blocker_of_id or r.id for r in rows})


# -- prompts: each participant's one pending prompt ------------------------------------------------------
def prompt_prefix(engagement_id: int, person_id: int) -> str:
    return f"{PROMPT}:{engagement_id}:{person_id}:"


def prompt_key(engagement_id: int, person_id: int, day: date) -> str:
    return f"{prompt_prefix(engagement_id, person_id)}{day.isoformat()}"


def reminder_key(engagement_id: int, person_id: int, day: date) -> str:
    return f"{REMINDER}:{engagement_id}:{person_id}:{day.isoformat()}"


async def plan_person(
    session: AsyncSession,
    core: Cadence,
    engagement: Engagement,
    person: Person,
    now: datetime,
    *,
    fired_key: str | None = None,
    digests: str = "replan",
    membership: Membership | None = None,
) -> tuple[date, datetime] | None:
    """Make the person's one pending prompt in this engagement the right one (or none if they do not
    take part). An overdue prompt still pending is kept; a day already prompted is never chosen.
    `digests`: "replan" that day's digest (something changed: a full pass over the participants),
    "extend" only move it later if this prompt needs that (a prompt fired: nothing else changed), "none"."""
    prefix = prompt_prefix(engagement.id, person.id)
    # In one query: every pending prompt (to keep or cancel) and every prompt from two days ago on, fired
    # or not, so a day already prompted is never chosen again. Keys end in the ISO date, so they sort by
    # day, and two days before today in UTC is before yesterday in every zone (the first slot looked at).
    since = prefix + (now.astimezone(UTC).date() - timedelta(days=2)).isoformat()
    known = {
        t.key: t
        for t in await session.scalars(
            select(Timer).where(key_starts_with(session, prefix), or_(Timer.status == "pending", Timer.key >= since))
        )
        if t.key is not None  # (all of them: they start with the prefix)
    }
    pending = {k: t for k, t in known.items() if t.status == "pending" and k != fired_key}
    chosen: tuple[date, datetime] | None = None
    if await is_participant(session, engagement, person, membership):
        rule = settings(engagement).rule_for(person)
        today = now.astimezone(rule.zone).date()
        for day, instant in rule.slots(today - timedelta(days=1), today + timedelta(days=400)):
            key = prompt_key(engagement.id, person.id, day)
            if key == fired_key:
                continue
            if instant <= now and key not in pending:
                continue  # a past slot never scheduled: not sent retroactively
            existing = known.get(key) if key >= since else await core.timers.get(session, key)
            if existing is not None and existing.status not in ("pending", "cancelled"):
                continue  # that day was already prompted
            chosen = (day, instant)
            break
    keep = prompt_key(engagement.id, person.id, chosen[0]) if chosen else None
    for key in pending:
        if key != keep:
            await core.timers.cancel(session, key)
    if chosen is not None and keep is not None:  # (keep is None only when nothing was chosen)
        day, instant = chosen
        await core.timers.schedule(
            session,
            kind=PROMPT,
            due_at=instant,
            key=keep,
            engagement_id=engagement.id,
            payload={"engagement_id": engagement.id, "person_id": person.id, "day": day.isoformat()},
            existing=known.get(keep) if keep >= since else await core.timers.get(session, keep),
        )
        if digests == "replan":
            await plan_digest(session, core, engagement, day, now)
        elif digests == "extend":
            await extend_digest(session, core, engagement, day, instant, now)
    return chosen


async def plan_engagement(session: AsyncSession, core: Cadence, engagement: Engagement, now: datetime) -> None:
    """Re-plan every member's next prompt (after a settings change), then the digests of those days."""
    days = set()
    for m in await people.memberships(session, engagement):
        person = m.person or await must_get(session, Person, m.person_id)
        chosen = await plan_person(session, core, engagement, person, now, digests="none", membership=m)
        if chosen is not None:
            days.add(chosen[0])
    for day in sorted(days):
        await plan_digest(session, core, engagement, day, now)


async def plan_for_person_everywhere(session: AsyncSession, core: Cadence, person: Person, now: datetime) -> None:
    """After a zone, work-day or absence change: re-plan the person in each of their engagements."""
    for m in await session.scalars(select(Membership).where(Membership.person_id == person.id)):
        engagement = await session.get(Engagement, m.engagement_id)
        if engagement is not None:
            await plan_person(session, core, engagement, person, now)


async def send_prompt(
    session: AsyncSession,
    core: Cadence,
    engagement: Engagement,
    person: Person,
    day: date,
    conf: StandupSettings,
    now: datetime,
) -> None:
    entry = await open_entry(session, engagement, person, day, conf, now)
    entry.expected = True
    entry.prompted_at = now
    if entry.status == "answered":
        return  # answered early: nothing to ask
    # An earlier day left unfinished no longer catches this person's replies.
    for old in await session.scalars(
        select(StandupEntry).where(
            StandupEntry.engagement_id == engagement.id,
            StandupEntry.person_id == person.id,
            StandupEntry.status == "answering",
            StandupEntry.day < day,
        )
    ):
        old.status = "open"
    entry.status = "answering"
    entry.position = next((i for i, a in enumerate(entry.answers or []) if not a), 0)
    if entry.position >= len(entry.questions):
        entry.position = 0
    await core.outbox.dm(session, person, cards.prompt_card(engagement, entry), engagement_id=engagement.id)
    if conf.reminder > timedelta(0):
        await core.timers.schedule(
            session,
            kind=REMINDER,
            due_at=now + conf.reminder,
            key=reminder_key(engagement.id, person.id, day),
            engagement_id=engagement.id,
            payload={"engagement_id": engagement.id, "person_id": person.id, "day": day.isoformat()},
        )


# -- digests -------------------------------------------------------------------------------------------
def digest_key(engagement_id: int, day: date) -> str:
    return f"{DIGEST}:{engagement_id}:{day.isoformat()}"


async def plan_digest(
    session: AsyncSession,
    core: Cadence,
    engagement: Engagement,
    day: date,
    now: datetime,
) -> datetime | None:
    """Schedule (or move) the digest of `day`: the first digest time after everyone's prompt and reminder."""
    conf = settings(engagement)
    latest = await queries.latest_prompt(session, engagement, day, conf)
    if latest is None:
        return None
    due = digest_instant(
        day, latest_prompt=latest, at=conf.digest_time, zone=conf.digest_zone, days=conf.days, grace=conf.reminder
    )
    await core.timers.schedule(
        session,
        kind=DIGEST,
        due_at=due,
        key=digest_key(engagement.id, day),
        engagement_id=engagement.id,
        payload={"engagement_id": engagement.id, "day": day.isoformat()},
    )
    return due


async def extend_digest(
    session: AsyncSession,
    core: Cadence,
    engagement: Engagement,
    day: date,
    prompt_at: datetime,
    now: datetime,
) -> None:
    """A prompt of `day` was planned at `prompt_at`: make sure the digest comes after it (and its
    reminder). Cheap — no pass over every participant — unless the digest has no timer yet."""
    existing = await core.timers.get(session, digest_key(engagement.id, day))
    if existing is None:
        await plan_digest(session, core, engagement, day, now)
        return
    if existing.status != "pending":
        return
    conf = settings(engagement)
    due = digest_instant(
        day, latest_prompt=prompt_at, at=conf.digest_time, zone=conf.digest_zone, days=conf.days, grace=conf.reminder
    )
    if due > existing.due_at:
        await core.timers.schedule(
            session, kind=DIGEST, due_at=due, key=existing.key, engagement_id=engagement.id, payload=existing.payload
        )


async def refresh_digest(
    session: AsyncSession,
    core: Cadence,
    engagement: Engagement,
    digest: StandupDigest,
    now: datetime,
) -> None:
    card = await queries.build_digest(session, engagement, digest.day, now, force=True)
    if card is not None:
        await core.outbox.update(session, digest.ref_key, card)
        digest.updated_at = now
