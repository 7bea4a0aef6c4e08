"""Validators shared by schemas, importers and the crawler. Messages are Chinese."""
from __future__ import annotations

import re
import unicodedata

from core import regions

# Bidirectional embedding/override/isolate controls: they reorder what a reader sees (a file
# name or a party name that reads differently from what it is).
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def check_text(v: str) -> str:
    """Any text input: no NUL byte (PostgreSQL cannot store it) and no bidi override."""
    if "\x00" in v:
        raise ValueError("文本不能包含空字符（NUL）")
    if _BIDI_CONTROLS.search(v):
        raise ValueError("文本不能包含文字方向控制字符")
    return v


def check_text_tree(v):
    """:func:`check_text` on every string inside lists, tuples and dicts."""
    if isinstance(v, str):
        return check_text(v)
    if isinstance(v, (list, tuple)):
        for x in v:
            check_text_tree(x)
    elif isinstance(v, dict):
        for k, x in v.items():
            check_text_tree(k)
            check_text_tree(x)
    return v


def visible_length(v: str) -> int:
    """Characters a reader sees: no whitespace, no format (zero-width) or control characters."""
    return sum(1 for ch in v if not ch.isspace() and unicodedata.category(ch) not in ("Cf", "Cc", "Zs"))


def check_visible(v: str, minimum: int = 1) -> str:
    """A title or name must show something: not only zero-width or blank characters."""
    if visible_length(v) < minimum:
        raise ValueError(f"至少需要 {minimum} 个可见字符（不能只包含空白或零宽字符）")
    return v

# GB 32100-2015 统一社会信用代码
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")


def uscc_check_char(first17: str) -> str:
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS))
    check = 31 - total % 31
    return _USCC_CHARS[0 if check == 31 else check]


def check_credit_code(code: str) -> str:
    """Return the normalised code or raise ValueError with a Chinese message."""
    code = (code or "").strip().upper()
    if len(code) != 18:
        raise ValueError("统一社会信用代码应为 18 位")
    if not _USCC_RE.match(code):
        raise ValueError("统一社会信用代码含有无效字符（不使用 I、O、Z、S、V）")
    if uscc_check_char(code[:17]) != code[17]:
        raise ValueError("统一社会信用代码校验位错误")
    return code


def check_region(code: str) -> str:
    code = (code or "").strip()
    if not (len(code) == 6 and code.isdigit()):
        raise ValueError("行政区划代码应为 6 位数字（GB/T 2260）")
    if not regions.is_valid(code):
        raise ValueError(f"行政区划代码 {code} 不存在（GB/T 2260）")
    return code


def reject_nulls(model, values: dict) -> None:
    """A partial update (PATCH) may not set a column that cannot be empty to null."""
    from core.errors import ValidationFailed

    cols = model.__table__.c
    for k, v in values.items():
        if v is None and k in cols and not cols[k].nullable:
            raise ValidationFailed("必填项不能为空", field=k)


#: Primary keys are INTEGER columns: 32-bit signed on PostgreSQL (64-bit on SQLite), so the
#: portable bound is PostgreSQL's.
MAX_ID = 2**31 - 1


def check_ids(obj, *names: str) -> None:
    """The id attributes ``names`` of ``obj`` (filters) are None or fit a database id."""
    from core.errors import ValidationFailed

    for name in names:
        v = getattr(obj, name)
        if v is not None and not (isinstance(v, int) and 1 <= v <= MAX_ID):
            raise ValidationFailed(f"{name} 应为 1 到 {MAX_ID} 之间的编号", field=name)


MIN_YEAR, MAX_YEAR = 1990, 2100


def check_year(year: int | None, field: str = "year") -> int | None:
    """A year the indicator and contract rules can compute with (None passes)."""
    from core.errors import ValidationFailed

    if year is not None and not (isinstance(year, int) and MIN_YEAR <= year <= MAX_YEAR):
        raise ValidationFailed(f"年度应在 {MIN_YEAR} 到 {MAX_YEAR} 之间", field=field)
    return year


_PHONE_RE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(-\d{1,6})?)$")


def check_phone(phone: str) -> str:
    phone = (phone or "").strip().replace(" ", "")
    if not _PHONE_RE.match(phone):
        raise ValueError("联系电话格式不正确（手机号 11 位或带区号的座机）")
    return phone
