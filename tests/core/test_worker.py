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


def _start_worker(env: dict, queue: str, log_path):
    log = open(log_path, "a")
    proc = subprocess.Popen([sys.executable, "-m", "celery", "-A", "core.celery_app", "worker", "-Q", queue,
                             "-I", "tests.core.worker_faults", "--pool", "solo", "--concurrency", "1",
                             "--loglevel", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    return proc, log


def _indexed(listing_id: int) -> bool:
    from indexes.service import get_search_service

    hits = get_search_service().search("定型机油烟", kind="problem", mode="keyword").hits
    return listing_id in [int(h.id) for h in hits]


def test_killed_worker_task_is_redelivered(settings, factory, tmp_path):
    """kill -9 of the worker while it runs the index task: the message was acknowledged late,
    so it stays in Redis's unacked set; a new worker gets it after the visibility timeout
    and the listing is indexed, with no index-check or other manual repair."""
    try:
        redis.Redis.from_url(REDIS).ping()
    except redis.ConnectionError:
        pytest.fail("Redis is not running at 127.0.0.1:6379")
    from core import settings as settings_mod
    from core.celery_app import configure

    queue = f"techmatch-test-{uuid.uuid4().hex[:8]}"
    hold, started = tmp_path / "hold", tmp_path / "started"
    overrides = dict(data_dir=settings.data_dir, database_url=settings.database_url, secret_key="test-secret",
                     celery_broker_url=f"{REDIS}/0", celery_result_backend=f"{REDIS}/1", celery_queue=queue,
                     celery_visibility_timeout_seconds=5)
    env = dict(os.environ, TECHMATCH_DATA_DIR=str(settings.data_dir), DATABASE_URL=settings.database_url,
               TECHMATCH_SECRET_KEY="test-secret", TECHMATCH_CELERY_BROKER_URL=f"{REDIS}/0",
               TECHMATCH_CELERY_RESULT_BACKEND=f"{REDIS}/1", TECHMATCH_CELERY_QUEUE=queue,
               TECHMATCH_CELERY_VISIBILITY_TIMEOUT_SECONDS="5",
               TECHMATCH_TEST_HOLD=str(hold), TECHMATCH_TEST_STARTED=str(started))
    settings_mod.configure(**overrides)
    configure()
    procs, logs = [], []
    try:
        hold.touch()
        proc, log = _start_worker(env, queue, tmp_path / "worker.log")
        procs.append(proc)
        logs.append(log)
        enterprise = factory.user("enterprise")
        p = factory.problem(enterprise, title="印染定型机废气油烟净化",
                            description="定型机排放的油烟废气有明显异味，周边居民投诉，需要高效净化装置。")
        deadline = time.time() + 120
        while time.time() < deadline and not (started.exists() and "index_listing" in started.read_text()):
            assert proc.poll() is None, (tmp_path / "worker.log").read_text()[-3000:]
            time.sleep(0.2)
        assert "techmatch.index_listing" in started.read_text()
        os.kill(proc.pid, signal.SIGKILL)  # mid-task: the task is waiting inside the worker
        proc.wait(timeout=10)
        r = redis.Redis.from_url(f"{REDIS}/0")
        # acknowledged late: the message is still held by Redis, in its unacked set
        assert any(queue.encode() in v for v in r.hvals("unacked"))
        assert not _indexed(p.id)
        hold.unlink()
        proc, log = _start_worker(env, queue, tmp_path / "worker.log")
        procs.append(proc)
        logs.append(log)
        deadline = time.time() + 120
        while time.time() < deadline and not _indexed(p.id):
            time.sleep(0.5)
        assert _indexed(p.id), (tmp_path / "worker.log").read_text()[-3000:]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGQUIT)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
        for log in logs:
            log.close()
        hold.unlink(missing_ok=True)
        settings_mod.configure(data_dir=settings.data_dir, database_url=settings.database_url,
                               secret_key="test-secret", celery_eager=True)
        configure()


def test_visibility_timeout_and_beat_index_check_are_settings(settings):
    from core import settings as settings_mod
    from core.celery_app import app, configure
    from indexes.tasks import install_beat_schedule

    settings_mod.configure(data_dir=settings.data_dir, database_url=settings.database_url,
                           secret_key="test-secret", celery_broker_url=f"{REDIS}/0")
    try:
        configure()
        assert app.conf.task_acks_late and app.conf.task_reject_on_worker_lost
        opts = app.conf.broker_transport_options
        assert opts["visibility_timeout"] == 600  # minutes, not an hour
        # the unacked set is swept every 10 s, not every 100 s (kombu 5.7's interval x throttle)
        assert opts["unacked_restore_interval"] * opts["unacked_restore_throttle"] == 10
        entry = install_beat_schedule()["index-check"]
        assert entry["task"] == "techmatch.index_check" and entry["schedule"].total_seconds() == 900
        assert "techmatch.index_check" in app.tasks
    finally:
        settings_mod.configure(data_dir=settings.data_dir, database_url=settings.database_url,
                               secret_key="test-secret", celery_eager=True)
        configure()
