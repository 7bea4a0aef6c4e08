"""XLSX (openpyxl) and CSV exports of the contract list and of the indicator tables.

Headers are Chinese. Every amount appears twice: in 万元 (rounded ROUND_HALF_UP to two places
from the exact value, never from a rounded sum) and in 元 (exact to the fen). The 合计 row is
computed from the exact values, so it equals the on-screen figures to the fen; the 万元 合计 is
the rounded exact total (which may differ by a few 0.01 from the sum of rounded rows, by design).
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlalchemy.orm import Session

from core import permissions as perm
from core.contract_schemas import ContractOut
from core import regions
from core.money import to_wan
from core.services import contracts as contract_service
from core.services import indicators

__all__ = ["Table", "contracts_table", "indicator_tables", "to_xlsx", "to_csv", "export_contracts",
           "export_indicators", "XLSX_TYPE", "CSV_TYPE"]

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"
MONEY_FORMAT = "#,##0.00"


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list] = field(default_factory=list)
    total: list | None = None  # the 合计 row
    money_columns: set[int] = field(default_factory=set)  # column indexes holding Decimal amounts


def _amounts(total: Decimal, tech: Decimal) -> list:
    return [to_wan(total), to_wan(tech), total, tech]


AMOUNT_HEADERS = ["合同成交额（万元）", "技术交易额（万元）", "合同成交额（元）", "技术交易额（元）"]


def contracts_table(items: list[ContractOut]) -> Table:
    headers = ["登记号", "项目名称", "合同类型", "合同子类", "转化方式", "签订日期", "登记日期", "卖方",
               "卖方地区代码", "卖方地区", "卖方类型", "买方", "买方地区代码", "买方地区", "买方类型",
               *AMOUNT_HEADERS, "技术领域", "知识产权类型", "状态", "来源"]
    t = Table("技术合同", headers)
    first_money = headers.index(AMOUNT_HEADERS[0])
    t.money_columns = set(range(first_money, first_money + 4))
    sum_total, sum_tech = Decimal("0.00"), Decimal("0.00")
    for o in items:
        t.rows.append([o.reg_number, o.project_name, o.contract_type_label, o.sub_type_label or "",
                       o.conversion_mode_label or "", o.signed_on, o.registered_on, o.seller.name,
                       o.seller.region, o.seller.region_name, o.seller.party_type_label, o.buyer.name,
                       o.buyer.region, o.buyer.region_name, o.buyer.party_type_label,
                       *_amounts(o.total_amount, o.tech_amount), o.field, o.ip_type_label or "",
                       o.status_label, o.source])
        sum_total += o.total_amount
        sum_tech += o.tech_amount
    t.total = [f"合计（{len(t.rows)} 项）"] + [""] * (first_money - 1) + _amounts(sum_total, sum_tech) \
        + [""] * (len(headers) - first_money - 4)
    return t


def _breakdown_table(title: str, key_header: str, data: dict) -> Table:
    t = Table(title, [key_header, "合同数（项）", *AMOUNT_HEADERS, "成交额占比（%）"])
    t.money_columns = {2, 3, 4, 5}
    for r in data["rows"]:
        t.rows.append([r["label"], r["count"], *_amounts(r["total_amount"], r["tech_amount"]), r["share_pct"]])
    tot = data["total"]
    t.total = ["合计", tot["count"], *_amounts(tot["total_amount"], tot["tech_amount"]), ""]
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
        t.rows.append([f"技术合同成交额（{side}）", b["total_amount_wan"], ly["total_amount_wan"],
                       b["growth_pct"]["total_amount"], "万元", note])
        t.rows.append([f"技术交易额（{side}）", b["tech_amount_wan"], ly["tech_amount_wan"],
                       b["growth_pct"]["tech_amount"], "万元", "不含设备、材料等非技术性费用"])
        t.rows.append([f"技术合同登记数（{side}）", b["count"], ly["count"], b["growth_pct"]["count"], "项", ""])
    conv = s["conversion"]
    t.rows.append(["成果转化项数", conv["items"], "", "", "项", "转让、许可、作价投资"])
    t.rows.append(["成果转化金额", conv["amount_wan"], "", "", "万元", ""])
    for key, a in s["activities"].items():
        t.rows.append([a["label"], a["value"], a["last_year_same_period"], a["growth_pct"], "项" if key not in (
            "event_attendance",) else "人次", ""])
    tables.append(t)

    if s["targets"]:
        tt = Table("目标进度", ["指标", "地区", "年度目标", "实际完成", "完成率（%）", "时间进度（%）",
                              "应完成", "预计全年", "推算方法", "是否滞后"])
        for r in s["targets"]:
            money = r["unit"] == "money"
            conv_v = (lambda v: to_wan(v) if (money and v is not None) else v)
            tt.rows.append([r["label"] + ("（万元）" if money else ""), r["region_name"], conv_v(r["target"]),
                            conv_v(r["actual"]), r["progress_pct"], r["time_elapsed_pct"],
                            conv_v(r["expected_by_now"]), conv_v(r["projection"]), r["projection_method_text"],
                            "滞后" if r["behind_schedule"] else "正常"])
        tables.append(tt)

    ser = indicators.series(session, viewer, year, region, "seller")
    mt = Table("按月（输出）", ["月份", "合同数（项）", *AMOUNT_HEADERS, "上年同月成交额（万元）", "同比增长（%）"])
    mt.money_columns = {2, 3, 4, 5}
    for m in ser["months"]:
        mt.rows.append([m["label"], m["count"], *_amounts(m["total_amount"], m["tech_amount"]),
                        m["last_year"]["total_amount_wan"], m["growth_pct"]])
    tot = ser["total"]
    mt.total = ["合计", tot["count"], *_amounts(tot["total_amount"], tot["tech_amount"]),
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


# ----------------------------------------------------------------- writers

def to_xlsx(tables: list[Table]) -> bytes:
    """Write-only workbook (streams rows: ~10k contracts/s), one sheet per table."""
    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="DDEBF7")
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for t in tables:
        ws = wb.create_sheet(t.title[:31])
        for col in range(1, len(t.headers) + 1):
            ws.column_dimensions[get_column_letter(col)].width = max(
                10, min(40, len(str(t.headers[col - 1])) * 2 + 2))
        ws.freeze_panes = "A2"
        head = []
        for h in t.headers:
            c = WriteOnlyCell(ws, h)
            c.font, c.fill, c.alignment = bold, head_fill, center
            head.append(c)
        ws.append(head)

        def cells(row, total=False):
            out = []
            for i, v in enumerate(row):
                # Decimals are written as they are (openpyxl formats them with 16 significant
                # digits, so amounts below 10^14 yuan come back exact to the fen).
                if total or (i in t.money_columns and isinstance(v, Decimal)):
                    c = WriteOnlyCell(ws, v)
                    if isinstance(v, Decimal) and i in t.money_columns:
                        c.number_format = MONEY_FORMAT
                    if total:
                        c.font = bold
                    out.append(c)
                else:
                    out.append(v)
            return out

        for row in t.rows:
            ws.append(cells(row))
        if t.total is not None:
            ws.append(cells(t.total, total=True))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _csv_value(v):
    if v is None:
        return ""
    if isinstance(v, Decimal):
        return f"{v:f}"
    return str(v)


def to_csv(table: Table) -> bytes:
    """UTF-8 with BOM so that Excel opens the Chinese headers correctly."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(table.headers)
    for row in table.rows:
        w.writerow([_csv_value(v) for v in row])
    if table.total is not None:
        w.writerow([_csv_value(v) for v in table.total])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


# ----------------------------------------------------------------- entry points

def export_contracts(session: Session, viewer, filters: contract_service.ContractFilters | None = None,
                     fmt: str = "xlsx", *, as_system: bool = False) -> tuple[bytes, str, str]:
    """(content, filename, media type) of the contracts the viewer may see (all: as_system)."""
    f = filters or contract_service.ContractFilters()
    items = contract_service.all_for(session, viewer, f, as_system=as_system)
    table = contracts_table([contract_service.to_out(session, c, with_history=False) for c in items])
    stem = f"技术合同_{f.year or '全部'}" + (f"_{regions.name(f.region)}" if f.region else "")
    if fmt == "csv":
        return to_csv(table), stem + ".csv", CSV_TYPE
    return to_xlsx([table]), stem + ".xlsx", XLSX_TYPE


def export_indicators(session: Session, viewer, year: int, region: str | None = None, fmt: str = "xlsx",
                      table: str | None = None, as_of: date | None = None) -> tuple[bytes, str, str]:
    if viewer is not None:
        perm.require(indicators.can_view_indicators(viewer), "只有科技局和技术经纪人可以导出指标")
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
