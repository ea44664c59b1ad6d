"""The console's virtual clock, kept so that a restart resumes at the same virtual moment (timers and
SLA clocks were computed against it; real time would make a breached defect show hours left)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base
from storage.types import UTCDateTime


class ClockState(Base):
    __tablename__ = "clock_state"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    now: Mapped[datetime] = mapped_column(UTCDateTime())
