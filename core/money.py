"""Exact money. Amounts are Decimal yuan in Python and integer fen (分) in the database.

Never use floats for money: every conversion here is exact, and the only rounding
is the explicit display rounding to 万元 (ROUND_HALF_UP).
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sqlalchemy import BigInteger
from sqlalchemy.types import TypeDecorator

FEN = Decimal("0.01")
WAN = Decimal(10000)


class MoneyError(ValueError):
    pass


def to_decimal(value) -> Decimal:
    """Parse yuan from str/int/Decimal. Floats are refused: they are not exact."""
    if isinstance(value, Decimal):
        d = value
    elif isinstance(value, bool):
        raise MoneyError("金额格式不正确")
    elif isinstance(value, int):
        d = Decimal(value)
    elif isinstance(value, str):
        s = value.strip().replace(",", "").replace("，", "")
        try:
            d = Decimal(s)
        except InvalidOperation:
            raise MoneyError(f"金额格式不正确：{value}") from None
    else:
        raise MoneyError("金额必须是数字或十进制字符串，不接受浮点数")
    if not d.is_finite():
        raise MoneyError("金额格式不正确")
    if d != d.quantize(FEN):
        raise MoneyError("金额最多保留两位小数（精确到分）")
    return d.quantize(FEN)


def yuan_to_fen(value) -> int:
    return int(to_decimal(value) * 100)


def fen_to_yuan(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(FEN)


def wan_to_yuan(value) -> Decimal:
    """万元 (as entered in spreadsheets) to exact yuan; up to 6 decimals of 万元 = fen."""
    if isinstance(value, float):
        raise MoneyError("金额必须是数字或十进制字符串，不接受浮点数")
    d = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    return to_decimal(d * WAN)


def to_wan(yuan: Decimal, places: int = 2) -> Decimal:
    """Yuan to 万元 for display, rounded half-up from the exact value."""
    q = Decimal(1).scaleb(-places)
    return (Decimal(yuan) / WAN).quantize(q, rounding=ROUND_HALF_UP)


def format_wan(yuan: Decimal | None, places: int = 2) -> str:
    if yuan is None:
        return "面议"
    return f"{to_wan(yuan, places):,}万元"


class Money(TypeDecorator):
    """Decimal yuan in Python, BIGINT fen in the database."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return yuan_to_fen(value)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return fen_to_yuan(int(value))
