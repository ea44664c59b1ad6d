"""Hints a member of another workspace can follow. Cadence's answers name slash commands (`/cr show
ACME-CR-7`), which Slack does not deliver from the other workspace of a Slack Connect channel; for those
readers the same hints are shown as @mentions (`@Cadence cr show ACME-CR-7`)."""

from __future__ import annotations

from dataclasses import replace

from bot.kernel.help import BY_MENTION, retype_commands
from bot.kernel.messages import Card, Field


def as_mention(text: str) -> str:
    return retype_commands(text, BY_MENTION)


def card_for_external(card: Card) -> Card:
    """`card` with every slash command written as an @mention."""
    return replace(
        card,
        title=as_mention(card.title),
        text=as_mention(card.text),
        footer=as_mention(card.footer),
        fields=[Field(f.label, as_mention(f.value), f.short) for f in card.fields],
        sections=[card_for_external(s) for s in card.sections],
    )
