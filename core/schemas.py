"""Input and output schemas shared by the API, the pages, the importers and the crawler.

Every input is validated here once, with Chinese messages; services trust these objects.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Generic, TypeVar

from pydantic import (AfterValidator, BaseModel, ConfigDict, EmailStr, Field, StringConstraints,
                      field_validator, model_validator)

from core import validation
from core.money import FEN
from core.vocab import (FIELDS, MATURITY_TRL, CoopMode, Maturity, OrgKind, PatentType, Role,
                        TransferMode)

# Human-readable Chinese labels for field names in error messages.
FIELD_LABELS = {
    "title": "标题", "description": "需求描述", "indicators": "技术指标", "conditions": "现有条件",
    "fields": "技术领域", "keywords": "关键词", "region": "所在地区", "budget_min": "预算下限",
    "budget_max": "预算上限", "coop_modes": "合作方式", "deadline": "截止日期",
    "contact_name": "联系人", "contact_phone": "联系电话", "status": "状态",
    "abstract": "成果简介", "body": "详细介绍", "maturity": "成熟度", "trl": "技术就绪度(TRL)",
    "patents": "知识产权", "transfer_modes": "转化方式", "asking_price": "转让价格",
    "inventors": "完成人", "name": "名称", "kind": "类型", "credit_code": "统一社会信用代码",
    "industry": "行业领域", "sme_year": "科小入库年度", "sme_number": "科小入库编号",
    "hnte_number": "高企证书编号", "hnte_year": "高企认定年度", "email": "邮箱", "password": "密码",
    "role": "角色", "org_id": "所属单位", "phone": "手机号", "required_maturity": "所需成熟度",
}

MAX_TITLE = 200
MAX_TEXT = 20000
MAX_LONG_TEXT = 200000

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=MAX_TITLE)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_TEXT)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_LONG_TEXT)]
Keyword = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=30)]
PersonName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)]
# Exact yuan, at most 2 decimals (fen), normalised to 2 places.
Yuan = Annotated[Decimal, Field(ge=0, max_digits=16, decimal_places=2), AfterValidator(lambda d: d.quantize(FEN))]


class Schema(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _check_fields(v: list[str]) -> list[str]:
    bad = [f for f in v if f not in FIELDS]
    if bad:
        raise ValueError(f"技术领域“{bad[0]}”不在可选范围内：{'、'.join(FIELDS)}")
    return list(dict.fromkeys(v))


def _check_modes(v: list[str], enum) -> list[str]:
    out = []
    for m in v:
        try:
            out.append(enum.from_label(m).value)
        except ValueError:
            raise ValueError(f"方式“{m}”无效，可选：{'、'.join(x.label for x in enum)}") from None
    return list(dict.fromkeys(out))


def _check_region(v: str) -> str:
    return validation.check_region(v)


def _check_phone(v: str) -> str:
    return validation.check_phone(v) if v else v


# ----------------------------------------------------------------- organizations

class OrganizationIn(Schema):
    kind: OrgKind
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]
    credit_code: str
    region: str
    industry: Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)] = ""
    sme_year: int | None = Field(default=None, ge=2017, le=2100)
    sme_number: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] | None = None
    hnte_number: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] | None = None
    hnte_year: int | None = Field(default=None, ge=2008, le=2100)

    _credit = field_validator("credit_code")(lambda v: validation.check_credit_code(v))
    _region = field_validator("region")(_check_region)

    @model_validator(mode="after")
    def _enterprise_only(self):
        if self.kind != OrgKind.enterprise and (self.sme_number or self.hnte_number):
            raise ValueError("只有企业可以填写科技型中小企业和高新技术企业信息")
        if bool(self.sme_year) != bool(self.sme_number):
            raise ValueError("科技型中小企业入库年度和编号需同时填写")
        if bool(self.hnte_year) != bool(self.hnte_number):
            raise ValueError("高新技术企业认定年度和证书编号需同时填写")
        return self


class OrganizationUpdate(Schema):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)] | None = None
    region: str | None = None
    industry: Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)] | None = None
    sme_year: int | None = Field(default=None, ge=2017, le=2100)
    sme_number: str | None = None
    hnte_number: str | None = None
    hnte_year: int | None = Field(default=None, ge=2008, le=2100)

    _region = field_validator("region")(lambda v: v if v is None else _check_region(v))


class OrganizationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: str
    name: str
    credit_code: str
    region: str
    industry: str
    sme_year: int | None
    sme_number: str | None
    hnte_number: str | None
    hnte_year: int | None
    approved: bool


# ----------------------------------------------------------------- users

Password = Annotated[str, StringConstraints(min_length=8, max_length=128)]


class UserCreate(Schema):
    org_id: int
    email: EmailStr
    password: Password
    role: Role
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] = ""
    phone: str | None = None

    _phone = field_validator("phone")(lambda v: _check_phone(v) if v else None)


class RegistrationIn(Schema):
    """Self-registration: a new organization and its first user, pending approval."""

    org: OrganizationIn
    email: EmailStr
    password: Password
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    phone: str | None = None

    _phone = field_validator("phone")(lambda v: _check_phone(v) if v else None)


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    org_id: int
    email: str
    name: str
    role: str
    is_active: bool
    status: str


# ----------------------------------------------------------------- listings

class ListingBase(Schema):
    title: Title
    fields: list[str] = Field(default_factory=list, max_length=5)
    keywords: list[Keyword] = Field(default_factory=list, max_length=20)
    region: str
    contact_name: PersonName = ""
    contact_phone: str = ""

    _fields = field_validator("fields")(_check_fields)
    _region = field_validator("region")(_check_region)
    _phone = field_validator("contact_phone")(_check_phone)


class ProblemIn(ListingBase):
    description: Annotated[str, StringConstraints(strip_whitespace=True, min_length=10, max_length=MAX_TEXT)]
    indicators: Text = ""
    conditions: Text = ""
    budget_min: Yuan | None = None
    budget_max: Yuan | None = None
    coop_modes: list[str] = Field(default_factory=list)
    required_maturity: Maturity | None = None
    deadline: date | None = None
    publish: bool = False

    _modes = field_validator("coop_modes")(lambda v: _check_modes(v, CoopMode))

    @model_validator(mode="after")
    def _budget(self):
        check_budget(self.budget_min, self.budget_max)
        return self


def check_budget(lo, hi) -> None:
    if lo is not None and hi is not None and lo > hi:
        raise ValueError("预算下限不能高于预算上限")


class ProblemUpdate(Schema):
    title: Title | None = None
    description: Annotated[str, StringConstraints(strip_whitespace=True, min_length=10, max_length=MAX_TEXT)] | None = None
    indicators: Text | None = None
    conditions: Text | None = None
    fields: list[str] | None = Field(default=None, max_length=5)
    keywords: list[Keyword] | None = Field(default=None, max_length=20)
    region: str | None = None
    budget_min: Yuan | None = None
    budget_max: Yuan | None = None
    coop_modes: list[str] | None = None
    required_maturity: Maturity | None = None
    deadline: date | None = None
    contact_name: PersonName | None = None
    contact_phone: str | None = None

    _fields = field_validator("fields")(lambda v: v if v is None else _check_fields(v))
    _region = field_validator("region")(lambda v: v if v is None else _check_region(v))
    _phone = field_validator("contact_phone")(lambda v: v if not v else _check_phone(v))
    _modes = field_validator("coop_modes")(lambda v: v if v is None else _check_modes(v, CoopMode))


class Patent(Schema):
    number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=40)]
    type: PatentType = PatentType.invention


class AchievementIn(ListingBase):
    abstract: Annotated[str, StringConstraints(strip_whitespace=True, min_length=10, max_length=MAX_TEXT)]
    body: LongText = ""
    maturity: Maturity
    trl: int | None = Field(default=None, ge=1, le=9)
    patents: list[Patent] = Field(default_factory=list, max_length=50)
    transfer_modes: list[str] = Field(default_factory=list)
    asking_price: Yuan | None = None
    inventors: list[PersonName] = Field(default_factory=list, max_length=30)
    publish: bool = False

    _modes = field_validator("transfer_modes")(lambda v: _check_modes(v, TransferMode))

    @model_validator(mode="after")
    def _trl(self):
        check_trl(self.maturity, self.trl)
        return self


def check_trl(maturity, trl) -> None:
    if maturity and trl:
        lo, hi = MATURITY_TRL[str(maturity)]
        if not lo <= trl <= hi:
            raise ValueError(f"技术就绪度 TRL {trl} 与成熟度“{Maturity(maturity).label}”不符（应在 {lo}–{hi} 之间）")


class AchievementUpdate(Schema):
    title: Title | None = None
    abstract: Annotated[str, StringConstraints(strip_whitespace=True, min_length=10, max_length=MAX_TEXT)] | None = None
    body: LongText | None = None
    fields: list[str] | None = Field(default=None, max_length=5)
    keywords: list[Keyword] | None = Field(default=None, max_length=20)
    region: str | None = None
    maturity: Maturity | None = None
    trl: int | None = Field(default=None, ge=1, le=9)
    patents: list[Patent] | None = None
    transfer_modes: list[str] | None = None
    asking_price: Yuan | None = None
    inventors: list[PersonName] | None = None
    contact_name: PersonName | None = None
    contact_phone: str | None = None

    _fields = field_validator("fields")(lambda v: v if v is None else _check_fields(v))
    _region = field_validator("region")(lambda v: v if v is None else _check_region(v))
    _phone = field_validator("contact_phone")(lambda v: v if not v else _check_phone(v))
    _modes = field_validator("transfer_modes")(lambda v: v if v is None else _check_modes(v, TransferMode))


class StatusChange(Schema):
    status: str
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = ""


class ListingOut(BaseModel):
    """A listing as a given viewer may see it: contact fields are None when hidden."""

    id: int
    kind: str
    title: str
    status: str
    fields: list[str]
    keywords: list[str]
    region: str
    region_name: str
    org_id: int
    org_name: str
    source: str
    contact_name: str | None
    contact_phone: str | None
    contact_visible: bool
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    # problem
    description: str | None = None
    indicators: str | None = None
    conditions: str | None = None
    budget_min: Decimal | None = None
    budget_max: Decimal | None = None
    coop_modes: list[str] | None = None
    required_maturity: str | None = None
    deadline: date | None = None
    # achievement
    abstract: str | None = None
    body: str | None = None
    maturity: str | None = None
    trl: int | None = None
    patents: list[dict] | None = None
    transfer_modes: list[str] | None = None
    asking_price: Decimal | None = None
    inventors: list[str] | None = None
    attachments: list[dict] = Field(default_factory=list)


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    size: int
