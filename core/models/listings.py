"""Listings: enterprise technical problems (技术难题/需求) and research achievements (科技成果)."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, utcnow
from core.models.orgs import Organization
from core.money import Money


class ListingMixin:
    """Columns shared by both kinds of listing."""

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    fields: Mapped[list] = mapped_column(default=list)
    keywords: Mapped[list] = mapped_column(default=list)
    region: Mapped[str] = mapped_column(String(6), index=True)
    contact_name: Mapped[str] = mapped_column(String(50), default="")
    contact_phone: Mapped[str] = mapped_column(String(30), default="")
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    # 'manual', 'crawled', 'imported', 'demo'
    source: Mapped[str] = mapped_column(String(20), default="manual")
    published_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class TechProblem(ListingMixin, Base):
    __tablename__ = "tech_problems"
    kind = "problem"

    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    description: Mapped[str] = mapped_column(Text)
    indicators: Mapped[str] = mapped_column(Text, default="")
    conditions: Mapped[str] = mapped_column(Text, default="")
    budget_min: Mapped[Decimal | None] = mapped_column(Money)
    budget_max: Mapped[Decimal | None] = mapped_column(Money)
    coop_modes: Mapped[list] = mapped_column(default=list)
    # Maturity the enterprise needs; None = any.
    required_maturity: Mapped[str | None] = mapped_column(String(20))
    deadline: Mapped[date | None] = mapped_column()

    org: Mapped[Organization] = relationship(lazy="joined")

    __table_args__ = (Index("ix_tech_problems_org_status", "org_id", "status"),)


class Achievement(ListingMixin, Base):
    __tablename__ = "achievements"
    kind = "achievement"

    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    abstract: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text, default="")
    maturity: Mapped[str] = mapped_column(String(20))
    trl: Mapped[int | None] = mapped_column(Integer)
    patents: Mapped[list] = mapped_column(default=list)  # [{"number": "...", "type": "invention"}]
    transfer_modes: Mapped[list] = mapped_column(default=list)
    asking_price: Mapped[Decimal | None] = mapped_column(Money)  # None = 面议
    inventors: Mapped[list] = mapped_column(default=list)

    org: Mapped[Organization] = relationship(lazy="joined")

    __table_args__ = (Index("ix_achievements_org_status", "org_id", "status"),)


class Attachment(Base):
    """A file on disk under the data directory, with the text extracted from it."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    # 'problem', 'achievement' or 'contract'
    owner_kind: Mapped[str] = mapped_column(String(20))
    owner_id: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100), default="application/octet-stream")
    path: Mapped[str] = mapped_column(String(500))  # relative to settings.data_dir
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    extracted_text: Mapped[str] = mapped_column(Text, default="")
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_attachments_owner", "owner_kind", "owner_id"),)


LISTING_MODELS: dict[str, type] = {"problem": TechProblem, "achievement": Achievement}
