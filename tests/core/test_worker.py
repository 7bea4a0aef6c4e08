"""A real task path through the real Redis and a real Celery worker process."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid

import pytest
import redis

REDIS = "redis://127.0.0.1:6379"
pytestmark = pytest.mark.redis


@pytest.fixture
def worker(settings, tmp_path):
    try:
        redis.Redis.from_url(REDIS).ping()
    except redis.ConnectionError:
        pytest.fail("Redis is not running at 127.0.0.1:6379")
    from core import settings as settings_mod
    from core.celery_app import configure

    queue = f"techmatch-test-{uuid.uuid4().hex[:8]}"
    overrides = dict(data_dir=settings.data_dir, database_url=settings.database_url, secret_key="test-secret",
                     celery_broker_url=f"{REDIS}/0", celery_result_backend=f"{REDIS}/1", celery_queue=queue)
    settings_mod.configure(**overrides)
    configure()
    env = dict(os.environ, TECHMATCH_DATA_DIR=str(settings.data_dir), DATABASE_URL=settings.database_url,
               TECHMATCH_SECRET_KEY="test-secret", TECHMATCH_CELERY_BROKER_URL=f"{REDIS}/0",
               TECHMATCH_CELERY_RESULT_BACKEND=f"{REDIS}/1", TECHMATCH_CELERY_QUEUE=queue)
    log = open(tmp_path / "worker.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "celery", "-A", "core.celery_app", "worker", "-Q", queue,
                             "--pool", "solo", "--concurrency", "1", "--loglevel", "INFO",
                             "--without-gossip", "--without-mingle", "--without-heartbeat"],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    yield proc
    proc.send_signal(signal.SIGQUIT)  # cold shutdown: do not wait for a running task
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()
    settings_mod.configure(data_dir=settings.data_dir, database_url=settings.database_url,
                           secret_key="test-secret", celery_eager=True)
    configure()


def test_tasks_run_in_worker_process(worker, factory, tmp_path):
    """ping answers from the worker's pid; then a real path: create → commit → the index
    task goes through Redis → the worker indexes it → this process (a reader of the same
    index) finds it."""
    from core.tasks import ping
    from indexes.service import get_search_service

    result = ping.delay().get(timeout=120)
    assert result["pong"] is True
    assert result["pid"] == worker.pid != os.getpid()

    enterprise = factory.user("enterprise")
    p = factory.problem(enterprise, title="印染定型机废气油烟净化", description="定型机排放的油烟废气有明显异味，周边居民投诉，需要高效净化装置。")
    svc = get_search_service()
    deadline = time.time() + 120
    ids = []
    while time.time() < deadline:
        ids = [h.id for h in svc.search("定型机油烟", kind="problem", mode="keyword").hits]
        if p.id in ids or str(p.id) in map(str, ids):
            break
        time.sleep(0.5)
    log = (tmp_path / "worker.log").read_text()
    assert p.id in ids or str(p.id) in map(str, ids), log[-3000:]
    assert "techmatch.index_listing" in log


@pytest.fixture
def local_mode(settings):
    """The embedded default: no broker, not eager (the test settings are eager)."""
    from core import settings as settings_mod
    from core.celery_app import configure

    settings_mod.configure(data_dir=settings.data_dir, database_url=settings.database_url,
                           secret_key="test-secret", celery_eager=False)
    configure()
    yield settings_mod.get_settings()
    settings_mod.configure(data_dir=settings.data_dir, database_url=settings.database_url,
                           secret_key="test-secret", celery_eager=True)
    configure()


def test_local_worker_does_the_background_work(local_mode, factory, tmp_path, monkeypatch):
    """Embedded default: creating a listing in this (web) process encodes and matches
    nothing here, it only queues the tasks under the data dir; a real `techmatch worker`
    process then indexes and matches it, and this process, a reader of the same index,
    finds it."""
    import matcher.proposals
    from core.celery_app import is_eager, local_dirs
    from indexes.encoders import PassageEmbedder
    from indexes.service import get_search_service

    assert not is_eager()
    calls = []
    monkeypatch.setattr(PassageEmbedder, "embed_documents", lambda *a, **k: calls.append("encode"))
    monkeypatch.setattr(matcher.proposals, "match_listing", lambda *a, **k: calls.append("match"))
    enterprise = factory.user("enterprise")
    p = factory.problem(enterprise, title="印染定型机废气油烟净化",
                        description="定型机排放的油烟废气有明显异味，周边居民投诉，需要高效净化装置。")
    assert calls == []
    queued = list(local_dirs()["queue"].iterdir())
    assert len(queued) >= 2, queued  # index + match of the listing
    monkeypatch.undo()

    env = dict(os.environ, TECHMATCH_DATA_DIR=str(local_mode.data_dir), DATABASE_URL=local_mode.database_url,
               TECHMATCH_SECRET_KEY="test-secret", TECHMATCH_CELERY_EAGER="0")
    env.pop("TECHMATCH_CELERY_BROKER_URL", None)
    log = open(tmp_path / "local-worker.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "core.cli", "worker"], env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        svc = get_search_service()
        deadline = time.time() + 180
        ids = []
        while time.time() < deadline:
            ids = [str(h.id) for h in svc.search("定型机油烟", kind="problem", mode="keyword").hits]
            if str(p.id) in ids and not list(local_dirs()["queue"].iterdir()):
                break
            time.sleep(0.5)
        text = (tmp_path / "local-worker.log").read_text()
        assert str(p.id) in ids, text[-3000:]
        assert "techmatch.index_listing" in text and "techmatch.match_listing" in text, text[-3000:]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
