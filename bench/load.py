"""A bounded load test of the embedded default: N clients for T seconds against a server this
script starts on 127.0.0.1, mixing search, listing creation and broker actions.

    python bench/load.py [--clients 20] [--seconds 60] [--mix 12:4:4] [--data-dir DIR] [--json out.json]

1. Prepares a data directory with the demo data (``techmatch demo``: SQLite, tantivy + faiss
   index), or reuses ``--data-dir`` if it already holds a database.
2. Starts ``techmatch serve`` on a free port: the web process plus the local worker process that
   does the background work (indexing, matching).
   Before the mixed load, one client searches alone for ``--idle-seconds``: the idle figures of
   the same run, so that the loaded/idle ratio compares like with like.
3. Logs in the demo enterprises and brokers once (bearer tokens shared by the clients; the login
   throttle is not what is measured), then runs the clients, each in its own thread, each
   drawing its next request from the mix (weights search : create : broker):
   - search: ``GET /api/search`` (hybrid) with a query drawn from a list of plain-language needs;
   - create: ``POST /api/problems`` (published: the 201 returns at once; the worker indexes and
     matches it after the commit);
   - broker: ``GET /api/matches`` (the proposed queue), then accept or reject one of them.
4. After the load, waits (up to ``--drain-seconds``) for the worker to index and match every
   listing created, and reports how long after its 201 each one was searchable and had its
   proposals (percentiles).
5. Prints requests/s, latency percentiles per kind, the loaded/idle search p95 ratio, errors by
   status, the load average, and "nothing lost": every listing whose creation returned 201 is in
   the database, and in the search index or, when the drain timed out first, still in the local
   queue waiting for its index task (checked after the server stopped; counted apart:
   ``still_queued_for_index``). Exit status 1 if anything is lost.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

QUERIES = ["锂电池正极材料循环寿命", "印染废水脱色处理", "秸秆综合利用", "食品保鲜杀菌", "数控机床精度",
           "光伏组件清洗", "纺织品抗菌整理", "污泥减量化", "农产品冷链", "氢燃料电池膜电极",
           "工业机器人视觉检测", "生物可降解塑料", "茶叶加工自动化", "废旧电池回收", "高分子材料阻燃"]
ENTERPRISES = [("enterprise@demo.techmatch.cn", "enterprise-demo-2026"),
               ("textile@demo.techmatch.cn", "enterprise-demo-2026"),
               ("food@demo.techmatch.cn", "enterprise-demo-2026")]
BROKERS = [("broker@demo.techmatch.cn", "broker-demo-2026"), ("broker2@demo.techmatch.cn", "broker-demo-2026")]
REJECT = ["field", "maturity", "price", "unclear", "other"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(data_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TECHMATCH_") and k != "DATABASE_URL"}
    env.update(TECHMATCH_DATA_DIR=str(data_dir), PYTHONPATH=str(ROOT))
    return env


def prepare(data_dir: Path) -> None:
    if (data_dir / "techmatch.db").exists():
        return
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "core.cli", "demo"], env=_env(data_dir), cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    print(f"demo data loaded in {time.perf_counter() - t0:.0f} s", flush=True)


def start_server(data_dir: Path, port: int, log_path: Path) -> subprocess.Popen:
    log = open(log_path, "w")
    proc = subprocess.Popen([sys.executable, "-m", "core.cli", "serve", "--port", str(port)],
                            env=_env(data_dir), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {log_path.read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.kill()
    raise SystemExit("server did not start in 120 s")


def login(base: str, email: str, password: str) -> dict:
    r = httpx.post(f"{base}/api/auth/token", data={"username": email, "password": password}, timeout=30)
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


class Run:
    def __init__(self, base: str, seconds: float, mix: dict[str, int], ent: list[dict], brokers: list[dict]):
        self.base, self.seconds, self.mix = base, seconds, mix
        self.ent, self.brokers = ent, brokers
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.status: Counter = Counter()
        self.errors: Counter = Counter()
        self.created: list[int] = []
        self.created_at: dict[int, float] = {}
        self.claimed: set[int] = set()
        self.decided = Counter()

    def _record(self, kind: str, t0: float, r: httpx.Response | None, exc: Exception | None = None) -> None:
        with self.lock:
            self.latency[kind].append(time.perf_counter() - t0)
            if r is not None:
                self.status[(kind, r.status_code)] += 1
                if r.status_code >= 400:
                    self.errors[(kind, r.status_code)] += 1
            else:
                self.errors[(kind, type(exc).__name__)] += 1

    def _call(self, client: httpx.Client, kind: str, method: str, url: str, **kw) -> httpx.Response | None:
        t0 = time.perf_counter()
        try:
            r = client.request(method, self.base + url, **kw)
        except httpx.HTTPError as exc:
            self._record(kind, t0, None, exc)
            return None
        self._record(kind, t0, r)
        return r

    def search(self, client, rng):
        self._call(client, "search", "GET", "/api/search", params={"q": rng.choice(QUERIES), "mode": "hybrid"})

    def create(self, client, rng, n):
        body = {"title": f"{rng.choice(QUERIES)}技术需求（压测 {n}）", "region": "330421", "fields": ["新能源"],
                "description": f"压测创建的需求 {n}：{rng.choice(QUERIES)}，希望与高校院所合作开发，解决生产中的实际问题。",
                "budget_min": "100000", "budget_max": "500000", "coop_modes": ["development"],
                "contact_name": "王经理", "contact_phone": "13800000000", "publish": True}
        r = self._call(client, "create", "POST", "/api/problems", json=body, headers=rng.choice(self.ent))
        if r is not None and r.status_code == 201:
            with self.lock:
                self.created.append(r.json()["id"])
                self.created_at[r.json()["id"]] = time.perf_counter()

    def broker(self, client, rng):
        h = rng.choice(self.brokers)
        r = self._call(client, "broker", "GET", "/api/matches", params={"status": "proposed", "size": 50}, headers=h)
        if r is None or r.status_code != 200:
            return
        with self.lock:
            free = [m["id"] for m in r.json()["items"] if m["id"] not in self.claimed]
            if not free:
                return
            mid = rng.choice(free)
            self.claimed.add(mid)
        if rng.random() < 0.5:
            r = self._call(client, "broker", "POST", f"/api/matches/{mid}/accept", json={"comment": "压测采纳"}, headers=h)
            decision = "accept"
        else:
            r = self._call(client, "broker", "POST", f"/api/matches/{mid}/reject",
                           json={"reason_code": rng.choice(REJECT), "comment": "压测驳回"}, headers=h)
            decision = "reject"
        if r is not None and r.status_code == 200:
            with self.lock:
                self.decided[decision] += 1

    def client(self, i: int, stop_at: float):
        rng = random.Random(i)
        kinds = [k for k, w in self.mix.items() for _ in range(w)]
        n = 0
        with httpx.Client(timeout=120) as client:
            while time.perf_counter() < stop_at:
                kind = rng.choice(kinds)
                n += 1
                if kind == "search":
                    self.search(client, rng)
                elif kind == "create":
                    self.create(client, rng, f"{i}-{n}")
                else:
                    self.broker(client, rng)

    def run(self, clients: int) -> float:
        t0 = time.perf_counter()
        stop_at = t0 + self.seconds
        threads = [threading.Thread(target=self.client, args=(i, stop_at)) for i in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return time.perf_counter() - t0


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def idle_search(base: str, seconds: float) -> list[float]:
    """One client searching alone: the idle latencies of this run."""
    rng, out = random.Random(0), []
    stop_at = time.perf_counter() + seconds
    with httpx.Client(timeout=120) as client:
        while time.perf_counter() < stop_at:
            t0 = time.perf_counter()
            client.get(base + "/api/search", params={"q": rng.choice(QUERIES), "mode": "hybrid"}).raise_for_status()
            out.append(time.perf_counter() - t0)
    return out


def drain(data_dir: Path, created_at: dict[int, float], timeout: float) -> dict:
    """Wait for the worker: seconds from each 201 until the listing is in the index (this process
    reads the same index) and until it has proposals (a listing the matcher finds nothing for
    is counted as indexed only)."""
    from sqlalchemy import func, select

    from core import settings as settings_mod
    from core.db import session_scope
    from core.models import Match
    from indexes.backends.base import doc_key
    from indexes.service import get_search_service

    settings_mod.configure(data_dir=data_dir, celery_broker_url=None)
    backend = get_search_service().backend
    indexed: dict[int, float] = {}
    matched: dict[int, float] = {}
    start = time.perf_counter()
    deadline = start + timeout
    while time.perf_counter() < deadline and (len(indexed) < len(created_at) or len(matched) < len(created_at)):
        now = time.perf_counter()
        keys = backend.hashes()
        for i in created_at:
            if i not in indexed and doc_key("problem", i) in keys:
                indexed[i] = now - created_at[i]
        with session_scope() as session:
            rows = session.execute(select(Match.problem_id, func.count()).where(Match.problem_id.in_(list(created_at)))
                                   .group_by(Match.problem_id)).all()
        for pid, _n in rows:
            matched.setdefault(pid, now - created_at[pid])
        time.sleep(0.5)

    def summary(d: dict[int, float]) -> dict:
        v = list(d.values())
        return {"n": len(v), "p50_s": round(pct(v, .5), 1), "p95_s": round(pct(v, .95), 1),
                "max_s": round(max(v), 1) if v else None}
    return {"created": len(created_at), "indexed_after": summary(indexed), "with_proposals_after": summary(matched),
            "drain_timeout_s": timeout, "waited_s": round(time.perf_counter() - start, 1)}


def queued_index_tasks(data_dir: Path) -> set[int]:
    """Problem ids whose index task is still waiting in the local queue (a message file under
    ``tasks/queue``): not indexed yet, but not lost either (the next worker takes it)."""
    import base64

    out: set[int] = set()
    for f in (data_dir / "tasks" / "queue").glob("*"):
        try:
            msg = json.loads(f.read_text())
            if msg["headers"]["task"] != "techmatch.index_listing":
                continue
            args = json.loads(base64.b64decode(msg["body"]))[0]
        except (OSError, ValueError, KeyError, IndexError, TypeError):
            continue
        if args and args[0] == "problem":
            out.add(int(args[1]))
    return out


def nothing_lost(data_dir: Path, created: list[int]) -> dict:
    """After the server stopped: the created listings in the database and in the index; those
    not in the index yet are lost unless their index task is still queued."""
    from sqlalchemy import select

    from core import settings as settings_mod
    from core.db import session_scope
    from core.models import TechProblem

    settings_mod.configure(data_dir=data_dir, celery_broker_url=None)
    from indexes.backends.base import doc_key
    from indexes.service import get_search_service

    with session_scope() as session:
        in_db = set(session.scalars(select(TechProblem.id).where(TechProblem.id.in_(created))).all()) if created else set()
        indexed = get_search_service().backend.hashes()
    in_index = {i for i in created if doc_key("problem", i) in indexed}
    queued = queued_index_tasks(data_dir) & (set(created) - in_index)
    lost = sorted(set(created) - in_index - queued)
    return {"created_201": len(created), "in_database": len(in_db), "in_index": len(in_index),
            "still_queued_for_index": len(queued), "lost": len(lost) + len(set(created) - in_db),
            "missing_from_database": sorted(set(created) - in_db)[:20],
            "missing_from_index_not_queued": lost[:20]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--mix", default="12:4:4", help="weights search:create:broker")
    ap.add_argument("--data-dir", type=Path, help="reuse (or create) this data directory; default: a temporary one")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--idle-seconds", type=float, default=20, help="one client searching alone first")
    ap.add_argument("--drain-seconds", type=float, default=300, help="wait this long at most for the worker")
    args = ap.parse_args()
    if not (1 <= args.clients <= 200 and 1 <= args.seconds <= 3600):
        raise SystemExit("--clients 1..200, --seconds 1..3600")
    weights = [int(x) for x in args.mix.split(":")]
    mix = dict(zip(("search", "create", "broker"), weights))

    tmp = None
    data_dir = args.data_dir
    if data_dir is None:
        tmp = Path(tempfile.mkdtemp(prefix="techmatch-load-"))
        data_dir = tmp / "data"
    data_dir = data_dir.resolve()
    prepare(data_dir)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(data_dir, port, data_dir / "load-server.log")
    try:
        ent = [login(base, e, p) for e, p in ENTERPRISES]
        brokers = [login(base, e, p) for e, p in BROKERS]
        load_before = os.getloadavg()
        idle = idle_search(base, args.idle_seconds)
        run = Run(base, args.seconds, mix, ent, brokers)
        elapsed = run.run(args.clients)
        load_after = os.getloadavg()
        background = drain(data_dir, run.created_at, args.drain_seconds)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    lost = nothing_lost(data_dir, run.created)
    total = sum(len(v) for v in run.latency.values())
    out = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "clients": args.clients, "seconds": round(elapsed, 1), "mix": mix,
        "requests": total, "requests_per_s": round(total / elapsed, 1),
        "latency_ms": {k: {"n": len(v), "p50": round(pct(v, .5) * 1000), "p90": round(pct(v, .9) * 1000),
                           "p95": round(pct(v, .95) * 1000), "p99": round(pct(v, .99) * 1000), "max": round(max(v) * 1000)}
                       for k, v in sorted(run.latency.items())},
        "status": {f"{k} {s}": n for (k, s), n in sorted(run.status.items(), key=str)},
        "errors": {f"{k} {s}": n for (k, s), n in sorted(run.errors.items(), key=str)},
        "broker_decisions": dict(run.decided),
        "idle_search_ms": {"n": len(idle), "p50": round(pct(idle, .5) * 1000), "p95": round(pct(idle, .95) * 1000)},
        "search_p95_loaded_over_idle": round(pct(run.latency["search"], .95) / pct(idle, .95), 2)
        if idle and run.latency.get("search") else None,
        "background": background,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "nothing_lost": lost,
    }
    print(json.dumps(out, ensure_ascii=False, indent=2))
    if args.json:
        args.json.write_text(json.dumps(out, ensure_ascii=False, indent=2))
    ok = lost["lost"] == 0
    if tmp is not None:
        if ok:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"something was lost: data dir and server log kept in {data_dir}", file=sys.stderr)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
