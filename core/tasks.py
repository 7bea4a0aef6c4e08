"""Core tasks. Tasks are idempotent: running one twice leaves the same state."""
from __future__ import annotations

import os
import socket

from core.celery_app import app


@app.task(name="techmatch.ping")
def ping() -> dict:
    """Health check for workers: reports which process ran it."""
    return {"pong": True, "pid": os.getpid(), "host": socket.gethostname()}


@app.task(name="techmatch.send_notification_email", bind=True, max_retries=5, default_retry_delay=60)
def send_notification_email(self, notification_id: int) -> bool:
    from core.notifications import service as notifications

    try:
        return notifications.send_email(notification_id)
    except OSError as exc:  # SMTP down: retry with backoff
        raise self.retry(exc=exc, countdown=min(3600, 60 * 2 ** self.request.retries)) from exc
