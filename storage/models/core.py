"""Core tables: engagements, people and their platform identities, memberships, channel bindings,
timers, the outgoing-message outbox, message references, the append-only audit log and
processed-event keys (idempotency)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base
from storage.types import JSONType, UTCDateTime


class Engagement(Base):
    __tablename__ = "engagements"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    home_tz: Mapped[str] = mapped_column(String(64), default="UTC")
    # Vendor support calendar: business hours for S3/S4 clocks.
    support_tz: Mapped[str] = mapped_column(String(64), default="UTC")
    support_country: Mapped[str | None] = mapped_column(String(8))
    client_country: Mapped[str | None] = mapped_column(String(8))
    budget: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    contingency_pct: Mapped[float] = mapped_column(Float, default=15.0)
    warranty_end: Mapped[date | None] = mapped_column(Date)
    iteration_days: Mapped[int] = mapped_column(Integer, default=14)
    # Per-feature settings live in one JSON document, each feature under its own key
    # ("standup", "demo", "cr", "defect", "report"); bot/kernel/engagements.py owns the defaults.
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))

    memberships: Mapped[list[Membership]] = relationship(back_populates="engagement")
    bindings: Mapped[list[ChannelBinding]] = relationship(back_populates="engagement")


class Person(Base):
    """A human, whatever platforms they use. Zone, work days, country and absences are theirs."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    tz: Mapped[str] = mapped_column(String(64), default="UTC")
    # "platform" (taken from the Slack profile / Teams activity) or "user" (set with /cadence tz,
    # which a later platform value must not overwrite).
    tz_source: Mapped[str] = mapped_column(String(16), default="platform")
    work_days: Mapped[list[int]] = mapped_column(JSONType, default=lambda: [0, 1, 2, 3, 4])
    # Working hours on those days, minutes after local midnight (`/cadence hours 10:00-19:00`); None = the
    # default (bot/kernel/people.py: WORKING_HOURS), so a person who never chose follows the default.
    work_start_minute: Mapped[int | None] = mapped_column(Integer)
    work_end_minute: Mapped[int | None] = mapped_column(Integer)
    country: Mapped[str | None] = mapped_column(String(8))
    delegate_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    # The engagement a DM command applies to when the person belongs to several (/cadence use KEY).
    # (No foreign key: people and engagements would reference each other, which SQLite cannot alter in.)
    default_engagement_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    # Loaded with the person (async sessions cannot lazy-load): rules like away_reason() need them.
    identities: Mapped[list[Identity]] = relationship(back_populates="person", lazy="selectin")
    absences: Mapped[list[Absence]] = relationship(
        back_populates="person", order_by="Absence.start", lazy="selectin", cascade="all, delete-orphan"
    )


class Identity(Base):
    """One platform account of a person (Slack user in a workspace, Teams user in a tenant, console name)."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("platform", "workspace_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    workspace_id: Mapped[str] = mapped_column(String(128), default="")
    user_id: Mapped[str] = mapped_column(String(256))
    handle: Mapped[str | None] = mapped_column(String(200))
    # Where a DM to this identity goes: Slack IM channel id, or the serialized Teams
    # ConversationReference of the 1:1 chat.
    dm_channel_id: Mapped[str | None] = mapped_column(String(256))
    conversation_ref: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    unreachable_reason: Mapped[str | None] = mapped_column(String(200))
    # The person's own team or tenant when it is not the installation's (`workspace_id`): a member of the
    # other company in a Slack Connect or Teams shared channel. None for the installer's own people.
    external_team_id: Mapped[str | None] = mapped_column(String(128))

    person: Mapped[Person] = relationship(back_populates="identities")


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("engagement_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    roles: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # None = follow the default (vendor roles take part); True = joined; False = left.
    standup_opt_in: Mapped[bool | None] = mapped_column(Boolean)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime())

    engagement: Mapped[Engagement] = relationship(back_populates="memberships")
    person: Mapped[Person] = relationship(lazy="selectin")


class Absence(Base):
    """An out-of-office range, inclusive, in the person's own calendar dates."""

    __tablename__ = "absences"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    person: Mapped[Person] = relationship(back_populates="absences")


