"""What the owner of a listing is told about its proposals (core.matches.next_steps)."""
from __future__ import annotations

from datetime import timedelta

from core.db import utcnow
from core.matches import next_steps
from core.matches import service as M


def _propose(db, p, a, score=0.8):
    M.propose_many(db, [dict(problem=p, achievement=a, score=score, features={}, reasons={}, rank=1)])
    db.commit()


def test_owner_is_told_proposals_wait_for_a_broker(db, factory):
    ent, uni, broker = factory.user("enterprise"), factory.user("university"), factory.user("broker")
    other = factory.user("enterprise")
    p = factory.problem(ent)
    a1, a2 = factory.achievement(uni), factory.achievement(uni, title="另一项正极改性技术")
    later = utcnow() + timedelta(minutes=10)
    assert next_steps.for_owner(db, ent, "problem", p).state == "matching"  # just published
    assert next_steps.for_owner(db, ent, "problem", p, now=later).state == "nothing"
    _propose(db, p, a1)
    _propose(db, p, a2)
    ns = next_steps.for_owner(db, ent, "problem", p)
    assert (ns.state, ns.waiting, ns.accepted, ns.review_hours, ns.decided) == ("reviewing", 2, 0, None, 0)
    m = M.find_pair(db, p.id, a1.id)
    M.accept(db, broker, m.id, "方向吻合")
    db.commit()
    ns = next_steps.for_owner(db, ent, "problem", p)
    assert (ns.state, ns.waiting, ns.accepted, ns.decided) == ("reviewing", 1, 1, 1)
    assert ns.review_hours is not None and 0 <= ns.review_hours < 1
    assert next_steps.for_owner(db, other, "problem", p) is None
    assert next_steps.for_owner(db, broker, "problem", p) is None
    draft = factory.problem(ent, publish=False, title="草稿需求")
    assert next_steps.for_owner(db, ent, "problem", draft).state == "not_published"
