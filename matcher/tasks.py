"""Celery tasks of the matcher package (registered in core.celery_app.TASK_MODULES).

``techmatch.match_listing(kind, listing_id)`` recomputes the proposals of one listing
(enqueued by ``core.hooks.listing_changed`` after the index task). Idempotent: running it
twice leaves the same proposals (one row per pair, scores rewritten with the same values).
"""
from __future__ import annotations

from core.celery_app import app
from indexes.tasks import RETRYABLE


@app.task(name="techmatch.match_listing", bind=True, max_retries=5, default_retry_delay=10)
def match_listing(self, kind: str, listing_id: int) -> dict:
    from core.db import session_scope
    from matcher.proposals import match_listing as run

    if kind not in ("problem", "achievement"):
        raise ValueError(f"unknown listing kind {kind!r}")
    try:
        with session_scope() as session:
            return run(session, kind, int(listing_id))
    except RETRYABLE as exc:  # index busy / ES unreachable: try again later
        if self.request.is_eager:
            raise
        raise self.retry(exc=exc) from exc
