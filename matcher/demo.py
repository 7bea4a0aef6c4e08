"""Demo step (run by core.demo.loader after indexing): the demo's proposals, then the demo
broker works a few of them so that the queue and the pipeline have content.

The proposals are shipped ready in ``core/demo/data/proposals.json`` (like the embeddings in
``embeddings.npz``): computing them on a fresh machine encodes every problem on the query side
of the encoder and takes minutes. The file records a fingerprint of what the proposals are
computed from (the demo texts, the shipped vectors, the scoring model and the matcher's code);
when it does not match, or with ``techmatch demo --compute-matches``, they are computed here
instead. Rebuild the file after changing any of those (``tests/matcher/test_demo_seed.py``
fails until then)::

    TECHMATCH_DATA_DIR=$(mktemp -d) sh -c 'techmatch init && techmatch demo --compute-matches \
        && python -m matcher.demo export'

Deterministic: the same data gives the same proposals and the same broker actions. Idempotent:
a second run re-scores but does not repeat the broker's actions.
"""
from __future__ import annotations

import hashlib
import json
import sys
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from sqlalchemy import func, select

from core.db import local_today

ROOT = Path(__file__).resolve().parent.parent
DEMO_DATA = ROOT / "core" / "demo" / "data"
SEED = DEMO_DATA / "proposals.json"
#: what the shipped proposals are computed from (globs relative to the repository root)
SEED_INPUTS = ("core/demo/data/achievements_*.jsonl", "core/demo/data/problems_*.jsonl",
               "core/demo/data/organizations.json", "core/demo/data/embeddings.npz",
               "matcher/data/model.json", "matcher/engine.py", "matcher/features.py",
               "matcher/explain.py", "matcher/model.py", "indexes/fusion.py", "indexes/late.py",
               "indexes/data/calibration.json")

DEMO_BROKER = "broker@demo.techmatch.cn"
ACCEPT = 8          # the best proposals of distinct problems are accepted ...
INTRODUCE = 5       # ... the first of them introduced ...
NEGOTIATE = 2       # ... and the first of those in negotiation
REJECT = 2          # two weaker proposals rejected with a reason


def inputs_fingerprint() -> str:
    h = hashlib.sha256()
    for pattern in SEED_INPUTS:
        for path in sorted(ROOT.glob(pattern)):
            h.update(path.relative_to(ROOT).as_posix().encode() + b"\0")
            h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def _demo_ids() -> dict[tuple[str, str], str]:
    """(kind, title) -> demo id of every demo listing."""
    from core.demo.loader import read_jsonl

    out = {}
    for kind, pattern in (("achievement", "achievements_*.jsonl"), ("problem", "problems_*.jsonl")):
        for row in read_jsonl(pattern):
            out[(kind, row["title"])] = row["id"]
    return out


def export_seed(path: Path = SEED) -> int:
    """Write every proposal of the current database (a fresh data dir where only
    ``techmatch demo --compute-matches`` ran) to ``path``, keyed by demo ids."""
    from core.db import session_scope
    from core.models import Achievement, Match, TechProblem

    ids = _demo_ids()
    rows = []
    with session_scope() as s:
        for m, pt, at in s.execute(select(Match, TechProblem.title, Achievement.title)
                                   .join(TechProblem, TechProblem.id == Match.problem_id)
                                   .join(Achievement, Achievement.id == Match.achievement_id)):
            rows.append({"problem": ids[("problem", pt)], "achievement": ids[("achievement", at)],
                         "score": m.score, "rank": m.rank, "features": m.features, "reasons": m.reasons})
    rows.sort(key=lambda r: (r["problem"], r["achievement"]))
    doc = {"inputs": inputs_fingerprint(), "computed_on": local_today().isoformat(), "proposals": rows}
    path.write_text(json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":")).replace(
        '},{"achievement"', '},\n{"achievement"') + "\n", encoding="utf-8")
    return len(rows)


def read_seed(path: Path = SEED) -> list[dict] | None:
    """The shipped proposals, or None when there are none or they are stale."""
    if not path.exists():
        return None
    doc = json.loads(path.read_text(encoding="utf-8"))
    if doc.get("inputs") != inputs_fingerprint() or deadline_passed_since(doc.get("computed_on")):
        return None
    return doc["proposals"]


def deadline_passed_since(computed_on: str | None, today: date | None = None) -> bool:
    """Scores depend on the day only through problem deadlines (a problem past its deadline
    scores 0 on freshness; the demo's achievements are always new when loaded): the seed is
    stale once a demo deadline fell between the day it was computed and today."""
    if not computed_on:
        return True
    from core.demo.loader import read_jsonl

    start, today = date.fromisoformat(computed_on), today or local_today()
    return any(start <= date.fromisoformat(r["deadline"]) < today
               for r in read_jsonl("problems_*.jsonl") if r.get("deadline"))


