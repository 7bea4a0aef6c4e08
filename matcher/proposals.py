"""Turning ranked candidates into proposals (Match rows), incrementally and in batch.

``match_listing(session, kind, id)`` is what the ``techmatch.match_listing`` task runs when a
listing is published or changed. It is idempotent: a second run with nothing changed
rewrites the same scores and creates nothing.

* a listing that is not published (closed, back to draft, solved, transferred ...) gets its
  open proposals withdrawn; a deleted one has none left (rows cascade);
* otherwise its candidates are ranked (:class:`matcher.engine.Matcher`) and each selected
  pair goes through ``core.matches.service.propose`` (created / refreshed / re-proposed
  after a material change / left alone when rejected or already in the workflow);
* its other proposals still waiting for review (e.g. made from the other side) are left alone
  unless this listing changed materially since they were scored: then they are re-scored and
  withdrawn if they fell below the threshold (so recomputing either side of a pair never makes
  a proposal flip in and out); pairs whose counterpart is no longer published are withdrawn.

``match_all`` runs that for every published problem, then every published achievement.
"""
from __future__ import annotations

import time
from collections import Counter
from typing import Callable

from sqlalchemy import select

from core.matches import service as svc_matches
from core.matches.vocab import WITHDRAW_ON
from core.models import Match
from core.models.listings import LISTING_MODELS
from matcher.engine import Matcher


def match_listing(session, kind: str, listing_id: int, *, matcher: Matcher | None = None) -> dict:
    obj = session.get(LISTING_MODELS[kind], int(listing_id))
    if obj is None:
        return {"status": "deleted"}
    if obj.status != "published":
        n = 0
        if obj.status in WITHDRAW_ON:
            n = svc_matches.withdraw_for_listing(session, kind, obj.id, None,
                                                 f"{'需求' if kind == 'problem' else '成果'}已不再发布")
        session.flush()
        return {"status": obj.status, "withdrawn": n}
    m = matcher or Matcher()
    chosen, scored, rows = m.rank_listing(session, obj)
    stats: Counter = Counter()
    items = []
    for s in chosen:
        other_row = rows[s.achievement.id if kind == "problem" else s.problem.id]
        prob, ach = (obj, other_row) if kind == "problem" else (other_row, obj)
        items.append(dict(problem=prob, achievement=ach, score=s.score, features=_feats(s), reasons=s.reasons,
                          rank=s.rank))
    for _, action in svc_matches.propose_many(session, items):
        stats[action] += 1
    # re-score this listing's other proposals that still wait for review
    col = Match.problem_id if kind == "problem" else Match.achievement_id
    chosen_pairs = {s.pair() for s in chosen}
    waiting = [x for x in session.scalars(select(Match).where(col == obj.id, Match.status == "proposed"))
               if (x.problem_id, x.achievement_id) not in chosen_pairs]
    if waiting:
        by_pair = {s.pair(): s for s in scored}
        missing = [x for x in waiting if (x.problem_id, x.achievement_id) not in by_pair]
        others = [x.achievement if kind == "problem" else x.problem for x in missing]
        for s in m.score_known(session, obj, [o for o in others if o.status == "published"]):
            by_pair[s.pair()] = s
        fp_now = svc_matches.fingerprint(obj)
        for x in waiting:
            s = by_pair.get((x.problem_id, x.achievement_id))
            stored = x.problem_fingerprint if kind == "problem" else x.achievement_fingerprint
            if s is None:
                counterpart = x.achievement if kind == "problem" else x.problem
                svc_matches.withdraw(session, x, None, "对方信息已不再发布" if counterpart.status != "published"
                                     else "已不符合需求的条件（如需发明专利的转让或许可）")
                stats["withdrawn"] += 1
            elif stored == fp_now:
                # Nothing material changed on this side since the pair was scored: keep it as it
                # is, so that recomputing either side does not flip proposals in and out.
                stats["kept"] += 1
            elif s.score < m.threshold:
                svc_matches.withdraw(session, x, None, "信息修改后评分已低于推荐阈值")
                stats["withdrawn"] += 1
            else:
                svc_matches.refresh_score(session, x, score=s.score, features=_feats(s))
                if kind == "problem":
                    x.problem_fingerprint = fp_now
                else:
                    x.achievement_fingerprint = fp_now
                x.rank = None
                stats["rescored"] += 1
    session.flush()
    return {"status": "published", "candidates": len(scored), "selected": len(chosen), **stats}


