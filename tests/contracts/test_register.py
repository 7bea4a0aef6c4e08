"""Registration, refusals (nothing written), amendments and terminations."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.contracts import service as contracts
from core.errors import Conflict, InvalidTransition, PermissionDenied, ValidationFailed
from core.models import AuditLog
from core.models.contracts import Contract, ContractAmendment
from tests.contract_helpers import contract_data


def count(db, model=Contract):
    return db.scalar(select(func.count()).select_from(model))


def test_register_off_platform_contract(db, bureau):
    c = contracts.register(db, bureau, contract_data(total_amount="1234567.89", tech_amount="1000000.01"))
    db.commit()
    db.expire_all()
    c = db.get(Contract, c.id)
    assert c.total_amount == Decimal("1234567.89") and c.tech_amount == Decimal("1000000.01")
    assert c.status == "registered" and c.seller_region == "330106" and c.buyer_type == "enterprise"
    out = contracts.to_out(db, c)
    assert out.total_amount_wan == Decimal("123.46") and out.contract_type_label == "技术开发"
    assert out.seller.region_name == "浙江省杭州市西湖区"


def test_parties_from_organizations(db, factory, bureau):
    seller = factory.org("institute", region="330481", name="长三角新能源研究院")
    buyer = factory.org("enterprise", region="330421", name="嘉善某科技有限公司")
    c = contracts.register(db, bureau, contract_data(seller={"org_id": seller.id}, buyer={"org_id": buyer.id}))
    assert (c.seller_name, c.seller_region, c.seller_type) == ("长三角新能源研究院", "330481", "institute")
    assert (c.buyer_org_id, c.buyer_region, c.buyer_type) == (buyer.id, "330421", "enterprise")


@pytest.mark.parametrize("override, fragment", [
    (dict(total_amount="100.00", tech_amount="100.01"), "技术交易额不能大于合同成交额"),
    (dict(total_amount="-5.00", tech_amount="0"), "合同成交额必须大于 0"),
    (dict(tech_amount="-1.00"), "技术交易额不能为负数"),
    (dict(seller={"name": "某大学", "region": "339999", "party_type": "university"}), "行政区划代码"),
    (dict(signed_on=date(2026, 3, 16)), "登记日期不能早于签订日期"),
    (dict(reg_number="2026-3304-123"), "登记号应为 16 位数字"),
    (dict(reg_number="2026999999000001"), "登记号中的行政区划代码"),
    (dict(reg_number="2025330400000001"), "登记号年度"),
    (dict(total_amount="100.001", tech_amount="1"), "输入不正确"),
    (dict(contract_type="transfer", sub_type="entrusted"), "不属于技术转让"),
    (dict(contract_type="development", sub_type=None), "需选择子类"),
    (dict(contract_type="service", sub_type=None, conversion_mode="equity"), "只有技术转让、技术许可"),
    (dict(buyer={"name": "某公司"}), "平台外的合同当事人需填写"),
])
def test_bad_input_refused_and_nothing_written(db, bureau, override, fragment):
    before = (count(db), count(db, AuditLog))
    with pytest.raises(ValidationFailed) as e:
        contracts.register(db, bureau, contract_data(**override))
    db.rollback()
    assert fragment in e.value.message or fragment in str(e.value.details), e.value.message
    assert (count(db), count(db, AuditLog)) == before


def test_duplicate_registration_number_refused(db, bureau, make_contract):
    c = make_contract(bureau)
    before = count(db)
    with pytest.raises(Conflict) as e:
        contracts.register(db, bureau, contract_data(reg_number=c.reg_number))
    db.rollback()
    assert "已被使用" in e.value.message and e.value.field == "reg_number"
    assert count(db) == before == 1


def test_roles_that_cannot_register(db, factory):
    for role in ("enterprise", "university"):
        with pytest.raises(PermissionDenied):
            contracts.register(db, factory.user(role), contract_data())
    broker = factory.user("broker")
    with pytest.raises(PermissionDenied):  # a broker needs a match assigned to them
        contracts.register(db, broker, contract_data())
    db.rollback()
    assert count(db) == 0


def test_amend_keeps_history_and_revalidates(db, bureau, make_contract):
    c = make_contract(bureau, total_amount=Decimal("500000"), tech_amount=Decimal("400000"))
    contracts.amend(db, bureau, c.id, {"reason": "补充协议增加开发内容", "total_amount": "650000.50",
                                       "tech_amount": "520000"})
    db.commit()
    c = db.get(Contract, c.id)
    assert c.status == "amended" and c.total_amount == Decimal("650000.50")
    [a] = c.amendments
    assert a.actor_id == bureau.id and a.reason == "补充协议增加开发内容"
    assert a.changes["total_amount"] == ["500000.00", "650000.50"]
    # The merged state is checked with the registration rules; nothing changes on refusal.
    with pytest.raises(ValidationFailed, match="技术交易额不能大于合同成交额"):
        contracts.amend(db, bureau, c.id, {"reason": "错误的变更", "tech_amount": "700000"})
    db.rollback()
    c = db.get(Contract, c.id)
    assert c.tech_amount == Decimal("520000.00") and count(db, ContractAmendment) == 1
    with pytest.raises(ValidationFailed):  # a reason is required
        contracts.amend(db, bureau, c.id, {"total_amount": "1"})
    with pytest.raises(PermissionDenied):
        contracts.amend(db, make_broker(db), c.id, {"reason": "经纪人变更", "total_amount": "1"})


def make_broker(db):
    from tests.conftest import Factory
    return Factory(db, counter=900).user("broker")


def test_amend_type_change_requires_matching_sub_type(db, bureau, make_contract):
    c = make_contract(bureau)
    with pytest.raises(ValidationFailed, match="需选择子类"):
        contracts.amend(db, bureau, c.id, {"reason": "改为转让", "contract_type": "transfer"})
    db.rollback()
    contracts.amend(db, bureau, c.id, {"reason": "改为专利权转让", "contract_type": "transfer", "sub_type": "patent"})
    db.commit()
    c = db.get(Contract, c.id)
    assert (c.contract_type, c.sub_type) == ("transfer", "patent")
    assert contracts.to_out(db, c).conversion_mode == "transfer"


def test_amend_duplicate_reg_number_refused(db, bureau, make_contract):
    a, b = make_contract(bureau), make_contract(bureau)
    with pytest.raises(Conflict):
        contracts.amend(db, bureau, b.id, {"reason": "更正登记号", "reg_number": a.reg_number})


def test_terminate(db, bureau, make_contract):
    c = make_contract(bureau)
    contracts.terminate(db, bureau, c.id, {"reason": "双方协商解除", "terminated_on": "2026-06-01"})
    db.commit()
    c = db.get(Contract, c.id)
    assert c.status == "terminated" and c.terminated_on == date(2026, 6, 1)
    assert [a.kind for a in c.amendments] == ["terminate"]
    with pytest.raises(InvalidTransition):
        contracts.terminate(db, bureau, c.id, {"reason": "再次终止"})
    with pytest.raises(InvalidTransition):
        contracts.amend(db, bureau, c.id, {"reason": "终止后变更", "total_amount": "1"})


def test_can_amend_and_terminate_follow_the_service(db, factory, bureau, make_contract):
    c = make_contract(bureau)
    broker = factory.user("broker")
    assert contracts.can_amend(bureau, c) and contracts.can_terminate(bureau, c)
    assert not contracts.can_amend(broker, c) and not contracts.can_terminate(broker, c)
    with pytest.raises(PermissionDenied):
        contracts.ensure_amendable(broker, c)
    contracts.terminate(db, bureau, c.id, {"reason": "双方协商解除"})
    db.commit()
    assert not contracts.can_amend(bureau, c) and not contracts.can_terminate(bureau, c)
    with pytest.raises(InvalidTransition, match="已终止的合同不能变更"):
        contracts.ensure_amendable(bureau, c)
    with pytest.raises(InvalidTransition, match="合同已终止"):
        contracts.ensure_terminable(bureau, c)


def test_terminate_before_signing_refused(db, bureau, make_contract):
    c = make_contract(bureau)
    with pytest.raises(ValidationFailed):
        contracts.terminate(db, bureau, c.id, {"reason": "日期错误", "terminated_on": "2025-01-01"})


def test_json_floats_exact_to_the_fen_are_accepted_others_refused(db, bureau):
    c = contracts.register(db, bureau, contract_data(total_amount=1234.5, tech_amount=1000.25))
    assert c.total_amount == Decimal("1234.50")
    with pytest.raises(ValidationFailed):
        contracts.register(db, bureau, contract_data(total_amount=0.1 + 0.2, tech_amount=0))


def test_events_permissions_and_match_links(db, factory, bureau, accepted_match):
    from core.events import service as events

    m, *_ = accepted_match
    b1, b2 = factory.user("broker"), factory.user("broker")
    ev = events.create(db, b1, {"title": "嘉善县新能源对接会", "held_on": "2026-04-02", "region": "330421",
                                "attendance": 50, "matches_made": 0, "match_ids": [m.id, m.id]})
    assert ev.match_ids == [m.id] and ev.matches_made == 1
    with pytest.raises(ValidationFailed):
        events.create(db, b1, {"title": "不存在的撮合", "held_on": "2026-04-02", "region": "330421",
                               "match_ids": [987654]})
    with pytest.raises(ValidationFailed):
        events.create(db, b1, {"title": "人数为负", "held_on": "2026-04-02", "region": "330421", "attendance": -1})
    with pytest.raises(PermissionDenied):
        events.update(db, b2, ev.id, {"attendance": 60})
    with pytest.raises(PermissionDenied):
        events.create(db, factory.user("enterprise"), {"title": "企业活动", "held_on": "2026-04-02",
                                                       "region": "330421"})
    events.update(db, bureau, ev.id, {"attendance": 60})
    assert ev.attendance == 60
    events.delete(db, b1, ev.id)
    db.commit()
    assert events.list_events(db, bureau, year=2026)[1] == 0
