"""Validators shared by schemas, importers and the crawler. Messages are Chinese."""
from __future__ import annotations

import re

from core import regions

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


_PHONE_RE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(-\d{1,6})?)$")


def check_phone(phone: str) -> str:
    phone = (phone or "").strip().replace(" ", "")
    if not _PHONE_RE.match(phone):
        raise ValueError("联系电话格式不正确（手机号 11 位或带区号的座机）")
    return phone
