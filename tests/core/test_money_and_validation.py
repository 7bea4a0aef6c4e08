from decimal import Decimal

import pytest

from core import money, regions
from core.validation import check_credit_code, check_region, uscc_check_char


def test_money_roundtrip_is_exact():
    for v in ["0.01", "123456789012.34", "0", "99999999999999.99"]:
        assert money.fen_to_yuan(money.yuan_to_fen(v)) == Decimal(v)


def test_money_refuses_floats_and_sub_fen():
    with pytest.raises(money.MoneyError):
        money.to_decimal(0.1)
    with pytest.raises(money.MoneyError):
        money.to_decimal("1.005")
    with pytest.raises(money.MoneyError):
        money.to_decimal("abc")
    assert money.to_decimal("1,234.50") == Decimal("1234.50")


def test_wan_rounding_half_up_from_exact_value():
    assert money.to_wan(Decimal("12345.00")) == Decimal("1.23")
    assert money.to_wan(Decimal("12350.00")) == Decimal("1.24")  # half up, not banker's
    assert money.to_wan(Decimal("12250.00")) == Decimal("1.23")
    assert money.format_wan(Decimal("1500000")) == "150.00万元"
    assert money.format_wan(None) == "面议"
    assert money.wan_to_yuan("1.2345") == Decimal("12345.00")


def test_credit_code_checksum():
    body = "91330421MA2B12345"
    good = body + uscc_check_char(body)
    assert check_credit_code(good.lower()) == good
    bad = body + ("0" if good[-1] != "0" else "1")
    with pytest.raises(ValueError, match="校验位"):
        check_credit_code(bad)
    with pytest.raises(ValueError, match="18 位"):
        check_credit_code("91330421")
    with pytest.raises(ValueError, match="无效字符"):
        check_credit_code("91330421MA2B1234IO")


def test_region_codes_and_rollup():
    assert check_region("330421") == "330421"
    for bad in ("33042", "330499", "abcdef", "990000"):
        with pytest.raises(ValueError):
            check_region(bad)
    assert regions.full_name("330421") == "浙江省嘉兴市嘉善县"
    assert regions.prefix("330000") == "33" and regions.prefix("330400") == "3304"
    assert regions.contains("330400", "330421") and not regions.contains("330600", "330421")
    assert ("330421", "嘉善县") in regions.children("330400")
