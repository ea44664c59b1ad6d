"""App Home: what is waiting for the person (pending approvals, open defects with time left, next
standup prompt, next demo), built from the features' home sections through `core.home(actor)`.
Times are date tokens, so Slack shows them in the reader's own zone."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_sdk.web.async_client import AsyncWebClient

from bot.kernel.context import Actor
from bot.kernel.messages import Card
from handlers.slack import render

if TYPE_CHECKING:
    from handlers.slack.app import SlackFrontEnd

log = logging.getLogger("cadence.slack")

EMPTY = Card(
    title="Cadence",
    text="Nothing is waiting for you right now.\n"
    "Try `/cadence help` to see what Cadence can do, or `/cadence setup KEY Name` in a channel "
    "to start an engagement there.",
)
FOOTER = Card(footer="Times are shown in your own time zone. Set it with `/cadence tz Europe/Berlin`.")


class Home:
    def __init__(self, fe: SlackFrontEnd) -> None:
        self.fe = fe

    async def publish(self, client: AsyncWebClient, actor: Actor) -> None:
        try:
            cards = await self.fe.core.home(actor)
        except Exception:
            log.exception("slack: building App Home for %s failed", actor.user_id)
            cards = [Card(text="Part of your home could not be loaded. Please try again in a minute.", tone="warning")]
        cards = [*(cards or [EMPTY]), FOOTER]
        mentions = await render.load_mentions(self.fe.core, actor.workspace_id, cards)
        await client.views_publish(user_id=actor.user_id, view=render.home_view(cards, mentions))
