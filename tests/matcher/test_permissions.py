"""Roles: only brokers and the bureau review; parties see proposals only after acceptance;
contacts are revealed by the introduction."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from core.errors import InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from core.matches import service as M
from core.models import Match
from tests.matcher.conftest import PROBLEM


@pytest.fixture
def proposal(db, factory, people, listings_set):
    problem = factory.problem(people["ent"], **PROBLEM)
    return db.scalars(select(Match).where(Match.problem_id == problem.id).order_by(Match.score.desc())).first()


def test_only_brokers_and_bureau_review(db, people, proposal):
    for who in ("ent", "uni", "other_ent"):
        with pytest.raises(PermissionDenied):
            M.accept(db, people[who], proposal.id)
        with pytest.raises(PermissionDenied):
            M.reject(db, people[who], proposal.id, "其他", "x")
        with pytest.raises(PermissionDenied):
            M.queue(db, people[who])
    items, total = M.queue(db, people["bureau"])
    assert total >= 1 and proposal.id in {m.id for m in items}
    M.accept(db, people["bureau"], proposal.id)
    assert proposal.status == "accepted"


def test_enterprise_sees_its_proposals_only_after_acceptance(db, people, proposal):
    ent, uni, stranger = people["ent"], people["uni"], people["other_ent"]
    assert M.for_listing(db, ent, "problem", proposal.problem_id) == []
    with pytest.raises(NotFound):
        M.get_for(db, ent, proposal.id)
    with pytest.raises(NotFound):
        M.get_for(db, uni, proposal.id)
    M.accept(db, people["broker"], proposal.id)
    db.commit()
    assert [m.id for m in M.for_listing(db, ent, "problem", proposal.problem_id)] == [proposal.id]
    assert M.get_for(db, ent, proposal.id).id == proposal.id
    assert M.get_for(db, uni, proposal.id).id == proposal.id
    with pytest.raises(NotFound):
        M.get_for(db, stranger, proposal.id)
    # contacts stay hidden until the introduction
    out = M.to_out(db, ent, proposal)
    assert out["achievement"]["contact_phone"] is None and "reject_comment" not in out
    M.introduce(db, people["broker"], proposal.id)
    db.commit()
    out = M.to_out(db, ent, proposal)
    assert out["achievement"]["contact_phone"] == "13900000000" or out["achievement"]["contact_visible"]
    assert M.to_out(db, uni, proposal)["problem"]["contact_phone"] == PROBLEM.get("contact_phone", "13800000000")


def test_broker_cannot_take_a_colleagues_proposal(db, people, proposal):
    M.assign(db, people["broker"], proposal.id)
    with pytest.raises(PermissionDenied):
        M.accept(db, people["broker2"], proposal.id)
    with pytest.raises(PermissionDenied):
        M.assign(db, people["broker2"], proposal.id)
    # the bureau reassigns
    M.assign(db, people["bureau"], proposal.id, people["broker2"].id)
    M.accept(db, people["broker2"], proposal.id)
    assert proposal.assigned_broker_id == people["broker2"].id
    with pytest.raises(ValidationFailed):
        M.assign(db, people["bureau"], proposal.id, people["ent"].id)


def test_reject_needs_a_valid_reason_and_other_needs_a_comment(db, people, proposal):
    with pytest.raises(ValidationFailed):
        M.reject(db, people["broker"], proposal.id, "不喜欢")
    with pytest.raises(ValidationFailed):
        M.reject(db, people["broker"], proposal.id, "其他", "")
    M.reject(db, people["broker"], proposal.id, "价格/预算不匹配", "报价高于预算")
    assert proposal.reject_reason == "price" and proposal.status == "rejected"


def test_stage_rules(db, people, proposal):
    b = people["broker"]
    with pytest.raises(InvalidTransition):
        M.introduce(db, b, proposal.id)          # not accepted yet
    M.accept(db, b, proposal.id)
    with pytest.raises(InvalidTransition):
        M.set_stage(db, b, proposal.id, "negotiating")  # not introduced yet
    M.introduce(db, b, proposal.id)
    with pytest.raises(ValidationFailed):
        M.set_stage(db, b, proposal.id, "failed", "")   # failed needs a reason
    M.set_stage(db, b, proposal.id, "failed", "企业资金未落实")
    assert proposal.failure_reason == "企业资金未落实"
    with pytest.raises(PermissionDenied):
        M.mark_contracted(db, people["ent"], proposal.id)
    M.mark_contracted(db, None, proposal.id)
    M.mark_contracted(db, None, proposal.id)  # idempotent
    assert proposal.status == "contracted" and proposal.contract_id is None


def test_api_queue_review_and_visibility(client, db, people, proposal, login):
    b, e = login(people["broker"]), login(people["ent"])
    r = client.get("/api/matches", headers=b, params={"field": "新能源", "min_score": 0.0})
    assert r.status_code == 200 and r.json()["total"] >= 1
    item = r.json()["items"][0]
    assert item["problem"]["title"] and item["achievement"]["title"] and item["reasons"]["summary"]
    assert client.get("/api/matches", headers=e).status_code == 403
    assert client.get(f"/api/matches/{proposal.id}", headers=e).status_code == 404
    r = client.post(f"/api/matches/{proposal.id}/reject", headers=b, json={"reason_code": "乱写"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "reason_code"
    assert client.post(f"/api/matches/{proposal.id}/accept", headers=e, json={}).status_code == 403
    r = client.post(f"/api/matches/{proposal.id}/accept", headers=b, json={"comment": "好"})
    assert r.status_code == 200 and r.json()["status"] == "accepted"
    r = client.get(f"/api/problems/{proposal.problem_id}/matches", headers=e)
    assert [x["id"] for x in r.json()["items"]] == [proposal.id]
    r = client.post(f"/api/matches/{proposal.id}/introduce", headers=b, json={})
    assert r.status_code == 200 and r.json()["achievement"]["contact_visible"]
    r = client.post(f"/api/matches/{proposal.id}/stage", headers=b, json={"stage": "negotiating"})
    assert r.status_code == 200
    r = client.get("/api/matches/pipeline", headers=b)
    stages = {s["stage"]: s for s in r.json()["stages"]}
    assert stages["negotiating"]["count"] == 1
    r = client.post(f"/api/matches/{proposal.id}/stage", headers=b, json={"stage": "contracted"})
    assert r.status_code == 200 and r.json()["status"] == "contracted"
    d = client.get(f"/api/matches/{proposal.id}", headers=b).json()
    assert [h["action"] for h in d["history"]][-3:] == ["introduce", "stage", "contract"]
    assert d["problem_full"]["description"]
