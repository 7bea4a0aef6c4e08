"""The bureau dashboard's view model: figures from core.indicators.service, shaped for the
template and the charts. Every number comes from the service; here only 万元 display
conversion (core.money.to_wan) and chart series."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm import Session

from core import permissions as perm
from core.indicators import service as indicators
from core.money import to_wan
from core.settings import get_settings

BREAKDOWN_VIEWS = [
    ("region", "seller", "按地区（输出）"),
    ("region", "buyer", "按地区（吸纳）"),
    ("type", "seller", "按合同类型"),
    ("field", "seller", "按技术领域"),
    ("conversion", "seller", "成果转化方式"),
]


def _wan_float(v) -> float:
    """Chart coordinates only (tables show the exact 万元 strings)."""
    return float(to_wan(Decimal(v))) if v is not None else 0.0


def build(session: Session, viewer, year: int, region: str | None) -> dict:
    with indicators.fact_cache():  # summary, series, targets and breakdowns share one load of facts
        return _build(session, viewer, year, region)


def _build(session: Session, viewer, year: int, region: str | None) -> dict:
    summary = indicators.summary(session, viewer, year, region)
    series = indicators.series(session, viewer, year, region, "seller")
    target_rows = indicators.targets(session, viewer, year, region)
    breakdowns = []
    for by, side, title in BREAKDOWN_VIEWS:
        b = indicators.breakdown(session, viewer, year, by, region, side, as_of=summary["as_of"])
        b["view_title"] = title
        b["chart"] = [{"name": r.get("label") or str(r.get("key")), "value": _wan_float(r.get("total_amount"))}
                      for r in b["rows"]]
        breakdowns.append(b)
    months = series["months"]
    chart = {
        "months": [m["label"] for m in months],
        "current": [_wan_float(m["total_amount"]) for m in months],
        "tech": [_wan_float(m["tech_amount"]) for m in months],
        "last_year": [_wan_float(m["last_year"]["total_amount"]) for m in months],
        "cumulative": [_wan_float(m["cumulative_total_amount"]) for m in months],
        "breakdowns": [{"id": f"bd-{i}", "title": b["view_title"], "data": b["chart"]}
                       for i, b in enumerate(breakdowns)],
    }
    behind = [t for t in target_rows if t["behind_schedule"]]
    return {"s": summary, "series": series, "targets": target_rows, "breakdowns": breakdowns,
            "chart": chart, "behind": behind}


def headline(session: Session, year: int, viewer=None) -> dict:
    """Public headline figures for the home page (aggregates only; system view), for the
    viewer's jurisdiction when a bureau account looks, else for the platform's region
    (settings.platform_region; all regions by default). ``region_name`` names that region."""
    region = perm.jurisdiction(viewer) or get_settings().platform_region or None
    s = indicators.summary(session, None, year, region)
    c, a = s["contracts"], s["activities"]
    return {"region": s["region"], "region_name": s["region_name"], "items": [
        {"label": f"{year}年技术合同成交额", "display": f"{c['total_amount_wan']:,}万元"},
        {"label": "技术交易额", "display": f"{c['tech_amount_wan']:,}万元"},
        {"label": "成果转化", "display": f"{s['conversion']['items']}项"},
        {"label": a["recommended"]["label"], "display": f"{a['recommended']['value']}项"},
        {"label": a["solved_problems"]["label"], "display": f"{a['solved_problems']['value']}项"},
        {"label": a["events"]["label"], "display": f"{a['events']['value']}场"},
    ]}
