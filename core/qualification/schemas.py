"""Enterprise profile input: amounts in 万元 as decimal strings, validated once, Chinese messages.

``ProfileIn`` is what the form, the XLSX importer and ``techmatch qualify`` accept;
``to_profile`` checks the cross-field rules (naming the field at fault) and converts 万元 to
exact yuan for ``assess``.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from core.errors import ValidationFailed
from core.money import MoneyError, wan_to_yuan
from core.qualification.assess import Profile, window_years

LABELS = {
    "id": "编号", "name": "企业名称", "evaluation_year": "评价年度", "application_date": "申请日期",
    "registered_on": "成立日期", "resident": "居民企业", "employees": "职工总数", "tech_staff": "科技人员数",
    "sales": "销售收入", "rd_expense": "研发费用", "rd_expense_domestic": "境内研发费用",
    "net_assets": "净资产", "total_assets": "资产总额", "total_costs": "成本费用支出总额",
    "hitech_income": "高新技术产品(服务)收入", "total_income": "总收入", "ip_class1": "Ⅰ类知识产权",
    "ip_class2": "Ⅱ类知识产权", "conversions": "科技成果转化数", "field_supported": "属于国家重点支持的高新技术领域",
    "hnte_certificate_valid": "有效高企证书", "national_award_top3_5y": "近五年国家级科技奖励（前三名）",
    "provincial_rd_institution": "省部级以上研发机构", "led_standard_5y": "近五年主导制定标准",
    "prohibited_products": "禁止、限制和淘汰类产品", "major_incident": "重大安全质量环境或科研失信事件",
    "on_blacklist": "经营异常名录或严重违法失信名单",
}

MESSAGES = {
    "missing": "必填", "int_parsing": "必须是整数", "int_type": "必须是整数", "int_from_float": "必须是整数",
    "bool_parsing": "必须是 true 或 false", "bool_type": "必须是 true 或 false",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD", "date_parsing": "日期格式应为 YYYY-MM-DD",
    "date_type": "日期格式应为 YYYY-MM-DD", "dict_type": "必须是按年度填写的对象，如 {\"2025\": \"100.00\"}",
    "greater_than_equal": "不能小于 {ge}", "less_than_equal": "不能大于 {le}",
    "extra_forbidden": "不支持的字段", "string_type": "必须是文本", "model_type": "必须是 JSON 对象",
    "int_parsing_size": "必须是整数",
}


def _wan(v, *, allow_negative: bool = False):
    """万元 (decimal string, int or exact Decimal; never a float) to exact yuan."""
    if isinstance(v, bool) or v is None or isinstance(v, (list, dict)):
        raise ValueError("必须是以万元为单位的数字，如 \"3200.00\"")
    try:
        yuan = wan_to_yuan(v)
    except (MoneyError, ArithmeticError, ValueError):
        raise ValueError("必须是以万元为单位的数字，最多 6 位小数（精确到分），如 \"3200.00\"") from None
    if yuan < 0 and not allow_negative:
        raise ValueError("不能为负数")
    return yuan


Wan = Annotated[Decimal, BeforeValidator(_wan)]
SignedWan = Annotated[Decimal, BeforeValidator(lambda v: _wan(v, allow_negative=True))]
Year = Annotated[int, Field(ge=1949, le=2100)]
Count = Annotated[int, Field(ge=0, le=10_000_000)]


class ProfileIn(BaseModel):
    """One enterprise's profile, amounts in 万元 (converted to exact yuan on validation)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str | int = ""
    name: str = ""
    evaluation_year: Year
    application_date: date
    registered_on: date
    resident: bool = True
    employees: Annotated[int, Field(ge=1, le=10_000_000)]
    tech_staff: Count
    sales: dict[Year, Wan]
    rd_expense: dict[Year, Wan]
    rd_expense_domestic: dict[Year, Wan]
    net_assets: dict[Year, SignedWan] = Field(default_factory=dict)
    total_assets: Wan
    total_costs: Wan
    hitech_income: Wan
    total_income: Wan
    ip_class1: Count = 0
    ip_class2: Count = 0
    conversions: dict[Year, Count] = Field(default_factory=dict)
    field_supported: bool = False
    hnte_certificate_valid: bool = False
    national_award_top3_5y: bool = False
    provincial_rd_institution: bool = False
    led_standard_5y: bool = False
    prohibited_products: bool = False
    major_incident: bool = False
    on_blacklist: bool = False


