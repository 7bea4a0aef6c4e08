"""The assessment engine at every tier boundary of both rule sets (pure, no database)."""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from core.qualification import rules
from core.qualification.assess import anniversary, assess, assess_hnte, assess_sme, growth_rate, pct, round4
from tests.qualification.profiles import profile

# A 100-employee enterprise with one Ⅰ类 IP (30 points) and R&D 6% of sales (50 points) by default.


def _rd_latest(sales: str, rd: str, **kw):
    """Latest-year sales and R&D; costs large so that the costs basis never wins."""
    return profile(sales={"2023": sales, "2024": sales, "2025": sales},
                   rd_expense={"2023": rd, "2024": rd, "2025": rd},
                   rd_expense_domestic={"2023": rd, "2024": rd, "2025": rd},
                   total_costs=kw.pop("total_costs", "100000.00"), **kw)


# ----------------------------------------------------------------- 科小 scoring tiers

@pytest.mark.parametrize("tech_staff,points", [
    (30, 20), (29, 16), (25, 16), (24, 12), (20, 12), (19, 8), (15, 8), (14, 4), (10, 4), (9, 0), (0, 0),
])
def test_sme_tech_staff_tiers(tech_staff, points):
    r = assess_sme(profile(tech_staff=tech_staff))
    assert r.parts["tech_staff"] == points


@pytest.mark.parametrize("rd,points", [
    ("600.00", 50), ("599.99", 40), ("500.00", 40), ("499.99", 30), ("400.00", 30), ("399.99", 20),
    ("300.00", 20), ("299.99", 10), ("200.00", 10), ("199.99", 0), ("0", 0),
])
def test_sme_rd_over_sales_tiers(rd, points):
    # sales 10,000万元: exactly 6% is 600万元
    r = assess_sme(_rd_latest("10000.00", rd))
    assert r.parts["rd"] == points


@pytest.mark.parametrize("costs,points", [
    ("1000.00", 50),      # 300/1000 = 30%
    ("1000.04", 40),      # just below 30%
    ("1200.00", 40),      # 25%
    ("1500.00", 30),      # 20%
    ("2000.00", 20),      # 15%
    ("3000.00", 10),      # 10%
    ("3000.01", 0),       # below 10% (and 300/100000 of sales is below 2%)
])
def test_sme_rd_over_costs_tiers(costs, points):
    r = assess_sme(_rd_latest("100000.00", "300.00", total_costs=costs, total_assets="100.00"))
    assert r.parts["rd"] == points


def test_sme_rd_takes_the_better_basis():
    # sales basis 3% -> 20; costs basis 300/1000 = 30% -> 50
    r = assess_sme(_rd_latest("10000.00", "300.00", total_costs="1000.00"))
    assert r.parts["rd"] == 50
    # sales basis 6% -> 50; costs basis 10% -> 10
    r = assess_sme(_rd_latest("5000.00", "300.00", total_costs="3000.00"))
    assert r.parts["rd"] == 50


@pytest.mark.parametrize("c1,c2,points", [
    (1, 0, 30), (2, 9, 30), (0, 5, 24), (0, 4, 24), (0, 3, 18), (0, 2, 12), (0, 1, 6), (0, 0, 0),
])
def test_sme_ip_tiers(c1, c2, points):
    assert assess_sme(profile(ip_class1=c1, ip_class2=c2)).parts["ip"] == points


# ----------------------------------------------------------------- 科小 conditions and routes

def test_sme_score_route_at_exactly_60():
    # tech 10% -> 4; rd 4% of sales -> 30; Ⅱ类 3 -> 18: 52. Ⅱ类 4 -> 24: 58. Need exact 60:
    # tech 15% -> 8 + rd 30 + Ⅱ类 2 -> 12 = 50 ... use tech 20% -> 12, rd 30, Ⅱ类 3 -> 18 = 60.
    r = assess_sme(_rd_latest("10000.00", "400.00", tech_staff=20, ip_class1=0, ip_class2=3))
    assert (r.score, r.eligible, r.route, r.failed) == (60, True, "score", [])


def test_sme_score_59_fails_with_explanation():
    # tech 16 + rd 30 + ip 12 = 58
    r = assess_sme(_rd_latest("10000.00", "400.00", tech_staff=25, ip_class1=0, ip_class2=2))
    assert r.score == 58 and not r.eligible and r.route is None
    assert r.failed == ["score_below_60"]
    msg = r.gaps[0].message
    assert "评价得分 58 分" in msg and "需 ≥ 60 分" in msg and "还差 2 分" in msg
    # The cheapest closing steps are named with the figures that close them.
    assert "Ⅱ类知识产权增至 3 项" in msg
    assert "研发费用再增加约 100 万元（占销售收入 5%）" in msg


