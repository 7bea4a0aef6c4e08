"""The cultivation pool to XLSX, and the bureau's XLSX import of profiles (row-level errors,
in the style of ``core.imports`` (base report, reading): all-or-nothing by default, ``partial`` and ``dry_run``).

Text cells that a spreadsheet would run as a formula (beginning with = + - @, a tab or a
carriage return) are written as text, never as formulas.
"""
from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, regions
from core.errors import DomainError, ValidationFailed
from core.imports import values as V
from core.imports.base import ImportReport, norm_header, read_rows
from core.models import Organization
from core.qualification import service as Q
from core.qualification.schemas import LABELS, StoredProfileIn, field_label, parse_profile

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(ws, v, bold=False):
    c = WriteOnlyCell(ws, v)
    if isinstance(v, str) and v.startswith(FORMULA_START):
        c.data_type = "s"  # text, not a formula
        c.quotePrefix = True
    if bold:
        c.font = Font(bold=True)
        c.fill = PatternFill("solid", fgColor="DDEBF7")
    return c


def to_xlsx(title: str, headers: list[str], rows: list[list]) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title[:31])
    ws.freeze_panes = "A2"
    ws.append([_cell(ws, h, bold=True) for h in headers])
    for r in rows:
        ws.append([_cell(ws, v) for v in r])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


POOL_HEADERS = ["企业名称", "统一社会信用代码", "地区代码", "地区", "梯度", "画像年度", "科小是否符合", "科小途径",
                "科小得分", "高企门槛", "创新能力估分（低）", "创新能力估分（高）", "未满足条件", "科小入库年度",
                "高企认定年度", "高企证书最迟到期"]


def pool_rows(data: dict) -> list[list]:
    rows = []
    for r in data["rows"]:
        p = r.profile
        yes = lambda v: "" if v is None else ("是" if v else "否")  # noqa: E731
        rows.append([r.org.name, r.org.credit_code, r.org.region, regions.full_name(r.org.region), r.rung_label,
                     p.evaluation_year if p else "", yes(p.sme_eligible) if p else "",
                     {"direct": "直接认定", "score": "评分"}.get(p.sme_route or "", "") if p else "",
                     p.sme_score if p and p.sme_score is not None else "",
                     ("达到" if p.hnte_meets else "未达到") if p and p.hnte_meets is not None else "",
                     p.innovation_low if p and p.innovation_low is not None else "",
                     p.innovation_high if p and p.innovation_high is not None else "",
                     "；".join(Q.GAP_LABELS.get(c, c) for c in (p.failed or [])) if p else "",
                     r.org.sme_year or "", r.org.hnte_year or "",
                     r.hnte_valid_until.isoformat() if r.hnte_valid_until else ""])
    return rows


def export_pool(session: Session, viewer, year: int) -> tuple[bytes, str]:
    data = Q.pool(session, viewer, year)
    return to_xlsx(f"{year}年梯度培育库", POOL_HEADERS, pool_rows(data)), f"梯度培育库-{year}.xlsx"


# ----------------------------------------------------------------- import

ORDINAL = {1: "第一年", 2: "第二年", 3: "第三年"}
YEARLY = ("sales", "rd_expense", "rd_expense_domestic", "net_assets", "conversions")
BOOLS = ("resident", "field_supported", "hnte_certificate_valid", "national_award_top3_5y",
         "provincial_rd_institution", "led_standard_5y", "prohibited_products", "major_incident",
         "on_blacklist", "hnte_applied")


def _unit(key: str) -> str:
    if key in ("conversions",):
        return "（项）"
    if key in ("employees", "tech_staff"):
        return "（人）"
    if key in ("ip_class1", "ip_class2"):
        return "（项）"
    if key in ("sales", "rd_expense", "rd_expense_domestic", "net_assets", "total_assets", "total_costs",
               "hitech_income", "total_income"):
        return "（万元）"
    return ""


def columns() -> list[tuple[str, str, int | None]]:
    """(header, key, year offset 1..3 for yearly columns) — years are evaluation year −3 … −1."""
    cols = [("统一社会信用代码", "credit_code", None), ("评价年度", "evaluation_year", None)]
    for k in ("application_date", "registered_on", "resident", "employees", "tech_staff"):
        cols.append((LABELS[k] + _unit(k), k, None))
    for k in YEARLY:
        for i in (1, 2, 3):
            cols.append((f"{LABELS[k]}{_unit(k)}{ORDINAL[i]}", k, i))
    for k in ("total_assets", "total_costs", "hitech_income", "total_income", "ip_class1", "ip_class2",
              *BOOLS[1:], "main_products"):
        cols.append((LABELS[k] + _unit(k), k, None))
    return cols


def template() -> tuple[bytes, str]:
    headers = [h for h, _, _ in columns()]
    example = ["91330421MA2B000000", 2026, "2026-06-15", "2015-03-20", "是", 100, 25,
               "3200.00", "3600.00", "4000.00", "150", "170", "180", "150", "170", "180",
               "1000", "1200", "1500", 2, 1, 3, "5200.00", "3500.00", "2800.00", "4100.00", 0, 2,
               "是", "否", "否", "否", "否", "否", "否", "否", "否", "锂电池正极材料"]
    return to_xlsx("企业画像导入模板", headers, [example]), "企业画像导入模板.xlsx"


