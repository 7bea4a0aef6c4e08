"""Schemas of listings: technical problems (技术需求) and achievements (科技成果)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import (
    BaseModel,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from core.listings.vocab import MATURITY_TRL, CoopMode, Maturity, TransferMode
from core.schemas import (
    MAX_TEXT,
    Keyword,
    LongText,
    PersonName,
    Schema,
    Text,
    Title,
    UtcDateTime,
    Yuan,
    check_fields,
    check_modes,
    check_phone_field,
    check_region_field,
)
from core.vocab import PatentType


class ListingBase(Schema):
    title: Title
    fields: list[str] = Field(default_factory=list, max_length=5)
    keywords: list[Keyword] = Field(default_factory=list, max_length=20)
    region: str
    contact_name: PersonName = ""
    contact_phone: str = ""

    _fields = field_validator("fields")(check_fields)
    _region = field_validator("region")(check_region_field)
    _phone = field_validator("contact_phone")(check_phone_field)


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

    _modes = field_validator("coop_modes")(lambda v: check_modes(v, CoopMode))

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

    _fields = field_validator("fields")(lambda v: v if v is None else check_fields(v))
    _region = field_validator("region")(lambda v: v if v is None else check_region_field(v))
    _phone = field_validator("contact_phone")(lambda v: v if not v else check_phone_field(v))
    _modes = field_validator("coop_modes")(lambda v: v if v is None else check_modes(v, CoopMode))


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

    _modes = field_validator("transfer_modes")(lambda v: check_modes(v, TransferMode))

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

    _fields = field_validator("fields")(lambda v: v if v is None else check_fields(v))
    _region = field_validator("region")(lambda v: v if v is None else check_region_field(v))
    _phone = field_validator("contact_phone")(lambda v: v if not v else check_phone_field(v))
    _modes = field_validator("transfer_modes")(lambda v: v if v is None else check_modes(v, TransferMode))


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
    created_at: UtcDateTime
    updated_at: UtcDateTime
    published_at: UtcDateTime | None
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
