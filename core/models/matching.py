"""Proposed pairings (Match), broker review history (MatchReview) and in-app notifications."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, utcnow
from core.models.listings import Achievement, TechProblem


class Match(Base):
    """One problem–achievement pair. Unique per pair: re-matching updates the row."""

    __tablename__ = "matches"

    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("tech_problems.id", ondelete="CASCADE"), index=True)
    achievement_id: Mapped[int] = mapped_column(ForeignKey("achievements.id", ondelete="CASCADE"), index=True)
    score: Mapped[float] = mapped_column(Float)
    features: Mapped[dict] = mapped_column(default=dict)
    reasons: Mapped[dict] = mapped_column(default=dict)
    # proposed, accepted, rejected, withdrawn, introduced, negotiating, contracted, failed
    status: Mapped[str] = mapped_column(String(20), default="proposed", index=True)
    assigned_broker_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # Fingerprints of both listings' matching-relevant content when last scored/decided,
    # so that a rejected pair is re-proposed only after a material change.
    problem_fingerprint: Mapped[str] = mapped_column(String(64), default="")
    achievement_fingerprint: Mapped[str] = mapped_column(String(64), default="")
    reject_reason: Mapped[str | None] = mapped_column(String(30))
    reject_comment: Mapped[str | None] = mapped_column(Text)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    # The registered technology contract once the pair reached 'contracted': a denormalised
    # pointer to a contract whose ``Contract.match_id`` is this match (the link itself). Set only
    # by core.matches.service.mark_contracted, which the contracts service calls after linking.
    # A plain integer, not a foreign key: the contracts table comes in a later migration.
    contract_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # Position of the pair in the listing's proposal list (after diversity re-ranking).
    rank: Mapped[int | None] = mapped_column(Integer)
    proposed_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column()
    introduced_at: Mapped[datetime | None] = mapped_column()
    stage_changed_at: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    problem: Mapped[TechProblem] = relationship(lazy="joined")
    achievement: Mapped[Achievement] = relationship(lazy="joined")

    __table_args__ = (
        UniqueConstraint("problem_id", "achievement_id", name="uq_matches_pair"),
        Index("ix_matches_status_score", "status", "score"),
    )


class MatchReview(Base):
    """Every review action on a match: assign, accept, reject, introduce, stage changes."""

    __tablename__ = "match_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    match_id: Mapped[int] = mapped_column(ForeignKey("matches.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(20))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    reason_code: Mapped[str | None] = mapped_column(String(30))
    comment: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Notification(Base):
    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column()
    emailed_at: Mapped[datetime | None] = mapped_column()
