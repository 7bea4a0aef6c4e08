"""Spreadsheet import of listings (技术需求, 科技成果): their columns, and how a row is checked,
deduplicated (same normalised title and owner) and written (``source="imported"``,
``pending_review``; owners resolved as the crawler does, by credit code, then by name, else a new
organization, not approved)."""
from __future__ import annotations

import functools

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.accounts import owners
from core.imports import values as V
from core.imports.base import (
    LIST_HELP,
    Column,
    ImportKind,
    ImportReport,
    Row,
    credit_cell,
    date_cell,
    keep_first,
    keywords_cell,
    labels,
    maturity_cell,
    money_cell,
    org_kind_cell,
    phone_cell,
    schema_errors,
    text_cell,
    trl_cell,
)
from core.listings import dedup
from core.listings import service as listings
from core.listings.kinds import KINDS
from core.listings.schemas import AchievementIn, ProblemIn
from core.listings.vocab import CoopMode, Maturity, TransferMode
from core.models import Organization
from core.models.listings import LISTING_MODELS
from core.vocab import FIELDS, PatentType

PROBLEM_COLUMNS: tuple[Column, ...] = (
    Column("title", "需求名称", True, text_cell, "2–200 字", "锂电池正极材料循环寿命提升", aliases=("标题", "需求标题")),
    Column("org_name", "需求单位", True, text_cell, "已在平台登记的单位按名称或信用代码匹配；未登记的将新建（待审核）",
           "嘉善示例电池有限公司", aliases=("单位名称", "企业名称")),
    Column("org_credit_code", "统一社会信用代码", False, credit_cell, "18 位，可选", "913304215555555551"),
    Column("region", "所在地区", True, V.parse_region, "6 位行政区划代码或完整名称", "浙江省嘉兴市嘉善县",
           aliases=("地区", "行政区划代码")),
    Column("description", "需求描述", True, text_cell, "至少 10 个字", "三元正极材料循环 500 次后容量保持率低于 80%，需要改性技术。",
           aliases=("需求内容", "需求简介")),
    Column("indicators", "技术指标", False, text_cell, "", "循环 1000 次容量保持率不低于 90%"),
    Column("conditions", "现有条件", False, text_cell, "", "有中试线一条"),
    Column("fields", "技术领域", False, V.parse_fields, f"{LIST_HELP}；可选：{'、'.join(FIELDS)}", "新能源",
           choices=FIELDS, aliases=("行业领域",)),
    Column("keywords", "关键词", False, keywords_cell, LIST_HELP, "正极材料、包覆"),
    Column("budget_min", "预算下限（万元）", False, money_cell, "万元，可填“面议”", "10", aliases=("预算下限",)),
    Column("budget_max", "预算上限（万元）", False, money_cell, "万元，可填“面议”", "50",
           aliases=("预算上限", "预算金额（万元）", "预算（万元）")),
    Column("coop_modes", "合作方式", False, V.parse_coop_modes, f"{LIST_HELP}；可选：{'、'.join(labels(CoopMode))}",
           "技术开发、技术许可", choices=labels(CoopMode)),
    Column("required_maturity", "所需成熟度", False, maturity_cell, "、".join(labels(Maturity)), "中试",
           choices=labels(Maturity)),
    Column("deadline", "截止日期", False, date_cell, "YYYY-MM-DD", "2026-12-31"),
    Column("contact_name", "联系人", False, text_cell, "", "王经理"),
    Column("contact_phone", "联系电话", False, phone_cell, "手机号或带区号的座机", "13800000000"),
)

