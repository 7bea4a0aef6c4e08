"""技术合同认定登记 applications: the seller applies at the registration office (登记机构) of its
region, the office reviews, sets (核定) the 技术交易额 from itemised non-technical costs, may call an
expert review, and registers (a ``Contract`` is created through ``core.contracts``) or refuses.

Money columns are exact (``core.money.Money``: Decimal yuan in Python, BIGINT fen in the DB).
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, utcnow
from core.money import Money

__all__ = ["RegistrationApplication", "RegistrationCost", "RegistrationEvent", "ExpertReview"]


class RegistrationApplication(Base):
    __tablename__ = "registration_applications"

    id: Mapped[int] = mapped_column(primary_key=True)
    # core.registration.vocab.AppStatus
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    rule_set: Mapped[str] = mapped_column(String(20))
    office_org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    office_region: Mapped[str | None] = mapped_column(String(6), index=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    on_behalf: Mapped[bool] = mapped_column(Boolean, default=False)  # a broker applies for the seller

    project_name: Mapped[str] = mapped_column(String(200))
    contract_type: Mapped[str] = mapped_column(String(20))  # as applied; the office may correct it
    sub_type: Mapped[str | None] = mapped_column(String(30))
    signed_on: Mapped[date] = mapped_column()
    valid_from: Mapped[date | None] = mapped_column()
    valid_to: Mapped[date | None] = mapped_column()
    field: Mapped[str] = mapped_column(String(20), default="其他")
    ip_type: Mapped[str | None] = mapped_column(String(30))
    ip_object: Mapped[str | None] = mapped_column(String(30))  # IpObject, for 转让/许可

    seller_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    seller_name: Mapped[str] = mapped_column(String(200))
    seller_region: Mapped[str] = mapped_column(String(6), index=True)
    seller_type: Mapped[str] = mapped_column(String(20))
    buyer_org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    buyer_name: Mapped[str] = mapped_column(String(200), default="")
    buyer_region: Mapped[str] = mapped_column(String(6), default="")
    buyer_type: Mapped[str] = mapped_column(String(20), default="")
    common_control: Mapped[bool] = mapped_column(Boolean, default=False)  # 100% common control

    total_amount: Mapped[Decimal] = mapped_column(Money)  # 合同成交额
    tech_amount: Mapped[Decimal | None] = mapped_column(Money)  # 核定技术交易额 (office)
    expected_investment: Mapped[Decimal | None] = mapped_column(Money)  # 转让/许可: 预计新增投资
    expected_output: Mapped[Decimal | None] = mapped_column(Money)  # 转让/许可: 预计新增产值
    license_years: Mapped[int | None] = mapped_column(Integer)
    license_scope: Mapped[str | None] = mapped_column(String(20))  # LicenseScope
    related_reg_number: Mapped[str | None] = mapped_column(String(16))  # 咨询/服务 belonging to a contract

    contract_text: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(Text, default="")
    match_id: Mapped[int | None] = mapped_column(ForeignKey("matches.id", ondelete="SET NULL"), index=True)
    problem_id: Mapped[int | None] = mapped_column(ForeignKey("tech_problems.id", ondelete="SET NULL"))
    achievement_id: Mapped[int | None] = mapped_column(ForeignKey("achievements.id", ondelete="SET NULL"))

    disputed: Mapped[bool] = mapped_column(Boolean, default=False)
    expert_required: Mapped[bool] = mapped_column(Boolean, default=False)
    refusal_code: Mapped[str | None] = mapped_column(String(30))
    refusal_reason: Mapped[str | None] = mapped_column(Text)
    return_note: Mapped[str | None] = mapped_column(Text)

    submitted_at: Mapped[datetime | None] = mapped_column()
    accepted_on: Mapped[date | None] = mapped_column()
    due_on: Mapped[date | None] = mapped_column(index=True)
    due_official: Mapped[bool] = mapped_column(Boolean, default=True)
    decided_on: Mapped[date | None] = mapped_column()
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("tech_contracts.id", ondelete="SET NULL"),
                                                    index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    costs: Mapped[list[RegistrationCost]] = relationship(
        back_populates="application", order_by="RegistrationCost.id", cascade="all, delete-orphan")
    events: Mapped[list[RegistrationEvent]] = relationship(
        back_populates="application", order_by="RegistrationEvent.id", cascade="all, delete-orphan")
    experts: Mapped[list[ExpertReview]] = relationship(
        back_populates="application", order_by="ExpertReview.id", cascade="all, delete-orphan")


class RegistrationCost(Base):
    """One itemised non-technical cost. ``deliverable``: the direct cost of a reasonable quantity of
    deliverables (样品、样机), which stays in the 技术交易额; the office rules on it (``office_deliverable``)."""

    __tablename__ = "registration_costs"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("registration_applications.id", ondelete="CASCADE"), index=True)
    category: Mapped[str] = mapped_column(String(20))  # CostCategory
    description: Mapped[str] = mapped_column(String(200))
    amount: Mapped[Decimal] = mapped_column(Money)
    deliverable: Mapped[bool] = mapped_column(Boolean, default=False)
    office_deliverable: Mapped[bool | None] = mapped_column(Boolean)  # None: not ruled on yet
    office_amount: Mapped[Decimal | None] = mapped_column(Money)  # the office's corrected amount

    application: Mapped[RegistrationApplication] = relationship(back_populates="costs")


class RegistrationEvent(Base):
    """The history of an application: who, when, what (``changes`` {field: [old, new]}) and why."""

    __tablename__ = "registration_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("registration_applications.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # core.registration.vocab.EventKind
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    changes: Mapped[dict] = mapped_column(default=dict)
    at: Mapped[datetime] = mapped_column(default=utcnow)

    application: Mapped[RegistrationApplication] = relationship(back_populates="events")


class ExpertReview(Base):
    """One expert's review of an application (experts are named people; the office records the opinion)."""

    __tablename__ = "registration_expert_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("registration_applications.id", ondelete="CASCADE"), index=True)
    expert_name: Mapped[str] = mapped_column(String(100))
    affiliation: Mapped[str] = mapped_column(String(200), default="")
    conclusion: Mapped[str | None] = mapped_column(String(20))  # ExpertConclusion; None: pending
    opinion: Mapped[str] = mapped_column(Text, default="")
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column()

    application: Mapped[RegistrationApplication] = relationship(back_populates="experts")
