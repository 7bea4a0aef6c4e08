"""XLSX (openpyxl) and CSV exports of the contract list and of the indicator tables.

Headers are Chinese. Every amount appears twice: in 万元 (rounded ROUND_HALF_UP to two places
from the exact value, never from a rounded sum) and in 元 (exact to the fen). The 合计 row is
computed from the exact values, so it equals the on-screen figures to the fen; the 万元 合计 is
the rounded exact total (which may differ by a few 0.01 from the sum of rounded rows, by design).

Text is written as text: a cell that begins with = + - @ a tab or a CR (formula injection, e.g.
an organization name from self-registration) is a string cell with the quote prefix in XLSX and
is prefixed with an apostrophe in CSV, so no spreadsheet evaluates it.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from core.money import to_wan

__all__ = ["Table", "to_xlsx", "to_csv", "XLSX_TYPE", "CSV_TYPE", "AMOUNT_HEADERS", "amount_cells"]


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


CSV_TYPE = "text/csv; charset=utf-8"


MONEY_FORMAT = "#,##0.00"


#: What makes Excel, LibreOffice or Sheets read a cell as a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def is_formula_like(v) -> bool:
    return isinstance(v, str) and v.startswith(FORMULA_START)


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list] = field(default_factory=list)
    total: list | None = None  # the 合计 row
    money_columns: set[int] = field(default_factory=set)  # column indexes holding Decimal amounts
    money_cells: set[tuple[int, int]] = field(default_factory=set)  # (row, column) amounts elsewhere

    def add_money_row(self, row: list, columns) -> None:
        """Append a row whose ``columns`` hold amounts (in a table that mixes units per row)."""
        self.money_cells.update((len(self.rows), c) for c in columns)
        self.rows.append(row)


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

        def cells(row, total=False, ri=-1):
            out = []
            for i, v in enumerate(row):
                # Decimals are written as they are (openpyxl formats them with 16 significant
                # digits, so amounts below 10^14 yuan come back exact to the fen).
                money = i in t.money_columns or (ri, i) in t.money_cells
                if is_formula_like(v):
                    c = WriteOnlyCell(ws, v)
                    c.data_type, c.quotePrefix = "s", True  # text, never a formula
                    if total:
                        c.font = bold
                    out.append(c)
                elif total or (money and isinstance(v, Decimal)):
                    c = WriteOnlyCell(ws, v)
                    if isinstance(v, Decimal) and money:
                        c.number_format = MONEY_FORMAT
                    if total:
                        c.font = bold
                    out.append(c)
                else:
                    out.append(v)
            return out

        for ri, row in enumerate(t.rows):
            ws.append(cells(row, ri=ri))
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
    if is_formula_like(v):
        return "'" + v
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


def amount_cells(total: Decimal, tech: Decimal) -> list:
    return [to_wan(total), to_wan(tech), total, tech]


AMOUNT_HEADERS = ["合同成交额（万元）", "技术交易额（万元）", "合同成交额（元）", "技术交易额（元）"]
