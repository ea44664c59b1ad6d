"""Tables of the Teams front end and identity linking.

- `teams_users`: what the Bot Framework tells us about a Teams user that the core's Identity row does not
  hold: their Bot Framework id (`29:…`, needed to create a 1:1 conversation and to read @mentions) and the
  serviceUrl of their tenant. Keyed like the Identity (tenant id, user id = AAD object id).
- `link_codes`: one-time codes that join a person's identities on two platforms (`/cadence link`). Only a
  hash of the code is stored.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base
from storage.types import UTCDateTime


class TeamsUser(Base):
    __tablename__ = "teams_users"
    __table_args__ = (UniqueConstraint("tenant_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(128), default="")
    # Same value as Identity.user_id for platform "teams" (AAD object id, else the Bot Framework id).
    user_id: Mapped[str] = mapped_column(String(256))
    bf_id: Mapped[str] = mapped_column(String(256), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    service_url: Mapped[str | None] = mapped_column(String(500))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LinkCode(Base):
    __tablename__ = "link_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
