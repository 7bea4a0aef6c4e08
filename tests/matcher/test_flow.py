"""The full path: publish a problem -> a proposal appears (eager task) -> a broker accepts and
introduces -> stages move to contracted."""
from __future__ import annotations

from sqlalchemy import select

from core.matches import service as M
from core.models import AuditLog, Match, MatchReview, Notification
from tests.matcher.conftest import PROBLEM


def test_publish_problem_proposes_best_achievement_and_broker_carries_it_to_contract(db, factory, people,
                                                                                      listings_set):
    battery = listings_set[0]
    problem = factory.problem(people["ent"], **PROBLEM)
    rows = list(db.scalars(select(Match).where(Match.problem_id == problem.id)
                           .order_by(Match.score.desc())))
    assert rows, "publishing the problem should have produced proposals through the task"
    top = rows[0]
    assert top.achievement_id == battery.id
    assert top.status == "proposed"
    assert 0.0 < top.score <= 1.0
    r = top.reasons
    assert r["summary"] and r["items"] and r["terms"]
    assert any("正极" in t for t in r["terms"])
    assert "<em>" in r["highlight"]["achievement_title"]
    # unrelated achievements are not proposed
    assert all(m.achievement_id != listings_set[1].id for m in rows)

    broker = people["broker"]
    M.accept(db, broker, top.id, "技术路线吻合")
    M.introduce(db, broker, top.id, "请双方本周内联系")
    db.commit()
    assert top.status == "introduced" and top.assigned_broker_id == broker.id
    notes = list(db.scalars(select(Notification)))
    assert {n.user_id for n in notes if n.kind == "match.introduced"} >= {people["ent"].id, people["uni"].id}
    M.set_stage(db, broker, top.id, "negotiating", "已约见面")
    M.mark_contracted(db, None, top.id)
    db.commit()
    db.refresh(top)
    assert top.status == "contracted"
    actions = [x.action for x in db.scalars(select(MatchReview).where(MatchReview.match_id == top.id)
                                            .order_by(MatchReview.id))]
    assert actions == ["propose", "accept", "introduce", "stage", "contract"]
    audited = {a.action for a in db.scalars(select(AuditLog).where(AuditLog.entity_type == "match"))}
    assert {"match.accept", "match.introduce", "match.stage", "match.contract"} <= audited