def test_sme_tech_staff_zero_fails_even_with_a_high_score():
    r = assess_sme(profile(tech_staff=9))  # rd 50 + ip 30 = 80, tech 0
    assert r.score == 80 and not r.eligible
    assert r.failed == ["tech_staff_zero"]
    assert "科技人员占比 9.00%，需 ≥ 10%" in r.gaps[0].message
    assert "再新聘 2 名科技人员" in r.gaps[0].message  # (9+2)/(100+2) >= 10%, (9+1)/101 < 10%


@pytest.mark.parametrize("changes,code", [
    ({"resident": False}, "not_resident"),
    ({"employees": 501, "tech_staff": 200}, "too_large"),
    ({"total_assets": "20000.01"}, "too_large"),
    ({"prohibited_products": True}, "prohibited_products"),
    ({"major_incident": True}, "incident"),
    ({"on_blacklist": True}, "blacklisted"),
])
def test_sme_basic_conditions(changes, code):
    r = assess_sme(profile(**changes))
    assert r.failed == [code] and not r.eligible and r.route is None


def test_sme_size_limits_inclusive():
    # exactly 500 employees, sales 2亿元 and total assets 2亿元 are still small enough
    r = assess_sme(_rd_latest("20000.00", "1200.00", employees=500, tech_staff=150,
                              total_assets="20000.00"))
    assert r.eligible and "too_large" not in r.failed
    r = assess_sme(_rd_latest("20000.01", "1200.00", employees=500, tech_staff=150))
    assert r.failed == ["too_large"]
    assert "销售收入 20,000.01 万元，需 ≤ 20,000 万元" in r.gaps[0].message


def test_sme_lists_every_unmet_condition():
    r = assess_sme(profile(resident=False, employees=600, tech_staff=5, on_blacklist=True,
                           ip_class1=0, ip_class2=0))
    assert r.failed == ["not_resident", "too_large", "blacklisted", "tech_staff_zero", "score_below_60"]


@pytest.mark.parametrize("fact", ["hnte_certificate_valid", "national_award_top3_5y",
                                  "provincial_rd_institution", "led_standard_5y"])
def test_sme_direct_entry_whatever_the_score(fact):
    r = assess_sme(profile(tech_staff=0, ip_class1=0, ip_class2=0, **{fact: True}))
    assert r.score < 60 and r.eligible and r.route == "direct" and r.failed == []


def test_sme_direct_entry_needs_conditions_1_to_4():
    r = assess_sme(profile(hnte_certificate_valid=True, on_blacklist=True))
    assert not r.eligible and r.route is None and r.failed == ["blacklisted"]


# ----------------------------------------------------------------- 高企 thresholds

@pytest.mark.parametrize("sales,required", [
    ("5000.00", "0.05"), ("5000.01", "0.04"), ("20000.00", "0.04"), ("20000.01", "0.03"),
])
def test_hnte_required_rd_ratio_by_latest_sales(sales, required):
    r = assess_hnte(_rd_latest(sales, "1000.00"))
    assert r.required_rd_ratio == Decimal(required)
    assert r.to_dict()["required_rd_ratio"] == required


@pytest.mark.parametrize("rd_total_wan,passes", [("750.00", True), ("749.99", False)])
def test_hnte_rd_ratio_exactly_5pct_over_three_years(rd_total_wan, passes):
    # sales 5,000万元 a year: 15,000 over three years, 5% = 750
    last = str(Decimal(rd_total_wan) - 500)
    p = profile(sales={"2023": "5000", "2024": "5000", "2025": "5000"},
                rd_expense={"2023": "250", "2024": "250", "2025": last},
                rd_expense_domestic={"2023": "250", "2024": "250", "2025": last})
    r = assess_hnte(p)
    assert ("rd_ratio_below" not in r.failed) is passes
    if not passes:
        assert r.to_dict()["rd_ratio"] == "0.0500"  # rounded, but still below exactly
        msg = next(g.message for g in r.gaps if g.code == "rd_ratio_below")
        assert "4.9999%" in msg and "需 ≥ 5%" in msg and "约 0.01 万元" in msg


def test_hnte_issue_example_message():
    p = profile(sales={"2023": "3200.00", "2024": "3600.00", "2025": "4000.00"},
                rd_expense={"2023": "150", "2024": "170", "2025": "180"},
                rd_expense_domestic={"2023": "150", "2024": "170", "2025": "180"})
    r = assess_hnte(p)
    assert r.to_dict()["rd_ratio"] == "0.0463" and r.failed == ["rd_ratio_below"]
    assert (r.rd_ratio_text, r.required_rd_ratio_text) == ("4.63%", "5%")
    msg = r.gaps[0].message
    assert "研发费用占比 4.63%" in msg and "需 ≥ 5%" in msg and "近三年再投入约 40 万元即可达标" in msg


