"""Review queue filters (field, region, score, age, assignment) and the pipeline board."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from core.db import utcnow
from core.matches import service as M
from core.models import Match
from tests.matcher.conftest import PROBLEM


def test_queue_filters_and_pipeline(db, factory, people, listings_set):
    problem = factory.problem(people["ent"], **PROBLEM)
    ms = list(db.scalars(select(Match).where(Match.problem_id == problem.id).order_by(Match.score.desc())))
    assert ms
    b = people["broker"]
    ids = lambda **kw: {m.id for m in M.queue(db, b, M.QueueFilters(**kw))[0]}  # noqa: E731
    everything = ids()
    assert {m.id for m in ms} <= everything
    assert ids(field="新能源") >= {ms[0].id}
    assert ids(field="纺织") == set()
    assert ids(region="330400") >= {ms[0].id}            # the problem's city (roll-up)
    assert ids(region="320000") == set()                 # the problem is not in 江苏
    assert ids(region="330100", region_side="achievement") >= {ms[0].id}
    top = ms[0].score
    assert ids(min_score=top) == {m.id for m in ms if m.score >= top}
    assert ids(max_score=top - 1e-9) == {m.id for m in ms if m.score < top}
    ms[0].proposed_at = utcnow() - timedelta(days=10)
    db.flush()
    assert ids(min_age_days=7) == {ms[0].id}
    assert ms[0].id not in ids(max_age_days=7)
    M.assign(db, b, ms[0].id)
    assert ids(assigned="me") == {ms[0].id}
    assert ms[0].id not in ids(assigned="unassigned")
    M.accept(db, b, ms[0].id)
    M.introduce(db, b, ms[0].id)
    board = M.pipeline(db, b, mine=True)
    assert [m.id for m in board["introduced"]["items"]] == [ms[0].id]
    assert board["introduced"]["label"] == "已介绍对接" and board["accepted"]["count"] == 0
    assert M.counts(db, b)["introduced"] == 1
