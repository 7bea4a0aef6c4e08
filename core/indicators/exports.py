"""Indicator report exports (XLSX/CSV)."""
from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from core import permissions as perm
from core import regions
from core.exports import (
    AMOUNT_HEADERS,
    CSV_TYPE,
    XLSX_TYPE,
    Table,
    amount_cells,
    to_csv,
    to_xlsx,
)
from core.indicators import service as indicators
from core.money import to_wan


def _breakdown_table(title: str, key_header: str, data: dict) -> Table:
    t = Table(title, [key_header, "合同数（项）", *AMOUNT_HEADERS, "成交额占比（%）"])
    t.money_columns = {2, 3, 4, 5}
    for r in data["rows"]:
        t.rows.append([r["label"], r["count"], *amount_cells(r["total_amount"], r["tech_amount"]), r["share_pct"]])
    tot = data["total"]
    t.total = ["合计", tot["count"], *amount_cells(tot["total_amount"], tot["tech_amount"]), ""]
    return t


@indicators.with_fact_cache
def indicator_tables(session: Session, viewer, year: int, region: str | None = None,
                     as_of: date | None = None) -> list[Table]:
    """The indicator tables as shown on the dashboard (same service calls, same figures)."""
    s = indicators.summary(session, viewer, year, region, as_of)
    where = s["region_name"]
    tables = []
    t = Table(f"{year}年指标汇总", ["指标", "本年累计", "上年同期", "同比增长（%）", "单位", "说明"])
    for key, side in (("contracts", "输出"), ("absorbed", "吸纳")):
        b = s[key]
        ly = b["last_year_same_period"]
        note = f"{where}，截至 {s['as_of']}，按登记日期；{'卖方' if key == 'contracts' else '买方'}所在地"
        t.add_money_row([f"技术合同成交额（{side}）", b["total_amount_wan"], ly["total_amount_wan"],
                         b["growth_pct"]["total_amount"], "万元", note], (1, 2))
        t.add_money_row([f"技术交易额（{side}）", b["tech_amount_wan"], ly["tech_amount_wan"],
                         b["growth_pct"]["tech_amount"], "万元", "不含设备、材料等非技术性费用"], (1, 2))
        t.rows.append([f"技术合同登记数（{side}）", b["count"], ly["count"], b["growth_pct"]["count"], "项", ""])
    conv = s["conversion"]
    t.rows.append(["成果转化项数", conv["items"], "", "", "项", "转让、许可、作价投资"])
    t.add_money_row(["成果转化金额", conv["amount_wan"], "", "", "万元", ""], (1,))
    for key, a in s["activities"].items():
        t.rows.append([a["label"], a["value"], a["last_year_same_period"], a["growth_pct"],
                       indicators.INDICATORS[key].unit_label, ""])
    tables.append(t)

    if s["targets"]:
        tt = Table("目标进度", ["指标", "地区", "年度目标", "实际完成", "完成率（%）", "时间进度（%）",
                              "应完成", "预计全年", "推算方法", "状态"])
        for r in s["targets"]:
            money = r["unit"] == "money"
            conv_v = (lambda v: to_wan(v) if (money and v is not None) else v)
            tt.add_money_row([r["label"] + ("（万元）" if money else ""), r["region_name"], conv_v(r["target"]),
                              conv_v(r["actual"]), r["progress_pct"], r["time_elapsed_pct"],
                              conv_v(r["expected_by_now"]), conv_v(r["projection"]), r["projection_method_text"],
                              r["status_label"]], (2, 3, 6, 7) if money else ())
        tables.append(tt)

    ser = indicators.series(session, viewer, year, region, "seller")
    mt = Table("按月（输出）", ["月份", "合同数（项）", *AMOUNT_HEADERS, "上年同月成交额（万元）", "同比增长（%）"])
    mt.money_columns = {2, 3, 4, 5}
    for m in ser["months"]:
        mt.rows.append([m["label"], m["count"], *amount_cells(m["total_amount"], m["tech_amount"]),
                        m["last_year"]["total_amount_wan"], m["growth_pct"]])
    tot = ser["total"]
    mt.total = ["合计", tot["count"], *amount_cells(tot["total_amount"], tot["tech_amount"]),
                ser["last_year_total"]["total_amount_wan"], ""]
    tables.append(mt)

    for by, side, title, header in (("region", "seller", "按地区（输出）", "地区"),
                                    ("region", "buyer", "按地区（吸纳）", "地区"),
                                    ("type", "seller", "按合同类型", "合同类型"),
                                    ("field", "seller", "按技术领域", "技术领域"),
                                    ("seller_type", "seller", "按卖方类型", "卖方类型"),
                                    ("conversion", "seller", "成果转化", "转化方式")):
        data = indicators.breakdown(session, viewer, year, by, region, side, as_of=s["as_of"])
        tables.append(_breakdown_table(title, header, data))
    return tables


def export_indicators(session: Session, viewer, year: int, region: str | None = None, fmt: str = "xlsx",
                      table: str | None = None, as_of: date | None = None) -> tuple[bytes, str, str]:
    if viewer is not None:
        perm.require(indicators.can_view_indicators(viewer), "只有科技局和技术经纪人可以导出指标")
        region = perm.scope_region(viewer, region)  # a bureau's export opens on its own region
    tables = indicator_tables(session, viewer, year, region, as_of)
    stem = f"科技指标_{year}" + (f"_{regions.name(region)}" if region else "")
    if fmt == "csv":
        chosen = tables[0]
        if table:
            matches = [t for t in tables if t.title == table]
            if not matches:
                from core.errors import ValidationFailed
                raise ValidationFailed("未知的表：" + table + "；可选：" + "、".join(t.title for t in tables),
                                       field="table")
            chosen = matches[0]
        return to_csv(chosen), f"{stem}_{chosen.title}.csv", CSV_TYPE
    return to_xlsx(tables), stem + ".xlsx", XLSX_TYPE