ACHIEVEMENT_COLUMNS: tuple[Column, ...] = (
    Column("title", "成果名称", True, text_cell, "2–200 字", "高镍三元正极材料表面包覆改性技术", aliases=("标题",)),
    Column("org_name", "成果持有单位", True, text_cell, "已在平台登记的单位按名称或信用代码匹配；未登记的将新建（待审核）",
           "示例理工大学", aliases=("单位名称", "完成单位")),
    Column("org_credit_code", "统一社会信用代码", False, credit_cell, "18 位，可选", ""),
    Column("org_kind", "单位类型", False, org_kind_cell, "高校、科研院所或企业（新建单位时使用，默认高校）", "高校",
           choices=("高校", "科研院所", "企业")),
    Column("region", "所在地区", True, V.parse_region, "6 位行政区划代码或完整名称", "浙江省杭州市西湖区",
           aliases=("地区", "行政区划代码")),
    Column("abstract", "成果简介", True, text_cell, "至少 10 个字", "通过原子层沉积氧化铝包覆，使高镍正极循环 1000 次容量保持率达 90% 以上。",
           aliases=("简介", "成果摘要")),
    Column("body", "详细介绍", False, text_cell, "", ""),
    Column("fields", "技术领域", False, V.parse_fields, f"{LIST_HELP}；可选：{'、'.join(FIELDS)}", "新能源",
           choices=FIELDS),
    Column("keywords", "关键词", False, keywords_cell, LIST_HELP, "正极材料、原子层沉积"),
    Column("maturity", "成熟度", True, V.parse_maturity, "、".join(labels(Maturity)), "中试",
           choices=labels(Maturity), aliases=("成熟程度",)),
    Column("trl", "技术就绪度", False, trl_cell, "1–9，与成熟度相符", "6", aliases=("TRL", "技术就绪度(TRL)")),
    Column("patents", "知识产权", False, V.parse_patents,
           f"专利号（类型），{LIST_HELP}；类型：{'、'.join(labels(PatentType))}", "ZL202310000001.X（发明专利）"),
    Column("transfer_modes", "转化方式", False, V.parse_transfer_modes,
           f"{LIST_HELP}；可选：{'、'.join(labels(TransferMode))}", "许可、转让", choices=labels(TransferMode)),
    Column("asking_price", "转让价格（万元）", False, money_cell, "万元，可填“面议”", "80", aliases=("参考价格（万元）", "价格（万元）")),
    Column("inventors", "完成人", False, V.split_list, LIST_HELP, "孙明、李华"),
    Column("contact_name", "联系人", False, text_cell, "", "孙老师"),
    Column("contact_phone", "联系电话", False, phone_cell, "手机号或带区号的座机", "0571-88888888"),
)



def _validate_row(kind: str, session: Session, row: Row, by_key: dict, report: ImportReport) -> bool:
    v = row.values
    schema = ProblemIn if kind == "problem" else AchievementIn
    fields = {k: x for k, x in v.items() if k not in ("org_name", "org_credit_code", "org_kind")}
    try:
        row.data = schema(**fields)
    except ValidationError as e:
        schema_errors(e, row.number, by_key, report)
        return False
    org_kind = v.get("org_kind") or ("enterprise" if kind == "problem" else "university")
    org = owners.resolve(session, name=v.get("org_name"), credit_code=v.get("org_credit_code"),
                         kind=org_kind, region=row.data.region, create=False)
    if org is None:
        row.new_org = {"name": v["org_name"], "credit_code": v.get("org_credit_code"), "kind": org_kind,
                       "region": row.data.region}
        how = "" if v.get("org_credit_code") else "，使用临时信用代码"
        report.warnings.append({"row": row.number, "column": by_key["org_name"].header,
                                "message": f"单位“{v['org_name']}”未在平台登记，将新建（待审核{how}）"})
    else:
        row.org = org
        if v.get("org_credit_code") and owners.normalize_name(org.name) != owners.normalize_name(v["org_name"]):
            report.warnings.append({"row": row.number, "column": by_key["org_credit_code"].header,
                                    "message": f"该信用代码已登记为“{org.name}”，按信用代码归属"})
    return True


def _drop_duplicates(kind: str, session: Session, rows: list[Row], report: ImportReport) -> list[Row]:
    model = LISTING_MODELS[kind]
    existing: dict[tuple[str, str], int] = {}
    stmt = select(model.id, model.title, Organization.name).join(Organization, Organization.id == model.org_id)
    for lid, title, org_name in session.execute(stmt):
        existing.setdefault((dedup.title_key(title), owners.normalize_name(org_name)), lid)

    def key(r: Row):
        owner_name = r.org.name if r.org is not None else r.new_org["name"]
        return dedup.title_key(r.data.title), owners.normalize_name(owner_name)

    return keep_first(rows, report, key, lambda r: r.data.title, existing,
                      lambda k, lid: f"与已有{KINDS[kind].label} #{lid} 重复（同一单位、同名）", "与第 {} 行重复")


def _write_row(kind: str, session: Session, actor, r: Row) -> int:
    org = r.org
    if org is None:
        org = owners.resolve(session, name=r.new_org["name"], credit_code=r.new_org["credit_code"],
                             kind=r.new_org["kind"], region=r.new_org["region"], reason="import")
    return listings.create(session, None, kind, r.data, org_id=org.id, source="imported",
                           status="pending_review").id


def _kind(kind: str, cols: tuple[Column, ...]) -> ImportKind:
    return ImportKind(kind, KINDS[kind].label, lambda: cols, functools.partial(_validate_row, kind),
                      functools.partial(_drop_duplicates, kind), functools.partial(_write_row, kind))


IMPORT_KINDS = {"problem": _kind("problem", PROBLEM_COLUMNS), "achievement": _kind("achievement", ACHIEVEMENT_COLUMNS)}
