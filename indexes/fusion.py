"""Fusing the keyword (BM25) and semantic (dense) candidate lists.

``rrf`` is the textbook reciprocal rank fusion (k=60), kept for comparison.  It lost
to dense retrieval alone in our benchmarks: it gives a weak BM25 list (everyday words
that don't match the paper's terms) the same vote as a strong dense list.

``adaptive`` (the default) is a score-level combination that decides per query how
much to trust the keyword side:

1. Both lists are z-normalised over their own top-N (so the scales agree): a
   candidate's dense z-score says how far it stands out of the dense neighbourhood,
   its BM25 z-score the same for the keyword list (0 BM25 for a non-matching doc).
2. The keyword weight is ``w = w_min + (w_max - w_min) * conf``, where ``conf`` in
   [0, 1] is evidence that the keyword list is about the same thing as the query,
   from signals every deployment has:

   * agreement: the share of the keyword top ``agree_depth`` that is also in the dense
     top ``agree_depth`` (two independent retrievers that agree are both right more
     often than either alone);
   * lexical coverage: the share of the query's IDF mass that the keyword leader
     contains (``SearchBackend.keyword_coverage``). A known-item query (a title, the
     author keywords) is almost all in its paper; a problem told in lay words shares a
     few everyday words with many papers.

   ``conf = min(1, agreement + coverage_weight * coverage)``.
3. ``fused = z_dense + w * z_bm25``.  Dense is always the base: it never gets less
   than full weight, so a useless keyword list cannot drag a good dense ranking down,
   while a keyword list that agrees with it, or covers the query, lifts its matches.

The first version (``margin``, kept for comparison) trusted the relative gap between
the two best BM25 scores. On enterprise problems in lay words that gap is often large
by chance (one everyday word that is rare in the corpus), and hybrid fell below dense
retrieval alone (CSL dev problems, bench/README.md).

Parameters are in :class:`FusionParams`; the figures that chose them are in
bench/README.md (CSL tasks).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Candidate:
    key: str
    dense: float | None = None      # cosine similarity (None: not computed)
    bm25: float = 0.0               # 0: the doc does not match any query term
    dense_rank: int | None = None   # 1-based rank in the dense list, None if not in it
    bm25_rank: int | None = None
    fused: float = 0.0

    @property
    def id(self) -> str:
        return self.key.partition(":")[2]

    @property
    def kind(self) -> str:
        return self.key.partition(":")[0]


@dataclass
class FusionParams:
    method: str = "adaptive"   # "adaptive" | "margin" (the first adaptive version) | "rrf"
    rrf_k: int = 60
    # adaptive: chosen by 5-fold cross-validation on the CSL dev problems (bench/README.md)
    w_max: float = 1.0         # keyword weight when the keyword side is fully confirmed
    w_min: float = 0.0         # keyword weight when nothing confirms it
    agree_depth: int = 20      # depth of the two lists whose overlap is the agreement
    coverage_weight: float = 1.0
    # sentence-level late interaction (indexes/late.py): dense score = z(pooled) + a z(smax) + b z(sli)
    late: bool = True
    late_a: float = 0.5
    late_b: float = 0.5
    # margin (first version)
    margin_w_max: float = 1.0
    margin_w_min: float = 0.1
    gap_scale: float = 0.25    # relative top1-top2 BM25 gap that counts as fully confident
    margin_agree_depth: int = 10  # keyword leader within this dense rank = agreement
    extra: dict = field(default_factory=dict)


def _z(values: np.ndarray) -> tuple[float, float]:
    if len(values) == 0:
        return 0.0, 1.0
    mu = float(values.mean())
    sd = float(values.std())
    return mu, (sd if sd > 1e-9 else 1.0)


def merge(dense_hits, bm25_hits, dense_lookup: dict[str, float] | None = None) -> dict[str, Candidate]:
    cands: dict[str, Candidate] = {}
    for r, (k, s) in enumerate(dense_hits, 1):
        cands[k] = Candidate(k, dense=float(s), dense_rank=r)
    for r, (k, s) in enumerate(bm25_hits, 1):
        c = cands.setdefault(k, Candidate(k))
        c.bm25, c.bm25_rank = float(s), r
    for k, s in (dense_lookup or {}).items():
        if k in cands and cands[k].dense is None:
            cands[k].dense = float(s)
    return cands


def keyword_confidence(bm25_hits, dense_hits, coverage: float | None, p: FusionParams) -> float:
    """Adaptive: agreement of the two lists' tops plus the keyword leader's lexical coverage."""
    if not bm25_hits:
        return 0.0
    n = max(1, p.agree_depth)
    agree = len({k for k, _ in dense_hits[:n]} & {k for k, _ in bm25_hits[:n]}) / n
    return float(min(1.0, agree + p.coverage_weight * (coverage or 0.0)))


def margin_confidence(bm25_hits, dense_ranks: dict[str, int], p: FusionParams) -> float:
    """The first version: the relative top1-top2 BM25 gap, raised when dense agrees on the leader."""
    if not bm25_hits:
        return 0.0
    s1 = bm25_hits[0][1]
    s2 = bm25_hits[1][1] if len(bm25_hits) > 1 else 0.0
    gap = (s1 - s2) / s1 if s1 > 0 else 0.0
    conf = min(1.0, gap / p.gap_scale) if p.gap_scale > 0 else 1.0
    r = dense_ranks.get(bm25_hits[0][0])
    if r is not None and r <= p.margin_agree_depth:
        conf = max(conf, 0.5) + 0.5 * (1 - conf) * (1 - (r - 1) / p.margin_agree_depth)
    return float(min(1.0, conf))


def fuse(dense_hits, bm25_hits, dense_lookup: dict[str, float] | None = None,
         params: FusionParams | None = None, coverage: float | None = None) -> list[Candidate]:
    """Fused candidates, best first. ``dense_lookup`` gives the cosine of keyword-only
    candidates (so they are scored on both sides, not penalised for missing); ``coverage``
    is the keyword leader's lexical coverage of the query (None: unknown)."""
    p = params or FusionParams()
    cands = merge(dense_hits, bm25_hits, dense_lookup)
    if not cands:
        return []
    if p.method == "rrf":
        for c in cands.values():
            c.fused = sum(1.0 / (p.rrf_k + r) for r in (c.dense_rank, c.bm25_rank) if r)
    else:
        d = np.array([s for _, s in dense_hits], np.float64)
        b = np.array([s for _, s in bm25_hits], np.float64)
        dmu, dsd = _z(d)
        bmu, bsd = _z(np.append(b, 0.0)) if len(b) else (0.0, 1.0)
        dmin = float(d.min()) if len(d) else 0.0
        if p.method == "margin":
            conf = margin_confidence(bm25_hits, {c.key: c.dense_rank for c in cands.values()
                                                 if c.dense_rank}, p)
            w_min, w_max = p.margin_w_min, p.margin_w_max
        else:
            conf = keyword_confidence(bm25_hits, dense_hits, coverage, p)
            w_min, w_max = p.w_min, p.w_max
        w = w_min + (w_max - w_min) * conf if len(b) else 0.0
        for c in cands.values():
            dz = ((c.dense if c.dense is not None else dmin) - dmu) / dsd
            bz = (c.bm25 - bmu) / bsd if len(b) else 0.0
            c.fused = dz + w * bz
    return sorted(cands.values(), key=lambda c: (-c.fused, c.key))


def single(hits, side: str) -> list[Candidate]:
    out = []
    for r, (k, s) in enumerate(hits, 1):
        c = Candidate(k, fused=float(s))
        if side == "dense":
            c.dense, c.dense_rank = float(s), r
        else:
            c.bm25, c.bm25_rank = float(s), r
        out.append(c)
    return out