def test_hnte_rd_window_is_years_since_registration_when_fewer():
    p = profile(registered_on="2024-02-01",
                sales={"2024": "1000", "2025": "1000"}, rd_expense={"2024": "50", "2025": "50"},
                rd_expense_domestic={"2024": "50", "2025": "50"}, net_assets={})
    r = assess_hnte(p)
    assert r.rd_ratio == Decimal("0.0500") and "rd_ratio_below" not in r.failed


@pytest.mark.parametrize("tech_staff,passes", [(10, True), (9, False)])
def test_hnte_tech_staff_exactly_10pct(tech_staff, passes):
    r = assess_hnte(profile(tech_staff=tech_staff))
    assert ("tech_staff_below_10pct" not in r.failed) is passes


@pytest.mark.parametrize("domestic_2025,passes", [("40.00", True), ("39.99", False)])
def test_hnte_domestic_rd_exactly_60pct(domestic_2025, passes):
    # R&D 640 over three years; 60% = 384 = 200 + 144 + 40
    p = profile(rd_expense_domestic={"2023": "200.00", "2024": "144.00", "2025": domestic_2025})
    r = assess_hnte(p)
    assert ("domestic_rd_below_60pct" not in r.failed) is passes


@pytest.mark.parametrize("hitech,passes", [("2460.00", True), ("2459.99", False)])
def test_hnte_hitech_income_exactly_60pct(hitech, passes):
    r = assess_hnte(profile(hitech_income=hitech, total_income="4100.00"))
    assert ("hitech_income_below_60pct" not in r.failed) is passes


def test_hnte_registered_more_than_one_year():
    ok = assess_hnte(profile(registered_on="2025-06-14", application_date="2026-06-15",
                             sales={"2025": "1000"}, rd_expense={"2025": "60"},
                             rd_expense_domestic={"2025": "60"}))
    assert "registered_under_1_year" not in ok.failed
    on_the_day = assess_hnte(profile(registered_on="2025-06-15", application_date="2026-06-15",
                                     sales={"2025": "1000"}, rd_expense={"2025": "60"},
                                     rd_expense_domestic={"2025": "60"}))
    assert "registered_under_1_year" in on_the_day.failed
    assert "2026-06-16 起可以申请" in on_the_day.gaps[0].message
    assert anniversary(__import__("datetime").date(2024, 2, 29), 1).isoformat() == "2025-02-28"


def test_hnte_all_codes_in_order():
    p = profile(registered_on="2025-09-01", sales={"2025": "1000"}, rd_expense={"2025": "10"},
                rd_expense_domestic={"2025": "1"}, ip_class1=0, ip_class2=0, field_supported=False,
                tech_staff=5, hitech_income="100", total_income="1000", major_incident=True)
    r = assess_hnte(p)
    assert r.failed == ["registered_under_1_year", "no_ip", "field_not_supported", "tech_staff_below_10pct",
                        "rd_ratio_below", "domestic_rd_below_60pct", "hitech_income_below_60pct", "incident"]
    assert not r.meets_thresholds


def test_hnte_meets_thresholds():
    r = assess_hnte(profile())
    assert r.meets_thresholds and r.failed == []


# ----------------------------------------------------------------- 创新能力 estimate

@pytest.mark.parametrize("per_year,band", [(5, (25, 30)), (4, (19, 24)), (3, (13, 18)), (2, (7, 12)),
                                           (1, (1, 6)), (0, (0, 0))])
def test_innovation_conversion_bands(per_year, band):
    r = assess_hnte(profile(conversions={"2023": per_year, "2024": per_year, "2025": per_year}))
    assert r.innovation_parts["conversion"] == band


def test_innovation_conversion_average_boundary():
    # 14 over three years averages 4.67 -> band of >= 4; 15 -> >= 5
    r = assess_hnte(profile(conversions={"2023": 5, "2024": 5, "2025": 4}))
    assert r.innovation_parts["conversion"] == (19, 24)
    r = assess_hnte(profile(conversions={"2023": 5, "2024": 5, "2025": 5}))
    assert r.innovation_parts["conversion"] == (25, 30)


@pytest.mark.parametrize("y3,band", [
    # Y1 = 100, Y2 = 100: growth = (1 + Y3/100)/2 - 1 -> Y3 = 170 gives exactly 35%
    ("170", (9, 10)), ("169.99", (7, 8)), ("150", (7, 8)), ("130", (5, 6)), ("110", (3, 4)),
    ("109.99", (1, 2)), ("100.01", (1, 2)), ("100", (0, 0)), ("90", (0, 0)),
])
def test_innovation_growth_tiers(y3, band):
    series = {"2023": "100", "2024": "100", "2025": y3}
    # Net assets and sales follow the same tiers; the growth part is their sum.
    r = assess_hnte(profile(net_assets=series, sales=series, total_assets="100", hitech_income="100",
                            total_income="100", rd_expense={"2023": "6", "2024": "6", "2025": "6"},
                            rd_expense_domestic={"2023": "6", "2024": "6", "2025": "6"}))
    assert r.innovation_parts["growth"] == (2 * band[0], 2 * band[1])


