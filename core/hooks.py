"""Domain events to background work. Services call :func:`after_commit` so that tasks are
enqueued only once the data they read is committed; a rollback drops them."""
from __future__ import annotations

import logging

from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

_KEY = "techmatch_after_commit"


def enqueue(task_name: str, *args, **kwargs) -> None:
    """Send a task by name. In eager mode it runs now; failures are logged, never lost
    silently: `techmatch index-check` and `techmatch match --all` repair derived state."""
    from core.celery_app import app, configure

    configure()
    task = app.tasks.get(task_name)
    if task is None:
        log.error("task %s is not registered; %r not run", task_name, args)
        return
    if app.conf.task_always_eager:
        try:
            task.apply(args=args, kwargs=kwargs, throw=True)
        except Exception:  # noqa: BLE001 - derived state; the listing itself is committed
            log.exception("in-process task %s%r failed", task_name, args)
    else:
        task.apply_async(args=args, kwargs=kwargs)


def suppress(session: Session) -> None:
    """Bulk loads: drop per-row tasks for this session; the caller indexes in batch."""
    session.info["techmatch_suppress_hooks"] = True


def after_commit(session: Session, task_name: str, *args) -> None:
    if session.info.get("techmatch_suppress_hooks"):
        return
    pending = session.info.setdefault(_KEY, [])
    item = (task_name, args)
    if item not in pending:
        pending.append(item)


def listing_changed(session: Session, kind: str, listing_id: int, *, rematch: bool = True) -> None:
    """A listing was created, updated, deleted or changed status."""
    after_commit(session, "techmatch.index_listing", kind, listing_id)
    if rematch:
        after_commit(session, "techmatch.match_listing", kind, listing_id)


@event.listens_for(Session, "after_commit")
def _run_pending(session: Session) -> None:
    pending = session.info.pop(_KEY, [])
    for name, args in pending:
        enqueue(name, *args)


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:  # the outermost transaction rolled back
        session.info.pop(_KEY, None)
