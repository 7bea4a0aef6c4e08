"""Demo step (run by core.demo.loader after indexing): batch matching over the demo listings,
then the demo broker works a few proposals so that the queue and the pipeline have content.

Deterministic: the same data gives the same proposals and the same broker actions. Idempotent:
a second run re-scores but does not repeat the broker's actions.
"""
from __future__ import annotations

from rich.console import Console
from sqlalchemy import func, select

DEMO_BROKER = "broker@demo.techmatch.cn"
ACCEPT = 8          # the best proposals of distinct problems are accepted ...
INTRODUCE = 5       # ... the first of them introduced ...
NEGOTIATE = 2       # ... and the first of those in negotiation
REJECT = 2          # two weaker proposals rejected with a reason


def load(console: Console | None = None, index: bool = True) -> dict:
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
    console.print("撮合推荐计算中……")
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
    summary["match_seconds"] = stats.get("seconds")
    return summary
