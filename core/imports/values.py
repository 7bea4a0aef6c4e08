"""Parsing of the values found on pages and in spreadsheets: lists, money in 万元/元,
region names, maturity and mode labels, dates. Shared by the crawler and the importers.
Each parser raises ValueError with a Chinese message."""
from __future__ import annotations

import functools
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from core import regions
from core.listings.vocab import CoopMode, Maturity, TransferMode
from core.money import MoneyError, to_decimal, wan_to_yuan
from core.vocab import FIELDS, PatentType

_SPLIT = re.compile(r"[、,，;；/|\n]+")


def split_list(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        parts = []
        for v in value:
            parts += split_list(v)
        return parts
    return [p.strip() for p in _SPLIT.split(str(value)) if p.strip()]


def is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def number_text(value) -> str:
    """A spreadsheet number as exact decimal text (openpyxl gives floats; repr is exact
    for what a person typed, e.g. 12.5 -> '12.5')."""
    if isinstance(value, bool):
        raise ValueError("必须是数字")
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("必须是数字")
        return repr(value)
    return str(value).strip()


_NEGOTIABLE = {"面议", "议价", "协商", "待定", "-", "—", "无"}


def parse_money(value, *, default_unit: str = "wan") -> Decimal | None:
    """'50' (万元 by default), '50万元', '50万', '500000元', '1.2亿元', '面议' -> Decimal yuan | None."""
    if is_blank(value):
        return None
    text = number_text(value).replace(",", "").replace("，", "").replace(" ", "")
    if text in _NEGOTIABLE:
        return None
    m = re.fullmatch(r"(?:人民币|￥|¥)?(\d+(?:\.\d+)?)(亿元|亿|万元|万|元)?", text)
    if not m:
        raise ValueError(f"金额格式不正确：{value}（例如 50 或 50万元，或填“面议”）")
    num, unit = m.group(1), m.group(2) or ("万元" if default_unit == "wan" else "元")
    try:
        if unit in ("亿", "亿元"):
            return wan_to_yuan(Decimal(num) * 10000)
        if unit in ("万", "万元"):
            return wan_to_yuan(Decimal(num))
        return to_decimal(num)
    except (MoneyError, InvalidOperation) as e:
        raise ValueError(str(e) or f"金额格式不正确：{value}") from None


@functools.lru_cache(maxsize=1)
def _region_names() -> tuple[dict[str, str], dict[str, list[str]]]:
    full: dict[str, str] = {}
    short: dict[str, list[str]] = {}
    for code, name in regions.all_codes().items():
        full.setdefault(regions.full_name(code), code)
        short.setdefault(name, []).append(code)
    return full, short


def parse_region(value) -> str:
    """A 6-digit GB/T 2260 code, a full name (浙江省杭州市西湖区) or an unambiguous name."""
    if is_blank(value):
        raise ValueError("所在地区不能为空")
    text = number_text(value).replace(" ", "")
    if text.endswith(".0"):
        text = text[:-2]
    if text.isdigit():
        if regions.is_valid(text):
            return text
        raise ValueError(f"行政区划代码 {text} 不存在（GB/T 2260）")
    full, short = _region_names()
    if text in full:
        return full[text]
    codes = short.get(text, [])
    if len(codes) == 1:
        return codes[0]
    if len(codes) > 1:
        # prefer the province or city level when a name is both (e.g. 北京市)
        top = [c for c in codes if regions.level(c) != "county"]
        if len(top) >= 1 and len({regions.province_of(c) for c in codes}) == 1:
            return sorted(top)[0]
        raise ValueError(f"地区名称“{text}”不唯一，请填写完整名称或 6 位行政区划代码")
    raise ValueError(f"无法识别的地区：{text}（请填写 6 位行政区划代码或完整名称）")


def parse_fields(value, field_map: dict[str, str] | None = None, *, strict: bool = True) -> list[str]:
    out = []
    for item in split_list(value):
        mapped = (field_map or {}).get(item, item)
        if mapped in FIELDS:
            out.append(mapped)
        elif strict:
            raise ValueError(f"技术领域“{item}”不在可选范围内：{'、'.join(FIELDS)}")
    return list(dict.fromkeys(out))


def parse_modes(value, enum, *, strict: bool = True) -> list[str]:
    out = []
    for item in split_list(value):
        # "技术转让" for the transfer mode "转让", "转让" for the cooperation mode "技术转让"
        tries = [item, item.removeprefix("技术"), "技术" + item]
        found = None
        for t in tries:
            try:
                found = enum.from_label(t).value
                break
            except ValueError:
                continue
        if found is not None:
            out.append(found)
        else:
            if strict:
                raise ValueError(f"方式“{item}”无效，可选：{'、'.join(m.label for m in enum)}") from None
    return list(dict.fromkeys(out))


def parse_coop_modes(value, *, strict: bool = True) -> list[str]:
    return parse_modes(value, CoopMode, strict=strict)


def parse_transfer_modes(value, *, strict: bool = True) -> list[str]:
    return parse_modes(value, TransferMode, strict=strict)


def parse_maturity(value) -> str:
    if is_blank(value):
        raise ValueError("成熟度不能为空")
    try:
        return Maturity.from_label(str(value)).value
    except ValueError:
        raise ValueError(f"成熟度“{value}”无效，可选：{'、'.join(m.label for m in Maturity)}") from None


def parse_int(value, label: str = "") -> int:
    text = number_text(value)
    if text.endswith(".0"):
        text = text[:-2]
    if not re.fullmatch(r"-?\d+", text):
        raise ValueError(f"{label}必须是整数")
    return int(text)


def parse_date(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    m = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?", text)
    if not m:
        raise ValueError("日期格式应为 YYYY-MM-DD")
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise ValueError(f"日期不存在：{text}") from None


def find_date(text: str | None) -> str | None:
    """The first date in a text, as 'YYYY-MM-DD' (for provenance)."""
    if not text:
        return None
    m = re.search(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})", text)
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
    except ValueError:
        return None


_PATENT_TYPES = {m.label: m.value for m in PatentType} | {"发明": "invention", "实用新型专利": "utility_model",
                                                          "外观": "design", "软著": "software_copyright"}


def parse_patents(value) -> list[dict]:
    """'ZL202310000001.X（发明专利）；ZL2022...:实用新型' -> [{"number", "type"}]."""
    out = []
    for item in split_list(value):
        m = re.match(r"^(.*?)[（(:：]\s*([^）)]*)[）)]?$", item)
        number, typ = (m.group(1).strip(), m.group(2).strip()) if m else (item, "")
        ptype = _PATENT_TYPES.get(typ, "invention" if not typ else None)
        if ptype is None:
            try:
                ptype = PatentType.from_label(typ).value
            except ValueError:
                raise ValueError(f"知识产权类型“{typ}”无效，可选：{'、'.join(m.label for m in PatentType)}") from None
        out.append({"number": number, "type": ptype})
    return out
