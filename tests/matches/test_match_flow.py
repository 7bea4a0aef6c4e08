"""Match -> contract -> indicators."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.contracts import service as contracts
from core.errors import InvalidTransition, PermissionDenied
from core.indicators import service as ind
from core.models import Achievement, MatchReview, TechProblem
from core.models.contracts import Contract


def data(**kw):
    d = dict(reg_number=f"{date.today().year}330400000777", project_name="正极材料包覆技术许可",
             contract_type="license", signed_on=date.today(), registered_on=date.today(),
             total_amount="800000.00", tech_amount="800000.00")
    d.update(kw)
    return d


def test_match_to_contract_to_indicators(db, bureau, broker, accepted_match):
    m, ent, uni = accepted_match
    c = contracts.register_contract_for_match(db, broker, m.id, data())
    db.commit()
    db.expire_all()
    c = db.get(Contract, c.id)
    assert (c.match_id, c.problem_id, c.achievement_id) == (m.id, m.problem_id, m.achievement_id)
    # Parties default to the achievement's organization (seller) and the problem's (buyer).
    assert (c.seller_org_id, c.buyer_org_id) == (uni.org_id, ent.org_id)
    assert (c.seller_region, c.buyer_region, c.seller_type) == ("330106", "330482", "university")
    assert c.field == "新能源" and c.source == "match" and c.created_by_id == broker.id
    db.refresh(m)
    assert m.status == "contracted"
    assert db.scalar(select(func.count()).select_from(MatchReview).where(
        MatchReview.match_id == m.id, MatchReview.to_status == "contracted")) == 1
    assert db.get(TechProblem, m.problem_id).status == "solved"
    assert db.get(Achievement, m.achievement_id).status == "transferred"

    year = date.today().year
    s = ind.summary(db, bureau, year, "330100")  # 输出: the seller is in Hangzhou
    assert s["contracts"]["total_amount"] == Decimal("800000.00")
    assert s["conversion"]["items"] == 1 and s["conversion"]["on_platform_items"] == 1
    assert ind.summary(db, bureau, year, "330400")["absorbed"]["total_amount"] == Decimal("800000.00")
    solved = ind.summary(db, bureau, year, "330421")["activities"]  # the problem is in 嘉善
    assert solved["solved_problems"]["value"] == 1 and solved["recommended"]["value"] == 1
    # The broker sees the contract; the two parties see it; another enterprise does not.
    assert contracts.can_view(db, broker, c) and contracts.can_view(db, ent, c) and contracts.can_view(db, uni, c)


def test_development_contract_solves_problem_without_transferring(db, bureau, accepted_match):
    m, ent, uni = accepted_match
    contracts.register_contract_for_match(db, bureau, m.id, data(contract_type="development",
                                                                 sub_type="cooperative"))
    db.commit()
    assert db.get(TechProblem, m.problem_id).status == "solved"
    assert db.get(Achievement, m.achievement_id).status == "published"


def test_only_the_assigned_broker_and_only_accepted_matches(db, factory, accepted_match):
    m, ent, uni = accepted_match
    other = factory.user("broker")
    with pytest.raises(PermissionDenied):
        contracts.register_contract_for_match(db, other, m.id, data())
    with pytest.raises(PermissionDenied):
        contracts.register_contract_for_match(db, ent, m.id, data())
    db.rollback()
    m.status = "proposed"
    db.commit()
    with pytest.raises(InvalidTransition):
        contracts.register_contract_for_match(db, factory.user("bureau"), m.id, data())
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Contract)) == 0


def test_bad_contract_leaves_match_untouched(db, broker, accepted_match):
    from core.errors import ValidationFailed

    m, *_ = accepted_match
    with pytest.raises(ValidationFailed):
        contracts.register_contract_for_match(db, broker, m.id, data(tech_amount="900000.00"))
    db.rollback()
    db.refresh(m)
    assert m.status == "accepted" and db.get(TechProblem, m.problem_id).status == "published"


def test_link_registered_contract_and_termination_uncounts_solved(db, bureau, accepted_match):
    from tests.contract_helpers import contract_data

    m, ent, uni = accepted_match
    c = contracts.register(db, bureau, contract_data(registered_on=date.today(), signed_on=date.today(),
                                                     reg_number=f"{date.today().year}330400000888"))
    db.commit()
    contracts.link_to_match(db, bureau, c.id, m.id)
    db.commit()
    db.refresh(m)
    assert m.status == "contracted" and c.match_id == m.id and c.problem_id == m.problem_id
    assert [a.kind for a in c.amendments] == ["link"]
    year = date.today().year
    assert ind.summary(db, bureau, year, "330421")["activities"]["solved_problems"]["value"] == 1
    contracts.terminate(db, bureau, c.id, {"reason": "合同解除"})
    db.commit()
    assert ind.summary(db, bureau, year, "330421")["activities"]["solved_problems"]["value"] == 0


def test_contract_attachment(client, login, bureau, db):
    from tests.contract_helpers import contract_data

    c = contracts.register(db, bureau, contract_data())
    db.commit()
    h = login(bureau)
    r = client.post(f"/api/contracts/{c.id}/attachments", headers=h,
                    files={"file": ("合同扫描件.txt", "技术开发合同正文".encode(), "text/plain")})
    assert r.status_code == 201, r.text
    detail = client.get(f"/api/contracts/{c.id}", headers=h).json()
    assert detail["attachments"][0]["filename"] == "合同扫描件.txt"
    assert client.get(f"/api/attachments/{r.json()['id']}", headers=h).status_code == 200


def test_plain_registration_naming_a_match_goes_through_the_match_flow(db, bureau, accepted_match):
    m, ent, uni = accepted_match
    c = contracts.register(db, bureau, data(match_id=m.id))
    db.commit()
    db.refresh(m)
    assert m.status == "contracted" and c.problem_id == m.problem_id and c.seller_org_id == uni.org_id


def _untouched(db, m) -> None:
    db.expire_all()
    assert db.get(type(m), m.id).status == "accepted" and db.get(type(m), m.id).contract_id is None
    assert db.get(TechProblem, m.problem_id).status == "published"
    assert db.scalar(select(func.count()).select_from(MatchReview).where(
        MatchReview.match_id == m.id, MatchReview.action == "contract")) == 0


def test_stage_contracted_refuses_an_unknown_or_foreign_contract(client, login, db, factory, bureau,
                                                                   accepted_match):
    from core.models import Match
    from tests.contract_helpers import contract_data

    m, ent, uni = accepted_match
    h = login(bureau)
    r = client.post(f"/api/matches/{m.id}/stage", headers=h, json={"stage": "contracted", "contract_id": 987654})
    assert r.status_code == 404 and r.json()["error"]["field"] == "contract_id"
    assert "不存在" in r.json()["error"]["message"]
    _untouched(db, m)

    # A contract already linked to another pair.
    other = Match(problem_id=factory.problem(ent).id, achievement_id=m.achievement_id, score=0.5,
                  status="accepted")
    db.add(other)
    db.commit()
    theirs = contracts.register(db, bureau, contract_data())
    contracts.link_to_match(db, bureau, theirs.id, other.id)
    db.commit()
    r = client.post(f"/api/matches/{m.id}/stage", headers=h,
                    json={"stage": "contracted", "contract_id": theirs.id})
    assert r.status_code == 409 and r.json()["error"]["code"] == "already_linked"
    _untouched(db, m)

    # A contract registered for another platform problem (not yet linked to a match).
    foreign = contracts.register(db, bureau, contract_data(problem_id=factory.problem(ent).id))
    db.commit()
    r = client.post(f"/api/matches/{m.id}/stage", headers=h,
                    json={"stage": "contracted", "contract_id": foreign.id})
    assert r.status_code == 409 and r.json()["error"]["code"] == "contract_mismatch"
    _untouched(db, m)
    assert db.get(Contract, foreign.id).match_id is None


def test_stage_contracted_with_a_registered_contract_links_it(client, login, db, bureau, accepted_match):
    from tests.contract_helpers import contract_data

    m, ent, uni = accepted_match
    c = contracts.register(db, bureau, contract_data(registered_on=date.today(), signed_on=date.today()))
    db.commit()
    r = client.post(f"/api/matches/{m.id}/stage", headers=login(bureau),
                    json={"stage": "contracted", "contract_id": c.id, "reason": "线下已签，补登关联"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "contracted" and r.json()["contract_id"] == c.id
    db.expire_all()
    c = db.get(Contract, c.id)
    assert (c.match_id, c.problem_id, c.achievement_id) == (m.id, m.problem_id, m.achievement_id)
    assert [a.kind for a in c.amendments] == ["link"]
    assert db.get(TechProblem, m.problem_id).status == "solved"
    notes = [x.comment for x in db.scalars(select(MatchReview).where(
        MatchReview.match_id == m.id, MatchReview.action == "contract"))]
    assert notes == ["线下已签，补登关联"]
    year = date.today().year
    assert ind.summary(db, bureau, year, "330421")["activities"]["solved_problems"]["value"] == 1


def test_mark_contracted_takes_only_a_contract_linked_to_the_match(db, bureau, accepted_match):
    from core.errors import Conflict
    from core.matches import service as matches
    from tests.contract_helpers import contract_data

    m, *_ = accepted_match
    c = contracts.register(db, bureau, contract_data())
    with pytest.raises(Conflict):
        matches.mark_contracted(db, None, m.id, c)
    assert m.status == "accepted" and m.contract_id is None


def test_stage_contracted_only_by_the_assigned_broker(client, login, db, factory, broker, accepted_match):
    """The `contracted` path of a stage change checks the assigned broker like the others."""
    from core.matches import service as matches

    m, ent, uni = accepted_match
    colleague = factory.user("broker")
    r = client.post(f"/api/matches/{m.id}/stage", headers=login(colleague), json={"stage": "contracted"})
    assert r.status_code == 403, r.text
    _untouched(db, m)
    with pytest.raises(PermissionDenied):
        matches.set_stage(db, colleague, m.id, "contracted")
    db.rollback()
    _untouched(db, m)
    r = client.post(f"/api/matches/{m.id}/stage", headers=login(broker), json={"stage": "contracted"})
    assert r.status_code == 200 and r.json()["status"] == "contracted"
