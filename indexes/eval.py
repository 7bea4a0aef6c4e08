"""Generic retrieval evaluator: ``techmatch eval search --corpus C.jsonl --queries Q.jsonl``.

corpus lines:  {"id", "title", "body"} + optional "fields", "keywords"
query lines:   {"id", "text", "relevant": [ids]}  — or "relevant": {id: grade} for graded
               relevance (grade > 0 is relevant; nDCG uses the grade as gain) — plus an
               optional "exclude": [ids] (e.g. the query's own paper in a topical task).

The corpus is indexed into a temporary embedded index (deleted afterwards).  Passage
embeddings go through the persistent embedding cache in ``<data_dir>`` so a re-run on
the same corpus does not encode again; pass ``cache_path=None`` to disable.
"""
from __future__ import annotations

import json
import math
import tempfile
import time
from pathlib import Path

import numpy as np

from indexes.analysis import get_analyzer
from indexes.backends.base import Filters, IndexDoc
from indexes.backends.embedded import EmbeddedBackend
from indexes.encoders import EmbeddingCache, Encoder, get_encoder
from indexes.fusion import FusionParams
from indexes.service import MODES, SearchService

KIND = "achievement"


def load_jsonl(path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(l) for l in f if l.strip()]


def grades(q: dict) -> dict[str, float]:
    """A query line's relevant ids with their grades (a plain list means grade 1 each)."""
    rel = q.get("relevant") or []
    if isinstance(rel, dict):
        return {str(k): float(v) for k, v in rel.items() if float(v) > 0}
    return {str(r): 1.0 for r in rel}


# -- ranking metrics (also used by matcher/eval.py and matcher/refit.py) ---------------
def ndcg(gains: list[float], all_gains: list[float], n: int = 10) -> float:
    """nDCG@n of gains in ranked order, against the ideal order of every relevant gain."""
    dcg = sum(g / math.log2(i + 2) for i, g in enumerate(list(gains)[:n]))
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(sorted(all_gains, reverse=True)[:n]))
    return dcg / idcg if idcg else 0.0


def ndcg_at(ranked: list[str], grades: dict[str, float], n: int = 10) -> float:
    return ndcg([grades.get(d, 0.0) for d in ranked[:n]], list(grades.values()), n)


def recall_at(ranked: list[str], grades: dict[str, float], n: int) -> float:
    return sum(1 for d in ranked[:n] if d in grades) / (len(grades) or 1)


def reciprocal_rank(ranked: list[str], grades: dict[str, float], n: int | None = None) -> float:
    return next((1.0 / i for i, d in enumerate(ranked[:n], 1) if d in grades), 0.0)


def mean_metrics(rows: list[dict]) -> dict[str, float]:
    if not rows:
        return {}
    return {k: round(float(np.mean([r[k] for r in rows])), 4) for k in rows[0]}


def by_group(queries: list[dict], per_mode: dict[str, list[dict]], key: str = "difficulty") -> dict:
    """Mean metrics per value of ``key`` on the query lines (e.g. difficulty normal|hard),
    ``{value: {"queries": n, mode: {...}}}``; empty when no query line carries it."""
    values = [q.get(key) for q in queries]
    if not any(v is not None for v in values):
        return {}
    out: dict = {}
    for v in sorted({str(x) for x in values if x is not None}):
        idx = [i for i, x in enumerate(values) if x is not None and str(x) == v]
        out[v] = {"queries": len(idx), **{m: mean_metrics([rows[i] for i in idx]) for m, rows in per_mode.items()}}
    return out


def metrics_for(ranked: list[str], grades: dict[str, float]) -> dict[str, float]:
    return {"MRR@10": reciprocal_rank(ranked, grades, 10), "Recall@10": recall_at(ranked, grades, 10),
            "Recall@50": recall_at(ranked, grades, 50), "nDCG@10": ndcg_at(ranked, grades)}


def body_of(c: dict) -> str:
    """A corpus line's text: ``body``, else ``abstract`` (CSL lines can be used as they are)."""
    return c.get("body") or c.get("abstract") or ""


