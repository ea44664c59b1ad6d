"""All models, imported here so Base.metadata knows every table (Alembic compares against it)."""

from storage.models import (  # noqa: F401
    change_requests,
    clock,
    contract,
    decisions,
    defects,
    demos,
    meetings,
    milestones,
    raid,
    slack,
    slack_inbox,
    standups,
    teams,
)
from storage.models.base import Base
from storage.models.core import (
    Absence,
    AuditEntry,
    ChannelBinding,
    Engagement,
    Identity,
    Membership,
    MessageRef,
    OutboxMessage,
    Person,
    ProcessedEvent,
    Timer,
)

__all__ = [
    "Absence",
    "AuditEntry",
    "Base",
    "ChannelBinding",
    "Engagement",
    "Identity",
    "Membership",
    "MessageRef",
    "OutboxMessage",
    "Person",
    "ProcessedEvent",
    "Timer",
]