def _dated(reasons: dict, a) -> dict:
    """The seed was computed on another day: its freshness reason names the day the demo
    achievement was published then; name the day it was published now (as matcher.explain)."""
    items = []
    for it in reasons.get("items", []):
        if it.get("key") == "freshness" and it.get("text", "").startswith("成果发布于") and a.published_at:
            it = {**it, "text": f"成果发布于{a.published_at.date().isoformat()}" + it["text"][len("成果发布于") + 10:]}
        items.append(it)
    return {**reasons, "items": items}


def load_seed(console, rows: list[dict]) -> dict | None:
    """Create the shipped proposals through the matches service. None when a listing of the
    seed is missing from the database (then the caller computes them)."""
    from core.db import session_scope
    from core.matches import service as M
    from core.models import Achievement, TechProblem

    by_title = {v: k for k, v in _demo_ids().items()}
    with session_scope() as s:
        objs = {}
        for kind, model in (("problem", TechProblem), ("achievement", Achievement)):
            for obj in s.scalars(select(model)):
                objs[(kind, obj.title)] = obj
        items = []
        for r in rows:
            p = objs.get(by_title.get(r["problem"], ("", "")))
            a = objs.get(by_title.get(r["achievement"], ("", "")))
            if p is None or a is None:
                return None
            if p.status == "published" and a.status == "published":
                items.append(dict(problem=p, achievement=a, score=r["score"], features=r["features"],
                                  reasons=_dated(r["reasons"], a), rank=r["rank"]))
        created = 0
        with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=console) as bar:
            task = bar.add_task("载入撮合推荐", total=len(items))
            for i in range(0, len(items), 200):
                created += sum(1 for _, action in M.propose_many(s, items[i:i + 200]) if action == "created")
                bar.advance(task, len(items[i:i + 200]))
    return {"proposals_loaded": len(items), "created": created}


def load(console: Console | None = None, index: bool = True, compute: bool = False) -> dict:
    if not index:
        return {}
    from core.db import session_scope
    from core.matches import service as M
    from core.models import Match, MatchReview, User
    from indexes.service import get_search_service
    from matcher.cli import run_all

    console = console or Console()
    svc = get_search_service()
    if svc.backend.count() == 0:  # the search demo step did not run: index now
        with session_scope() as s:
            svc.reindex(s)
    seed = None if compute else read_seed()
    stats = load_seed(console, seed) if seed is not None else None
    if stats is None:
        console.print("撮合推荐计算中（每项需求需编码查询向量，可能需要几分钟）……")
        stats = run_all(console, "both")
    summary = {"proposals": 0, "demo_accepted": 0, "demo_introduced": 0}
    with session_scope() as s:
        broker = s.scalar(select(User).where(User.email == DEMO_BROKER))
        summary["proposals"] = int(s.scalar(select(func.count()).select_from(Match)) or 0)
        if broker is None:
            return summary
        done = s.scalar(select(func.count()).select_from(MatchReview).where(MatchReview.actor_id == broker.id))
        if done:
            return summary
        proposed = list(s.scalars(select(Match).where(Match.status == "proposed")
                                  .order_by(Match.score.desc(), Match.id)))
        seen_problems: set[int] = set()
        best = []
        for m in proposed:
            if m.problem_id not in seen_problems:
                seen_problems.add(m.problem_id)
                best.append(m)
            if len(best) == ACCEPT:
                break
        for i, m in enumerate(best):
            M.accept(s, broker, m.id, "技术方向与需求吻合，建议对接")
            summary["demo_accepted"] += 1
            if i < INTRODUCE:
                M.introduce(s, broker, m.id, "已电话联系双方，请尽快约时间面谈")
                summary["demo_introduced"] += 1
            if i < NEGOTIATE:
                M.set_stage(s, broker, m.id, "negotiating", "双方已见面，正在商谈许可费用")
        chosen = {m.id for m in best}
        weak = [m for m in reversed(proposed) if m.id not in chosen][:REJECT]
        for m, (code, note) in zip(weak, [("field", "成果偏基础研究，与企业生产问题不对口"),
                                          ("price", "企业预算与成果报价差距较大")]):
            M.reject(s, broker, m.id, code, note)
    if stats.get("seconds") is not None:
        summary["match_seconds"] = stats["seconds"]
    return summary


if __name__ == "__main__" and sys.argv[1:] == ["export"]:
    print(f"exported {export_seed()} proposals to {SEED}")