def test_growth_rate_formula_and_zero_years():
    y = [2023, 2024, 2025]
    assert growth_rate({2023: Decimal(100), 2024: Decimal(120), 2025: Decimal(150)}, y) == Fraction(9, 40)
    assert growth_rate({2023: Decimal(0), 2024: Decimal(100), 2025: Decimal(150)}, y) == Fraction(1, 2)
    assert growth_rate({2023: Decimal(100), 2024: Decimal(0), 2025: Decimal(150)}, y) is None


def test_innovation_unknown_net_assets_is_the_whole_range():
    r = assess_hnte(profile(net_assets={}))
    assert r.innovation_parts["growth"][1] - r.innovation_parts["growth"][0] >= 10


def test_innovation_expert_parts_are_ranges():
    r = assess_hnte(profile())
    low, high = r.innovation_low, r.innovation_high
    assert low < high
    assert r.innovation_parts["rd_management"] == (0, 20)
    ip = r.innovation_parts["ip"]
    assert ip[0] < ip[1] <= 30
    assert low == sum(a for a, _ in r.innovation_parts.values())
    assert high == sum(b for _, b in r.innovation_parts.values())


def test_innovation_no_ip_scores_nothing_for_ip_but_the_standard_range():
    r = assess_hnte(profile(ip_class1=0, ip_class2=0))
    assert r.innovation_parts["ip"] == (0, 2)
    r = assess_hnte(profile(ip_class1=0, ip_class2=0, led_standard_5y=True))
    assert r.innovation_parts["ip"] == (1, 2)


def test_no_class1_ip_advice_points_to_patents():
    r = assess_hnte(profile(ip_class1=0, ip_class2=3))
    g = next(g for g in r.gaps if g.code == "no_class1_ip")
    assert not g.blocking and g.need == "ip" and "发明专利" in g.message


# ----------------------------------------------------------------- helpers and rule sets

def test_round4_half_up_and_pct():
    assert round4(Fraction(463, 10000)) == Decimal("0.0463")
    assert round4(Fraction(46305, 1000000)) == Decimal("0.0463")  # 0.046305 -> half up at 5th place
    assert round4(Fraction(46350, 1000000)) == Decimal("0.0464")
    assert pct(Fraction(299999, 1000000), below=Fraction(3, 10)) == "29.9999%"
    assert pct(Fraction(3, 10), below=Fraction(3, 10)) == "30.00%"


def test_rule_sets_are_keyed_by_document_number():
    sets = rules.all_rulesets()
    assert {"国科发政〔2017〕115号", "国科发火〔2016〕32号"} <= set(sets)
    from datetime import date
    assert rules.in_force("sme", date(2026, 6, 1)).document == "国科发政〔2017〕115号"
    from core.errors import ValidationFailed
    with pytest.raises(ValidationFailed):
        rules.in_force("sme", date(2026, 6, 1), "国科发火〔2016〕32号")


def test_a_revision_is_data_beside_the_old_version(tmp_path, monkeypatch):
    """A 2022 file beside the 2017 one is picked by date, with no code change."""
    import json
    import shutil
    from datetime import date

    for f in rules.RULESET_DIR.glob("*.json"):
        shutil.copy(f, tmp_path / f.name)
    rev = json.loads((rules.RULESET_DIR / "sme_2017.json").read_text(encoding="utf-8"))
    rev.update(document="国科发政〔2022〕67号", effective_from="2022-06-01", pass_score=70)
    (tmp_path / "sme_2022.json").write_text(json.dumps(rev, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setattr(rules, "RULESET_DIR", tmp_path)
    rules.all_rulesets.cache_clear()
    try:
        assert rules.in_force("sme", date(2022, 5, 31)).document == "国科发政〔2017〕115号"
        p = profile(tech_staff=20, ip_class1=0, ip_class2=3,
                    rd_expense={"2023": "200", "2024": "200", "2025": "160"},
                    rd_expense_domestic={"2023": "200", "2024": "200", "2025": "160"},
                    total_costs="100000")  # 12 + 30 + 18 = 60
        a = assess(p)
        assert a.sme.ruleset == "国科发政〔2022〕67号" and a.sme.score == 60 and not a.sme.eligible
        assert assess(p, sme_ruleset="国科发政〔2017〕115号").sme.eligible
    finally:
        rules.all_rulesets.cache_clear()
