"""Candidates, scoring and diversity for one listing.

Problem -> achievements: the problem's stored embedding and its key terms go to the search
service's hybrid retrieval (``SearchService.retrieve``, published achievements only); the
candidates are scored by :mod:`matcher.model` over :mod:`matcher.features`, those at or
above ``settings.match_threshold`` are re-ranked for diversity (MMR) and the first
``settings.match_top_n`` are proposed, with reasons (:mod:`matcher.explain`).
Achievement -> problems is the same with the roles swapped.

The listing's own vector comes from the index (no encoding at match time); only when the
listing is not indexed yet is it encoded here.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import select

from matcher import explain as X
from matcher.features import Profile, pair_features, profile_of
from matcher.model import ScoringModel

OTHER = {"problem": "achievement", "achievement": "problem"}
MMR_LAMBDA = 0.75


@dataclass
class Scored:
    problem: Profile
    achievement: Profile
    cos: float | None
    bm25: float
    features: dict[str, float]
    score: float
    retrieval_rank: int
    vec: np.ndarray | None = None
    rank: int | None = None
    reasons: dict = field(default_factory=dict)

    def pair(self) -> tuple[int, int]:
        return self.problem.id, self.achievement.id


def mmr(items: list[Scored], top_n: int, other_kind: str, lam: float = MMR_LAMBDA) -> list[Scored]:
    """Maximal marginal relevance: trade score against similarity to what is already chosen.
    Similarity: same organisation and a shared inventor 1.0, same organisation 0.7,
    otherwise near-duplicate text (cosine above 0.9, scaled to 0..1)."""
    def prof(s: Scored) -> Profile:
        return s.achievement if other_kind == "achievement" else s.problem

    def sim(a: Scored, b: Scored) -> float:
        pa, pb = prof(a), prof(b)
        s = 0.0
        if pa.org_id is not None and pa.org_id == pb.org_id:
            s = 1.0 if set(pa.inventors) & set(pb.inventors) else 0.7
        if a.vec is not None and b.vec is not None:
            c = float(a.vec @ b.vec)
            s = max(s, max(0.0, (c - 0.9) / 0.1))
        return s

    pool = sorted(items, key=lambda s: (-s.score, prof(s).id))
    chosen: list[Scored] = []
    while pool and len(chosen) < top_n:
        best_i, best_v = 0, -1e9
        for i, s in enumerate(pool):
            pen = max((sim(s, c) for c in chosen), default=0.0)
            v = lam * s.score - (1 - lam) * pen
            if v > best_v + 1e-12:
                best_i, best_v = i, v
        chosen.append(pool.pop(best_i))
    for r, s in enumerate(chosen, 1):
        s.rank = r
    return chosen


class Matcher:
    def __init__(self, svc=None, model: ScoringModel | None = None, *, threshold: float | None = None,
                 top_n: int | None = None, candidates: int | None = None, diversity: bool = True):
        from core.settings import get_settings

        s = get_settings()
        if svc is None:
            from indexes.service import get_search_service

            svc = get_search_service()
        if model is None:
            from matcher.model import load

            model = load()
        self.svc = svc
        self.model = model
        self.threshold = s.match_threshold if threshold is None else threshold
        self.top_n = s.match_top_n if top_n is None else top_n
        self.k = s.match_candidates if candidates is None else candidates
        self.diversity = diversity

    # -- the listing's side ----------------------------------------------------
    def query_text(self, p: Profile) -> str:
        """Key terms for the BM25 side: title, keywords and the most specific terms of the text."""
        terms = X.key_terms("\n".join([p.title, p.text]), limit=24)
        return " ".join([p.title, *p.keywords, *terms])

    def vector(self, p: Profile) -> np.ndarray:
        v = self.svc.get_vector(p.kind, p.id)
        if v is None or not np.any(v):
            v = self.svc.encode_passage(p.title, p.text)
        return np.asarray(v, np.float32)

    # -- candidates and scores -------------------------------------------------
    def candidates(self, p: Profile, vec: np.ndarray, query_text: str | None = None):
        from indexes.backends.base import Filters

        return self.svc.retrieve(query_text if query_text is not None else self.query_text(p),
                                 kind=OTHER[p.kind], k=self.k, qvec=vec,
                                 filters=Filters(status=["published"]), published_only=True)

    def score_pairs(self, p: Profile, others: dict[int, Profile], cands, vecs: dict | None = None) -> list[Scored]:
        out = []
        for r, c in enumerate(cands, 1):
            o = others.get(int(c.id))
            if o is None:
                continue
            prob, ach = (p, o) if p.kind == "problem" else (o, p)
            feats = pair_features(prob, ach, cos=c.dense, bm25=c.bm25)
            out.append(Scored(prob, ach, c.dense, float(c.bm25 or 0.0), feats, self.model.score(feats), r,
                              vec=(vecs or {}).get(c.key)))
        return out

    def select(self, scored: list[Scored], other_kind: str) -> list[Scored]:
        ok = [s for s in scored if s.score >= self.threshold]
        if not self.diversity:
            ok.sort(key=lambda s: (-s.score, s.retrieval_rank))
            for r, s in enumerate(ok[:self.top_n], 1):
                s.rank = r
            return ok[:self.top_n]
        return mmr(ok, self.top_n, other_kind)

    def explain(self, s: Scored) -> dict:
        s.reasons = X.explain(s.problem, s.achievement, s.features, s.cos, self.model.contributions(s.features))
        return s.reasons

    # -- one listing from the database ------------------------------------------
    def load_others(self, session, kind: str, ids: list[int]) -> dict[int, tuple[Profile, object]]:
        from core.models.listings import LISTING_MODELS

        model = LISTING_MODELS[kind]
        out = {}
        for i in range(0, len(ids), 500):
            rows = session.scalars(select(model).where(model.id.in_(ids[i:i + 500]),
                                                       model.status == "published")).unique()
            for o in rows:
                out[o.id] = (profile_of(o), o)
        return out

    def rank_listing(self, session, obj, *, explain: bool = True) -> tuple[list[Scored], list[Scored], dict]:
        """(selected with reasons, every scored candidate, rows of the counterparts by id)."""
        p = profile_of(obj)
        vec = self.vector(p)
        cands = self.candidates(p, vec)
        other = OTHER[p.kind]
        loaded = self.load_others(session, other, [int(c.id) for c in cands])
        vecs = self.svc.backend.get_vectors([c.key for c in cands if int(c.id) in loaded]) if self.diversity else {}
        scored = self.score_pairs(p, {i: pr for i, (pr, _) in loaded.items()}, cands, vecs)
        chosen = self.select(scored, other)
        if explain:
            for s in chosen:
                self.explain(s)
        return chosen, scored, {i: row for i, (_, row) in loaded.items()}

    def score_known(self, session, obj, other_rows: list) -> list[Scored]:
        """Scores for explicit pairs (existing proposals that retrieval did not return)."""
        from indexes.backends.base import doc_key

        if not other_rows:
            return []
        p = profile_of(obj)
        vec = self.vector(p)
        other = OTHER[p.kind]
        keys = [doc_key(other, o.id) for o in other_rows]
        dense = self.svc.backend.dense_scores(vec, keys)
        from indexes.fusion import Candidate

        cands = [Candidate(k, dense=dense.get(k), bm25=0.0) for k in keys]
        return self.score_pairs(p, {o.id: profile_of(o) for o in other_rows}, cands)