def build_index(corpus: list[dict], root: Path, encoder: Encoder, cache: EmbeddingCache | None,
                analyzer=None, fusion: FusionParams | None = None) -> SearchService:
    svc = SearchService(EmbeddedBackend(root, encoder.dim), analyzer or get_analyzer(),
                        encoder, cache, fusion)
    docs = []
    for c in corpus:
        docs.append(IndexDoc(kind=KIND, id=str(c["id"]), title=c.get("title") or "",
                             text=body_of(c), body_tokens=body_of(c),
                             keywords=list(c.get("keywords") or []), fields=list(c.get("fields") or []),
                             status="published"))
    for i in range(0, len(docs), 64):
        svc.index_docs(docs[i:i + 64], skip_unchanged=False)
    return svc


def run(svc: SearchService, queries: list[dict], modes=MODES, k: int = 50) -> dict:
    """Per-mode mean metrics (and per-query rankings under ``_runs``)."""
    texts = [q["text"] for q in queries]
    qvecs = svc.encoder.encode_queries(texts) if any(m != "keyword" for m in modes) else None
    out: dict = {}
    runs: dict = {}
    per_query: dict[str, list[dict]] = {}
    for m in modes:
        per: list[dict] = []
        t0 = time.perf_counter()
        runs[m] = []
        for i, q in enumerate(queries):
            excl = [f"{KIND}:{x}" for x in q.get("exclude") or []]
            f = Filters(published_only=False, exclude=excl)
            cands = svc.retrieve(q["text"], KIND, k=k, filters=f, mode=m,
                                 qvec=None if qvecs is None else qvecs[i])
            ranked = [c.id for c in cands]
            runs[m].append(ranked)
            per.append(metrics_for(ranked, grades(q)))
        per_query[m] = per
        out[m] = mean_metrics(per)
        out[m]["ms_per_query"] = round((time.perf_counter() - t0) * 1000 / max(1, len(queries)), 2)
    out["_runs"] = runs
    out["_per_query"] = per_query
    return out


def evaluate(corpus: list[dict], queries: list[dict], modes=MODES, *, encoder: Encoder | None = None,
             cache_path: Path | str | None = "default", fusion: FusionParams | None = None,
             keep_runs: bool = False) -> dict:
    from indexes.config import get_settings

    s = get_settings()
    encoder = encoder or get_encoder(s)
    if cache_path == "default":
        cache_path = Path(s.data_dir) / "embeddings.sqlite"
    cache = EmbeddingCache(cache_path) if cache_path else None
    with tempfile.TemporaryDirectory(prefix="techmatch-eval-") as tmp:
        t0 = time.perf_counter()
        # a private analyzer: words learned from this corpus' keywords stay out of data_dir
        from indexes.analysis import Analyzer

        svc = build_index(corpus, Path(tmp) / "index", encoder, cache,
                          analyzer=Analyzer(Path(tmp) / "jieba"), fusion=fusion)
        index_s = time.perf_counter() - t0
        res = run(svc, queries, modes)
        svc.backend.close()
    runs = res.pop("_runs")
    groups = by_group(queries, res.pop("_per_query"))
    if groups:
        res["by_difficulty"] = groups
    res["_meta"] = {"corpus": len(corpus), "queries": len(queries), "encoder": encoder.model_id,
                    "index_seconds": round(index_s, 1), "encoded_chunks": svc.embedder.encoded,
                    "fusion": (fusion or FusionParams()).method}
    if keep_runs:
        res["_runs"] = runs
    return res


def main(corpus_path, queries_path, mode: str = "all", fusion: str = "adaptive") -> dict:
    modes = MODES if mode == "all" else (mode,)
    for m in modes:
        if m not in MODES:
            raise ValueError(f"mode must be one of {MODES} or 'all'")
    return evaluate(load_jsonl(corpus_path), load_jsonl(queries_path), modes,
                    fusion=FusionParams(method=fusion))


if __name__ == "__main__":  # python -m indexes.eval C.jsonl Q.jsonl [mode]
    import sys

    print(json.dumps(main(*sys.argv[1:4]), ensure_ascii=False))
