"""The Slack inbox: slash commands and clicks that were acknowledged before they ran.

A row exists from the commit that made the request durable (just before Slack got its ack) until the
transaction that ran the work deletes it; rows left by a crash are run at the next start-up
(handlers/slack/intake.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base
from storage.types import JSONType, UTCDateTime


class SlackInboxItem(Base):
    __tablename__ = "slack_inbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "command" or "action"
    workspace_id: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)  # what Slack sent, signature already verified
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SlackSeenRequest(Base):
    """The signature of every signed Slack request taken in, kept for Slack's 5-minute replay window: the
    same signed request sent again (to any replica) is acknowledged and not applied twice
    (handlers/slack/replays.py). Rows older than the window are pruned."""

    __tablename__ = "slack_seen_requests"

    signature: Mapped[str] = mapped_column(String(80), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
