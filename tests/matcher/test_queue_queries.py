"""The broker queue serialises a page without a query per row (contact visibility of staff and
of the match's own broker is decided without asking the database)."""
from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event

from core.matches import service as M
from core.models import Match


@pytest.fixture
def many(db, factory, people):
    """12 pairs (4 problems x 3 achievements), assigned to the broker."""
    from core import hooks

    hooks.suppress(db)
    achs = [factory.achievement(people["uni"], title=f"成果{i}") for i in range(3)]
    probs = [factory.problem(people["ent"], title=f"需求{i}") for i in range(4)]
    for p in probs:
        for a in achs:
            db.add(Match(problem_id=p.id, achievement_id=a.id, score=0.5, status="proposed",
                         assigned_broker_id=people["broker"].id))
    db.commit()


@contextmanager
def counting(db):
    n = [0]

    def count(*_a):
        n[0] += 1
    engine = db.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield n
    finally:
        event.remove(engine, "before_cursor_execute", count)


@pytest.mark.parametrize("who", ["bureau", "broker"])
def test_queue_page_does_not_query_per_row(db, people, many, who):
    viewer = people[who]
    items, total = M.queue(db, viewer, M.QueueFilters(status="proposed"), size=20)
    assert total == 12
    db.expire_all()
    items, _ = M.queue(db, viewer, M.QueueFilters(status="proposed"), size=20)
    with counting(db) as n:
        out = [M.to_out(db, viewer, m) for m in items]
    assert all(o["problem"]["contact_visible"] and o["achievement"]["contact_visible"] for o in out)
    assert n[0] <= 2, f"{n[0]} queries for {len(items)} rows"
