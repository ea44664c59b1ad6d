"""A form asked for from an @mention. Slack opens a modal only with a trigger_id, which comes with a slash
command or a click, never with an @mention (the only way in for a member of another company's workspace:
slash commands are not shared in Slack Connect). So the answer to such a mention is a button; its click has a
trigger_id, runs the same command again as the person who clicked, and the form opens."""

from __future__ import annotations

from bot.kernel.messages import Button, Card

OPEN_FORM = "cadence.slack.open_form"
MAX_VALUE = 2000  # Slack's limit for a button value


def offer(command_text: str) -> Card:
    """The private answer to a mention whose command opens a form."""
    return Card(
        text="That opens a form. Slack opens forms only from a click, so here is the button for it.",
        buttons=[Button("Open the form", OPEN_FORM, command_text[:MAX_VALUE], "primary")],
    )
