"""Engagements: creation, channel bindings, and per-feature settings over the defaults each feature registered."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from bot.kernel.errors import UserError
from bot.kernel.registry import Registry, declared
from bot.kernel.rows import must_get
from bot.kernel.text import clean
from storage.models import ChannelBinding, Engagement, Membership, Person

KEY_RE = re.compile(r"^[A-Z][A-Z0-9]{1,9}$")


def feature_settings(engagement: Engagement, feature: str) -> dict[str, Any]:
    """The feature's settings: the defaults the feature registered (`registry.add_settings`) overlaid with what
    the engagement changed (stored settings only hold that)."""
    merged = copy.deepcopy(declared.settings.get(feature, {}))
    merged.update(copy.deepcopy((engagement.settings or {}).get(feature, {})))
    return merged


def new_engagement(registry: Registry, **columns: Any) -> Engagement:
    """A new engagement row: the contract terms' columns start at the defaults their terms declared in the
    registry (`registry.add_term`), then `columns`."""
    return Engagement(**{**registry.term_columns(), **columns})


def update_feature_settings(engagement: Engagement, feature: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Store changes to a feature's settings (a new dict, so SQLAlchemy sees the JSON change)."""
    settings = copy.deepcopy(engagement.settings or {})
    current = settings.get(feature, {})
    current.update(changes)
    settings[feature] = current
    engagement.settings = settings
    return feature_settings(engagement, feature)


def keep_currency(engagement: Engagement, currency: str | None, *, what: str, field: str | None = None) -> str | None:
    """An amount that named its currency (`USD 6,000.50`): the engagement's amounts are in one currency, so
    the first named one becomes the engagement's currency (`/cr settings currency`) and a different one is
    refused (UserError, naming `what`). Returns the currency adopted now, if any."""
    if not currency:
        return None
    current = feature_settings(engagement, "cr").get("currency") or ""
    if not current:
        update_feature_settings(engagement, "cr", {"currency": currency})
        return currency
    if current != currency:
        raise UserError(
            f"{what} is in {currency}, but {engagement.key}'s amounts are in {current}. Give it in {current}, "
            "or change the currency first with `/cr settings currency`.",
            field=field,
        )
    return None


async def by_key(session: AsyncSession, key: str) -> Engagement | None:
    return await session.scalar(select(Engagement).where(Engagement.key == key.upper()))


async def binding_for(
    session: AsyncSession, platform: str, workspace_id: str, channel_id: str
) -> ChannelBinding | None:
    """The binding of a conversation (home first, then escalation/digest bindings)."""
    rows = list(
        await session.scalars(
            select(ChannelBinding).where(
                ChannelBinding.platform == platform,
                ChannelBinding.workspace_id == workspace_id,
                ChannelBinding.channel_id == channel_id,
            )
        )
    )
    rows.sort(key=lambda b: 0 if b.purpose == "home" else 1)
    return rows[0] if rows else None


# session.info key: bindings loaded ahead for a batch of timers (see prefetch_bindings)
_PREFETCHED = "cadence.prefetched_bindings"


async def prefetch_bindings(session: AsyncSession, engagement_ids: Iterable[int]) -> None:
    """Load the bindings of many engagements in one query; `bindings()` then answers from memory for the
    rest of this session. A batch of 1,000 due notices was 1,000 look-ups (bench/timer_lateness.py)."""
    ids = sorted(set(engagement_ids))
    if not ids:
        return
    cache: dict[int, list[ChannelBinding]] = session.info.setdefault(_PREFETCHED, {})
    for eid in ids:
        cache[eid] = []
    for b in await session.scalars(
        select(ChannelBinding).where(ChannelBinding.engagement_id.in_(ids)).order_by(ChannelBinding.id)
    ):
        cache[b.engagement_id].append(b)


