"""Annual-only indicators say when they are counted; indicator XLSX amounts are formatted."""
from __future__ import annotations

import io
from decimal import Decimal

from openpyxl import load_workbook

from core.exports import MONEY_FORMAT, Table, to_xlsx
from core.indicators.service import _spec, target_status


def test_annual_indicator_at_zero_is_not_called_on_track_before_year_end():
    sme = _spec("sme")
    assert target_status(sme, Decimal(0), Decimal(80), False, False, 2026) == {
        "status": "annual", "status_label": "按年度认定结果计入，2026年底统计"}
    assert target_status(sme, Decimal(0), Decimal(80), True, True, 2026)["status"] == "behind"
    assert target_status(sme, Decimal(90), Decimal(80), False, False, 2026)["status"] == "done"
    turnover = _spec("contract_turnover")
    assert target_status(turnover, Decimal(10), Decimal(80), False, False, 2026)["status_label"] == "正常"
    assert target_status(turnover, Decimal(1), Decimal(80), True, False, 2026)["status_label"] == "进度滞后"


def test_amounts_in_mixed_tables_are_formatted_per_cell():
    t = Table("汇总", ["指标", "本年累计"])
    t.add_money_row(["技术合同成交额", Decimal("4494.00")], (1,))
    t.rows.append(["技术合同登记数", 233])
    ws = load_workbook(io.BytesIO(to_xlsx([t]))).worksheets[0]
    assert ws["B2"].number_format == MONEY_FORMAT == "#,##0.00" and ws["B2"].value == 4494
    assert ws["B3"].number_format == "General" and ws["B3"].value == 233
