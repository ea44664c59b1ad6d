"""The seam between the outbox and a platform: what a messenger receives and may raise."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from bot.kernel.messages import Card


@dataclass
class Outgoing:
    op: str  # post | dm | update | ephemeral
    address: dict[str, Any]
    card: Card
    message_id: str | None = None
    ref_key: str | None = None
    outbox_id: int | None = None


@dataclass
class Sent:
    message_id: str | None = None
    channel_id: str | None = None


class RetryLater(Exception):
    """The platform could not take it now (429, 5xx, timeout, refused). Try again later."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class PermanentFailure(Exception):
    """The platform will never take it (channel archived, bot removed, user deactivated)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class MessageGone(PermanentFailure):
    """The message to update no longer exists (deleted, or its id is stale): a problem of that message only,
    never of its conversation. The outbox posts the new state as a fresh message and forgets the old id."""


class Messenger(Protocol):
    platform: str

    async def send(self, out: Outgoing) -> Sent:
        """Deliver one message; raise RetryLater or PermanentFailure."""
