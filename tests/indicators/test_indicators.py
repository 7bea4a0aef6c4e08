"""Indicators from the database: periods, registration vs signing date, regions (输出/吸纳),
amendments and terminations, activity counts, targets and projections."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from core.contracts import service as contracts
from core.errors import PermissionDenied
from core.events import service as events
from core.indicators import service as ind

D = Decimal
JX, JS, HN, HZ_XH = "330400", "330421", "330481", "330106"


def party(region, ptype="enterprise", name="某单位"):
    return {"name": name, "region": region, "party_type": ptype}


def total(db, start, end, region=None, side="seller"):
    return ind.totals(ind.facts(db, start, end, region, side))


def test_period_boundaries_and_registration_date(db, bureau, make_contract):
    # Signed in December, registered on 1 January: counts in the new year and Q1.
    make_contract(bureau, signed_on=date(2025, 12, 30), registered_on=date(2026, 1, 1), total_amount=D("100.01"),
                  tech_amount=D("100.01"))
    make_contract(bureau, registered_on=date(2026, 3, 31), total_amount=D("200.00"), tech_amount=D("0"))
    make_contract(bureau, registered_on=date(2026, 4, 1), total_amount=D("300.00"), tech_amount=D("1"))
    make_contract(bureau, registered_on=date(2026, 12, 31), total_amount=D("400.00"), tech_amount=D("2"))
    make_contract(bureau, registered_on=date(2025, 12, 31), total_amount=D("999.99"), tech_amount=D("3"))
    assert total(db, date(2026, 1, 1), date(2026, 12, 31)).total == D("1000.01")
    assert total(db, *ind.period_bounds(2026, quarter=1)).total == D("300.01")
    assert total(db, *ind.period_bounds(2026, quarter=2)).total == D("300.00")
    assert total(db, *ind.period_bounds(2026, month=3)).total == D("200.00")
    assert total(db, *ind.period_bounds(2026, month=12)).count == 1
    assert total(db, *ind.period_bounds(2025)).total == D("999.99")
    b = ind.breakdown(db, bureau, 2026, "quarter")
    assert [r["total_amount"] for r in b["rows"]] == [D("300.01"), D("300.00"), D("0"), D("400.00")]
    s = ind.summary(db, bureau, 2026, as_of=date(2026, 3, 31))
    assert s["contracts"]["total_amount"] == D("300.01")
    assert s["contracts"]["last_year_same_period"]["total_amount"] == D("0")
    assert s["contracts"]["last_year_total"]["total_amount"] == D("999.99")


def test_leap_day_same_period_last_year():
    assert ind.same_period_last_year(date(2028, 1, 1), date(2028, 2, 29)) == (date(2027, 1, 1), date(2027, 2, 28))


def test_output_vs_absorbed_and_rollups(db, bureau, factory, make_contract):
    # Jiashan seller -> Shanghai buyer; Hangzhou seller -> Haining buyer; Jiaxing city-level seller.
    make_contract(bureau, seller=party(JS), buyer=party("310115"), total_amount=D("1000.00"), tech_amount=D("900"))
    make_contract(bureau, seller=party(HZ_XH, "university"), buyer=party(HN), total_amount=D("500.50"),
                  tech_amount=D("500.50"))
    make_contract(bureau, seller=party(JX, "institute"), buyer=party(JS), total_amount=D("20.00"),
                  tech_amount=D("20"))
    y = (date(2026, 1, 1), date(2026, 12, 31))
    assert total(db, *y, JS).total == D("1000.00")  # 输出 (seller)
    assert total(db, *y, JS, "buyer").total == D("20.00")  # 吸纳 (buyer)
    assert total(db, *y, JX).total == D("1020.00")  # city rolls up its counties + 市本级
    assert total(db, *y, JX, "buyer").total == D("520.50")
    assert total(db, *y, "330000").total == D("1520.50")
    assert total(db, *y, "330000", "buyer").total == D("520.50")
    rows = {r["key"]: r for r in ind.breakdown(db, bureau, 2026, "region", JX)["rows"]}
    assert rows[JS]["total_amount"] == D("1000.00") and rows[JX]["label"] == "嘉兴市本级"
    # All provinces: the admin's view (a bureau's view opens on its own jurisdiction).
    admin = factory.user("admin")
    prov = {r["key"]: r["total_amount"] for r in ind.breakdown(db, admin, 2026, "region", None, "buyer")["rows"]}
    assert prov == {"310000": D("1000.00"), "330000": D("520.50")}
    by_type = ind.breakdown(db, bureau, 2026, "seller_type", JX)
    assert {r["key"]: r["count"] for r in by_type["rows"]} == {"enterprise": 1, "institute": 1}
    assert by_type["total"]["total_amount"] == D("1020.00")


def test_amendment_and_termination_change_the_figures(db, bureau, make_contract):
    a = make_contract(bureau, registered_on=date(2026, 5, 10), total_amount=D("1000.00"), tech_amount=D("800"))
    make_contract(bureau, registered_on=date(2026, 6, 1), total_amount=D("50.00"), tech_amount=D("50"))
    y = ind.period_bounds(2026)
    assert total(db, *y).total == D("1050.00")
    contracts.amend(db, bureau, a.id, {"reason": "补充协议", "total_amount": "1200.10", "tech_amount": "900"})
    db.commit()
    t = total(db, *y)
    assert (t.total, t.tech) == (D("1250.10"), D("950.00"))
    # An amended registration date moves the contract between months (same year: the number's year).
    contracts.amend(db, bureau, a.id, {"reason": "更正登记日期", "registered_on": "2026-07-02"})
    db.commit()
    months = {r["key"]: r["total_amount"] for r in ind.breakdown(db, bureau, 2026, "month")["rows"]}
    assert months[5] == 0 and months[7] == D("1200.10")
    contracts.terminate(db, bureau, a.id, {"reason": "合同解除", "terminated_on": "2026-08-01"})
    db.commit()
    assert total(db, *y).total == D("50.00")
    assert ind.summary(db, bureau, 2026, as_of=date(2026, 12, 31))["contracts"]["count"] == 1


def test_conversion_by_mode(db, bureau, make_contract):
    make_contract(bureau, contract_type="transfer", sub_type="patent", total_amount=D("100.00"), tech_amount=D("100"))
    make_contract(bureau, contract_type="license", sub_type=None, total_amount=D("200.00"), tech_amount=D("200"))
    make_contract(bureau, contract_type="transfer", sub_type="know_how", conversion_mode="equity",
                  total_amount=D("300.00"), tech_amount=D("300"))
    make_contract(bureau, contract_type="service", sub_type=None, total_amount=D("400.00"), tech_amount=D("400"))
    s = ind.summary(db, bureau, 2026, as_of=date(2026, 12, 31))
    conv = s["conversion"]
    assert conv["items"] == 3 and conv["amount"] == D("600.00")
    assert [(r["key"], r["count"], r["total_amount"]) for r in conv["by_mode"]] == [
        ("transfer", 1, D("100.00")), ("license", 1, D("200.00")), ("equity", 1, D("300.00"))]


def test_activity_counts(db, factory, bureau, accepted_match):
    from core.db import utcnow
    from core.models import Match

    m, ent, uni = accepted_match
    # A rejected proposal is not a recommendation.
    a2 = factory.achievement(uni, title="另一项成果：正极材料掺杂技术")
    db.add(Match(problem_id=m.problem_id, achievement_id=a2.id, score=0.5, status="rejected", decided_at=utcnow()))
    # An accepted proposal later withdrawn (its listing closed) still was a recommendation.
    from core.models import MatchReview
    a3 = factory.achievement(uni, title="第三项成果：电池回收技术")
    w = Match(problem_id=m.problem_id, achievement_id=a3.id, score=0.6, status="withdrawn", decided_at=utcnow())
    db.add(w)
    db.flush()
    db.add(MatchReview(match_id=w.id, action="accept", from_status="proposed", to_status="accepted"))
    events.create(db, bureau, {"title": "嘉善新能源供需对接会", "held_on": date.today(), "region": JS,
                               "attendance": 120, "matches_made": 7, "match_ids": [m.id]})
    factory.org("enterprise", region=JS, sme_year=date.today().year, sme_number="20263304210001")
    factory.org("enterprise", region=HN, hnte_year=date.today().year, hnte_number="GR202633000123")
    db.commit()
    year, region = date.today().year, "330400"
    s = ind.summary(db, bureau, year, region)
    acts = {k: v["value"] for k, v in s["activities"].items()}
    assert acts["recommended"] == 2  # the problem is in 嘉善 (330421)
    assert acts["solved_problems"] == 0
    assert (acts["events"], acts["event_attendance"], acts["event_matches"]) == (1, 120, 7)
    assert (acts["sme"], acts["hnte"]) == (1, 1)
    assert ind.summary(db, bureau, year, "330100")["activities"]["recommended"]["value"] == 0


def test_projection_methods():
    # Linear: half the year elapsed, half the target reached.
    p = ind.projection(D("500"), 2026, date(2026, 7, 2), None, None)
    assert p.method == "linear" and p.projected == p.linear and abs(p.projected - D("1000")) < D("3")
    # Seasonal: last year had 25% of its total by this day -> actual / 0.25.
    p = ind.projection(D("300"), 2026, date(2026, 7, 2), D("250"), D("1000"))
    assert p.method == "seasonal" and p.projected == D("1200")
    assert "季节法" in p.method_text and "25.0%" in p.method_text
    p = ind.projection(D("7"), 2026, date(2026, 3, 1), None, None, dated=False)
    assert p.method == "annual" and p.projected == D("7")


def test_targets_progress_projection_and_behind_flag(db, bureau, make_contract):
    # Last year: 100 by end of June, 400 in all (a year-end heavy shape: 25% by 30 June).
    make_contract(bureau, registered_on=date(2025, 3, 1), seller=party(JS), total_amount=D("100.00"),
                  tech_amount=D("100"))
    make_contract(bureau, registered_on=date(2025, 12, 1), seller=party(JS), total_amount=D("300.00"),
                  tech_amount=D("300"))
    make_contract(bureau, registered_on=date(2026, 2, 1), seller=party(JS), total_amount=D("90.00"),
                  tech_amount=D("90"))
    t = ind.set_target(db, bureau, {"indicator": "contract_turnover", "year": 2026, "region": JX, "target": "400"})
    ind.set_target(db, bureau, {"indicator": "contract_count", "year": 2026, "region": JX, "target": "2"})
    db.commit()
    rows = {r["indicator"]: r for r in ind.targets(db, bureau, 2026, JX, as_of=date(2026, 6, 30))}
    r = rows["contract_turnover"]
    assert r["actual"] == D("90.00") and r["progress_pct"] == D("22.5")
    assert r["projection_method"] == "seasonal" and r["projection"] == D("360.00")
    assert r["expected_by_now"] == D("100.00") and r["behind_schedule"] is True
    assert r["projection_linear"] > D("180")
    c = rows["contract_count"]
    # Last year: 1 of 2 contracts by 30 June -> expected 1 by now, actual 1: on schedule.
    assert c["actual"] == 1 and c["projection"] == 2 and c["behind_schedule"] is False
    # Updating the target is an upsert.
    t2 = ind.set_target(db, bureau, {"indicator": "contract_turnover", "year": 2026, "region": JX, "target": "300"})
    assert t2.id == t.id and t2.target_amount == D("300.00")
    db.commit()
    r = ind.targets(db, bureau, 2026, JX, as_of=date(2026, 6, 30))[0]
    # 25% of 300 = 75 expected by 30 June; 90 reached: on schedule, projected 360 > 300.
    assert r["expected_by_now"] == D("75.00") and r["behind_schedule"] is False
    assert r["progress_pct"] == D("30.0") and r["projected_pct"] == D("120.0")
    s = ind.summary(db, bureau, 2026, JX, as_of=date(2026, 6, 30))
    assert [x["indicator"] for x in s["targets"]] == ["contract_turnover", "contract_count"]


def test_target_input_rules(db, bureau, factory):
    from core.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        ind.set_target(db, bureau, {"indicator": "nope", "year": 2026, "region": JX, "target": "1"})
    with pytest.raises(ValidationFailed):
        ind.set_target(db, bureau, {"indicator": "events", "year": 2026, "region": JX, "target": "1.5"})
    with pytest.raises(ValidationFailed):
        ind.set_target(db, bureau, {"indicator": "events", "year": 2026, "region": "999999", "target": "1"})
    with pytest.raises(PermissionDenied):
        ind.set_target(db, factory.user("broker"), {"indicator": "events", "year": 2026, "region": JX, "target": "1"})
    with pytest.raises(PermissionDenied):
        ind.summary(db, factory.user("enterprise"), 2026)


def test_db_breakdowns_sum_to_total(db, bureau, make_contract):
    """The property of test_aggregation_props, once through the database."""
    import random

    rnd = random.Random(7)
    regions_ = [JS, HN, JX, HZ_XH, "310115", "330482"]
    types = [("development", "cooperative"), ("transfer", "patent"), ("license", None), ("service", None)]
    for _i in range(25):
        tot = D(rnd.randint(1, 10**9)) / 100
        ct, st = rnd.choice(types)
        make_contract(bureau, registered_on=date(2026, 1, 1) + timedelta(days=rnd.randint(0, 364)),
                      seller=party(rnd.choice(regions_), rnd.choice(["enterprise", "university"])),
                      buyer=party(rnd.choice(regions_)), contract_type=ct, sub_type=st,
                      total_amount=tot, tech_amount=(tot * rnd.randint(0, 100) / 100).quantize(D("0.01")))
    for region in (None, "330000", JX):
        for side in ("seller", "buyer"):
            whole = ind.breakdown(db, bureau, 2026, "type", region, side)["total"]
            for by in ("region", "type", "field", "seller_type", "month", "quarter"):
                b = ind.breakdown(db, bureau, 2026, by, region, side)
                assert b["total"] == whole
                assert sum((r["total_amount"] for r in b["rows"]), D(0)) == whole["total_amount"]
                assert sum((r["tech_amount"] for r in b["rows"]), D(0)) == whole["tech_amount"]
                assert sum(r["count"] for r in b["rows"]) == whole["count"]
    ser = ind.series(db, bureau, 2026)
    assert ser["months"][-1]["cumulative_total_amount"] == ser["total"]["total_amount"]


def test_seasonal_share_uses_last_years_monthly_shape():
    pts = [(date(2025, 1, 20), D("100")), (date(2025, 6, 1), D("300")), (date(2025, 12, 5), D("600"))]
    # By 15 June: January in full + half of June (15/30) = 100 + 150.
    assert ind.monthly_shape_to_date(pts, date(2026, 6, 15)) == D("250")
    p = ind.projection(D("500"), 2026, date(2026, 6, 15), D("250"), D("1000"))
    assert p.method == "seasonal" and p.projected == D("2000") and p.seasonal_share == D("0.25")
    assert ind.monthly_shape_to_date(pts, date(2026, 1, 1)) == D("100") / 31


def test_fact_cache_shares_loads_within_a_block(db, bureau, make_contract, monkeypatch):
    make_contract(bureau, registered_on=date(2026, 5, 5))
    calls = []
    real = ind._load_facts
    monkeypatch.setattr(ind, "_load_facts", lambda *a: calls.append(a[1:]) or real(*a))
    with ind.fact_cache():
        ind.summary(db, bureau, 2026, "330100", as_of=date(2026, 6, 30))
        ind.series(db, bureau, 2026, "330100")
        b = ind.breakdown(db, bureau, 2026, "type", "330100")
    assert b["total"]["count"] == 1
    # One load per (year, side): 2026 and 2025, seller and buyer.
    assert len(calls) == len(set(calls)) == 4
