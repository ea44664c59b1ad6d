"""A blocker in the digest becomes a defect, a change request or an action for the client with one click: the
button opens that feature's intake form, pre-filled with the blocker and linked back to the standup answer. The
forms are the ones those features declare (`registry.add_intake`): standups imports none of them. The action's
form also gets the client side's seated members to pick its owner from (`{"owners": [[id, name], …]}` in its
state; the decisions feature checks the pick again on submission)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.kernel.context import Ctx
from bot.kernel.errors import UserError
from bot.kernel.messages import Form, Input, Reply
from bot.kernel.people import CLIENT_ROLES, members_with_roles
from bot.kernel.registry import IntakeBuilder, declared
from bot.kernel.rows import get_or_refuse
from bot.kernel.text import MAX_TEXT, MAX_TITLE, day_text, truncate
from storage.models import Engagement, Person
from storage.models.standups import StandupEntry

# The button's kind: the intake form it opens, and the heading of the minimal form opened in its place when
# that feature is not registered.
INTAKES = {
    "defect": ("defect.new", "File a defect"),
    "cr": ("cr.new", "New change request"),
    "action": ("action.new", "Action for the client"),
}


def intake_form(
    kind: str,
    entry: StandupEntry,
    engagement: Engagement,
    author: Person,
    intakes: Mapping[str, IntakeBuilder] | None = None,
    extra_state: Mapping[str, Any] | None = None,
) -> Form:
    """The defect ("defect.new") or change request ("cr.new") intake form for a blocker, built by the form
    builder that feature registered (`intakes`: the registry's; by default what this process declared),
    pre-filled, with {"from_standup_answer": id} in its state. Without one, a minimal form with the same id."""
    form_id, heading = INTAKES[kind]
    title = truncate(" ".join((entry.blocker or "").split()), MAX_TITLE)
    description = truncate(
        f"{entry.blocker}\n\nRaised as a blocker by {author.display_name} in the {engagement.key} standup of "
        f"{day_text(entry.day)}.",
        1500,
    )
    state: dict[str, Any] = {"from_standup_answer": entry.id, **(extra_state or {})}
    builder = (declared.intakes if intakes is None else intakes).get(form_id)
    if builder is None:
        return _fallback(form_id, heading, title, description, state)
    return builder(title, description, state)


def _fallback(form_id: str, heading: str, title: str, description: str, state: dict) -> Form:
    return Form(
        form_id=form_id,
        title=heading,
        state=state,
        text="From a standup blocker.",
        inputs=[
            Input("title", "Title", initial=title, max_length=MAX_TITLE),
            Input("description", "Description", kind="multiline", initial=description, max_length=MAX_TEXT),
        ],
    )


async def _blocker(ctx: Ctx, value: str) -> tuple[StandupEntry, Engagement, Person]:
    try:
        entry = await ctx.session.get(StandupEntry, int(value))
    except (TypeError, ValueError):
        entry = None
    if entry is None or not entry.blocker:
        raise UserError("That blocker no longer exists.")
    engagement = await get_or_refuse(ctx.session, Engagement, entry.engagement_id)
    if ctx.engagement is not None and ctx.engagement.id != engagement.id:
        raise UserError("That blocker belongs to another engagement.")
    if ctx.membership is None or ctx.membership.engagement_id != engagement.id:
        raise UserError(f"Only members of {engagement.key} can do that.")
    return entry, engagement, await get_or_refuse(ctx.session, Person, entry.person_id)


async def to_defect(ctx: Ctx, value: str) -> Reply:
    entry, engagement, author = await _blocker(ctx, value)
    return Reply(form=intake_form("defect", entry, engagement, author, ctx.core.registry.intakes))


async def to_change_request(ctx: Ctx, value: str) -> Reply:
    entry, engagement, author = await _blocker(ctx, value)
    return Reply(form=intake_form("cr", entry, engagement, author, ctx.core.registry.intakes))


async def to_action(ctx: Ctx, value: str) -> Reply:
    """ "Action for the client": the `action.new` form, with the client side's seated members as owners."""
    entry, engagement, author = await _blocker(ctx, value)
    owners = [[p.id, p.display_name] for p in await members_with_roles(ctx.session, engagement, CLIENT_ROLES)]
    if not owners:
        raise UserError(f"Nobody is seated on the client side of {engagement.key} yet to own an action.")
    extra = {"owners": owners, "engagement_id": engagement.id}
    return Reply(form=intake_form("action", entry, engagement, author, ctx.core.registry.intakes, extra))
