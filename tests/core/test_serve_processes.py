"""`techmatch serve` and the local worker it starts, as real processes (embedded default: no
broker, kombu's filesystem transport under a temporary data dir)."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def _env(data_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TECHMATCH_") and k != "DATABASE_URL"}
    env.update(TECHMATCH_DATA_DIR=str(data_dir), TECHMATCH_SECRET_KEY="test-secret", TECHMATCH_WARMUP="0",
               PYTHONPATH=str(ROOT))
    return env


def _gone(pid: int) -> bool:
    """The process has exited (a zombie not yet reaped by whoever inherited it counts)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")


def _wait(pred, timeout: float) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.2)
    return pred()


def _children(pid: int) -> list[int]:
    try:
        return [int(x) for x in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait(timeout=10)


def test_worker_lowers_its_priority_and_stops_when_its_parent_goes(tmp_path):
    """`techmatch worker --nice N --parent-pid P`: the worker runs N nice levels below its
    starter, and a warm shutdown follows when P, its parent, dies without stopping it."""
    code = ("import subprocess, sys, time\n"
            "import os\n"
            "p = subprocess.Popen([sys.executable, '-m', 'core.cli', 'worker', '--nice', '7',"
            " f'--parent-pid={os.getpid()}'])\n"
            "print(p.pid, flush=True)\n"
            "time.sleep(600)\n")
    log = open(tmp_path / "worker.log", "w")
    parent = subprocess.Popen([sys.executable, "-c", code], env=_env(tmp_path / "data"), cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=log, text=True)
    try:
        worker_pid = int(parent.stdout.readline())
        base = os.getpriority(os.PRIO_PROCESS, os.getpid())
        assert _wait(lambda: _gone(worker_pid) or os.getpriority(os.PRIO_PROCESS, worker_pid) == base + 7, 60)
        assert not _gone(worker_pid), (tmp_path / "worker.log").read_text()[-3000:]
        # the worker is up (celery's banner): now its parent dies without stopping it
        assert _wait(lambda: "ready" in (tmp_path / "worker.log").read_text(), 120), \
            (tmp_path / "worker.log").read_text()[-3000:]
        parent.kill()
        parent.wait(timeout=10)
        assert _wait(lambda: _gone(worker_pid), 60), (tmp_path / "worker.log").read_text()[-3000:]
    finally:
        _stop(parent)
        log.close()
        if not _gone(worker_pid):
            os.kill(worker_pid, signal.SIGKILL)


def test_worker_refuses_a_nice_value_out_of_range(tmp_path):
    r = subprocess.run([sys.executable, "-m", "core.cli", "worker", "--nice", "25"], env=_env(tmp_path / "data"),
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 1
    assert "--nice" in r.stdout


def test_serve_stopped_by_sigterm_stops_its_worker(tmp_path):
    """SIGTERM to `techmatch serve` (what a service manager or the load bench sends) stops the
    local worker it started too: uvicorn re-raises the signal after its shutdown, which must not
    end the process before it stops the worker. The worker runs at the lower priority."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(tmp_path / "serve.log", "w")
    serve = subprocess.Popen([sys.executable, "-m", "core.cli", "serve", "--port", str(port), "--worker-nice", "5"],
                             env=_env(tmp_path / "data"), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    workers: list[int] = []
    try:
        def up() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        assert _wait(up, 120), (tmp_path / "serve.log").read_text()[-3000:]
        workers = _children(serve.pid)
        assert len(workers) == 1, workers
        base = os.getpriority(os.PRIO_PROCESS, os.getpid())
        assert _wait(lambda: os.getpriority(os.PRIO_PROCESS, workers[0]) == base + 5, 60)
        # a niced worker encodes with one thread unless the settings say otherwise
        env = Path(f"/proc/{workers[0]}/environ").read_bytes().split(b"\0")
        assert b"TECHMATCH_ENCODER_THREADS=1" in env
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=60)
        assert _wait(lambda: _gone(workers[0]), 30), (tmp_path / "serve.log").read_text()[-3000:]
    finally:
        _stop(serve)
        log.close()
        for pid in workers:
            if not _gone(pid):
                os.kill(pid, signal.SIGKILL)