class ChannelBinding(Base):
    """A platform conversation bound to an engagement: its home (several allowed: mirrored posts),
    its escalation channel, or a digest channel."""

    __tablename__ = "channel_bindings"
    __table_args__ = (UniqueConstraint("platform", "workspace_id", "channel_id", "purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id"), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    workspace_id: Mapped[str] = mapped_column(String(128), default="")
    channel_id: Mapped[str] = mapped_column(String(256))
    channel_name: Mapped[str | None] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(String(16), default="home")
    conversation_ref: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    failed_reason: Mapped[str | None] = mapped_column(String(200))

    engagement: Mapped[Engagement] = relationship(back_populates="bindings")


class Timer(Base):
    """A future action. The database is the truth; APScheduler only wakes the process."""

    __tablename__ = "timers"
    __table_args__ = (
        Index("ix_timers_status_due", "status", "due_at"),
        # Key-prefix look-ups (cancel_prefix, a person's pending prompts) as index range scans on
        # PostgreSQL, whatever the database collation (migration 0009_perf).
        Index("ix_timers_key_prefix", "key", postgresql_ops={"key": "varchar_pattern_ops"}),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    # Unique key making a duplicate impossible, e.g. "standup.prompt:3:17:2027-03-10".
    key: Mapped[str | None] = mapped_column(String(255), unique=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|done|cancelled|failed
    engagement_id: Mapped[int | None] = mapped_column(ForeignKey("engagements.id"), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lateness_seconds: Mapped[float | None] = mapped_column(Float)
    fired_by: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)


UNSENT = "status IN ('pending', 'sending')"


class OutboxMessage(Base):
    """One outgoing platform call. Delivered in id order per conversation, retried, never dropped."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_next", "status", "next_attempt_at"),
        Index("ix_outbox_conversation", "conversation_key", "status", "id"),
        # The delivery claim looks only at unsent rows: partial indexes keep it independent of the
        # history of sent messages (migration 0009_perf; bench/timer_lateness.py, docs/benchmarks.md).
        Index("ix_outbox_unsent", "id", postgresql_where=text(UNSENT), sqlite_where=text(UNSENT)),
        Index(
            "ix_outbox_unsent_conversation",
            "conversation_key",
            "id",
            postgresql_where=text(UNSENT),
            sqlite_where=text(UNSENT),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    conversation_key: Mapped[str] = mapped_column(String(300))
    op: Mapped[str] = mapped_column(String(16))  # post | dm | update | ephemeral
    address: Mapped[dict[str, Any]] = mapped_column(JSONType)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    ref_key: Mapped[str | None] = mapped_column(String(200))
    engagement_id: Mapped[int | None] = mapped_column(ForeignKey("engagements.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|sending|sent|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    platform_message_id: Mapped[str | None] = mapped_column(String(256))
    last_error: Mapped[str | None] = mapped_column(Text)


class MessageRef(Base):
    """Where a logical message (ref_key, e.g. "cr:12") was posted, so later updates edit it in place."""

    __tablename__ = "message_refs"
    __table_args__ = (UniqueConstraint("ref_key", "platform", "channel_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ref_key: Mapped[str] = mapped_column(String(200), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    workspace_id: Mapped[str] = mapped_column(String(128), default="")
    channel_id: Mapped[str] = mapped_column(String(256))
    message_id: Mapped[str] = mapped_column(String(256))
    address: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AuditEntry(Base):
    """Append-only record of every decision and transition. Database triggers refuse UPDATE and DELETE."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_entity", "entity_type", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int | None] = mapped_column(ForeignKey("engagements.id"), index=True)
    entity_type: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(64))
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str | None] = mapped_column(String(32))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    actor_label: Mapped[str] = mapped_column(String(200))
    on_behalf_of_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    comment: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class ProcessedEvent(Base):
    """Keys of inbound events already applied (Slack event ids, Teams activity ids, click ids)."""

    __tablename__ = "processed_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(32))
    event_key: Mapped[str] = mapped_column(String(255), unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
