"""Input and output schemas of 技术合同认定登记 applications."""
from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import Field, StringConstraints, field_validator

from core.contracts.schemas import Money, PartyIn, Reason
from core.contracts.vocab import ContractSubType, ContractType
from core.registration.vocab import CostCategory, ExpertConclusion, IpObject, LicenseScope, RefusalCode
from core.schemas import FIELD_LABELS, Name, Schema, no_float
from core.vocab import FIELDS, PatentType

LABELS = {
    "costs": "非技术性费用", "category": "费用类别", "description": "费用说明", "amount": "金额",
    "deliverable": "属合理数量标的物的直接成本", "expected_investment": "预计新增投资",
    "expected_output": "预计新增产值", "license_years": "许可期限（年）", "license_scope": "许可方式",
    "ip_object": "转让/许可的技术类别", "common_control": "双方为100%控制关联方",
    "related_reg_number": "所属技术转让/开发合同登记号", "contract_text": "合同文本",
    "seller_org_id": "卖方单位", "refusal_code": "不予登记原因", "expert_name": "专家姓名",
    "conclusion": "评审结论", "opinion": "评审意见",
}
for _k, _v in LABELS.items():
    FIELD_LABELS.setdefault(_k, _v)

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200000)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)]


class CostIn(Schema):
    category: CostCategory
    description: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    amount: Money
    deliverable: bool = False

    _amount = field_validator("amount", mode="before")(no_float)

    @field_validator("amount")
    @classmethod
    def _positive(cls, v):
        if v <= 0:
            raise ValueError("金额必须大于 0")
        return v


class ApplicationIn(Schema):
    """An application as the seller (or its broker) fills it in; drafts may be incomplete."""

    project_name: Name
    contract_type: ContractType
    sub_type: ContractSubType | None = None
    signed_on: date
    valid_from: date | None = None
    valid_to: date | None = None
    field: str = "其他"
    ip_type: PatentType | None = None
    ip_object: IpObject | None = None
    seller_org_id: int | None = None  # brokers name the seller; others apply for their own organization
    buyer: PartyIn | None = None
    common_control: bool = False
    total_amount: Money
    costs: list[CostIn] = Field(default_factory=list, max_length=100)
    expected_investment: Money | None = None
    expected_output: Money | None = None
    license_years: Annotated[int, Field(ge=1, le=99)] | None = None
    license_scope: LicenseScope | None = None
    related_reg_number: Annotated[str, StringConstraints(pattern=r"^\d{16}$")] | None = None
    contract_text: Text = ""
    note: Note = ""
    match_id: int | None = None

    _amounts = field_validator("total_amount", "expected_investment", "expected_output", mode="before")(no_float)

    @field_validator("field")
    @classmethod
    def _field(cls, v: str) -> str:
        if v not in FIELDS:
            raise ValueError(f"技术领域“{v}”不在可选范围内：{'、'.join(FIELDS)}")
        return v

    @field_validator("total_amount")
    @classmethod
    def _total(cls, v):
        if v <= 0:
            raise ValueError("合同成交额必须大于 0")
        return v


class ClassifyIn(Schema):
    contract_type: ContractType
    sub_type: ContractSubType | None = None
    ip_object: IpObject | None = None  # None keeps the applicant's
    reason: Note = ""


class CostRulingIn(Schema):
    cost_id: int
    deliverable: bool
    amount: Money | None = None  # the office's corrected amount; None keeps the applicant's

    _amount = field_validator("amount", mode="before")(no_float)


class AssessIn(Schema):
    rulings: list[CostRulingIn] = Field(default_factory=list)
    reason: Note = ""


class ExpertIn(Schema):
    expert_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=100)]
    affiliation: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""


class ExpertAssignIn(Schema):
    experts: list[ExpertIn] = Field(min_length=1, max_length=15)
    disputed: bool = False
    reason: Note = ""


class OpinionIn(Schema):
    review_id: int
    conclusion: ExpertConclusion
    opinion: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=5000)]


class RefuseIn(Schema):
    refusal_code: RefusalCode
    reason: Reason


class ReturnIn(Schema):
    reason: Reason  # what to add


class RegisterIn(Schema):
    note: Note = ""