def _bool(v) -> bool:
    t = str(v).strip().lower()
    if t in ("是", "y", "yes", "true", "1", "√"):
        return True
    if t in ("否", "n", "no", "false", "0", "×"):
        return False
    raise ValueError("请填写“是”或“否”")


def _text(v) -> str:
    if isinstance(v, Decimal):
        return f"{v:f}"
    if isinstance(v, float):
        # openpyxl gives floats for numeric cells; their shortest repr is what was typed
        return repr(v)
    if isinstance(v, (date,)):
        return v.isoformat()[:10]
    return str(v).strip()


def import_profiles(session: Session, actor, data: bytes, filename: str, *, partial: bool = False,
                    dry_run: bool = False) -> ImportReport:
    cols = columns()
    report = ImportReport(kind="profile", label="企业画像", filename=filename or "", dry_run=dry_run,
                          partial=partial)
    if not data:
        raise ValidationFailed("文件为空", field="file", code="empty_file")
    if actor is not None:
        Q.jurisdiction_prefix(actor)  # bureaus and admins only
    rows = read_rows(data, filename)
    if not rows:
        report.status = "empty"
        return report
    header_row, header = rows[0]
    by_name = {norm_header(h): (h, k, i) for h, k, i in cols}
    index = {}
    for pos, h in enumerate(header):
        if V.is_blank(h):
            continue
        col = by_name.get(norm_header(h))
        if col is None:
            report.warnings.append({"row": header_row, "column": str(h), "message": f"无法识别的列“{h}”，已忽略"})
        else:
            index[(col[1], col[2])] = (pos, col[0])
    for h, k, i in cols[:7]:
        if (k, i) not in index:
            report.add_error(header_row, h, f"缺少必填列“{h}”（请使用下载的模板）")
    body = rows[1:]
    report.total_rows = len(body)
    if report.errors:
        report.status = "rejected"
        return report
    header_of = {}
    valid = []
    for number, cells in body:
        raw: dict = {k: {} for k in YEARLY}
        ok = True
        credit = ""
        for (k, i), (pos, h) in index.items():
            header_of[(k, i)] = h
            cell = cells[pos] if pos < len(cells) else None
            if V.is_blank(cell):
                continue
            if k == "credit_code":
                credit = _text(cell).upper()
            elif k in BOOLS:
                try:
                    raw[k] = _bool(cell)
                except ValueError as e:
                    report.add_error(number, h, str(e), k)
                    ok = False
            elif i is not None:
                raw[k][i] = _text(cell)
            else:
                raw[k] = _text(cell)
        org = session.scalars(select(Organization).where(Organization.credit_code == credit)).first() if credit else None
        if org is None or org.kind != "enterprise":
            report.add_error(number, "统一社会信用代码", f"平台上没有统一社会信用代码为 {credit or '（空）'} 的企业",
                             "credit_code")
            continue
        if actor is not None and not Q.in_jurisdiction(actor, org):
            report.add_error(number, "统一社会信用代码", f"{org.name} 不在本局辖区内", "credit_code")
            continue
        if not ok:
            continue
        ey = raw.get("evaluation_year", "")
        try:
            ey_int = int(Decimal(ey))
        except Exception:  # noqa: BLE001
            report.add_error(number, "评价年度", "评价年度必须是整数，如 2026", "evaluation_year")
            continue
        raw["evaluation_year"] = ey_int
        for k in YEARLY:
            raw[k] = {str(ey_int - 4 + i): v for i, v in raw[k].items()}
        for k in ("employees", "tech_staff", "ip_class1", "ip_class2"):
            if k in raw and raw[k].endswith(".0"):
                raw[k] = raw[k][:-2]
        for y, v in list(raw["conversions"].items()):
            if v.endswith(".0"):
                raw["conversions"][y] = v[:-2]
        try:
            payload = parse_profile(raw, StoredProfileIn)
            from core.qualification.schemas import to_profile
            to_profile(payload)
        except DomainError as e:
            for d in e.details or [{"field": e.field, "message": e.message}]:
                f = d.get("field") or ""
                head, _, yr = f.partition(".")
                col = header_of.get((head, int(yr) - ey_int + 4)) if yr.isdigit() else header_of.get((head, None))
                report.add_error(number, col or field_label(f), d.get("message") or e.message, head or None)
            continue
        valid.append((number, org, payload))
    report.valid_rows = len(valid)
    if dry_run:
        report.status = "dry_run"
        return report
    if report.errors and not partial:
        report.status = "rejected"
        return report
    for _number, org, payload in valid:
        p, _ = Q.save_profile(session, actor, org.id, payload, source="imported")
        report.created_ids.append(p.id)
        report.imported += 1
    report.status = "partial" if report.errors else "imported"
    audit.record(session, actor, "import.file", "profile", None,
                 {"file": report.filename, "rows": report.total_rows, "imported": report.imported,
                  "errors": report.error_rows})
    return report
