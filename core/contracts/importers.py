"""Spreadsheet import of technology contracts (historical registrations a bureau loads): the
columns, and how a row is checked, deduplicated (same 登记号) and registered through
``core.contracts.service.register`` (source ``imported``); parties that match a platform
organization (by credit code or exact name) are linked to it."""
from __future__ import annotations

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.accounts import owners
from core.contracts import service as contracts
from core.contracts.schemas import ContractIn, PartyIn
from core.contracts.vocab import (
    ContractSubType,
    ContractType,
    ConversionMode,
    PartyType,
)
from core.imports import values as V
from core.imports.base import (
    Column,
    ImportKind,
    ImportReport,
    Row,
    credit_cell,
    date_cell,
    keep_first,
    labels,
    money_cell,
    schema_errors,
    text_cell,
)
from core.models.contracts import Contract
from core.vocab import FIELDS, PatentType


def contract_columns() -> tuple[Column, ...]:

    def enum_parser(enum, label):
        def p(v):
            try:
                return enum.from_label(text_cell(v)).value
            except ValueError:
                raise ValueError(f"{label}无效，可选：{'、'.join(labels(enum))}") from None
        return p

    def field_one(v):
        f = text_cell(v)
        if f not in FIELDS:
            raise ValueError(f"技术领域“{f}”不在可选范围内：{'、'.join(FIELDS)}")
        return f

    party = enum_parser(PartyType, "单位类型")
    return (
        Column("reg_number", "登记号", True, text_cell, "16 位：年度 + 登记机构行政区划代码 + 流水号", "2026330400000123"),
        Column("project_name", "项目名称", True, text_cell, "", "高镍正极材料包覆技术许可"),
        Column("contract_type", "合同类型", True, enum_parser(ContractType, "合同类型"), "、".join(labels(ContractType)),
               "技术许可", choices=labels(ContractType)),
        Column("sub_type", "合同子类", False, enum_parser(ContractSubType, "合同子类"),
               "技术开发、技术转让合同必填：" + "、".join(labels(ContractSubType)), "",
               choices=labels(ContractSubType)),
        Column("conversion_mode", "转化方式", False, enum_parser(ConversionMode, "转化方式"),
               "作价投资时填写；转让/许可合同默认按合同类型计", "", choices=labels(ConversionMode)),
        Column("signed_on", "签订日期", True, date_cell, "YYYY-MM-DD", "2026-03-01"),
        Column("registered_on", "登记日期", True, date_cell, "YYYY-MM-DD，年度与登记号一致", "2026-03-10"),
        Column("valid_from", "有效期起", False, date_cell, "YYYY-MM-DD", ""),
        Column("valid_to", "有效期止", False, date_cell, "YYYY-MM-DD", ""),
        Column("seller_name", "卖方名称", True, text_cell, "平台已登记单位按信用代码或名称自动关联", "示例理工大学"),
        Column("seller_credit_code", "卖方统一社会信用代码", False, credit_cell, "可选", ""),
        Column("seller_region", "卖方所在地区", True, V.parse_region, "6 位代码或完整名称", "浙江省杭州市西湖区"),
        Column("seller_type", "卖方单位类型", True, party, "、".join(labels(PartyType)), "高等院校",
               choices=labels(PartyType)),
        Column("buyer_name", "买方名称", True, text_cell, "", "嘉善示例电池有限公司"),
        Column("buyer_credit_code", "买方统一社会信用代码", False, credit_cell, "可选", ""),
        Column("buyer_region", "买方所在地区", True, V.parse_region, "6 位代码或完整名称", "浙江省嘉兴市嘉善县"),
        Column("buyer_type", "买方单位类型", True, party, "、".join(labels(PartyType)), "企业",
               choices=labels(PartyType)),
        Column("total_amount", "合同成交额（万元）", True, money_cell, "万元，精确到分", "120"),
        Column("tech_amount", "技术交易额（万元）", True, money_cell, "万元，不大于合同成交额", "100"),
        Column("field", "技术领域", False, field_one, "、".join(FIELDS), "新能源", choices=FIELDS),
        Column("ip_type", "知识产权类型", False, enum_parser(PatentType, "知识产权类型"), "、".join(labels(PatentType)),
               "发明专利", choices=labels(PatentType)),
        Column("note", "备注", False, text_cell, "", ""),
    )



def _validate_row(session: Session, row: Row, by_key: dict, report: ImportReport) -> bool:
    v = row.values
    payload = {k: x for k, x in v.items() if not k.startswith(("seller_", "buyer_"))}
    for side in ("seller", "buyer"):
        org = owners.resolve(session, name=v.get(f"{side}_name"), credit_code=v.get(f"{side}_credit_code"),
                             kind="enterprise", region=v.get(f"{side}_region") or "110000", create=False)
        payload[side] = PartyIn(org_id=org.id if org else None, name=v.get(f"{side}_name"),
                                region=v.get(f"{side}_region"), party_type=v.get(f"{side}_type"))
    try:
        row.data = ContractIn(**payload)
    except ValidationError as e:
        schema_errors(e, row.number, by_key, report,
                       prefix_map={"seller": "seller_name", "buyer": "buyer_name"})
        return False
    return True




def _drop_duplicates(session: Session, rows: list[Row], report: ImportReport) -> list[Row]:
    numbers = [r.data.reg_number for r in rows]
    existing = dict(session.execute(select(Contract.reg_number, Contract.id)
                                    .where(Contract.reg_number.in_(numbers))).all()) if numbers else {}
    return keep_first(rows, report, lambda r: r.data.reg_number, lambda r: r.data.project_name, existing,
                      lambda n, cid: f"登记号 {n} 已登记（合同 #{cid}）", "与第 {} 行登记号相同")


def _write_row(session: Session, actor, r: Row) -> int:
    return contracts.register(session, actor, r.data, source="imported").id


IMPORT_KIND = ImportKind("contract", "技术合同", contract_columns, _validate_row, _drop_duplicates, _write_row)
