"""Both sides own a pause: when the vendor sets a defect waiting on the client, the reporter and the client
PMs are told by DM what is asked of them (with a Reply button); when the client side answers, the assignee
(or the vendor PMs, if nobody has it yet) is told, and the resolution clock runs again."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.defects.queries import ref
from bot.kernel.messages import Button, Card
from bot.kernel.people import members_with_roles
from bot.kernel.text import person as mention
from storage.models import Engagement, Person
from storage.models.defects import Defect

if TYPE_CHECKING:
    from bot.kernel.dispatcher import Cadence

CLIENT_ASKED = ("client_pm",)  # besides the reporter
VENDOR_TOLD = ("vendor_pm",)  # when the defect has no assignee


async def asked(
    session: AsyncSession,
    core: Cadence,
    *,
    defect: Defect,
    engagement: Engagement,
    actor: Person,
    question: str | None,
) -> None:
    """DM the reporter and the client PMs what the vendor waits for."""
    people: dict[int, Person] = {}
    reporter = await session.get(Person, defect.reporter_id) if defect.reporter_id else None
    if reporter is not None:
        people[reporter.id] = reporter
    for p in await members_with_roles(session, engagement, CLIENT_ASKED):
        people.setdefault(p.id, p)
    people.pop(actor.id, None)
    r = ref(engagement, defect)
    card = Card(
        title=f"{r} waits for the client",
        text=f"{mention(actor.id, actor.display_name)} needs this from the client side for “{defect.title}”:\n"
        f"{question or '(no details given)'}\n"
        f"The resolution clock is paused until you answer: the Reply button, or `/defect reply {r} <answer>`.",
        buttons=[Button("Reply", "defect.reply", str(defect.id), "primary")],
        tone="warning",
    )
    for p in people.values():
        await core.outbox.dm(session, p, card, engagement_id=engagement.id)


async def answered(
    session: AsyncSession,
    core: Cadence,
    *,
    defect: Defect,
    engagement: Engagement,
    actor: Person,
    answer: str | None,
) -> None:
    """Tell the assignee (else the vendor PMs) the client's answer: the clock runs again."""
    if defect.assignee_id:
        assignee = await session.get(Person, defect.assignee_id)
        targets = [assignee] if assignee is not None else []
    else:
        targets = await members_with_roles(session, engagement, VENDOR_TOLD)
    r = ref(engagement, defect)
    card = Card(
        title=f"{r}: the client answered",
        text=f"{mention(actor.id, actor.display_name)}: {answer or '(no text)'}\nThe resolution clock runs again.",
        tone="info",
    )
    for p in targets:
        if p.id != actor.id:
            await core.outbox.dm(session, p, card, engagement_id=engagement.id)
