"""Importers for the spreadsheets bureaus exchange: XLSX/CSV with Chinese column headers.

``import_file(session, actor, data, filename, kind, partial=False, dry_run=False)`` reads a
file of technical problems (``problem``), achievements (``achievement``) or technology
contracts (``contract``) and returns an :class:`ImportReport`:

- every row is validated first; each problem is reported with its spreadsheet row number,
  the column and a Chinese message;
- all-or-nothing by default: one bad row and nothing is written; ``partial=True`` writes the
  good rows and reports the bad ones; ``dry_run=True`` validates and writes nothing;
- rows that duplicate an existing listing (same normalised title and owner) or contract
  (same 登记号), or an earlier row of the file, are reported and not imported;
- listings enter as ``source="imported"``, ``status="pending_review"`` (the bureau publishes
  them after review) and are indexed after commit like any other listing; owners are
  resolved as the crawler does (:mod:`core.accounts.owners`): by credit code, then by name, else
  a new organization, not approved (with a placeholder credit code when the row has none);
- contracts are registered through ``core.contracts.service.register`` (source
  ``imported``); parties that match a platform organization (by credit code or exact name)
  are linked to it.

The caller owns the transaction (the service flushes, never commits).
``template(kind, fmt)`` builds the downloadable template with the same headers.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy.orm import Session

from core import audit
from core import permissions as perm
from core.contracts import importers as contract_importers
from core.errors import DomainError, ValidationFailed
from core.imports import values as V
from core.imports.base import MAX_ROWS, Column, ImportKind, ImportReport, Row, map_headers, read_rows
from core.listings import importers as listing_importers

#: every kind a bureau can import, from the domains that own them
IMPORT_KINDS: dict[str, ImportKind] = {**listing_importers.IMPORT_KINDS, "contract": contract_importers.IMPORT_KIND}
KINDS = tuple(IMPORT_KINDS)
KIND_LABELS = {k: s.label for k, s in IMPORT_KINDS.items()}


def import_kind(kind: str) -> ImportKind:
    try:
        return IMPORT_KINDS[kind]
    except KeyError:
        raise ValidationFailed(f"未知的导入类型：{kind}（可选：{'、'.join(KINDS)}）", field="kind") from None


def columns(kind: str) -> tuple[Column, ...]:
    return import_kind(kind).columns()


def can_import(user) -> bool:
    """Bulk imports are the bureau's (and admin's) work."""
    return perm.is_staff(user)


def import_file(session: Session, actor, data: bytes, filename: str, kind: str, *,
                partial: bool = False, dry_run: bool = False) -> ImportReport:
    """Validate and import a spreadsheet; see the module docstring. Raises ValidationFailed
    only for an unreadable file; row problems are in the report."""
    spec = import_kind(kind)
    cols = spec.columns()
    if actor is not None:
        perm.require(can_import(actor), "只有科技局可以批量导入")
    report = ImportReport(kind=kind, label=spec.label, filename=Path(filename or "").name, dry_run=dry_run,
                          partial=partial)
    if not data:
        raise ValidationFailed("文件为空", field="file", code="empty_file")
    rows = read_rows(data, filename)
    if not rows:
        report.status = "empty"
        return report
    header_row, header = rows[0]
    index = map_headers(header, cols, report, header_row)
    body = rows[1:]
    report.total_rows = len(body)
    if report.errors:
        report.status = "rejected"
        return report
    if not body:
        report.status = "empty"
        return report

    by_key = {c.key: c for c in cols}
    parsed: list[Row] = []
    for number, cells in body:
        values, ok = {}, True
        for key, i in index.items():
            col = by_key[key]
            cell = cells[i] if i < len(cells) else None
            if V.is_blank(cell):
                if col.required:
                    report.add_error(number, col.header, "必填项不能为空", key)
                    ok = False
                continue
            try:
                values[key] = col.parse(cell) if col.parse else cell
            except ValueError as e:
                report.add_error(number, col.header, str(e), key)
                ok = False
        if ok:
            row = Row(number, values)
            if spec.validate_row(session, row, by_key, report):
                parsed.append(row)
    report.valid_rows = len(parsed)
    to_write = spec.drop_duplicates(session, parsed, report)

    if dry_run:
        report.status = "dry_run"
        return report
    if report.errors and not partial:
        report.status = "rejected"
        return report
    if _write(session, actor, spec, to_write, report):
        report.status = "partial" if report.errors else "imported"
    else:
        report.status = "rejected"
    audit.record(session, actor, "import.file", kind, None,
                 {"file": report.filename, "rows": report.total_rows, "imported": report.imported,
                  "errors": report.error_rows, "duplicates": len(report.duplicates),
                  "ids": report.created_ids[:1000]})
    return report


def _write(session: Session, actor, spec: ImportKind, rows: list[Row], report: ImportReport) -> bool:
    """Each row in a savepoint: with ``partial`` a row that fails on write is reported and
    the others stay; without it the first failure undoes every row of the file and the
    result is False (the file is rejected)."""
    def write_one(r: Row) -> int:
        return spec.write_row(session, actor, r)

    if report.partial:
        for r in rows:
            try:
                with session.begin_nested():
                    report.created_ids.append(write_one(r))
            except DomainError as e:
                report.add_error(r.number, "", e.message, e.field)
        report.imported = len(report.created_ids)
        return True
    created: list[int] = []
    try:
        with session.begin_nested():
            for r in rows:
                created.append(write_one(r))
    except DomainError as e:
        report.add_error(r.number, "", e.message, e.field)
        report.created_ids, report.imported = [], 0
        return False
    report.created_ids, report.imported = created, len(created)
    return True


# ----------------------------------------------------------------------------- template

def template(kind: str, fmt: str = "xlsx") -> tuple[bytes, str, str]:
    """(bytes, filename, media type) of the import template for ``kind``."""
    spec = import_kind(kind)
    cols, label = spec.columns(), spec.label
    if fmt == "csv":
        buf = io.StringIO()
        csv.writer(buf).writerow([c.template_header for c in cols])
        return buf.getvalue().encode("utf-8-sig"), f"{label}导入模板.csv", "text/csv; charset=utf-8"
    if fmt != "xlsx":
        raise ValidationFailed("模板格式只能是 xlsx 或 csv", field="format")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = f"{label}"
    bold = Font(bold=True)
    red = Font(bold=True, color="C00000")
    fill = PatternFill("solid", fgColor="FFF2CC")
    for i, c in enumerate(cols, start=1):
        cell = ws.cell(row=1, column=i, value=c.template_header)
        cell.font = red if c.required else bold
        cell.fill = fill
        cell.alignment = Alignment(horizontal="center", vertical="center")
        if c.help:
            cell.comment = Comment(c.help, "techmatch")
        ws.column_dimensions[get_column_letter(i)].width = max(12, min(40, len(c.template_header) * 2 + 4))
        if c.choices and c.parse not in (V.parse_fields, V.parse_coop_modes, V.parse_transfer_modes):
            formula = '"' + ",".join(c.choices) + '"'
            if len(formula) <= 255:
                dv = DataValidation(type="list", formula1=formula, allow_blank=True)
                dv.error = f"请从列表中选择{c.header}"
                ws.add_data_validation(dv)
                dv.add(f"{get_column_letter(i)}2:{get_column_letter(i)}{MAX_ROWS + 1}")
    ws.freeze_panes = "A2"
    guide = wb.create_sheet("填写说明")
    guide.append(["列名", "是否必填", "说明", "示例"])
    for cell in guide[1]:
        cell.font = bold
    for c in cols:
        guide.append([c.header, "必填" if c.required else "选填", c.help, c.example])
    guide.append([])
    guide.append(["说明", "", "第一个工作表第一行为列名，请勿修改；从第二行起每行一条记录。带 * 的列必填。"
                  "默认全部校验通过才导入；与平台已有记录重复的行不会导入，并在报告中列出。", ""])
    for col, width in zip("ABCD", (22, 10, 70, 40)):
        guide.column_dimensions[col].width = width
    buf = io.BytesIO()
    wb.save(buf)
    return (buf.getvalue(), f"{label}导入模板.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
