"""Crawl runs, the fetch cache and provenance (crawler issue).

- ``CrawlRun``: one run of one source, with its counts and duration.
- ``CrawledPage``: every URL a source fetched (list pages, detail pages, attachments), with
  the validators for conditional GET (ETag, Last-Modified), the content hash and the
  SimHash of the parsed text, and what it became (a listing, a duplicate, a skip).
- ``Provenance``: where a listing came from. A listing published by two sites has two rows.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, utcnow

__all__ = ["CrawlRun", "CrawledPage", "Provenance"]


class CrawlRun(Base):
    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(80), index=True)
    # 'running', 'finished', 'failed'
    status: Mapped[str] = mapped_column(String(20), default="running")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    found: Mapped[int] = mapped_column(Integer, default=0)
    new: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    duplicate: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    requests: Mapped[int] = mapped_column(Integer, default=0)
    # [{"url", "outcome", "reason"}] for skipped and failed pages
    log: Mapped[list] = mapped_column(default=list)
    error: Mapped[str] = mapped_column(Text, default="")

    COUNTS = ("found", "new", "updated", "duplicate", "unchanged", "skipped", "failed")

    def counts(self) -> dict[str, int]:
        return {k: getattr(self, k) or 0 for k in self.COUNTS}


class CrawledPage(Base):
    __tablename__ = "crawled_pages"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(80))
    url: Mapped[str] = mapped_column(String(1000))  # canonical
    # 'list', 'detail', 'attachment'
    page_kind: Mapped[str] = mapped_column(String(20), default="detail")
    etag: Mapped[str | None] = mapped_column(String(200))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    content_hash: Mapped[str | None] = mapped_column(String(64))
    # 64-bit SimHash as 16 hex digits (unsigned, does not fit BIGINT)
    simhash: Mapped[str | None] = mapped_column(String(16))
    # 'listing', 'duplicate', 'skipped', 'list', 'attachment'
    outcome: Mapped[str] = mapped_column(String(20), default="")
    reason: Mapped[str] = mapped_column(String(500), default="")
    listing_kind: Mapped[str | None] = mapped_column(String(20))
    listing_id: Mapped[int | None] = mapped_column(Integer)
    attachment_id: Mapped[int | None] = mapped_column(Integer)
    # list pages: the detail / next-page links found on them (reused on 304)
    links: Mapped[list] = mapped_column(default=list)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("source", "url", name="uq_crawled_pages_source_url"),
        Index("ix_crawled_pages_listing", "listing_kind", "listing_id"),
        Index("ix_crawled_pages_content_hash", "content_hash"),
    )


class Provenance(Base):
    """A listing's origin: source, URL, fetch time, ETag and hash."""

    __tablename__ = "provenance"

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_kind: Mapped[str] = mapped_column(String(20))
    listing_id: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(80))
    url: Mapped[str] = mapped_column(String(1000))
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
    etag: Mapped[str | None] = mapped_column(String(200))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    content_hash: Mapped[str] = mapped_column(String(64))
    # 'new' (created the listing), 'duplicate' (same content found on another page)
    relation: Mapped[str] = mapped_column(String(20), default="new")
    similarity: Mapped[float | None] = mapped_column(Float)
    # the publication date the page shows, as text ("2026-03-01"), when it has one
    published_on: Mapped[str | None] = mapped_column(String(20))
    crawl_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("source", "url", name="uq_provenance_source_url"),
        Index("ix_provenance_listing", "listing_kind", "listing_id"),
    )
