"""Jinja2 environment for the pages: filters for 万元 and dates, vocabulary labels, the
navigation for the current user's role, and the CSRF token."""
from __future__ import annotations

import functools
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

from fastapi import Request
from fastapi.templating import Jinja2Templates

from core import regions
from core.db import LOCAL_TZ
from core.listings.vocab import (
    AchievementStatus,
    CoopMode,
    Maturity,
    ProblemStatus,
    TransferMode,
)
from core.money import format_wan, to_wan
from core.vocab import FIELDS, OrgKind, PatentType, Role, UserStatus
from web.security import csrf_token, current_user
from web.views import KIND_LABELS, kind_label, listing_url

TEMPLATES_DIR = Path(__file__).parent / "templates"

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
env = templates.env
env.trim_blocks = True
env.lstrip_blocks = True


def _wan(yuan, places: int = 2) -> str:
    return format_wan(None if yuan is None else Decimal(yuan), places)


def _wan_num(yuan, places: int = 2) -> str:
    """The number of 万元 without the unit (form inputs, table cells)."""
    if yuan is None or yuan == "":
        return ""
    return str(to_wan(Decimal(yuan), places))


def _wan_grouped(yuan, places: int = 2) -> str:
    """The number of 万元 with thousands separators (table cells): '4,494.00'."""
    if yuan is None or yuan == "":
        return ""
    return f"{to_wan(Decimal(yuan), places):,}"


def wan_exact(yuan) -> str:
    """Exact 万元 with the unit, at least two decimals: '58.50万元', '100.0001万元' (no rounding)."""
    if yuan is None or yuan == "":
        return ""
    w = to_wan(Decimal(yuan), 6)
    w = w.quantize(Decimal("0.01")) if w == w.quantize(Decimal("0.01")) else w.normalize()
    return f"{w:,}万元"


def _date(value) -> str:
    """YYYY-MM-DD (local time for timestamps)."""
    if value is None or value == "":
        return ""
    if isinstance(value, (int, float)):
        value = datetime.fromtimestamp(value, tz=timezone.utc)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(LOCAL_TZ).strftime("%Y-%m-%d")
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    return str(value)[:10]


def _datetime(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")
    return _date(value)


def _labeler(enum):
    """A template filter: the label of a stored code, '' for none."""
    return lambda value: enum.label_of(value, "")


def _status_label(value, kind: str = "problem") -> str:
    enum = ProblemStatus if kind == "problem" else AchievementStatus
    return enum.label_of(value, "")


def _match_status_labels() -> dict[str, str]:
    from core.matches.vocab import MatchStatus

    return dict(MatchStatus.choices())


MATCH_STATUS_LABELS = _match_status_labels()


def _pct(value, places: int = 0) -> str:
    if value is None:
        return ""
    return f"{float(value) * 100:.{places}f}%"


def _region(code) -> str:
    return regions.full_name(code) if code else ""


env.filters.update(
    wan=_wan, wan_num=_wan_num, wan_grouped=_wan_grouped, wan_exact=wan_exact, date=_date, datetime=_datetime, pct=_pct,
    region=_region,
    maturity=_labeler(Maturity), coop_mode=_labeler(CoopMode), transfer_mode=_labeler(TransferMode),
    role=_labeler(Role), org_kind=_labeler(OrgKind), patent_type=_labeler(PatentType),
    user_status=_labeler(UserStatus), listing_status=_status_label,
    match_status=lambda v: MATCH_STATUS_LABELS.get(v, v or ""),
)
env.globals.update(
    FIELDS=FIELDS, FIELD_CHOICES=[(f, f) for f in FIELDS], MATURITIES=Maturity.choices(), COOP_MODES=CoopMode.choices(),
    TRANSFER_MODES=TransferMode.choices(), PATENT_TYPES=PatentType.choices(),
    ORG_KINDS=[(k, v) for k, v in OrgKind.choices() if k != "bureau"],
    MATCH_STATUS_LABELS=MATCH_STATUS_LABELS, KIND_LABELS=KIND_LABELS,
)

# Navigation per role: (label, path). Every page checks the role itself as well.
NAV = {
    None: [("首页", "/"), ("检索", "/search")],
    "enterprise": [("首页", "/"), ("检索", "/search"), ("我的需求", "/my/problems"),
                   ("发布需求", "/problems/new"), ("梯度培育", "/qualification"),
                   ("认定登记", "/registration")],
    "university": [("首页", "/"), ("检索", "/search"), ("我的成果", "/my/achievements"),
                   ("发布成果", "/achievements/new"), ("认定登记", "/registration")],
    "broker": [("首页", "/"), ("检索", "/search"), ("审核队列", "/broker/queue"),
               ("对接看板", "/broker/pipeline"), ("代办登记", "/registration")],
    "bureau": [("首页", "/"), ("检索", "/search"), ("指标看板", "/bureau/dashboard"),
               ("认定登记", "/registration"), ("合同登记", "/bureau/contracts"), ("年度目标", "/bureau/targets"),
               ("对接活动", "/bureau/events"), ("数据导入", "/bureau/import"), ("待审核", "/bureau/review"),
               ("账号审核", "/bureau/accounts"), ("培育库", "/bureau/pool")],
}
NAV["admin"] = NAV["bureau"][:2] + [("审核队列", "/broker/queue")] + NAV["bureau"][2:]


def render(request: Request, name: str, context: dict | None = None, status_code: int = 200,
           headers: dict | None = None):
    user = current_user(request)
    ctx = {
        "user": user,
        "nav": NAV.get(user.role if user else None, NAV[None]),
        "csrf_token": csrf_token(request),
        "path": request.url.path,
        "flash": request.session.pop("flash", None) if "session" in request.scope else None,
        "flash_kind": request.session.pop("flash_kind", None) if "session" in request.scope else None,
        "unread": getattr(request.state, "unread", 0) if user else 0,
    }
    ctx.update(context or {})
    return templates.TemplateResponse(request, name, ctx, status_code=status_code, headers=headers)


def budget(item) -> str:
    """A problem's budget range in 万元."""
    if isinstance(item, dict):
        lo, hi = item.get("budget_min"), item.get("budget_max")
    else:
        lo, hi = getattr(item, "budget_min", None), getattr(item, "budget_max", None)
    if lo is None and hi is None:
        return "面议"
    if lo is None:
        return f"不超过{_wan(hi)}"
    if hi is None:
        return f"{_wan(lo)}以上"
    if lo == hi:
        return _wan(lo)
    return f"{_wan_num(lo)}–{_wan(hi)}"


def _region_label(code) -> str:
    return regions.name(code) or str(code)


env.globals.update(budget=budget, identity=lambda v: v, kind_label=kind_label, region_label=_region_label,
                   maturity_label=_labeler(Maturity), listing_url=listing_url)


@functools.lru_cache(maxsize=64)
def _region_options(province: str) -> tuple[tuple[str, str], ...]:
    table = regions.all_codes()
    provinces = [(c, n) for c, n in table.items() if regions.level(c) == "province"]
    local = [(c, regions.full_name(c)) for c in sorted(table) if c.startswith(province[:2]) and c != province]
    return tuple(sorted(provinces) + local)


def region_options(user=None) -> tuple[tuple[str, str], ...]:
    """Codes for the region inputs' suggestion list: all provinces, and every city and county
    of the user's province (浙江省 for visitors)."""
    region = getattr(getattr(user, "org", None), "region", None) or "330000"
    return _region_options(regions.province_of(region))


env.globals.update(region_options=region_options)
