"""Hints a member of another workspace can follow. Cadence's answers name slash commands (`/cr show
ACME-CR-7`), which Slack does not deliver from the other workspace of a Slack Connect channel; for those
readers the same hints are shown as @mentions (`@Cadence cr show ACME-CR-7`)."""

from __future__ import annotations

import re
from dataclasses import replace

from bot.messages import Card, Field
from bot.registry import COMMANDS

_SLASH = re.compile(r"(?<![\w/<])/(" + "|".join(COMMANDS) + r")\b")


def as_mention(text: str) -> str:
    return _SLASH.sub(r"@Cadence \1", text)


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
