"""Reads of provenance, for pages and the API (where a listing came from)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Provenance


def for_listing(session: Session, kind: str, listing_id: int) -> list[dict]:
    rows = session.scalars(select(Provenance).where(Provenance.listing_kind == kind,
                                                    Provenance.listing_id == listing_id)
                           .order_by(Provenance.id))
    return [{"source": p.source, "url": p.url, "relation": p.relation, "similarity": p.similarity,
             "fetched_at": p.fetched_at, "etag": p.etag, "last_modified": p.last_modified,
             "content_hash": p.content_hash, "published_on": p.published_on, "crawl_run_id": p.crawl_run_id}
            for p in rows]


def recent_runs(session, source: str | None = None, limit: int = 50) -> list:
    """Crawl runs, newest first (the bureau's run log; CLI `crawl-runs` and the API)."""
    from sqlalchemy import select

    from core.models import CrawlRun

    stmt = select(CrawlRun).order_by(CrawlRun.id.desc()).limit(limit)
    if source:
        stmt = stmt.where(CrawlRun.source == source)
    return list(session.scalars(stmt))
