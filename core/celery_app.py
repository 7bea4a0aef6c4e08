"""The Celery app.

Three modes, from settings:

* ``local`` (the embedded default: no broker URL): the same tasks go through kombu's
  filesystem transport under ``<data_dir>/tasks/`` to a local worker process, which
  ``techmatch serve`` starts (``techmatch worker`` runs it alone). The web process only
  writes a message file: it never encodes, indexes or matches.
* ``broker``: ``celery_broker_url`` (Redis at scale), workers run separately.
* ``eager`` (``celery_eager``): tasks run in the calling process (tests, one-off scripts).
"""
from __future__ import annotations

import importlib
from pathlib import Path

from celery import Celery
from kombu import pools as kombu_pools

from core.settings import get_settings

TASK_MODULES = ["core.tasks", "indexes.tasks", "matcher.tasks", "crawler.tasks"]

app = Celery("techmatch")
_configured_for: tuple | None = None


def mode(s=None) -> str:
    s = s or get_settings()
    if s.celery_eager:
        return "eager"
    return "broker" if s.celery_broker_url else "local"


def local_dirs(s=None) -> dict[str, Path]:
    """The local transport's folders: queue (messages), processed, results, control (bindings)."""
    root = (Path((s or get_settings()).data_dir) / "tasks").resolve()
    return {"queue": root / "queue", "processed": root / "processed", "results": root / "results",
            "control": root / "control"}


def configure() -> Celery:
    """(Re)apply settings to the app; cheap to call repeatedly."""
    global _configured_for
    s = get_settings()
    m = mode(s)
    dirs = local_dirs(s) if m == "local" else {}
    key = (m, s.celery_broker_url, s.celery_result_backend, s.celery_queue, str(dirs.get("queue")),
           s.celery_visibility_timeout_seconds)
    if key != _configured_for:
        eager = m == "eager"
        if m == "local":
            for d in dirs.values():
                d.mkdir(parents=True, exist_ok=True)
            broker = "filesystem://"
            backend = s.celery_result_backend or f"file://{dirs['results']}"
            transport = {"data_folder_in": str(dirs["queue"]), "data_folder_out": str(dirs["queue"]),
                         "processed_folder": str(dirs["processed"]), "store_processed": False,
                         "control_folder": str(dirs["control"]),  # exchange bindings (else ./control)
                         "polling_interval": 0.2}
        else:
            broker = s.celery_broker_url or "memory://"
            backend = s.celery_result_backend or (None if eager else s.celery_broker_url)
            # Redis: an unacknowledged task (its worker died) is redelivered after this long.
            # kombu 5.7 sweeps the unacked set only every interval x throttle seconds (10 x 10 by
            # default), which would add up to 100 s to that promise; sweep every
            # min(10 s, a quarter of the timeout) instead (one Redis range query per sweep).
            vt = s.celery_visibility_timeout_seconds
            transport = {"visibility_timeout": vt, "unacked_restore_interval": max(1, min(10, vt // 4)),
                         "unacked_restore_throttle": 1}
        app.conf.update(
            broker_url=broker,
            broker_transport_options=transport,
            result_backend=backend,
            worker_enable_remote_control=m != "local",  # no fanout on the filesystem transport
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
            worker_prefetch_multiplier=1,
            broker_connection_retry_on_startup=True,
            timezone="Asia/Shanghai",
            enable_utc=True,
        )
        # Eager runs cache the (disabled) result backend per thread, and the connection and
        # producer pools keep the old broker (the local transport's folders): drop them so
        # the new configuration takes effect.
        app._local.__dict__.pop("backend", None)
        if app._pool is not None:
            app._pool.force_close_all()
            app._pool = None
        app.amqp._producer_pool = None
        # kombu keeps producer pools per connection URL in a global registry: a later configuration
        # with the same broker URL would get the pool closed above ("Acquire on closed pool").
        kombu_pools.reset()
        _configured_for = key
    for name in TASK_MODULES:
        importlib.import_module(name)
    return app


def is_eager() -> bool:
    return bool(configure().conf.task_always_eager)


# `celery -A core.celery_app worker` loads this module: configure it from settings.
configure()
