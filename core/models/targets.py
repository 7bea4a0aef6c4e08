"""Indicator targets (年度目标) per region and year."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, utcnow
from core.money import Money


class IndicatorTarget(Base):
    """The bureau's yearly target for one indicator in one region. Money indicators use
    ``target_amount`` (exact yuan); count indicators use ``target_count``."""

    __tablename__ = "indicator_targets"

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator: Mapped[str] = mapped_column(String(40))
    year: Mapped[int] = mapped_column(Integer)
    region: Mapped[str] = mapped_column(String(6))
    target_amount: Mapped[Decimal | None] = mapped_column(Money)
    target_count: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        UniqueConstraint("indicator", "year", "region", name="uq_indicator_targets_key"),
        Index("ix_indicator_targets_year_region", "year", "region"),
    )