class StoredProfileIn(ProfileIn):
    """A profile the platform keeps: plus what the enterprise makes (the text its draft needs
    are written from), its technical fields and whether it has filed for 高企 this year."""

    main_products: Annotated[str, Field(max_length=2000)] = ""
    tech_fields: list[str] = Field(default_factory=list)
    hnte_applied: bool = False

    @field_validator("tech_fields")
    @classmethod
    def _fields(cls, v: list[str]) -> list[str]:
        from core.vocab import FIELDS

        bad = [f for f in v if f not in FIELDS]
        if bad:
            raise ValueError(f"技术领域“{bad[0]}”不在可选范围内：{'、'.join(FIELDS)}")
        return list(dict.fromkeys(v))


LABELS.update(main_products="主要产品与核心技术", tech_fields="技术领域", hnte_applied="本年度已申报高企")


def field_label(field: str) -> str:
    head, _, rest = field.partition(".")
    label = LABELS.get(head, head)
    return f"{label}（{rest} 年）" if rest else label


def _pydantic_failure(exc: ValidationError) -> ValidationFailed:
    details = []
    for e in exc.errors():
        loc = ".".join(str(x) for x in e.get("loc", ()))
        etype = e.get("type", "")
        if etype == "value_error":
            msg = str((e.get("ctx") or {}).get("error", e.get("msg", ""))).removeprefix("Value error, ")
        else:
            try:
                msg = MESSAGES.get(etype, "输入不正确").format(**(e.get("ctx") or {}))
            except (KeyError, IndexError):
                msg = MESSAGES.get(etype, "输入不正确")
        details.append({"field": loc or None, "label": field_label(loc) if loc else "", "message": msg})
    first = details[0]
    prefix = f"{first['label']}：" if first["label"] else ""
    return ValidationFailed(prefix + first["message"], field=first["field"], details=details)


def parse_profile(raw: dict, schema: type[ProfileIn] = ProfileIn) -> ProfileIn:
    try:
        return schema.model_validate(raw)
    except ValidationError as e:
        raise _pydantic_failure(e) from None


def _fail(field: str, message: str):
    raise ValidationFailed(f"{field_label(field)}：{message}", field=field,
                           details=[{"field": field, "label": field_label(field), "message": message}])


def to_profile(data: ProfileIn) -> Profile:
    """Cross-field checks, then the ``Profile`` ``assess`` takes."""
    latest = data.evaluation_year - 1
    if data.registered_on > data.application_date:
        _fail("registered_on", "成立日期不能晚于申请日期")
    if data.registered_on.year > latest:
        _fail("registered_on", f"评价年度 {data.evaluation_year} 需要 {latest} 年的会计年度数据，成立日期不能晚于 {latest} 年")
    if data.tech_staff > data.employees:
        _fail("tech_staff", "科技人员数不能大于职工总数")
    years = window_years(data.registered_on, latest)
    for name in ("sales", "rd_expense", "rd_expense_domestic"):
        series = getattr(data, name)
        for y in years:
            if y not in series:
                _fail(f"{name}.{y}", f"缺少 {y} 年的数据（需要 {years[0]}—{years[-1]} 年）")
    for y, dom in data.rd_expense_domestic.items():
        if y in data.rd_expense and dom > data.rd_expense[y]:
            _fail(f"rd_expense_domestic.{y}", "境内研发费用不能大于研发费用")
    if data.hitech_income > data.total_income:
        _fail("hitech_income", "高新技术产品(服务)收入不能大于总收入")
    values = data.model_dump(include=set(ProfileIn.model_fields))
    return Profile(**values)


def profile_from_dict(raw: dict) -> Profile:
    return to_profile(parse_profile(raw))
