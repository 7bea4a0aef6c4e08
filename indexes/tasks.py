"""Celery tasks of the indexes package (registered in core.celery_app.TASK_MODULES).

``techmatch.index_listing(kind, listing_id)`` upserts the listing's document, or removes
it when the row is gone. Idempotent: a second run finds the same content hash and
writes nothing.
"""
from __future__ import annotations

from core.celery_app import app


def _retryable() -> tuple[type[BaseException], ...]:
    """Errors worth a later retry: the embedded index busy or an Elasticsearch node unreachable."""
    import sqlite3

    out: tuple[type[BaseException], ...] = (sqlite3.OperationalError,)
    try:
        from elasticsearch import ConnectionError as ESConnectionError
        from elasticsearch import ConnectionTimeout

        out += (ESConnectionError, ConnectionTimeout)
    except ImportError:  # pragma: no cover
        pass
    return out


RETRYABLE = _retryable()


@app.task(name="techmatch.index_listing", bind=True, max_retries=5, default_retry_delay=10)
def index_listing(self, kind: str, listing_id: int) -> str:
    from core.db import session_scope
    from indexes.service import get_search_service

    try:
        with session_scope() as session:
            return get_search_service().index_listing(session, kind, listing_id)
    except RETRYABLE as exc:  # index locked / ES unreachable: try again later
        if self.request.is_eager:
            raise
        raise self.retry(exc=exc) from exc


@app.task(name="techmatch.index_check")
def index_check() -> dict:
    """The index consistency check with repair (what ``techmatch index-check`` does): missing,
    stale and orphan entries are fixed. Run by beat every ``index_check_interval_seconds``."""
    from core.db import session_scope
    from indexes.service import get_search_service

    with session_scope() as session:
        report = get_search_service().index_check(session, repair=True)
    return {k: (len(v) if isinstance(v, list) else v) for k, v in report.items()}


def install_beat_schedule(celery_app=app) -> dict:
    """Add the periodic index check to beat's schedule (other entries are kept)."""
    from datetime import timedelta

    from core.settings import get_settings

    every = get_settings().index_check_interval_seconds
    current = {k: v for k, v in dict(celery_app.conf.beat_schedule or {}).items() if k != "index-check"}
    if every > 0:
        current["index-check"] = {"task": "techmatch.index_check", "schedule": timedelta(seconds=every),
                                  "options": {"expires": every}}
    celery_app.conf.beat_schedule = current
    return current


install_beat_schedule()
