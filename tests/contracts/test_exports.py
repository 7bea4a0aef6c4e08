"""XLSX and CSV exports: Chinese headers, 万元 rounded half-up, totals equal to the fen."""
from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

from openpyxl import load_workbook

from core import exports
from core.contracts import exports as contract_exports
from core.contracts.service import ContractFilters
from core.indicators import exports as indicator_exports
from core.indicators import service as ind
from core.money import to_wan

D = Decimal
AMOUNTS = [("1234.56", "1000.00"), ("50005000.00", "50000000.00"), ("0.01", "0.00"), ("149.99", "149.99"),
           ("9999999999.99", "1.00")]


def _load(db, bureau, make_contract):
    for i, (t, k) in enumerate(AMOUNTS):
        make_contract(bureau, registered_on=date(2026, 1 + i, 10 + i), total_amount=D(t), tech_amount=D(k))
    return sum(D(t) for t, _ in AMOUNTS), sum(D(k) for _, k in AMOUNTS)


def _dec(v) -> Decimal:
    return D(str(v)).quantize(D("0.01"))


def test_contracts_xlsx_round_trip(db, bureau, make_contract):
    exact_total, exact_tech = _load(db, bureau, make_contract)
    content, filename, media = contract_exports.export_contracts(db, bureau, ContractFilters(year=2026), "xlsx")
    assert filename.endswith(".xlsx") and media == exports.XLSX_TYPE
    ws = load_workbook(io.BytesIO(content)).active
    rows = list(ws.iter_rows(values_only=True))
    head, body, total_row = rows[0], rows[1:-1], rows[-1]
    assert head[0] == "登记号" and "合同成交额（万元）" in head and "合同成交额（元）" in head
    i_wan, i_yuan, i_tech = head.index("合同成交额（万元）"), head.index("合同成交额（元）"), head.index("技术交易额（元）")
    assert len(body) == len(AMOUNTS)
    # Rows: exact yuan back to the fen, 万元 rounded half-up from the exact value.
    assert sum(_dec(r[i_yuan]) for r in body) == exact_total == _dec(total_row[i_yuan])
    assert sum(_dec(r[i_tech]) for r in body) == exact_tech == _dec(total_row[i_tech])
    for r in body:
        assert _dec(r[i_wan]) == to_wan(_dec(r[i_yuan]))
    assert _dec(total_row[i_wan]) == to_wan(exact_total)
    assert str(total_row[0]).startswith("合计")
    # Same figure as the dashboard shows.
    s = ind.summary(db, bureau, 2026, as_of=date(2026, 12, 31))
    assert s["contracts"]["total_amount"] == _dec(total_row[i_yuan])
    # Half-up: 149.99 yuan = 0.014999 万元 -> 0.01; 50005000 yuan = 5000.5 万元 -> 5000.50.
    assert to_wan(D("50.00")) == D("0.01") and to_wan(D("49.99")) == D("0.00")


def test_contracts_csv(db, bureau, make_contract):
    exact_total, _ = _load(db, bureau, make_contract)
    content, filename, media = contract_exports.export_contracts(db, bureau, ContractFilters(year=2026), "csv")
    assert content.startswith("\ufeff".encode()) and media.startswith("text/csv")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    i = rows[0].index("合同成交额（元）")
    assert sum(D(r[i]) for r in rows[1:-1]) == exact_total == D(rows[-1][i])
    assert rows[-1][rows[0].index("合同成交额（万元）")] == str(to_wan(exact_total))


