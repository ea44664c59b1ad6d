"""Answering: question by question in the DM, all at once in the form, early with `/standup`, and
changes with `/standup edit` until the digest is posted."""

from __future__ import annotations

from sqlalchemy import select

from bot.features.standups import cards
from bot.features.standups.config import settings
from bot.features.standups.queries import answering_entries, digest_of
from bot.features.standups.service import (
    SKIP_WORDS,
    answer_current,
    clean_answer,
    complete,
    current_question,
    open_entry,
    set_answers,
)
from bot.kernel import people
from bot.kernel.context import Ctx
from bot.kernel.errors import UserError
from bot.kernel.messages import Reply
from bot.kernel.people import membership_of
from bot.kernel.rows import get_or_refuse
from bot.kernel.text import day_text
from storage.models import Engagement
from storage.models.standups import StandupEntry


async def on_dm(ctx: Ctx, text: str) -> Reply | None:
    """A plain message in the DM answers the current question of the person's open standup."""
    if _looks_like_command(ctx, text):
        return None
    waiting = await answering_entries(ctx.session, ctx.person)
    if not waiting:
        return None
    entry = waiting[0]
    engagement = await get_or_refuse(ctx.session, Engagement, entry.engagement_id)
    if current_question(entry) is None:
        entry.position = 0
    value = None if text.strip().lower().rstrip(".!") in SKIP_WORDS else clean_answer(text)
    answer_current(entry, value or None, ctx.now)
    if current_question(entry) is not None:
        return Reply(private=[cards.next_question_card(entry)])
    late = (await digest_of(ctx.session, entry.engagement_id, entry.day)) is not None
    await complete(ctx.session, ctx.core, engagement, ctx.person, entry, ctx.now)
    reply = Reply(private=[cards.thanks_card(engagement, entry, late=late)])
    if len(waiting) > 1:
        nxt = waiting[1]
        other = await get_or_refuse(ctx.session, Engagement, nxt.engagement_id)
        reply.private.append(cards.prompt_card(other, nxt))
    return reply


def _looks_like_command(ctx: Ctx, text: str) -> bool:
    """`help`, a bare command word, or a command word followed by one of its sub-commands (`cr list`,
    `standup edit`) is a command even while a question waits; "Demo prep" stays an answer."""
    words = text.strip().lower().split()
    if not words:
        return False
    if words[0] == "help":
        return len(words) == 1
    if words[0] not in ctx.core.registry.groups:
        return False
    return len(words) == 1 or (words[0], words[1]) in ctx.core.registry.commands


async def _own_entry(ctx: Ctx, entry_id: object) -> tuple[StandupEntry, Engagement]:
    try:
        entry = await ctx.session.get(StandupEntry, int(str(entry_id)))
    except (TypeError, ValueError):
        entry = None
    if entry is None or entry.person_id != ctx.person.id:
        raise UserError("That standup is not yours to answer.")
    return entry, await get_or_refuse(ctx.session, Engagement, entry.engagement_id)


async def open_form(ctx: Ctx, value: str) -> Reply:
    """The "Answer in a form" button on a prompt."""
    entry, engagement = await _own_entry(ctx, value)
    if entry.status == "answered":
        if await digest_of(ctx.session, entry.engagement_id, entry.day) is not None:
            raise UserError("You already answered, and the digest is posted; it can no longer be changed.")
        return Reply(form=cards.answer_form(engagement, entry, edit=True))
    return Reply(form=cards.answer_form(engagement, entry))


async def submit_form(ctx: Ctx, values: dict[str, str], state: dict) -> Reply:
    entry, engagement = await _own_entry(ctx, state.get("entry_id"))
    digest = await digest_of(ctx.session, entry.engagement_id, entry.day)
    edited = entry.status == "answered"
    if edited and digest is not None:
        raise UserError("The digest for that day is already posted; answers can no longer be changed.")
    answers, errors = [], {}
    for i in range(len(entry.questions)):
        try:
            answers.append(clean_answer(values.get(f"q{i}")) or None)
        except ValueError as exc:
            errors[f"q{i}"] = str(exc)
    if errors:
        return Reply(errors=errors)
    if not any(answers):
        return Reply(errors={"q0": "Answer at least one question (or close the form to answer later)."})
    set_answers(entry, answers, ctx.now)
    await complete(ctx.session, ctx.core, engagement, ctx.person, entry, ctx.now)
    return Reply(private=[cards.thanks_card(engagement, entry, late=digest is not None, edited=edited)])


async def answer_today(ctx: Ctx) -> Reply:
    """`/standup`: answer today's standup now, before (or instead of) the prompt."""
    engagement = ctx.require_engagement()
    conf = settings(engagement)
    day = ctx.now.astimezone(people.zone(ctx.person)).date()
    existing = await ctx.session.scalar(
        select(StandupEntry).where(
            StandupEntry.engagement_id == engagement.id,
            StandupEntry.person_id == ctx.person.id,
            StandupEntry.day == day,
        )
    )
    if existing is not None and existing.status == "answered":
        return await edit(ctx)
    entry = await open_entry(ctx.session, engagement, ctx.person, day, conf, ctx.now)
    return Reply(form=cards.answer_form(engagement, entry))


async def edit(ctx: Ctx) -> Reply:
    """`/standup edit`: change today's answers (or the latest ones whose digest is not out yet)."""
    engagement = ctx.require_engagement()
    rows = list(
        await ctx.session.scalars(
            select(StandupEntry)
            .where(
                StandupEntry.engagement_id == engagement.id,
                StandupEntry.person_id == ctx.person.id,
                StandupEntry.status == "answered",
            )
            .order_by(StandupEntry.day.desc())
            .limit(3)
        )
    )
    for entry in rows:
        if await digest_of(ctx.session, engagement.id, entry.day) is None:
            return Reply(form=cards.answer_form(engagement, entry, edit=True))
    if rows:
        raise UserError(
            f"The digest for {day_text(rows[0].day)} is already posted; answers can no longer be "
            "changed. Type `/standup` to answer a new day."
        )
    raise UserError("You have no standup answers to change yet. Type `/standup` to answer today's.")


async def answer_today_button(ctx: Ctx, value: str) -> Reply:
    """The "Answer today's standup" button (App Home): value = engagement id."""
    try:
        engagement = await ctx.session.get(Engagement, int(value))
    except (TypeError, ValueError):
        engagement = None
    if engagement is None or await membership_of(ctx.session, engagement, ctx.person) is None:
        raise UserError("You are not a member of that engagement.")
    ctx.engagement = engagement
    return await answer_today(ctx)
