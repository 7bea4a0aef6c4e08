"""Vocabularies of technology contracts and the registration number (登记号).

16 digits = 4-digit registration year + 6-digit GB/T 2260 code of the registering authority's region
+ 6-digit serial (000001–999999), e.g. ``2026330400000123``. The year part must equal the year of the
registration date.
"""
from __future__ import annotations

import re

from core import regions
from core.vocab import Labeled


class ContractType(Labeled):
    development = ("development", "技术开发")
    transfer = ("transfer", "技术转让")
    license = ("license", "技术许可")
    consulting = ("consulting", "技术咨询")
    service = ("service", "技术服务")


class ContractSubType(Labeled):
    entrusted = ("entrusted", "委托开发")
    cooperative = ("cooperative", "合作开发")
    patent = ("patent", "专利权转让")
    patent_application = ("patent_application", "专利申请权转让")
    know_how = ("know_how", "技术秘密转让")
    other_transfer = ("other_transfer", "其他技术转让")


# Which sub-types each contract type takes (None: the type has no sub-types).
SUB_TYPES: dict[str, tuple[str, ...]] = {
    "development": ("entrusted", "cooperative"),
    "transfer": ("patent", "patent_application", "know_how", "other_transfer"),
    "license": (),
    "consulting": (),
    "service": (),
}


class PartyType(Labeled):
    enterprise = ("enterprise", "企业")
    university = ("university", "高等院校")
    institute = ("institute", "科研机构")
    other = ("other", "其他")


class ConversionMode(Labeled):
    """成果转化 modes: a 转让, 许可 or 作价投资 contract converts an achievement."""

    transfer = ("transfer", "转让")
    license = ("license", "许可")
    equity = ("equity", "作价投资")


# A conversion mode is allowed on these contract types; the default follows the type.
CONVERSION_TYPES = {"transfer": "transfer", "license": "license"}


class ContractStatus(Labeled):
    registered = ("registered", "已登记")
    amended = ("amended", "已变更")
    terminated = ("terminated", "已终止")


ORG_KIND_TO_PARTY = {"enterprise": "enterprise", "university": "university", "institute": "institute"}


CONTRACT_LABELS = {
    "reg_number": "登记号", "project_name": "项目名称", "contract_type": "合同类型", "sub_type": "合同子类",
    "conversion_mode": "转化方式", "signed_on": "签订日期", "registered_on": "登记日期",
    "valid_from": "有效期起", "valid_to": "有效期止", "seller": "卖方", "buyer": "买方",
    "total_amount": "合同成交额", "tech_amount": "技术交易额", "field": "技术领域", "ip_type": "知识产权类型",
    "match_id": "撮合记录", "problem_id": "技术需求", "achievement_id": "科技成果", "note": "备注",
    "reason": "原因", "terminated_on": "终止日期", "indicator": "指标", "year": "年度",
    "target": "目标值", "held_on": "举办日期", "attendance": "参加人数", "enterprises": "参加企业数",
    "matches_made": "达成对接数", "venue": "地点", "organizer_org_id": "主办单位", "party_type": "单位类型",
    "match_ids": "撮合记录", "title": "标题",
}


REG_NUMBER_RE = re.compile(r"^(\d{4})(\d{6})(\d{6})$")


def check_reg_number(value: str) -> str:
    v = (value or "").strip()
    m = REG_NUMBER_RE.match(v)
    if not m:
        raise ValueError("登记号应为 16 位数字：4 位年度 + 6 位登记机构行政区划代码 + 6 位流水号，"
                         "例如 2026330400000123")
    year, region, serial = m.groups()
    if not 1990 <= int(year) <= 2100:
        raise ValueError(f"登记号年度 {year} 不正确")
    if not regions.is_valid(region):
        raise ValueError(f"登记号中的行政区划代码 {region} 不存在（GB/T 2260）")
    if serial == "000000":
        raise ValueError("登记号流水号不能为 000000")
    return v


def make_reg_number(year: int, region: str, serial: int) -> str:
    return f"{year:04d}{region}{serial:06d}"
