"""Matchmaking events (对接活动)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, utcnow


class Event(Base):
    """A matchmaking event (对接活动): roadshow, matchmaking fair, enterprise visit, training."""

    __tablename__ = "match_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default="matchmaking")
    held_on: Mapped[date] = mapped_column(index=True)
    region: Mapped[str] = mapped_column(String(6), index=True)
    venue: Mapped[str] = mapped_column(String(200), default="")
    organizer_org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    attendance: Mapped[int] = mapped_column(Integer, default=0)
    enterprises: Mapped[int] = mapped_column(Integer, default=0)
    matches_made: Mapped[int] = mapped_column(Integer, default=0)
    match_ids: Mapped[list] = mapped_column(default=list)  # platform matches made at the event
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
