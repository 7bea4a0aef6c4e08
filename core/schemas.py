"""Input and output schemas shared by the API, the pages, the importers and the crawler.

Every input is validated here once, with Chinese messages; services trust these objects.
"""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Annotated, Generic, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

from core import validation
from core.errors import validation_failed_from_pydantic
from core.money import FEN
from core.security import check_password
from core.vocab import FIELDS

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


#: Largest database id (PostgreSQL INTEGER primary keys), see core.validation.
MAX_ID = validation.MAX_ID


#: Page numbers: offset = (page - 1) * size must stay a 64-bit integer too.
MAX_PAGE = 10**9


#: Years the indicator and contract rules accept.
MIN_YEAR, MAX_YEAR = validation.MIN_YEAR, validation.MAX_YEAR


#: Day counts in filters (age of a proposal): up to a century.
MAX_DAYS = 36500


DbId = Annotated[int, Field(ge=1, le=MAX_ID)]


MAX_TEXT = 20000


MAX_LONG_TEXT = 200000


Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=MAX_TITLE),
                  AfterValidator(lambda v: validation.check_visible(v, 2))]


ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]


Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_TEXT)]


LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_LONG_TEXT)]


Keyword = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=30)]


PersonName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)]


# Exact yuan, at most 2 decimals (fen), normalised to 2 places.
Yuan = Annotated[Decimal, Field(ge=0, max_digits=16, decimal_places=2), AfterValidator(lambda d: d.quantize(FEN))]


class Schema(BaseModel):
    """Every input schema: unknown fields refused, text stripped, and no string anywhere in the
    input (nested lists and dicts too) may hold a NUL byte or a bidi override."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _plain_text(cls, v):
        return validation.check_text_tree(v)


def _as_utc(v: datetime) -> datetime:
    """Stored datetimes are UTC without an offset; responses carry it (``date-time``)."""
    return v.replace(tzinfo=timezone.utc) if v.tzinfo is None else v


UtcDateTime = Annotated[datetime, AfterValidator(_as_utc)]


def check_fields(v: list[str]) -> list[str]:
    bad = [f for f in v if f not in FIELDS]
    if bad:
        raise ValueError(f"技术领域“{bad[0]}”不在可选范围内：{'、'.join(FIELDS)}")
    return list(dict.fromkeys(v))


def check_modes(v: list[str], enum) -> list[str]:
    out = []
    for m in v:
        try:
            out.append(enum.from_label(m).value)
        except ValueError:
            raise ValueError(f"方式“{m}”无效，可选：{'、'.join(x.label for x in enum)}") from None
    return list(dict.fromkeys(out))


def check_region_field(v: str) -> str:
    return validation.check_region(v)


def check_phone_field(v: str) -> str:
    return validation.check_phone(v) if v else v


# Strength by zxcvbn (core.security.password_problem); "12345678" is refused.
Password = Annotated[str, StringConstraints(min_length=8, max_length=128), AfterValidator(check_password)]


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    size: int


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200),
                 AfterValidator(lambda v: validation.check_visible(v, 2))]


def no_float(v):
    if isinstance(v, float):
        # JSON numbers arrive as floats; accept those that are exact to the fen.
        d = Decimal(repr(v))
        return d
    return v


def validate(schema: type[BaseModel], data):
    """``data`` as ``schema``: an instance passes through; a dict is validated, and a failure
    becomes ValidationFailed with the Chinese messages (what services accept from any caller)."""
    if isinstance(data, schema):
        return data
    try:
        return schema.model_validate(data)
    except ValidationError as e:
        raise validation_failed_from_pydantic(e) from None
