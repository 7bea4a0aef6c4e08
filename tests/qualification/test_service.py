"""Stored profiles: visibility, self-check, draft needs from gaps, the bureau's pool (SQLite and PG)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from core.errors import NotFound, PermissionDenied
from core.qualification import service as Q
from core.qualification.schemas import StoredProfileIn, parse_profile
from tests.qualification.profiles import raw


def stored(**changes) -> StoredProfileIn:
    return parse_profile(raw(**changes), StoredProfileIn)


@pytest.fixture
def world(factory):
    bureau_org = factory.org(kind="bureau", region="330400", name="嘉兴市科学技术局")
    other_bureau_org = factory.org(kind="bureau", region="330600", name="绍兴市科学技术局")
    ent = factory.org(region="330421", name="平湖测试企业", industry="新能源")
    ent2 = factory.org(region="330402", name="南湖测试企业")
    far = factory.org(region="330602", name="越城测试企业")
    return {
        "ent": ent, "ent2": ent2, "far": far,
        "ent_user": factory.user("enterprise", org=ent), "ent2_user": factory.user("enterprise", org=ent2),
        "bureau": factory.user("bureau", org=bureau_org), "other_bureau": factory.user("bureau", org=other_bureau_org),
    }


def test_amounts_are_fen_exact_and_visibility(db, world):
    p, a = Q.save_profile(db, world["ent_user"], world["ent"].id,
                          stored(total_assets="5200.123456", main_products="锂电池正极材料", tech_fields=["新能源"]))
    db.commit()
    db.expire_all()
    got = Q.get_profile(db, world["bureau"], world["ent"].id)
    assert got.total_assets == Decimal("52001234.56")
    assert Q.form_values(got)["total_assets"] == "5200.123456"
    assert got.sme_eligible is True and got.hnte_meets is True and got.failed == []
    assert [y.year for y in got.years] == [2023, 2024, 2025] and got.years[0].sales == Decimal("32000000.00")
    for outsider in (world["ent2_user"], world["other_bureau"]):
        with pytest.raises(NotFound):
            Q.get_profile(db, outsider, world["ent"].id)
    with pytest.raises(PermissionDenied):
        Q.save_profile(db, world["ent2_user"], world["ent"].id, stored())


def test_resave_replaces_years_and_reassesses(db, world):
    Q.save_profile(db, world["ent_user"], world["ent"].id, stored())
    p, a = Q.save_profile(db, world["ent_user"], world["ent"].id, stored(
        ip_class1=0, ip_class2=0, tech_staff=5, registered_on="2024-01-10",
        sales={"2024": "1000", "2025": "1000"}, rd_expense={"2024": "10", "2025": "10"},
        rd_expense_domestic={"2024": "10", "2025": "10"}, net_assets={}, conversions={}))
    db.commit()
    assert [y.year for y in p.years] == [2024, 2025]
    assert "hnte:no_ip" in p.failed and "sme:tech_staff_zero" in p.failed


def test_gap_to_draft_need_that_the_broker_can_read(db, world):
    from core.listings import service as listings
    from core.models import TechProblem

    Q.save_profile(db, world["ent_user"], world["ent"].id, stored(
        ip_class1=0, ip_class2=0, main_products="高镍三元正极材料", tech_fields=["新能源"],
        rd_expense={"2023": "150", "2024": "170", "2025": "180"},
        rd_expense_domestic={"2023": "150", "2024": "170", "2025": "180"}))
    check = Q.self_check(db, world["ent_user"], world["ent"].id)
    assert set(check.needs) >= {"ip", "rd"}
    with pytest.raises(PermissionDenied):
        Q.create_draft_need(db, world["bureau"], world["ent"].id, "ip")
    qn = Q.create_draft_need(db, world["ent_user"], world["ent"].id, "rd")
    assert Q.create_draft_need(db, world["ent_user"], world["ent"].id, "rd").id == qn.id  # idempotent
    db.commit()
    prob = db.get(TechProblem, qn.problem_id)
    assert prob.status == "draft" and prob.org_id == world["ent"].id
    assert prob.coop_modes == ["development", "joint_rd"]
    assert "高企：研发费用占比不足" in prob.description and "高镍三元正极材料" in prob.title
    assert "4.63" not in prob.description  # the enterprise's figures stay in its profile
    listings.transition(db, world["ent_user"], "problem", prob.id, "published")
    db.commit()
    why = Q.need_for_problem(db, prob.id)
    assert why.need == "rd" and why.reason == "高企：研发费用占比不足"


def test_ip_offers_are_invention_patents_by_transfer_or_licence(db, world, factory):
    uni = factory.user("university")
    good = factory.achievement(uni, patents=[{"number": "ZL202310000001.1", "type": "invention"}],
                               transfer_modes=["license"])
    factory.achievement(uni, title="只有实用新型的成果", patents=[{"number": "ZL202320000001.1", "type": "utility_model"}])
    factory.achievement(uni, title="只合作开发的发明专利成果", patents=[{"number": "ZL202310000002.1", "type": "invention"}],
                        transfer_modes=["joint_development"])
    Q.save_profile(db, world["ent_user"], world["ent"].id, stored(ip_class1=0, ip_class2=0, tech_fields=["新能源"]))
    check = Q.self_check(db, world["ent_user"], world["ent"].id)
    assert [a.id for a in check.ip_offers] == [good.id]
    assert any("（推荐 1 项）" in g.message for g in check.needs["ip"])


def test_pool_ladder_targets_and_reminders(db, world, factory):
    from core.models import IndicatorTarget

    ent, ent2 = world["ent"], world["ent2"]
    # ent: meets 高企 thresholds; ent2: 科小 registered this year; a certified one expiring soon
    Q.save_profile(db, world["ent_user"], ent.id, stored())
    ent2.sme_year, ent2.sme_number = 2026, "2026330402A0001"
    factory.org(region="330424", name="海盐认定企业", hnte_year=2023, hnte_number="GR202333000001")
    applied_org = factory.org(region="330481", name="海宁参评企业")
    Q.save_profile(db, None, applied_org.id, stored(hnte_applied=True))
    weak = factory.org(region="330483", name="桐乡培育企业")
    Q.save_profile(db, None, weak.id, stored(ip_class1=0, ip_class2=0, tech_staff=5))
    db.add(IndicatorTarget(indicator="sme", year=2026, region="330400", target_count=10))
    db.add(IndicatorTarget(indicator="hnte", year=2026, region="330400", target_count=7))
    db.commit()
    out = Q.pool(db, world["bureau"], 2026, today=date(2026, 8, 1))
    rungs = {r.org.name: r.rung for r in out["rows"]}
    assert "越城测试企业" not in rungs  # another bureau's jurisdiction
    assert rungs == {"平湖测试企业": "hnte_candidate", "南湖测试企业": "sme_registered", "海盐认定企业": "hnte_certified",
                     "海宁参评企业": "hnte_applied", "桐乡培育企业": "sme_candidate"}
    assert out["progress"]["sme"]["target"] == 10 and out["progress"]["sme"]["actual"] == 1
    assert out["progress"]["hnte"]["target"] == 7 and out["progress"]["hnte"]["actual"] == 1
    assert ("高企：无知识产权", 1) in out["top_gaps"]
    assert any("海盐认定企业" in m and "2026-12-31" in m for m in out["reminders"])
    assert any("科技型中小企业评价" in m for m in out["reminders"])
    far = Q.pool(db, world["other_bureau"], 2026, today=date(2026, 8, 1))
    assert [r.org.name for r in far["rows"]] == ["越城测试企业"]
    with pytest.raises(PermissionDenied):
        Q.pool(db, world["ent_user"], 2026)


def test_an_ip_need_is_matched_only_with_invention_patents_to_transfer_or_license(db, world, factory):
    """The gap says "no core IP": a close topic without an invention patent it can own or use
    does not close it. The same text posted as an ordinary need keeps those candidates."""
    from core.listings import service as listings
    from core.models import TechProblem
    from matcher.engine import Matcher

    uni = factory.user("university")
    good = factory.achievement(uni, patents=[{"number": "ZL202310000001.1", "type": "invention"}],
                               transfer_modes=["license"])
    utility = factory.achievement(uni, title="高镍三元正极材料包覆改性装置",
                                  patents=[{"number": "ZL202320000001.1", "type": "utility_model"}])
    joint = factory.achievement(uni, title="高镍三元正极材料包覆工艺联合开发",
                                patents=[{"number": "ZL202310000002.1", "type": "invention"}],
                                transfer_modes=["joint_development"])
    Q.save_profile(db, world["ent_user"], world["ent"].id, stored(
        ip_class1=0, ip_class2=0, main_products="高镍三元正极材料", tech_fields=["新能源"]))
    qn = Q.create_draft_need(db, world["ent_user"], world["ent"].id, "ip")
    db.commit()
    need = db.get(TechProblem, qn.problem_id)
    listings.transition(db, world["ent_user"], "problem", need.id, "published")
    db.commit()
    plain = factory.problem(world["ent2_user"], title=need.title, description=need.description,
                            coop_modes=need.coop_modes)

    m = Matcher(threshold=0.0)
    _, scored, _ = m.rank_listing(db, need)
    assert {s.achievement.id for s in scored} == {good.id}
    _, scored, _ = m.rank_listing(db, plain)
    assert {good.id, utility.id, joint.id} <= {s.achievement.id for s in scored}
    # from the achievement's side the same rule holds
    _, scored, _ = m.rank_listing(db, db.get(type(utility), utility.id))
    assert need.id not in {s.problem.id for s in scored} and plain.id in {s.problem.id for s in scored}
