"""Technology contracts (技术合同认定登记), their amendment history, the bureau's yearly
indicator targets and matchmaking events (对接活动).

Money columns are exact (``core.money.Money``: Decimal yuan in Python, BIGINT fen in the DB).

Registration number (登记号): 16 digits = 4-digit registration year + 6-digit GB/T 2260 code of
the registering authority's region + 6-digit serial, e.g. ``2026330400000123`` (the layout used by
the national technology-contract registration system). Validated in ``core.contracts.schemas``.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, utcnow
from core.money import Money

__all__ = ["Contract", "ContractAmendment"]


class Contract(Base):
    """One registered technology contract. Parties are platform organizations (org id set) or
    named outside parties; both carry a region code and a party type, copied at registration
    so that indicators never depend on later edits of the organization record."""

    __tablename__ = "tech_contracts"

    id: Mapped[int] = mapped_column(primary_key=True)
    reg_number: Mapped[str] = mapped_column(String(16), unique=True)
    project_name: Mapped[str] = mapped_column(String(200))
    # development, transfer, license, consulting, service (core.contracts.schemas.ContractType)
    contract_type: Mapped[str] = mapped_column(String(20), index=True)
    sub_type: Mapped[str | None] = mapped_column(String(30))
    # How the contract converts an achievement (成果转化): transfer, license, equity (作价投资) or None.
    conversion_mode: Mapped[str | None] = mapped_column(String(20))

    signed_on: Mapped[date] = mapped_column()
    registered_on: Mapped[date] = mapped_column(index=True)
    valid_from: Mapped[date | None] = mapped_column()
    valid_to: Mapped[date | None] = mapped_column()

    seller_org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    seller_name: Mapped[str] = mapped_column(String(200))
    seller_region: Mapped[str] = mapped_column(String(6), index=True)
    seller_type: Mapped[str] = mapped_column(String(20))  # enterprise, university, institute, other
    buyer_org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    buyer_name: Mapped[str] = mapped_column(String(200))
    buyer_region: Mapped[str] = mapped_column(String(6), index=True)
    buyer_type: Mapped[str] = mapped_column(String(20))

    total_amount: Mapped[Decimal] = mapped_column(Money)  # 合同成交额
    tech_amount: Mapped[Decimal] = mapped_column(Money)  # 技术交易额 (<= total)

    field: Mapped[str] = mapped_column(String(20), default="其他")  # core.vocab.FIELDS
    ip_type: Mapped[str | None] = mapped_column(String(30))  # PatentType values, or None

    match_id: Mapped[int | None] = mapped_column(ForeignKey("matches.id", ondelete="SET NULL"), index=True)
    problem_id: Mapped[int | None] = mapped_column(ForeignKey("tech_problems.id", ondelete="SET NULL"),
                                                   index=True)
    achievement_id: Mapped[int | None] = mapped_column(ForeignKey("achievements.id", ondelete="SET NULL"),
                                                       index=True)

    # registered, amended, terminated
    status: Mapped[str] = mapped_column(String(20), default="registered", index=True)
    terminated_on: Mapped[date | None] = mapped_column()
    termination_reason: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(20), default="manual")  # manual, match, demo, imported, application (认定登记)

    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    amendments: Mapped[list[ContractAmendment]] = relationship(
        back_populates="contract", order_by="ContractAmendment.id", cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<Contract {self.id} {self.reg_number} {self.total_amount}>"


class ContractAmendment(Base):
    """Every change to a registered contract: who, when, why and what ({field: [old, new]})."""

    __tablename__ = "contract_amendments"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("tech_contracts.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="amend")  # amend, terminate
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    changes: Mapped[dict] = mapped_column(default=dict)
    at: Mapped[datetime] = mapped_column(default=utcnow)

    contract: Mapped[Contract] = relationship(back_populates="amendments")
