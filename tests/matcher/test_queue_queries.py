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


@pytest.fixture
def unassigned(db, factory, people):
    """6 unassigned pairs (3 problems x 2 achievements); the broker has another, assigned match
    of problem 0 and of achievement 1 (so their contacts are visible to them), not of the rest."""
    from core import hooks

    hooks.suppress(db)
    achs = [factory.achievement(people["uni"], title=f"成果{i}") for i in range(3)]
    probs = [factory.problem(people["ent"], title=f"需求{i}") for i in range(4)]
    for p in probs[:3]:
        for a in achs[:2]:
            db.add(Match(problem_id=p.id, achievement_id=a.id, score=0.6, status="proposed"))
    db.add(Match(problem_id=probs[0].id, achievement_id=achs[2].id, score=0.1, status="accepted",
                 assigned_broker_id=people["broker"].id))
    db.add(Match(problem_id=probs[3].id, achievement_id=achs[1].id, score=0.1, status="accepted",
                 assigned_broker_id=people["broker"].id))
    db.commit()
    return probs, achs


@pytest.mark.parametrize("who", ["broker", "broker2", "bureau"])
def test_queue_page_of_unassigned_matches_in_a_fixed_number_of_queries(db, people, unassigned, who):
    """A broker sees the contacts of a listing they have an assigned match of: decided for the
    whole page in two queries, the same as asking for each row."""
    probs, achs = unassigned
    viewer = people[who]
    items, total = M.queue(db, viewer, M.QueueFilters(status="proposed"), size=20)
    assert total == 6
    one_by_one = [M.to_out(db, viewer, m) for m in items]
    db.expire_all()
    items, _ = M.queue(db, viewer, M.QueueFilters(status="proposed"), size=20)
    with counting(db) as n:
        page = M.to_out_many(db, viewer, items)
    assert page == one_by_one
    assert n[0] <= 3, f"{n[0]} queries for {len(items)} rows"
    seen = {(o["problem"]["id"], o["achievement"]["id"]):
            (o["problem"]["contact_visible"], o["achievement"]["contact_visible"]) for o in page}
    for (pid, aid), (p_vis, a_vis) in seen.items():
        if who == "bureau":
            assert p_vis and a_vis
        elif who == "broker":
            assert p_vis == (pid == probs[0].id) and a_vis == (aid == achs[1].id)
        else:
            assert not p_vis and not a_vis
