"""Schemas and vocabularies of technology contracts, indicator targets and events.

Registration number (登记号) format, validated here: 16 digits =
    4-digit registration year + 6-digit GB/T 2260 code of the registering authority's region
    + 6-digit serial (000001–999999), e.g. ``2026330400000123``.
The year part must equal the year of the registration date.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from core import validation
from core.contracts.vocab import (
    CONTRACT_LABELS,
    CONVERSION_TYPES,
    SUB_TYPES,
    ContractStatus,
    ContractSubType,
    ContractType,
    ConversionMode,
    PartyType,
    check_reg_number,
)
from core.events.vocab import EventKind
from core.schemas import FIELD_LABELS, DbId, Name, Schema, UtcDateTime, no_float
from core.vocab import FIELDS, PatentType

for _k, _v in CONTRACT_LABELS.items():
    FIELD_LABELS.setdefault(_k, _v)


Money = Annotated[Decimal, Field(max_digits=16, decimal_places=2)]


Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=2000)]


def _fen(v):
    return v if v is None else v.quantize(Decimal("0.01"))


class PartyIn(Schema):
    """A platform organization (org_id) or a named outside party with region and type."""

    org_id: DbId | None = None
    name: Name | None = None
    region: str | None = None
    party_type: PartyType | None = None

    _region = field_validator("region")(lambda v: v if v is None else validation.check_region(v))

    @model_validator(mode="after")
    def _named_or_org(self):
        if self.org_id is None:
            missing = [label for k, label in (("name", "名称"), ("region", "所在地区"), ("party_type", "单位类型"))
                       if getattr(self, k) is None]
            if missing:
                raise ValueError(f"平台外的合同当事人需填写{'、'.join(missing)}")
        return self


class ContractIn(Schema):
    reg_number: str
    project_name: Name
    contract_type: ContractType
    sub_type: ContractSubType | None = None
    conversion_mode: ConversionMode | None = None
    signed_on: date
    registered_on: date
    valid_from: date | None = None
    valid_to: date | None = None
    # Optional only when registering from a match (defaults to the match's parties).
    seller: PartyIn | None = None
    buyer: PartyIn | None = None
    total_amount: Money
    tech_amount: Money
    field: str = "其他"
    ip_type: PatentType | None = None
    match_id: DbId | None = None
    problem_id: DbId | None = None
    achievement_id: DbId | None = None
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)] = ""

    _reg = field_validator("reg_number")(lambda v: check_reg_number(v))
    _amounts = field_validator("total_amount", "tech_amount", mode="before")(no_float)
    _fen = field_validator("total_amount", "tech_amount")(_fen)

    @field_validator("field")
    @classmethod
    def _field(cls, v: str) -> str:
        if v not in FIELDS:
            raise ValueError(f"技术领域“{v}”不在可选范围内：{'、'.join(FIELDS)}")
        return v

    @model_validator(mode="after")
    def _rules(self):
        check_contract_rules(self)
        return self


def check_contract_rules(c) -> None:
    """Cross-field rules, shared by registration and amendment (on the merged state)."""
    if c.total_amount is None or c.total_amount <= 0:
        raise ValueError("合同成交额必须大于 0")
    if c.tech_amount is None or c.tech_amount < 0:
        raise ValueError("技术交易额不能为负数")
    if c.tech_amount > c.total_amount:
        raise ValueError("技术交易额不能大于合同成交额（技术交易额不含设备、材料等非技术性费用）")
    if c.registered_on < c.signed_on:
        raise ValueError("登记日期不能早于签订日期")
    if c.valid_from and c.valid_to and c.valid_to < c.valid_from:
        raise ValueError("有效期止不能早于有效期起")
    if int(c.reg_number[:4]) != c.registered_on.year:
        raise ValueError(f"登记号年度 {c.reg_number[:4]} 与登记日期 {c.registered_on} 不一致")
    ctype = str(c.contract_type)
    subs = SUB_TYPES[ctype]
    if c.sub_type is not None and str(c.sub_type) not in subs:
        raise ValueError(f"合同子类“{ContractSubType(c.sub_type).label}”不属于{ContractType(ctype).label}")
    if subs and c.sub_type is None:
        raise ValueError(f"{ContractType(ctype).label}合同需选择子类："
                         + "、".join(ContractSubType(s).label for s in subs))
    if c.conversion_mode is not None and ctype not in CONVERSION_TYPES:
        raise ValueError("只有技术转让、技术许可合同可以计为成果转化（转让/许可/作价投资）")
    if c.conversion_mode is not None and str(c.conversion_mode) not in ("equity", CONVERSION_TYPES[ctype]):
        raise ValueError(f"{ContractType(ctype).label}合同的转化方式只能是"
                         f"“{ConversionMode(CONVERSION_TYPES[ctype]).label}”或“作价投资”")


class ContractAmendIn(Schema):
    """Amend a registered contract: the fields given replace the current values; a reason is required."""

    reason: Reason
    reg_number: str | None = None
    project_name: Name | None = None
    contract_type: ContractType | None = None
    sub_type: ContractSubType | None = None
    conversion_mode: ConversionMode | None = None
    signed_on: date | None = None
    registered_on: date | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    seller: PartyIn | None = None
    buyer: PartyIn | None = None
    total_amount: Money | None = None
    tech_amount: Money | None = None
    field: str | None = None
    ip_type: PatentType | None = None
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)] | None = None

    _reg = field_validator("reg_number")(lambda v: v if v is None else check_reg_number(v))
    _amounts = field_validator("total_amount", "tech_amount", mode="before")(no_float)
    _fen = field_validator("total_amount", "tech_amount")(_fen)


class ContractTerminateIn(Schema):
    reason: Reason
    terminated_on: date | None = None


class PartyOut(BaseModel):
    org_id: int | None
    name: str
    region: str
    region_name: str
    party_type: str
    party_type_label: str


class AmendmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: str
    actor_id: int | None
    actor_name: str | None = None
    reason: str
    changes: dict
    at: UtcDateTime


class ContractOut(BaseModel):
    id: int
    reg_number: str
    project_name: str
    contract_type: str
    contract_type_label: str
    sub_type: str | None
    sub_type_label: str | None
    conversion_mode: str | None
    conversion_mode_label: str | None
    signed_on: date
    registered_on: date
    valid_from: date | None
    valid_to: date | None
    seller: PartyOut
    buyer: PartyOut
    total_amount: Decimal
    tech_amount: Decimal
    total_amount_wan: Decimal
    tech_amount_wan: Decimal
    field: str
    ip_type: str | None
    ip_type_label: str | None
    match_id: int | None
    problem_id: int | None
    achievement_id: int | None
    status: str
    status_label: str
    terminated_on: date | None
    termination_reason: str | None
    note: str
    source: str
    created_by_id: int | None
    created_at: UtcDateTime
    updated_at: UtcDateTime
    amendments: list[AmendmentOut] = Field(default_factory=list)
    attachments: list[dict] = Field(default_factory=list)


def vocab() -> dict:
    """Choices for forms (pages and API clients)."""
    return {
        "contract_types": ContractType.choices(),
        "sub_types": {t: [(s, ContractSubType(s).label) for s in subs] for t, subs in SUB_TYPES.items()},
        "party_types": PartyType.choices(),
        "conversion_modes": ConversionMode.choices(),
        "statuses": ContractStatus.choices(),
        "ip_types": PatentType.choices(),
        "fields": list(FIELDS),
        "event_kinds": EventKind.choices(),
        "reg_number_format": "16 位：4 位年度 + 6 位登记机构行政区划代码 + 6 位流水号，例如 2026330400000123",
    }