async def bindings(session: AsyncSession, engagement: Engagement, purpose: str = "home") -> list[ChannelBinding]:
    cached = session.info.get(_PREFETCHED, {}).get(engagement.id)
    if cached is not None:  # the rows themselves: changes to them in this session are seen
        return [b for b in cached if b.purpose == purpose]
    return list(
        await session.scalars(
            select(ChannelBinding)
            .where(ChannelBinding.engagement_id == engagement.id, ChannelBinding.purpose == purpose)
            .order_by(ChannelBinding.id)
        )
    )


async def engagement_for_dm(session: AsyncSession, person: Person) -> Engagement | None:
    """In a DM: the person's chosen engagement, else their only one, else the most recently joined."""
    if person.default_engagement_id:
        eng = await session.get(Engagement, person.default_engagement_id)
        if eng is not None:
            return eng
    m = await session.scalar(
        select(Membership)
        .where(Membership.person_id == person.id)
        .order_by(Membership.joined_at.desc(), Membership.id.desc())
    )
    return await session.get(Engagement, m.engagement_id) if m else None


async def bind(
    session: AsyncSession,
    engagement: Engagement,
    *,
    platform: str,
    workspace_id: str,
    channel_id: str,
    channel_name: str | None,
    conversation_ref: dict | None,
    purpose: str,
    now: datetime,
) -> ChannelBinding:
    existing = await session.scalar(
        select(ChannelBinding).where(
            ChannelBinding.platform == platform,
            ChannelBinding.workspace_id == workspace_id,
            ChannelBinding.channel_id == channel_id,
            ChannelBinding.purpose == purpose,
        )
    )
    if existing is not None:
        if existing.engagement_id != engagement.id:
            other = await must_get(session, Engagement, existing.engagement_id)
            raise UserError(f"This channel is already the {purpose} channel of {other.key} ({other.name}).")
        existing.conversation_ref = conversation_ref or existing.conversation_ref
        existing.failed_reason = None
        return existing
    b = ChannelBinding(
        engagement_id=engagement.id,
        platform=platform,
        workspace_id=workspace_id,
        channel_id=channel_id,
        # The platform's name for the channel is text someone typed (a Teams channel name can hold bidi
        # controls): cleaned like any other.
        channel_name=clean(channel_name, limit=200, multiline=False) or None,
        purpose=purpose,
        conversation_ref=conversation_ref,
        created_at=now,
    )
    session.add(b)
    await session.flush()
    session.info.pop(_PREFETCHED, None)  # a new binding: what was loaded ahead is no longer complete
    return b


def validate_key(key: str) -> str:
    key = key.strip().upper()
    if not KEY_RE.match(key):
        raise UserError("An engagement key is 2–10 letters or digits starting with a letter, e.g. `ACME`.")
    return key


async def lock(session: AsyncSession, engagement_id: int) -> None:
    """Lock the engagement's row until the transaction ends (a no-op on SQLite, where writers take turns). Lock
    order everywhere: the engagement, then its items. FOR NO KEY UPDATE, not FOR UPDATE: a transaction that
    already inserted a row referencing the engagement (a timer, an audit entry: the foreign key takes KEY SHARE)
    must not deadlock with another that did the same — two KEY SHARE holders both asking for FOR UPDATE was 20
    first-time approvers' deadlock (issue 17)."""
    await session.execute(select(Engagement.id).where(Engagement.id == engagement_id).with_for_update(key_share=True))


async def next_number(
    session: AsyncSession,
    engagement_id: int,
    number: InstrumentedAttribute[int],
    engagement_column: InstrumentedAttribute[int],
) -> int:
    """The next per-engagement number of a kind of item (ACME-CR-7, ACME-DEC-2, ACME-R-4): the engagement's row is
    locked first, so two items filed at once on two replicas never take the same number (the loser would hit the
    unique constraint and what it was told would be lost)."""
    await lock(session, engagement_id)
    top = await session.scalar(select(func.max(number)).where(engagement_column == engagement_id))
    return int(top or 0) + 1
