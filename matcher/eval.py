"""Offline evaluation of the matcher: ``techmatch eval match --achievements A.jsonl --problems P.jsonl``.

Formats (the same as ``techmatch eval search``, with optional structured fields):

* achievements = corpus lines: ``{"id", "title", "body" | "abstract"}`` plus optional
  ``fields, keywords, region, maturity, trl, transfer_modes, asking_price, inventors, org``
  (the demo files ``core/demo/data/achievements_*.jsonl`` work as they are);
* problems = query lines: ``{"id", "text" | "description", "relevant": [ids] | {id: grade}}``
  plus optional ``title, fields, region, coop_modes, budget_min, budget_max,
  required_maturity, keywords, org``.

Both are loaded into a temporary SQLite database and a temporary embedded index (passage
embeddings go through the persistent cache in ``<data_dir>/embeddings.sqlite``), then for
every problem it ranks the achievements with keyword search, semantic search, hybrid search
(the search service, query = the problem text) and the full matcher (candidates from the
same service, scored by the model, diversified), and reports nDCG@10, Recall@20 and MRR.
"""
from __future__ import annotations

import json
import re
import tempfile
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from indexes.eval import by_group, load_jsonl, mean_metrics, ndcg_at, recall_at, reciprocal_rank
from indexes.eval import grades as grades_of

STAGES = ("keyword", "semantic", "hybrid", "matcher")
DEFAULT_REGION = "330400"


def metrics(ranked: list[str], grades: dict[str, float]) -> dict[str, float]:
    """nDCG@10 (graded gains), Recall@20 (share of relevant ids in the first 20), MRR (first
    relevant id anywhere in the returned list)."""
    return {"nDCG@10": ndcg_at(ranked, grades), "Recall@20": recall_at(ranked, grades, 20),
            "MRR": reciprocal_rank(ranked, grades)}


def _dec(v) -> Decimal | None:
    return None if v is None or v == "" else Decimal(str(v))


def _title_of(text: str) -> str:
    first = re.split(r"[。！？!?\n]", text.strip(), maxsplit=1)[0]
    return (first[:40] or text[:40]) or "技术需求"


@dataclass
class EvalEnv:
    """A temporary database + index holding an evaluation corpus."""

    tmp: tempfile.TemporaryDirectory
    session: object
    svc: object
    ach_ids: dict[str, int] = field(default_factory=dict)    # external id -> row id
    prob_ids: dict[str, int] = field(default_factory=dict)
    ext_of_ach: dict[int, str] = field(default_factory=dict)

    def close(self) -> None:
        try:
            self.session.close()
            self.svc.backend.close()
        finally:
            self.tmp.cleanup()


def build_env(achievements: list[dict], problems: list[dict], *, orgs: dict[str, dict] | None = None,
              encoder=None, cache_path="default", progress=None) -> EvalEnv:
    from sqlalchemy import create_engine
    from sqlalchemy.orm import sessionmaker

    from core import migrate
    from core.db import utcnow
    from core.models import Achievement, Organization, TechProblem
    from core.settings import get_settings
    from core.validation import uscc_check_char
    from indexes.analysis import get_analyzer
    from indexes.backends.embedded import EmbeddedBackend
    from indexes.encoders import EmbeddingCache, get_encoder
    from indexes.service import SearchService, listing_doc

    s = get_settings()
    encoder = encoder or get_encoder(s)
    if cache_path == "default":
        cache_path = Path(s.data_dir) / "embeddings.sqlite"
    tmp = tempfile.TemporaryDirectory(prefix="techmatch-match-eval-")
    root = Path(tmp.name)
    url = f"sqlite:///{root / 'eval.db'}"
    migrate.upgrade("head", url=url)
    engine = create_engine(url)
    session = sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)()
    svc = SearchService(EmbeddedBackend(root / "search", encoder.dim), get_analyzer(root / "jieba"), encoder,
                        EmbeddingCache(cache_path) if cache_path else None)
    env = EvalEnv(tmp, session, svc)
    orgs = orgs or {}
    org_rows: dict[str, int] = {}

    def org_id(key: str | None, kind: str, region: str | None) -> int:
        key = key or f"default-{kind}"
        if key not in org_rows:
            info = orgs.get(key, {})
            n = len(org_rows) + 1
            body = f"91{(info.get('region') or region or DEFAULT_REGION)[:6]}{n:09d}"
            o = Organization(kind=info.get("kind") or kind, name=info.get("name") or key,
                             credit_code=body + uscc_check_char(body),
                             region=info.get("region") or region or DEFAULT_REGION)
            session.add(o)
            session.flush()
            org_rows[key] = o.id
        return org_rows[key]

    now = utcnow()
    for a in achievements:
        region = a.get("region") or orgs.get(a.get("org") or "", {}).get("region") or DEFAULT_REGION
        row = Achievement(
            title=a.get("title") or "", abstract=a.get("abstract") or a.get("body") or "",
            body=a.get("body", "") if a.get("abstract") else "", fields=a.get("fields") or [],
            keywords=a.get("keywords") or [], region=region, maturity=a.get("maturity") or "pilot",
            trl=a.get("trl"), patents=a.get("patents") or [], transfer_modes=a.get("transfer_modes") or [],
            asking_price=_dec(a.get("asking_price")), inventors=a.get("inventors") or [],
            org_id=org_id(a.get("org"), "university", a.get("region")), status="published", source="demo",
            published_at=now, created_at=now, updated_at=now)
        session.add(row)
        session.flush()
        env.ach_ids[str(a["id"])] = row.id
        env.ext_of_ach[row.id] = str(a["id"])
    for q in problems:
        text = q.get("text") or q.get("description") or ""
        row = TechProblem(
            title=q.get("title") or _title_of(text), description=text, indicators=q.get("indicators") or "",
            conditions=q.get("conditions") or "", fields=q.get("fields") or [], keywords=q.get("keywords") or [],
            region=q.get("region") or orgs.get(q.get("org") or "", {}).get("region") or DEFAULT_REGION,
            budget_min=_dec(q.get("budget_min")), budget_max=_dec(q.get("budget_max")),
            coop_modes=q.get("coop_modes") or [], required_maturity=q.get("required_maturity"),
            org_id=org_id(q.get("org"), "enterprise", q.get("region")), status="published", source="demo",
            published_at=now, created_at=now, updated_at=now)
        session.add(row)
        session.flush()
        env.prob_ids[str(q["id"])] = row.id
    session.commit()
    docs = ([listing_doc("achievement", session.get(Achievement, i)) for i in env.ach_ids.values()]
            + [listing_doc("problem", session.get(TechProblem, i)) for i in env.prob_ids.values()])
    for i in range(0, len(docs), 64):
        svc.index_docs(docs[i:i + 64], skip_unchanged=False)
        if progress:
            progress(min(64, len(docs) - i), len(docs))
    svc.backend.refresh()
    return env


