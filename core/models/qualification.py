"""科技型企业梯度培育: an enterprise's yearly profile (with one row per fiscal year), its last
assessment, and the draft technical needs created from its gaps."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, utcnow
from core.models.orgs import Organization
from core.money import Money


class EnterpriseProfile(Base):
    """One enterprise's figures for one evaluation year (the latest fiscal year is the year before).
    Amounts are exact yuan in Python, integer fen in the database."""

    __tablename__ = "enterprise_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    evaluation_year: Mapped[int] = mapped_column(Integer)
    application_date: Mapped[date] = mapped_column()
    registered_on: Mapped[date] = mapped_column()
    resident: Mapped[bool] = mapped_column(Boolean, default=True)
    employees: Mapped[int] = mapped_column(Integer)
    tech_staff: Mapped[int] = mapped_column(Integer)
    total_assets: Mapped[Decimal] = mapped_column(Money)
    total_costs: Mapped[Decimal] = mapped_column(Money)
    hitech_income: Mapped[Decimal] = mapped_column(Money)
    total_income: Mapped[Decimal] = mapped_column(Money)
    ip_class1: Mapped[int] = mapped_column(Integer, default=0)
    ip_class2: Mapped[int] = mapped_column(Integer, default=0)
    field_supported: Mapped[bool] = mapped_column(Boolean, default=False)
    hnte_certificate_valid: Mapped[bool] = mapped_column(Boolean, default=False)
    national_award_top3_5y: Mapped[bool] = mapped_column(Boolean, default=False)
    provincial_rd_institution: Mapped[bool] = mapped_column(Boolean, default=False)
    led_standard_5y: Mapped[bool] = mapped_column(Boolean, default=False)
    prohibited_products: Mapped[bool] = mapped_column(Boolean, default=False)
    major_incident: Mapped[bool] = mapped_column(Boolean, default=False)
    on_blacklist: Mapped[bool] = mapped_column(Boolean, default=False)
    # What the enterprise makes and its core technology: the text draft needs are written from.
    main_products: Mapped[str] = mapped_column(Text, default="")
    tech_fields: Mapped[list] = mapped_column(default=list)
    # 高企 申报 filed this year (the 参评 rung).
    hnte_applied: Mapped[bool] = mapped_column(Boolean, default=False)

    # The last assessment, kept for the bureau's pool.
    assessed_at: Mapped[datetime | None] = mapped_column()
    sme_eligible: Mapped[bool | None] = mapped_column(Boolean)
    sme_route: Mapped[str | None] = mapped_column(String(10))
    sme_score: Mapped[int | None] = mapped_column(Integer)
    hnte_meets: Mapped[bool | None] = mapped_column(Boolean)
    innovation_low: Mapped[int | None] = mapped_column(Integer)
    innovation_high: Mapped[int | None] = mapped_column(Integer)
    failed: Mapped[list] = mapped_column(default=list)  # ["sme:score_below_60", "hnte:no_ip", ...]
    rulesets: Mapped[list] = mapped_column(default=list)

    source: Mapped[str] = mapped_column(String(20), default="manual")  # manual, imported, demo
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    org: Mapped[Organization] = relationship(lazy="joined")
    years: Mapped[list[ProfileYear]] = relationship(
        back_populates="profile", cascade="all, delete-orphan", order_by="ProfileYear.year", lazy="selectin")

    __table_args__ = (UniqueConstraint("org_id", "evaluation_year", name="uq_enterprise_profiles_org_year"),)


class ProfileYear(Base):
    """One fiscal year's figures of a profile."""

    __tablename__ = "enterprise_profile_years"

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(ForeignKey("enterprise_profiles.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    sales: Mapped[Decimal | None] = mapped_column(Money)
    rd_expense: Mapped[Decimal | None] = mapped_column(Money)
    rd_expense_domestic: Mapped[Decimal | None] = mapped_column(Money)
    net_assets: Mapped[Decimal | None] = mapped_column(Money)
    conversions: Mapped[int] = mapped_column(Integer, default=0)

    profile: Mapped[EnterpriseProfile] = relationship(back_populates="years")

    __table_args__ = (UniqueConstraint("profile_id", "year", name="uq_enterprise_profile_years_year"),)


class QualificationNeed(Base):
    """A draft technical need created from a gap of a profile: why the need exists."""

    __tablename__ = "qualification_needs"

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(ForeignKey("enterprise_profiles.id", ondelete="CASCADE"))
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("tech_problems.id", ondelete="CASCADE"), unique=True)
    need: Mapped[str] = mapped_column(String(20))  # 'ip', 'rd', 'conversion'
    gap_code: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_qualification_needs_profile_need", "profile_id", "need"),)
