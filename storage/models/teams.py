"""Tables of the Teams front end and identity linking.

- `teams_users`: what the Bot Framework tells us about a Teams user that the core's Identity row does not
  hold: their Bot Framework id (`29:…`, needed to create a 1:1 conversation and to read @mentions) and the
  serviceUrl of their tenant. Keyed like the Identity (tenant id, user id = AAD object id).
- `teams_files`: files (exports, calendar invites) offered to Teams users as short-lived signed download links
  served by Cadence (handlers/teams/files.py); a row is deleted once its link has expired.
- `link_codes`: one-time codes that join a person's identities on two platforms (`/cadence link`). Only a
  hash of the code is stored.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
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


class TeamsFile(Base):
    __tablename__ = "teams_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Random, in the link; the link is also signed with its expiry (handlers/teams/files.py).
    token: Mapped[str] = mapped_column(String(64), unique=True)
    filename: Mapped[str] = mapped_column(String(255))
    mime: Mapped[str] = mapped_column(String(100))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