def _feats(s) -> dict:
    d = {k: round(float(v), 4) for k, v in s.features.items()}
    d["_cos"] = None if s.cos is None else round(float(s.cos), 4)
    d["_bm25"] = round(float(s.bm25), 3)
    d["_retrieval_rank"] = s.retrieval_rank
    return d


def published_ids(session, kind: str) -> list[int]:
    model = LISTING_MODELS[kind]
    return list(session.scalars(select(model.id).where(model.status == "published").order_by(model.id)))


def _run_ids(session_factory, kind: str, ids: list[int], m: Matcher, commit_every: int, report) -> Counter:
    totals: Counter = Counter()
    for i in range(0, len(ids), commit_every):
        with session_factory() as s:
            for lid in ids[i:i + commit_every]:
                r = match_listing(s, kind, lid, matcher=m)
                totals.update({k: v for k, v in r.items() if isinstance(v, int)})
                totals[f"{kind}s"] += 1
                report(1)
    return totals


def _after_fork(m: Matcher) -> None:
    """A forked worker must not use the parent's database or index connections."""
    from core.db import get_engine

    get_engine().dispose(close=False)
    m.svc.backend.close()  # reopened lazily by the next search


def match_all(session_factory, *, kinds=("problem", "achievement"), matcher: Matcher | None = None,
              progress: Callable[[str, int, int], None] | None = None, commit_every: int = 50,
              workers: int = 1, after_fork: Callable[[], None] | None = None) -> dict:
    """Batch matching over every published listing. ``session_factory`` is a context manager
    factory (``core.db.session_scope``): work is committed every ``commit_every`` listings so a
    long run can be interrupted without losing what was done. ``workers > 1`` forks that many
    processes, each taking every n-th listing (POSIX only)."""
    m = matcher or Matcher()
    t0 = time.perf_counter()
    totals: Counter = Counter()
    for kind in kinds:
        with session_factory() as s:
            ids = published_ids(s, kind)
        n = len(ids)
        if workers <= 1 or n < 2 * commit_every:
            totals.update(_run_ids(session_factory, kind, ids, m, commit_every,
                                   lambda k, _kind=kind: progress and progress(_kind, k, n)))
            continue
        import multiprocessing as mp

        ctx = mp.get_context("fork")
        q = ctx.Queue()

        def work(part: list[int]) -> None:
            (after_fork or (lambda: _after_fork(m)))()
            try:
                res = _run_ids(session_factory, kind, part, m, commit_every, lambda k: q.put(("p", k)))
                q.put(("done", dict(res)))
            except BaseException as e:  # noqa: BLE001 - reported to the parent
                q.put(("error", repr(e)))
                raise

        procs = [ctx.Process(target=work, args=(ids[w::workers],), daemon=True) for w in range(workers)]
        for p in procs:
            p.start()
        finished, errors = 0, []
        while finished < len(procs):
            tag, val = q.get()
            if tag == "p":
                if progress:
                    progress(kind, val, n)
            elif tag == "done":
                totals.update(val)
                finished += 1
            else:
                errors.append(val)
                finished += 1
        for p in procs:
            p.join()
        if errors:
            raise RuntimeError("batch matching worker failed: " + "; ".join(errors))
    totals_d = dict(totals)
    totals_d["seconds"] = round(time.perf_counter() - t0, 2)
    return totals_d


__all__ = ["match_listing", "match_all", "published_ids"]
