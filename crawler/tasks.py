"""Celery tasks of the crawler package (registered in core.celery_app.TASK_MODULES) and the
beat schedule built from the sources' ``schedule:`` entries.

Importing this module installs the schedule on the Celery app (``app.conf.beat_schedule``),
so ``techmatch beat`` runs every enabled, scheduled source; :func:`beat_schedule` returns
the same entries for other wiring.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from celery.schedules import crontab

from core.celery_app import app

log = logging.getLogger(__name__)

STALE_RUN = timedelta(hours=6)  # a 'running' run older than this is from a dead worker


def _schedule_of(source):
    sch = source.schedule
    if sch is None:
        return None
    if sch.cron:
        parts = sch.cron.split()
        if len(parts) != 5:
            raise ValueError(f"{source.name}: cron 应为 5 段（分 时 日 月 周）：{sch.cron}")
        minute, hour, dom, month, dow = parts
        return crontab(minute=minute, hour=hour, day_of_month=dom, month_of_year=month, day_of_week=dow)
    if sch.every_seconds:
        return timedelta(seconds=sch.every_seconds)
    return None


def beat_schedule(sources: dict | None = None) -> dict:
    """{entry name: {task, schedule, args}} for every enabled source with a schedule."""
    from crawler.config import load_all

    out = {}
    for name, source in (sources if sources is not None else load_all()).items():
        if not source.enabled:
            continue
        try:
            schedule = _schedule_of(source)
        except ValueError as e:
            log.error("%s", e)
            continue
        if schedule is None:
            continue
        out[f"crawl:{name}"] = {"task": "techmatch.crawl_source", "schedule": schedule, "args": (name,),
                                "options": {"expires": 3600}}
    return out


def install_beat_schedule(celery_app=app) -> dict:
    entries = beat_schedule()
    current = dict(celery_app.conf.beat_schedule or {})
    current = {k: v for k, v in current.items() if not k.startswith("crawl:")}
    current.update(entries)
    celery_app.conf.beat_schedule = current
    return entries


def _running(source_name: str) -> bool:
    from sqlalchemy import select

    from core.db import session_scope, utcnow
    from core.models import CrawlRun

    with session_scope() as s:
        since = utcnow() - STALE_RUN
        return s.scalar(select(CrawlRun.id).where(CrawlRun.source == source_name, CrawlRun.status == "running",
                                                  CrawlRun.started_at >= since).limit(1)) is not None


@app.task(name="techmatch.crawl_source")
def crawl_source(name: str) -> dict:
    """Crawl one source; skipped when a run of it is still going (beat may fire again)."""
    from crawler.config import get_source
    from crawler.engine import crawl

    if _running(name):
        log.warning("crawl %s already running; skipped", name)
        return {"source": name, "skipped": "already running"}
    summary = crawl(get_source(name))
    return {"source": name, "run_id": summary.run_id, "status": summary.status, **summary.counts,
            "duration_seconds": summary.duration_seconds}


@app.task(name="techmatch.crawl_all")
def crawl_all() -> list[dict]:
    """Enqueue a crawl of every enabled source."""
    from crawler.config import load_all

    names = [n for n, s in load_all().items() if s.enabled]
    for n in names:
        crawl_source.delay(n)
    return [{"source": n} for n in names]


try:
    install_beat_schedule()
except Exception:  # noqa: BLE001 - a broken source file must not stop workers from starting
    log.exception("crawler beat schedule not installed")
