"""Contract list exports (XLSX/CSV), amounts exact in 万元 and 元."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm import Session

from core import permissions as perm
from core import regions
from core.contracts import service as contract_service
from core.contracts.schemas import ContractOut
from core.exports import (
    AMOUNT_HEADERS,
    CSV_TYPE,
    XLSX_TYPE,
    Table,
    amount_cells,
    to_csv,
    to_xlsx,
)

SOURCE_LABELS = {"application": "认定登记申请", "manual": "直接录入", "match": "撮合登记", "imported": "历史导入",
                 "demo": "演示数据"}
FLAG_HEADERS = ["登记方式", "核定技术交易额（元）", "增值税免征（参考）", "所得税优惠（参考）", "就地转化"]


def contracts_table(items: list[ContractOut], flags: dict[int, dict] | None = None) -> Table:
    """``flags``: contract id -> core.registration eligibility (VAT, CIT, 就地转化), shown as 参考."""
    flags = flags or {}
    headers = ["登记号", "项目名称", "合同类型", "合同子类", "转化方式", "签订日期", "登记日期", "卖方",
               "卖方地区代码", "卖方地区", "卖方类型", "买方", "买方地区代码", "买方地区", "买方类型",
               *AMOUNT_HEADERS, "技术领域", "知识产权类型", "状态", "来源", *FLAG_HEADERS]
    t = Table("技术合同", headers)
    first_money = headers.index(AMOUNT_HEADERS[0])
    t.money_columns = set(range(first_money, first_money + 4)) | {headers.index("核定技术交易额（元）")}
    sum_total, sum_tech = Decimal("0.00"), Decimal("0.00")
    for o in items:
        t.rows.append([o.reg_number, o.project_name, o.contract_type_label, o.sub_type_label or "",
                       o.conversion_mode_label or "", o.signed_on, o.registered_on, o.seller.name,
                       o.seller.region, o.seller.region_name, o.seller.party_type_label, o.buyer.name,
                       o.buyer.region, o.buyer.region_name, o.buyer.party_type_label,
                       *amount_cells(o.total_amount, o.tech_amount), o.field, o.ip_type_label or "",
                       o.status_label, o.source, *_flag_cells(o, flags.get(o.id))])
        sum_total += o.total_amount
        sum_tech += o.tech_amount
    t.total = [f"合计（{len(t.rows)} 项）"] + [""] * (first_money - 1) + amount_cells(sum_total, sum_tech) \
        + [""] * (len(headers) - first_money - 4)
    return t


def _flag_cells(o: ContractOut, f: dict | None) -> list:
    cells = [SOURCE_LABELS.get(o.source, o.source), o.tech_amount]
    if f is None:
        return cells + ["", "", ""]
    return cells + [f["vat"]["label"], f["cit"]["label"], f["local"]["label"]]


def export_contracts(session: Session, viewer, filters: contract_service.ContractFilters | None = None,
                     fmt: str = "xlsx", *, as_system: bool = False) -> tuple[bytes, str, str]:
    """(content, filename, media type) of the contracts the viewer may see (all: as_system)."""
    f = filters or contract_service.ContractFilters()
    items = contract_service.all_for(session, viewer, f, as_system=as_system)
    from core.registration import service as registration

    apps = registration.applications_for_contracts(session, [c.id for c in items])
    flags = {c.id: registration.contract_eligibility(session, c, apps.get(c.id)) for c in items}
    table = contracts_table([contract_service.to_out(session, c, with_history=False) for c in items], flags)
    where = f.region or (None if as_system else perm.jurisdiction(viewer))
    stem = f"技术合同_{f.year or '全部'}" + (f"_{regions.name(where)}" if where else "")
    if fmt == "csv":
        return to_csv(table), stem + ".csv", CSV_TYPE
    return to_xlsx([table]), stem + ".xlsx", XLSX_TYPE
