"""Engine and sessions. The database is chosen by settings (SQLite default, or PostgreSQL)."""
from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, DateTime, MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from core.errors import NotFound
from core.settings import get_settings, settings_cache

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


#: the platform's calendar (bureaus report by Beijing-time days)
LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def local_today() -> date:
    """Today on the bureau's calendar (Beijing time): the one 'today' of every date rule."""
    return datetime.now(LOCAL_TZ).date()


def local_date(dt: datetime | None) -> date | None:
    """The Beijing-time calendar day of a stored timestamp (naive values are UTC)."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(LOCAL_TZ).date()


def local_day_bounds(first: date | None, last: date | None) -> tuple[float | None, float | None]:
    """Epoch seconds of 00:00 (Beijing time) on ``first`` and of 24:00 on ``last``: a date
    range filter on timestamps, both days included; None where a day is not given."""
    start = lambda d: datetime.combine(d, time.min, tzinfo=LOCAL_TZ).timestamp()  # noqa: E731
    return (None if first is None else start(first),
            None if last is None else start(last + timedelta(days=1)))


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {
        dict: JSON,
        list: JSON,
        datetime: DateTime(timezone=True),
    }


def _json_dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def _sqlite_pragmas(dbapi_conn, _record):
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


@settings_cache
def get_engine() -> Engine:
    settings = get_settings()
    url = settings.resolved_database_url
    if url.startswith("sqlite"):
        settings.ensure_data_dir()
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               json_serializer=_json_dumps)
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20,
                               json_serializer=_json_dumps)
    return engine


@settings_cache
def get_sessionmaker() -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(), expire_on_commit=False, autoflush=False)


@contextmanager
def session_scope() -> Iterator[Session]:
    """A unit of work: commit on success, roll back on any error (nothing half-written)."""
    session = get_sessionmaker()()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def get_or_404(session, model, ident, message: str, **kw):
    """``session.get(model, ident)``, or NotFound with the Chinese ``message`` (``kw``: its field)."""
    obj = session.get(model, ident)
    if obj is None:
        raise NotFound(message, **kw)
    return obj
