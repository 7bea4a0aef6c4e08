"""Vocabularies of 技术合同认定登记 applications."""
from __future__ import annotations

from core.vocab import Labeled


class AppStatus(Labeled):
    draft = ("draft", "草稿")
    submitted = ("submitted", "待受理")
    reviewing = ("reviewing", "审查中")
    expert_review = ("expert_review", "专家评审")
    registered = ("registered", "已登记")
    refused = ("refused", "不予登记")
    returned = ("returned", "退回补正")


# States the applicant may edit, and the office's open states (its queue).
EDITABLE = ("draft", "returned")
OPEN = ("submitted", "reviewing", "expert_review")
FINAL = ("registered", "refused")


class CostCategory(Labeled):
    """Non-technical costs deducted from the total to set the 技术交易额."""

    equipment = ("equipment", "设备")
    instrument = ("instrument", "仪器")
    parts = ("parts", "零部件")
    materials = ("materials", "原材料")
    other = ("other", "其他非技术性费用")


class IpObject(Labeled):
    """What a 转让/许可 contract transfers or licenses (for the income-tax relief)."""

    patent = ("patent", "专利（含国防专利）")
    software_copyright = ("software_copyright", "计算机软件著作权")
    ic_layout = ("ic_layout", "集成电路布图设计专有权")
    plant_variety = ("plant_variety", "植物新品种权")
    biomedical_variety = ("biomedical_variety", "生物医药新品种")
    know_how = ("know_how", "技术秘密")
    other = ("other", "其他")


CIT_IP_OBJECTS = ("patent", "software_copyright", "ic_layout", "plant_variety", "biomedical_variety")


class LicenseScope(Labeled):
    exclusive = ("exclusive", "独占许可")
    sole = ("sole", "排他许可")
    ordinary = ("ordinary", "普通许可")


class RefusalCode(Labeled):
    """Why an office refuses to register (cf. 办法 第十八条 etc.)."""

    not_technology = ("not_technology", "不属于技术合同")
    incomplete_terms = ("incomplete_terms", "合同主要条款不完备、权利义务不明确")
    illegal = ("illegal", "违反法律法规或损害公共利益")
    ip_invalid = ("ip_invalid", "知识产权权属不清或已失效")
    duplicate = ("duplicate", "重复申请登记")
    other = ("other", "其他原因")


class ExpertConclusion(Labeled):
    agree = ("agree", "同意登记")
    adjust = ("adjust", "同意登记，需调整技术交易额或类型")
    disagree = ("disagree", "不同意登记")


class EventKind(Labeled):
    create = ("create", "创建申请")
    edit = ("edit", "修改申请")
    submit = ("submit", "提交申请")
    accept = ("accept", "受理")
    classify = ("classify", "认定合同类型")
    assess = ("assess", "核定技术交易额")
    expert_assign = ("expert_assign", "指派评审专家")
    expert_opinion = ("expert_opinion", "专家意见")
    register = ("register", "准予登记")
    refuse = ("refuse", "不予登记")
    return_ = ("return", "退回补正")
    amend = ("amend", "变更登记")
    cancel = ("cancel", "撤销登记")
