"""Hypothesis: totals by every breakdown sum exactly (to the fen) to the overall total."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.indicators import service as ind
from core.indicators.service import Fact

REGIONS = ["330402", "330411", "330421", "330481", "330400", "330106", "330100", "330000", "310115",
           "320583", "440305", "330602"]
FIELDS = ["新能源", "新材料", "生物医药", "其他"]
TYPES = [("development", "entrusted"), ("development", "cooperative"), ("transfer", "patent"),
         ("license", None), ("consulting", None), ("service", None)]


@st.composite
def facts(draw):
    n = draw(st.integers(0, 40))
    out = []
    for i in range(n):
        total_fen = draw(st.integers(1, 10**12))
        tech_fen = draw(st.integers(0, total_fen))
        ctype, sub = draw(st.sampled_from(TYPES))
        mode = {"transfer": "transfer", "license": "license"}.get(ctype)
        if mode and draw(st.booleans()):
            mode = "equity"
        out.append(Fact(
            id=i, registered_on=date(2026, 1, 1) + timedelta(days=draw(st.integers(0, 364))),
            total=Decimal(total_fen) / 100, tech=Decimal(tech_fen) / 100,
            seller_region=draw(st.sampled_from(REGIONS)), buyer_region=draw(st.sampled_from(REGIONS)),
            contract_type=ctype, sub_type=sub, field=draw(st.sampled_from(FIELDS)),
            seller_type=draw(st.sampled_from(["enterprise", "university", "institute", "other"])),
            buyer_type=draw(st.sampled_from(["enterprise", "university", "institute", "other"])),
            conversion_mode=mode))
    return out


def _sum_rows(rows):
    return (sum(r["count"] for r in rows), sum((r["total_amount"] for r in rows), Decimal(0)),
            sum((r["tech_amount"] for r in rows), Decimal(0)))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(facts(), st.sampled_from([None, "330000", "330400", "330402", "310000"]),
       st.sampled_from(["seller", "buyer"]))
def test_every_breakdown_sums_to_the_total(items, parent, side):
    scoped = [f for f in items if ind.in_region(f.region(side), parent)]
    t = ind.totals(scoped)
    assert t.total == sum((f.total for f in scoped), Decimal(0))
    for by in ("type", "sub_type", "field", "seller_type", "buyer_type", "month", "quarter"):
        rows = ind.breakdown_rows(scoped, by)
        assert _sum_rows(rows) == (t.count, t.total, t.tech), by
    rows = ind.breakdown_rows(items, "region", parent=parent, side=side)
    assert _sum_rows(rows) == (t.count, t.total, t.tech)
    # Every region bucket lies inside the parent and the buckets are distinct.
    keys = [r["key"] for r in rows]
    assert len(keys) == len(set(keys))
    assert all(parent is None or ind.in_region(k, parent) for k in keys)
    conv = ind.breakdown_rows(scoped, "conversion")
    with_mode = [f for f in scoped if f.conversion_mode]
    assert _sum_rows(conv) == (len(with_mode), sum((f.total for f in with_mode), Decimal(0)),
                               sum((f.tech for f in with_mode), Decimal(0)))


@settings(max_examples=40, deadline=None)
@given(facts())
def test_region_rollup_is_consistent_across_levels(items):
    """The province's row in the national table equals the sum of its cities' rows."""
    national = {r["key"]: r for r in ind.breakdown_rows(items, "region", parent=None)}
    zj = ind.breakdown_rows(items, "region", parent="330000")
    if "330000" in national:
        assert _sum_rows(zj)[1] == national["330000"]["total_amount"]
    else:
        assert zj == []
    jx_city = {r["key"]: r for r in zj}.get("330400")
    jx = ind.breakdown_rows(items, "region", parent="330400")
    assert _sum_rows(jx)[1] == (jx_city["total_amount"] if jx_city else 0)


@settings(max_examples=40, deadline=None)
@given(facts())
def test_monthly_series_sums_to_the_year(items):
    months = ind.group(items, lambda f: f.registered_on.month)
    assert sum((t.total for t in months.values()), Decimal(0)) == ind.totals(items).total
