"""The Celery app. With no broker configured, tasks run in-process (eager), so the
embedded default needs no service; at scale the broker is Redis (settings)."""
from __future__ import annotations

import importlib

from celery import Celery

from core.settings import get_settings

TASK_MODULES = ["core.tasks", "indexes.tasks", "matcher.tasks", "crawler.tasks"]

app = Celery("techmatch")
_configured_for: tuple | None = None


def configure() -> Celery:
    """(Re)apply settings to the app; cheap to call repeatedly."""
    global _configured_for
    s = get_settings()
    key = (s.celery_broker_url, s.celery_result_backend, s.celery_queue, s.celery_visibility_timeout_seconds)
    if key != _configured_for:
        eager = not s.celery_broker_url
        app.conf.update(
            broker_url=s.celery_broker_url or "memory://",
            result_backend=s.celery_result_backend or (None if eager else s.celery_broker_url),
            task_always_eager=eager,
            task_default_queue=s.celery_queue,
            task_eager_propagates=True,
            task_serializer="json",
            accept_content=["json"],
            result_serializer="json",
            # A task is acknowledged when it is done, not when it is received: if the worker
            # dies mid-task, the message goes back to the queue (a pool child lost: at once; the
            # whole worker lost: Redis redelivers it after the visibility timeout).
            task_acks_late=True,
            task_reject_on_worker_lost=True,
            broker_transport_options={"visibility_timeout": s.celery_visibility_timeout_seconds},
            worker_prefetch_multiplier=1,
            broker_connection_retry_on_startup=True,
            timezone="Asia/Shanghai",
            enable_utc=True,
        )
        # Eager runs cache the (disabled) result backend per thread; drop it so the
        # new configuration takes effect.
        app._local.__dict__.pop("backend", None)
        _configured_for = key
    for name in TASK_MODULES:
        importlib.import_module(name)
    return app


def is_eager() -> bool:
    return bool(configure().conf.task_always_eager)


# `celery -A core.celery_app worker` loads this module: configure it from settings.
configure()