def run(env: EvalEnv, problems: list[dict], *, stages=STAGES, model=None, diversity: bool = True,
        k: int = 50, collect: bool = False, progress=None) -> dict:
    """Mean metrics per stage; with ``collect`` also every matcher candidate's features and label
    (for calibration and the refit benchmark)."""
    from core.models import TechProblem
    from indexes.backends.base import Filters
    from matcher.engine import Matcher

    svc = env.svc
    texts = [q.get("text") or q.get("description") or "" for q in problems]
    qvecs = svc.encoder.encode_queries(texts) if {"semantic", "hybrid"} & set(stages) else None
    m = Matcher(svc, model, threshold=0.0, top_n=k, candidates=max(100, k), diversity=diversity)
    per: dict[str, list[dict]] = {st: [] for st in stages}
    runs: dict[str, list] = {st: [] for st in stages}
    collected = []
    t_stage = {st: 0.0 for st in stages}
    for i, q in enumerate(problems):
        grades = grades_of(q)
        for st in stages:
            t0 = time.perf_counter()
            if st == "matcher":
                obj = env.session.get(TechProblem, env.prob_ids[str(q["id"])])
                chosen, scored, _ = m.rank_listing(env.session, obj, explain=False)
                ranked = [env.ext_of_ach[s.achievement.id] for s in chosen]
                if collect:
                    collected.append({"id": q["id"], "candidates": [
                        {"id": env.ext_of_ach[s.achievement.id], "features": s.features, "cos": s.cos,
                         "bm25": s.bm25,
                         "label": grades.get(env.ext_of_ach[s.achievement.id], 0.0),
                         "retrieval_rank": s.retrieval_rank, "org": s.achievement.org_id} for s in scored]})
            else:
                cands = svc.retrieve(texts[i], "achievement", k=k, mode=st,
                                     filters=Filters(status=["published"]), published_only=True,
                                     qvec=None if qvecs is None else qvecs[i])
                ranked = [env.ext_of_ach[int(c.id)] for c in cands if int(c.id) in env.ext_of_ach]
            t_stage[st] += time.perf_counter() - t0
            runs[st].append(ranked)
            per[st].append(metrics(ranked, grades))
        if progress:
            progress(1, len(problems))
    out = {st: {**mean_metrics(per[st]), "ms_per_query": round(1000 * t_stage[st] / max(1, len(problems)), 1)}
           for st in stages}
    out["_runs"] = runs
    out["_per_query"] = per
    if collect:
        out["_candidates"] = collected
    return out


def evaluate(achievements: list[dict], problems: list[dict], *, orgs=None, stages=STAGES, model=None,
             diversity: bool = True, collect: bool = False, encoder=None, progress=None) -> dict:
    t0 = time.perf_counter()
    env = build_env(achievements, problems, orgs=orgs, encoder=encoder)
    t_index = time.perf_counter() - t0
    try:
        res = run(env, problems, stages=stages, model=model, diversity=diversity, collect=collect,
                  progress=progress)
    finally:
        env.close()
    groups = by_group(problems, res["_per_query"])
    if groups:
        res["by_difficulty"] = groups
    res["_meta"] = {"achievements": len(achievements), "problems": len(problems),
                    "encoder": env.svc.encoder.model_id, "index_seconds": round(t_index, 1)}
    return res


def demo_orgs() -> dict[str, dict]:
    """Demo organizations by key (their regions give the demo achievements a region)."""
    p = Path(__file__).resolve().parents[1] / "core" / "demo" / "data" / "organizations.json"
    if not p.exists():
        return {}
    return {o["key"]: o for o in json.loads(p.read_text(encoding="utf-8"))}


def main(achievements_path, problems_path, *, diversity: bool = True) -> dict:
    res = evaluate(load_jsonl(achievements_path), load_jsonl(problems_path), orgs=demo_orgs(),
                   diversity=diversity)
    return {k: v for k, v in res.items() if not k.startswith("_") or k == "_meta"}