def test_indicator_workbook_matches_the_service(db, bureau, make_contract):
    exact_total, exact_tech = _load(db, bureau, make_contract)
    content, _, _ = indicator_exports.export_indicators(db, bureau, 2026, None, "xlsx", as_of=date(2026, 12, 31))
    wb = load_workbook(io.BytesIO(content))
    assert {"2026年指标汇总", "按月（输出）", "按地区（输出）", "按地区（吸纳）", "按合同类型", "按技术领域",
            "按卖方类型", "成果转化"} <= set(wb.sheetnames)
    for name in ("按月（输出）", "按地区（输出）", "按地区（吸纳）", "按合同类型", "按技术领域", "按卖方类型"):
        rows = list(wb[name].iter_rows(values_only=True))
        i = rows[0].index("合同成交额（元）")
        assert sum(_dec(r[i]) for r in rows[1:-1]) == exact_total == _dec(rows[-1][i]), name
        assert sum(int(r[1]) for r in rows[1:-1]) == len(AMOUNTS) == rows[-1][1]
    summary = list(wb["2026年指标汇总"].iter_rows(values_only=True))
    assert summary[1][0] == "技术合同成交额（输出）" and _dec(summary[1][1]) == to_wan(exact_total)
    content, filename, _ = indicator_exports.export_indicators(db, bureau, 2026, None, "csv", table="按技术领域")
    assert "按技术领域" in filename and "技术领域" in content.decode("utf-8-sig").splitlines()[0]


def test_xlsx_amounts_are_exact_and_formatted_as_money(db, bureau, make_contract):
    big = D("12345678901.23")
    make_contract(bureau, registered_on=date(2026, 6, 1), total_amount=big, tech_amount=D("10000000000.01"))
    content, _, _ = contract_exports.export_contracts(db, bureau, ContractFilters(year=2026), "xlsx")
    ws = load_workbook(io.BytesIO(content)).active
    head = [c.value for c in ws[1]]
    i_yuan, i_tech = head.index("合同成交额（元）") + 1, head.index("技术交易额（元）") + 1
    for row in (2, 3):  # the contract and the 合计 row
        cell = ws.cell(row, i_yuan)
        assert _dec(cell.value) == big and str(cell.value) == "12345678901.23"
        assert cell.number_format == exports.MONEY_FORMAT
        assert _dec(ws.cell(row, i_tech).value) == D("10000000000.01")


FORMULAS = ["=HYPERLINK(\"http://evil.example\",\"点击\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)",
            "=1+2\t", "\r=1"]


def test_formula_like_cells_are_written_as_text(db, factory, bureau, make_contract):
    """Project and party names (organization names come from self-registration) that begin
    with = + - @ tab or CR are text in XLSX and apostrophe-prefixed in CSV."""
    names = []
    for i, f in enumerate(FORMULAS[:4]):
        org = factory.org("enterprise", region="330482", name=f + "有限公司")
        make_contract(bureau, project_name=f"{f}项目{i}", buyer={"org_id": org.id})
        names += [f"{f}项目{i}", org.name]
    # Leading tab/CR: not through the schemas (they strip), but the writer must hold anyway.
    t = exports.Table("t", ["a", "b"], rows=[["\t=1+2", "\r=3"], ["ok", D("-1.00")]])
    ws = load_workbook(io.BytesIO(exports.to_xlsx([t]))).worksheets[0]
    cells = list(ws.iter_rows(min_row=2, max_row=2))[0]
    assert [(c.value, c.data_type) for c in cells] == [("\t=1+2", "s"), ("\r=3", "s")]
    assert list(csv.reader(io.StringIO(exports.to_csv(t).decode("utf-8-sig"))))[1] == ["'\t=1+2", "'\r=3"]
    assert list(csv.reader(io.StringIO(exports.to_csv(t).decode("utf-8-sig"))))[2] == ["ok", "-1.00"]

    content, _, _ = contract_exports.export_contracts(db, bureau, ContractFilters(), "xlsx")
    ws = load_workbook(io.BytesIO(content)).worksheets[0]
    seen = {c.value: c for row in ws.iter_rows(min_row=2) for c in row if isinstance(c.value, str)}
    for n in names:
        assert n in seen, n
        assert seen[n].data_type == "s" and seen[n].quotePrefix, n
    content, _, _ = contract_exports.export_contracts(db, bureau, ContractFilters(), "csv")
    flat = [v for row in csv.reader(io.StringIO(content.decode("utf-8-sig"))) for v in row]
    for n in names:
        assert "'" + n in flat and n not in flat, n
