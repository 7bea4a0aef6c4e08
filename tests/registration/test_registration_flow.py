"""The 认定登记 workflow on SQLite and PostgreSQL: apply, route to the office, review, 核定, expert
review, register (counts in the indicators), refuse (does not count), return, amend and cancel."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from core.errors import InvalidTransition, PermissionDenied, ValidationFailed
from core.indicators import service as indicators
from core.models import Contract, Notification
from core.registration import service as reg


@pytest.fixture
def world(factory):
    county = factory.org(kind="bureau", region="330421", name="嘉善县科学技术局")
    city = factory.org(kind="bureau", region="330400", name="嘉兴市科学技术局")
    uni_org = factory.org(kind="university", region="330421", name="嘉善理工学院")
    buyer = factory.org(kind="enterprise", region="330482", name="平湖锂想新能源有限公司")
    return dict(uni=factory.user("university", org=uni_org), buyer_user=factory.user("enterprise", org=buyer),
                county=factory.user("bureau", org=county), city=factory.user("bureau", org=city),
                other=factory.user("bureau", org=factory.org(kind="bureau", region="330106")),
                buyer=buyer, county_org=county)


def app_data(buyer_org, **kw):
    d = dict(project_name="高镍正极包覆技术转让", contract_type="transfer", sub_type="patent",
             signed_on=date(2026, 3, 1), field="新能源", ip_object="patent", buyer={"org_id": buyer_org.id},
             total_amount=Decimal("1200000.00"), expected_investment=Decimal("3000000.00"),
             expected_output=Decimal("8000000.00"), contract_text="甲方将专利 ZL2024XXXX 转让给乙方……",
             costs=[{"category": "equipment", "description": "包覆设备一台", "amount": "200000.00"},
                    {"category": "materials", "description": "样品材料", "amount": "0.10", "deliverable": True}])
    d.update(kw)
    return d


def registered_total(db, region="330421"):
    s = indicators.summary(db, None, 2026, region, as_of=date(2026, 12, 31))
    return s["contracts"]


def test_apply_review_register_counts_and_notifies(db, world):
    w = world
    app = reg.create(db, w["uni"], app_data(w["buyer"]))
    assert app.status == "draft" and app.rule_set == "2024-draft"
    reg.submit(db, w["uni"], app.id)
    assert app.office_org_id == w["county_org"].id and app.office_region == "330421"
    with pytest.raises(PermissionDenied):
        reg.accept(db, w["other"], app.id)
    reg.accept(db, w["county"], app.id, today=date(2026, 9, 25))
    assert app.due_on == date(2026, 10, 22)
    reg.classify(db, w["county"], app.id, {"contract_type": "transfer", "sub_type": "know_how", "ip_object": "know_how",
                                            "reason": "实为技术秘密"})
    cost_ids = [c.id for c in app.costs]
    reg.assess(db, w["county"], app.id, {"rulings": [{"cost_id": cost_ids[0], "deliverable": False,
                                                       "amount": "150000.00"},
                                                      {"cost_id": cost_ids[1], "deliverable": True}]})
    assert app.tech_amount == Decimal("1050000.00")
    assert not app.expert_required
    kinds = [e.kind for e in app.events]
    assert "classify" in kinds and "assess" in kinds
    assess_ev = [e for e in app.events if e.kind == "assess"][0]
    assert assess_ev.changes["tech_amount"] == [None, "1050000.00"]
    reg.register(db, w["county"], app.id, today=date(2026, 10, 9))
    db.commit()
    c = db.get(Contract, app.contract_id)
    assert c.reg_number.startswith("2026330421") and len(c.reg_number) == 16
    assert c.source == "application" and c.sub_type == "know_how" and c.tech_amount == Decimal("1050000.00")
    assert registered_total(db)["count"] == 1
    local = indicators.summary(db, None, 2026, "330421", as_of=date(2026, 12, 31))["local"]
    assert local["count"] == 1 and {b["level"]: b["count"] for b in local["by_level"]}["city"] == 1
    notified = {n.user_id for n in db.query(Notification).filter(Notification.kind == "registration")}
    assert {w["uni"].id, w["buyer_user"].id} <= notified
    name, pdf = reg.certificate(db, w["buyer_user"], app.id)
    assert pdf.startswith(b"%PDF") and c.reg_number in name
    flags = reg.eligibility_of(db, app)
    assert flags["vat"]["eligible"] is True and flags["cit"]["eligible"] is False  # 技术秘密
    assert flags["local"]["eligible"] is True
    # A second one in the same office takes the next serial.
    app2 = reg.create(db, w["uni"], app_data(w["buyer"], costs=[]))
    reg.submit(db, w["uni"], app2.id)
    reg.accept(db, w["county"], app2.id)
    reg.assess(db, w["county"], app2.id, {})
    reg.register(db, w["county"], app2.id, today=date(2026, 10, 9))
    assert int(db.get(Contract, app2.contract_id).reg_number[-6:]) == int(c.reg_number[-6:]) + 1
    # Amend and cancel through the office, history kept by the contract.
    reg.amend_contract(db, w["city"], app.id, {"reason": "补正项目名称", "project_name": "高镍正极包覆技术秘密转让"})
    from core.contracts import service as contracts

    with pytest.raises(PermissionDenied):  # another county's bureau is not the registering office
        contracts.terminate(db, w["other"], app2.contract_id, {"reason": "双方解除合同"})
    reg.cancel_contract(db, w["county"], app2.id, {"reason": "双方解除合同"})
    db.commit()
    assert [a.kind for a in db.get(Contract, app2.contract_id).amendments] == ["terminate"]
    assert registered_total(db)["count"] == 1
    # The export carries the 核定技术交易额, how it came in and the flags.
    from core.contracts import exports

    table = exports.contracts_table(*_export_inputs(db))
    row = dict(zip(table.headers, table.rows[0]))
    assert row["登记方式"] == "认定登记申请" and row["核定技术交易额（元）"] == Decimal("1050000.00")
    assert row["增值税免征（参考）"] == "可享受（参考）" and row["就地转化"] == "是（本市）"


def _export_inputs(db):
    from core.contracts import service as contracts

    items = [c for c in contracts.all_for(db, None, as_system=True) if c.status != "terminated"]
    apps = reg.applications_for_contracts(db, [c.id for c in items])
    return ([contracts.to_out(db, c, with_history=False) for c in items],
            {c.id: reg.contract_eligibility(db, c, apps.get(c.id)) for c in items})


def test_completeness_names_missing_items_and_nothing_reaches_the_office(db, world):
    w = world
    app = reg.create(db, w["uni"], app_data(w["buyer"], contract_type="license", sub_type=None, buyer=None,
                                           contract_text="", expected_output=None))
    missing = reg.missing_items(db, app)
    assert any("合同文本" in m for m in missing) and any("买方" in m for m in missing)
    assert "预计新增产值" in missing and "许可期限（年）" in missing and any("许可方式" in m for m in missing)
    with pytest.raises(ValidationFailed) as e:
        reg.submit(db, w["uni"], app.id)
    assert e.value.code == "incomplete" and "预计新增产值" in e.value.message
    assert app.status == "draft" and app.office_org_id is None


def test_over_threshold_needs_expert_review(db, world):
    w = world
    app = reg.create(db, w["uni"], app_data(w["buyer"], total_amount=Decimal("6000000.00")))
    reg.submit(db, w["uni"], app.id)
    reg.accept(db, w["county"], app.id, today=date(2026, 9, 25))
    reg.assess(db, w["county"], app.id, {})
    assert app.tech_amount == Decimal("5800000.00") and app.expert_required
    assert app.due_on > date(2026, 10, 22)  # 30 working days
    with pytest.raises(InvalidTransition):
        reg.register(db, w["county"], app.id)
    reg.assign_experts(db, w["county"], app.id, {"experts": [{"expert_name": "张教授"}, {"expert_name": "李研究员"}]})
    r1, r2 = app.experts
    reg.record_opinion(db, w["county"], app.id, {"review_id": r1.id, "conclusion": "agree", "opinion": "属技术转让"})
    with pytest.raises(InvalidTransition) as e:
        reg.register(db, w["county"], app.id)
    assert "李研究员" in e.value.message
    reg.record_opinion(db, w["county"], app.id, {"review_id": r2.id, "conclusion": "agree", "opinion": "同意"})
    reg.register(db, w["county"], app.id)
    assert app.status == "registered"


def test_refused_does_not_count_and_returned_can_be_resubmitted(db, world):
    w = world
    app = reg.create(db, w["uni"], app_data(w["buyer"]))
    reg.submit(db, w["uni"], app.id)
    reg.return_for_completion(db, w["county"], app.id, {"reason": "请补充专利证书复印件"})
    assert app.status == "returned"
    reg.update(db, w["uni"], app.id, app_data(w["buyer"], note="已补充专利证书"))
    reg.submit(db, w["uni"], app.id)
    reg.accept(db, w["county"], app.id)
    reg.refuse(db, w["county"], app.id, {"refusal_code": "not_technology", "reason": "实为设备买卖合同"})
    db.commit()
    assert app.status == "refused" and app.contract_id is None
    assert registered_total(db)["count"] == 0
    with pytest.raises(InvalidTransition):
        reg.certificate(db, w["uni"], app.id)


def test_queue_shows_days_left_and_overdue(db, world):
    w = world
    a = reg.create(db, w["uni"], app_data(w["buyer"]))
    reg.submit(db, w["uni"], a.id)
    reg.accept(db, w["county"], a.id, today=date(2026, 9, 25))
    rows = reg.queue(db, w["county"], today=date(2026, 10, 23))
    assert rows[0].app.id == a.id and rows[0].overdue and rows[0].days_left == -1
    assert reg.queue(db, w["city"], today=date(2026, 10, 9))[0].days_left == 10
    assert reg.queue(db, w["other"], today=date(2026, 10, 9)) == []
    with pytest.raises(PermissionDenied):
        reg.queue(db, w["uni"])


def test_only_sellers_or_their_broker_apply(db, world, factory):
    w = world
    with pytest.raises(PermissionDenied):
        reg.create(db, w["county"], app_data(w["buyer"]))
    with pytest.raises(PermissionDenied):
        reg.create(db, w["buyer_user"], app_data(w["buyer"], seller_org_id=w["county_org"].id))
    broker = factory.user("broker")
    with pytest.raises(PermissionDenied):
        reg.create(db, broker, app_data(w["buyer"]))


def test_broker_applies_for_a_match_and_the_contract_keeps_the_link(db, factory, broker, accepted_match):
    m, ent, uni = accepted_match
    office = factory.user("bureau", org=factory.org(kind="bureau", region="330100", name="杭州市科学技术局"))
    data = app_data(ent.org, match_id=m.id)
    data.pop("buyer")  # defaults to the other party of the match
    app = reg.create(db, broker, data)
    assert app.on_behalf and app.seller_org_id == uni.org_id and app.buyer_org_id == ent.org_id
    reg.submit(db, broker, app.id)
    assert app.office_org_id == office.org_id  # 330106 has no bureau: its city's
    reg.accept(db, office, app.id)
    reg.assess(db, office, app.id, {})
    reg.register(db, office, app.id)
    db.commit()
    c = db.get(Contract, app.contract_id)
    assert c.match_id == m.id and c.source == "application" and c.reg_number[4:10] == "330100"
    db.refresh(m)
    assert m.status == "contracted"
