"""The bureau's indicators, computed here and nowhere else (pages and exports call this).

Definitions
- 技术合同成交额 / 技术交易额: registered technology contracts, counted by **registration date**
  (not signing date), at their current (amended) values; terminated contracts are excluded.
  输出 (the headline) counts a contract in the seller's region, 吸纳 in the buyer's region.
  Regions roll up county → city → province by GB/T 2260 code prefix.
- 成果转化: contracts whose conversion mode is 转让, 许可 (implied by 技术转让/技术许可 contracts)
  or 作价投资; items = number of contracts, amount = 合同成交额; counted in the seller's region.
- 推荐成果: matches a broker accepted (status accepted/introduced/negotiating/contracted/failed,
  or withdrawn after an 'accept' review), dated by the decision time, in the problem's region;
  rejected proposals are not counted.
- 解决困难: problems with a contracted match or a registered contract linked to them, dated by
  the first such contract/match, in the problem's region; each problem counts once.
- 对接活动: events held, with attendance and matches made, by event date and region.
- 科技型中小企业入库 / 高新技术企业: organizations whose sme_year / hnte_year is the year.

Targets: progress % = actual to date / target. Projection to year end:
- linear: actual / (days elapsed / days in year);
- seasonal: actual / S, where S is the share of last year's full-year amount reached by the same
  day, taken from last year's monthly shape (the full months before this month plus this month
  pro rata by day), i.e. this year follows last year's seasonality. Used when S > 0; otherwise
  linear. Behind schedule = actual below the amount expected by now under the chosen
  method (equivalently: projection below target). Indicators known only per year (科小, 高企)
  are not projected; they are behind only once the year is over below target.

All money sums are exact Decimal; the pure functions below (``Fact``, ``totals``, ``group``,
``region_rows`` …) are what the property tests check.
"""
from __future__ import annotations

import calendar
import functools
from collections import defaultdict
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from core import audit, regions, validation
from core import permissions as perm
from core.contracts.service import conversion_mode_of
from core.contracts.vocab import (
    ContractSubType,
    ContractType,
    ConversionMode,
    PartyType,
)
from core.db import get_or_404, local_date, local_today
from core.errors import ValidationFailed
from core.indicators.schemas import TargetIn
from core.matches.vocab import ACCEPTED_STATUSES
from core.models import Match, MatchReview, Organization, TechProblem
from core.models.contracts import Contract
from core.models.events import Event
from core.models.targets import IndicatorTarget
from core.money import to_wan
from core.registration import eligibility
from core.schemas import validate
from core.vocab import Role

__all__ = [
    "Fact", "Totals", "INDICATORS", "IndicatorSpec", "totals", "group", "region_bucket", "region_rows",
    "breakdown_rows", "facts", "summary", "series", "breakdown", "targets", "set_target", "delete_target",
    "indicator_value", "projection", "can_view_indicators", "BREAKDOWNS", "region_scope",
    "ytd_bounds", "same_period_last_year", "fact_cache", "with_fact_cache", "monthly_shape_to_date",
]

ZERO = Decimal("0.00")


def can_view_indicators(user) -> bool:
    return perm.is_staff(user) or perm.has_role(user, Role.broker)


def region_scope(viewer) -> str | None:
    """The region the viewer's dashboard opens on and its region choices (dashboard, targets)
    stay inside: a bureau's jurisdiction (a county bureau its county, a city bureau its city
    and the counties below); None = any region (the admin, brokers)."""
    return perm.jurisdiction(viewer)


# ----------------------------------------------------------------- pure aggregation

@dataclass(slots=True)
class Fact:
    """One counted contract, as the indicators see it."""

    id: int
    registered_on: date
    total: Decimal
    tech: Decimal
    seller_region: str
    buyer_region: str
    contract_type: str = "development"
    sub_type: str | None = None
    field: str = "其他"
    seller_type: str = "enterprise"
    buyer_type: str = "enterprise"
    conversion_mode: str | None = None
    on_platform: bool = False

    def region(self, side: str) -> str:
        return self.buyer_region if side == "buyer" else self.seller_region


@dataclass
class Totals:
    count: int = 0
    total: Decimal = ZERO
    tech: Decimal = ZERO

    def add(self, f: Fact) -> Totals:
        self.count += 1
        self.total += f.total
        self.tech += f.tech
        return self

    def __iadd__(self, other: Totals) -> Totals:
        self.count += other.count
        self.total += other.total
        self.tech += other.tech
        return self

    def as_dict(self) -> dict:
        return {"count": self.count, "total_amount": self.total, "tech_amount": self.tech,
                "total_amount_wan": to_wan(self.total), "tech_amount_wan": to_wan(self.tech)}


def totals(items: Iterable[Fact]) -> Totals:
    t = Totals()
    for f in items:
        t.add(f)
    return t


def group(items: Iterable[Fact], key: Callable[[Fact], object]) -> dict[object, Totals]:
    out: dict[object, Totals] = defaultdict(Totals)
    for f in items:
        out[key(f)].add(f)
    return dict(out)


def in_region(code: str, parent: str | None) -> bool:
    return parent is None or code.startswith(regions.prefix(parent))


def region_bucket(code: str, parent: str | None) -> str:
    """The direct child of ``parent`` that contains ``code`` (parent itself for 本级 records)."""
    if parent is None:
        return regions.province_of(code)
    lv = regions.level(parent)
    if lv == "province":
        return regions.city_of(code)  # == parent for province-level records (省本级)
    if lv == "city":
        return code if regions.level(code) == "county" else parent  # 市本级
    return parent


def _region_label(code: str, parent: str | None) -> str:
    if parent is not None and code == parent and regions.level(parent) != "county":
        return f"{regions.name(code)}本级"
    return regions.name(code) or code


def _rows(groups: dict, labels: Callable[[object], str], order: list | None = None) -> list[dict]:
    grand = sum((t.total for t in groups.values()), ZERO)
    keys = order if order is not None else sorted(groups, key=lambda k: (-groups[k].total, str(k)))
    rows = []
    for k in keys:
        t = groups.get(k, Totals())
        share = (t.total / grand * 100).quantize(Decimal("0.1"), ROUND_HALF_UP) if grand else Decimal("0.0")
        rows.append({"key": k, "label": labels(k), **t.as_dict(), "share_pct": share})
    return rows


def region_rows(items: Iterable[Fact], parent: str | None, side: str = "seller") -> list[dict]:
    """Roll-up one level below ``parent`` (provinces when None) by the side's region."""
    items = [f for f in items if in_region(f.region(side), parent)]
    g = group(items, lambda f: region_bucket(f.region(side), parent))
    return _rows(g, lambda k: _region_label(k, parent))


BREAKDOWNS: dict[str, tuple[str, Callable[[Fact], object], Callable[[object], str]]] = {
    "type": ("合同类型", lambda f: f.contract_type, functools.partial(ContractType.label_of, default="未分类")),
    "sub_type": ("合同子类", lambda f: f.sub_type, functools.partial(ContractSubType.label_of, default="未分类")),
    "field": ("技术领域", lambda f: f.field, lambda k: str(k)),
    "seller_type": ("卖方类型", lambda f: f.seller_type, functools.partial(PartyType.label_of, default="未分类")),
    "buyer_type": ("买方类型", lambda f: f.buyer_type, functools.partial(PartyType.label_of, default="未分类")),
    "month": ("月份", lambda f: f.registered_on.month, lambda k: f"{k}月"),
    "quarter": ("季度", lambda f: (f.registered_on.month - 1) // 3 + 1, lambda k: f"第{k}季度"),
}


def breakdown_rows(items: Iterable[Fact], by: str, *, parent: str | None = None,
                   side: str = "seller") -> list[dict]:
    """Rows for one breakdown; their counts and amounts sum exactly to ``totals(items)``."""
    items = list(items)
    if by == "region":
        return region_rows(items, parent, side)
    if by == "conversion":
        conv = [f for f in items if f.conversion_mode]
        return _rows(group(conv, lambda f: f.conversion_mode), functools.partial(ConversionMode.label_of, default="未分类"),
                     order=[m.value for m in ConversionMode])
    if by not in BREAKDOWNS:
        raise ValidationFailed(f"未知的分组：{by}", field="by")
    _, key, label = BREAKDOWNS[by]
    order = None
    if by == "month":
        order = list(range(1, 13))
    elif by == "quarter":
        order = [1, 2, 3, 4]
    return _rows(group(items, key), label, order=order)


# ----------------------------------------------------------------- periods

def _clamp_day(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def ytd_bounds(year: int, as_of: date | None = None) -> tuple[date, date]:
    """1 January to as_of (clamped into the year)."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    if as_of is not None:
        end = min(as_of, end)  # before 1 January: an empty period
    return start, end


def same_period_last_year(start: date, end: date) -> tuple[date, date]:
    return (_clamp_day(start.year - 1, start.month, start.day), _clamp_day(end.year - 1, end.month, end.day))


def period_bounds(year: int, quarter: int | None = None, month: int | None = None) -> tuple[date, date]:
    if month:
        if not 1 <= month <= 12:
            raise ValidationFailed("月份应为 1–12", field="month")
        return date(year, month, 1), _clamp_day(year, month, 31)
    if quarter:
        if not 1 <= quarter <= 4:
            raise ValidationFailed("季度应为 1–4", field="quarter")
        m = (quarter - 1) * 3 + 1
        return date(year, m, 1), _clamp_day(year, m + 2, 31)
    return date(year, 1, 1), date(year, 12, 31)


def default_as_of(year: int, today: date | None = None) -> date:
    today = today or local_today()
    if today.year > year:
        return date(year, 12, 31)
    if today.year < year:
        return date(year - 1, 12, 31)  # the year has not started
    return today


# ----------------------------------------------------------------- loading facts

_FACTS_CACHE: ContextVar[dict | None] = ContextVar("techmatch_facts_cache", default=None)


def with_fact_cache(fn):
    """Within one call (a summary, a workbook), each year's facts are loaded once per region
    and side, then filtered in memory; nothing is cached across calls."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with fact_cache():
            return fn(*args, **kwargs)
    return wrapper


@contextmanager
def fact_cache():
    """Share loaded facts across several calls (a dashboard: summary + series + breakdowns).
    Use it for one request only: inside the block, later writes are not seen."""
    if _FACTS_CACHE.get() is not None:
        yield
        return
    token = _FACTS_CACHE.set({})
    try:
        yield
    finally:
        _FACTS_CACHE.reset(token)


def facts(session: Session, start: date, end: date, region: str | None = None,
          side: str = "seller") -> list[Fact]:
    """Counted contracts registered in [start, end] whose side's region lies in ``region``."""
    cache = _FACTS_CACHE.get()
    if cache is None or start.year != end.year:
        return _load_facts(session, start, end, region, side)
    key = (id(session), start.year, region, side if region else "any")  # no region: both sides alike
    if key not in cache:
        cache[key] = _load_facts(session, date(start.year, 1, 1), date(start.year, 12, 31), region, side)
    return [f for f in cache[key] if start <= f.registered_on <= end]


def _load_facts(session: Session, start: date, end: date, region: str | None, side: str) -> list[Fact]:
    cols = (Contract.id, Contract.registered_on, Contract.total_amount, Contract.tech_amount,
            Contract.seller_region, Contract.buyer_region, Contract.contract_type, Contract.sub_type,
            Contract.field, Contract.seller_type, Contract.buyer_type, Contract.conversion_mode,
            Contract.achievement_id)
    q = select(*cols).where(Contract.registered_on >= start, Contract.registered_on <= end,
                            Contract.status != "terminated")
    if region:
        col = Contract.buyer_region if side == "buyer" else Contract.seller_region
        q = q.where(col.startswith(regions.prefix(region)))
    return [Fact(id=r.id, registered_on=r.registered_on, total=r.total_amount, tech=r.tech_amount,
                 seller_region=r.seller_region, buyer_region=r.buyer_region, contract_type=r.contract_type,
                 sub_type=r.sub_type, field=r.field, seller_type=r.seller_type, buyer_type=r.buyer_type,
                 conversion_mode=conversion_mode_of(r.contract_type, r.conversion_mode),
                 on_platform=r.achievement_id is not None)
            for r in session.execute(q.order_by(Contract.registered_on, Contract.id))]


# ----------------------------------------------------------------- indicators

@dataclass(frozen=True)
class IndicatorSpec:
    key: str
    label: str
    unit: str  # 'money' (yuan) or 'count'
    #: (session, start, end, region) -> [(date, value)]: the indicator's contributions in [start, end]
    points: Callable[[Session, date, date, str | None], list[tuple[date, Decimal]]]
    dated: bool = True  # False: counted once a year (the whole year's figure)
    note: str = ""
    #: the unit as a table shows it (money: 万元)
    unit_label: str = "项"
    #: where the summary shows it: 'contracts' (from the contract facts) or 'activities'
    group: str = "contracts"


def _spec(indicator: str) -> IndicatorSpec:
    try:
        return INDICATORS[indicator]
    except KeyError:
        raise ValidationFailed(f"未知的指标：{indicator}", field="indicator") from None


ONE = Decimal(1)


def _contract_metric(side: str, value: Callable[[Fact], Decimal | None]):
    """Points from counted contracts: ``value`` of each fact (None: the fact does not count)."""
    def pts(session, start, end, region):
        out = []
        for f in facts(session, start, end, region, side):
            v = value(f)
            if v is not None:
                out.append((f.registered_on, v))
        return out
    return pts


def _recommended_points(session, start, end, region):
    q = (select(Match.decided_at, Match.introduced_at, Match.stage_changed_at, Match.proposed_at,
                TechProblem.region)
         .join(TechProblem, Match.problem_id == TechProblem.id)
         # Accepted by a broker: still in the pipeline, or accepted and later withdrawn (e.g. the
         # listing closed). Rejected proposals have a decision time too, but are not counted.
         .where(or_(Match.status.in_(ACCEPTED_STATUSES),
                    select(MatchReview.id).where(MatchReview.match_id == Match.id,
                                                 MatchReview.action == "accept").exists())))
    if region:
        q = q.where(TechProblem.region.startswith(regions.prefix(region)))
    pts = []
    for decided, introduced, staged, proposed, _r in session.execute(q):
        d = local_date(decided or introduced or staged or proposed)
        if d and start <= d <= end:
            pts.append((d, Decimal(1)))
    return pts


def solved_problem_dates(session, region: str | None = None) -> dict[int, date]:
    """Problem id -> the first date it got a contract (registered, not terminated) or a
    contracted match."""
    first: dict[int, date] = {}

    def put(pid, d):
        if pid is not None and d is not None and (pid not in first or d < first[pid]):
            first[pid] = d

    cq = (select(Contract.problem_id, Contract.registered_on)
          .join(TechProblem, Contract.problem_id == TechProblem.id)
          .where(Contract.status != "terminated"))
    mq = (select(Match.problem_id, Match.stage_changed_at, Match.decided_at, Match.updated_at)
          .join(TechProblem, Match.problem_id == TechProblem.id).where(Match.status == "contracted"))
    if region:
        cq = cq.where(TechProblem.region.startswith(regions.prefix(region)))
        mq = mq.where(TechProblem.region.startswith(regions.prefix(region)))
    # A match whose only contracts were terminated no longer counts.
    status_by_match: dict[int, set[str]] = defaultdict(set)
    for mid, st in session.execute(select(Contract.match_id, Contract.status).where(Contract.match_id.is_not(None))):
        status_by_match[mid].add(st)
    revoked = {mid for mid, sts in status_by_match.items() if sts == {"terminated"}}
    mq = mq.add_columns(Match.id)
    contracted_by_contract = set()
    for pid, d in session.execute(cq):
        put(pid, d)
        contracted_by_contract.add(pid)
    for pid, staged, decided, updated, mid in session.execute(mq):
        if pid not in contracted_by_contract and mid not in revoked:
            put(pid, local_date(staged or decided or updated))
    return first


def _solved_points(session, start, end, region):
    return [(d, ONE) for d in solved_problem_dates(session, region).values() if start <= d <= end]


def _event_metric(attr: str | None):
    """Points from events held in [start, end]: one per event, or its ``attr`` (attendance …)."""
    def pts(session, start, end, region):
        q = select(Event).where(Event.held_on >= start, Event.held_on <= end)
        if region:
            q = q.where(Event.region.startswith(regions.prefix(region)))
        return [(e.held_on, ONE if attr is None else Decimal(getattr(e, attr))) for e in session.scalars(q)]
    return pts


def _org_year_metric(column):
    """Enterprises counted once in the year of ``column`` (科小入库年度, 高企认定年度)."""
    def pts(session, start, end, region):
        q = select(column).where(column >= start.year, column <= end.year, Organization.kind == "enterprise")
        if region:
            q = q.where(Organization.region.startswith(regions.prefix(region)))
        return [(date(y, 1, 1), ONE) for y in session.scalars(q)]
    return pts


INDICATORS: dict[str, IndicatorSpec] = {s.key: s for s in (
    IndicatorSpec("contract_turnover", "技术合同成交额（输出）", "money", _contract_metric("seller", lambda f: f.total), note="按卖方所在地、登记日期统计"),
    IndicatorSpec("tech_transaction", "技术交易额（输出）", "money", _contract_metric("seller", lambda f: f.tech), note="不含设备、材料等非技术性费用"),
    IndicatorSpec("absorbed_turnover", "技术合同成交额（吸纳）", "money", _contract_metric("buyer", lambda f: f.total), note="按买方所在地统计"),
    IndicatorSpec("contract_count", "技术合同登记数", "count", _contract_metric("seller", lambda f: ONE)),
    IndicatorSpec("conversion_items", "成果转化项数", "count",
                  _contract_metric("seller", lambda f: ONE if f.conversion_mode else None), note="转让、许可、作价投资"),
    IndicatorSpec("conversion_amount", "成果转化金额", "money",
                  _contract_metric("seller", lambda f: f.total if f.conversion_mode else None)),
    IndicatorSpec("recommended", "推荐成果", "count", _recommended_points, note="经纪人确认推荐的撮合", group="activities"),
    IndicatorSpec("solved_problems", "解决困难", "count", _solved_points, note="有合同成交的企业技术需求", group="activities"),
    IndicatorSpec("events", "对接活动", "count", _event_metric(None), group="activities"),
    IndicatorSpec("event_attendance", "对接活动参加人次", "count", _event_metric("attendance"), unit_label="人次", group="activities"),
    IndicatorSpec("event_matches", "活动达成对接", "count", _event_metric("matches_made"), group="activities"),
    IndicatorSpec("sme", "科技型中小企业入库", "count", _org_year_metric(Organization.sme_year), dated=False, unit_label="家", group="activities"),
    IndicatorSpec("hnte", "高新技术企业", "count", _org_year_metric(Organization.hnte_year), dated=False, unit_label="家", group="activities"),
)}




def points(session: Session, indicator: str, start: date, end: date,
           region: str | None = None) -> list[tuple[date, Decimal]]:
    """(date, value) contributions of one indicator within [start, end]."""
    return _spec(indicator).points(session, start, end, region)


def _sum(pts, start: date | None = None, end: date | None = None) -> Decimal:
    return sum((v for d, v in pts if (start is None or d >= start) and (end is None or d <= end)), Decimal(0))


def _out(spec: IndicatorSpec, v: Decimal | None):
    if v is None:
        return None
    if spec.unit == "count":
        return int(v.to_integral_value(ROUND_HALF_UP))
    return v.quantize(Decimal("0.01"), ROUND_HALF_UP)


def indicator_value(session: Session, indicator: str, start: date, end: date, region: str | None = None):
    spec = _spec(indicator)
    return _out(spec, _sum(points(session, indicator, start, end, region)))


def _pct(num: Decimal, den: Decimal) -> Decimal | None:
    if not den:
        return None
    return (Decimal(num) / Decimal(den) * 100).quantize(Decimal("0.1"), ROUND_HALF_UP)


def growth_pct(current, previous) -> Decimal | None:
    if not previous:
        return None
    return ((Decimal(current) - Decimal(previous)) / Decimal(previous) * 100).quantize(Decimal("0.1"),
                                                                                       ROUND_HALF_UP)


METHOD_LABELS = {"linear": "线性法", "seasonal": "季节法", "annual": "年度数"}


@dataclass
class Projection:
    actual: Decimal
    elapsed_share: Decimal  # of the year's days
    seasonal_share: Decimal | None  # last year's share to the same day
    linear: Decimal | None
    seasonal: Decimal | None
    method: str  # 'linear', 'seasonal' or 'annual'
    projected: Decimal | None
    method_text: str = ""
    extra: dict = field(default_factory=dict)


def monthly_shape_to_date(points_last_year: list[tuple[date, Decimal]], as_of: date) -> Decimal:
    """Last year's amount "to the same day" from its monthly shape: the months before as_of's
    month in full, plus as_of's month pro rata by day (smooths single large contracts)."""
    by_month = defaultdict(Decimal)
    for d, v in points_last_year:
        by_month[d.month] += v
    days = calendar.monthrange(as_of.year, as_of.month)[1]
    before = sum((by_month[m] for m in range(1, as_of.month)), Decimal(0))
    return before + by_month[as_of.month] * Decimal(as_of.day) / Decimal(days)


def projection(actual: Decimal, year: int, as_of: date, last_year_to_date: Decimal | None,
               last_year_total: Decimal | None, dated: bool = True) -> Projection:
    """Year-end projection of a cumulative indicator (pure; see the module docstring)."""
    days = 366 if calendar.isleap(year) else 365
    elapsed = (as_of - date(year, 1, 1)).days + 1
    elapsed = max(0, min(elapsed, days))
    share = Decimal(elapsed) / Decimal(days)
    actual = Decimal(actual)
    if not dated:
        return Projection(actual, share, None, None, None, "annual", actual,
                          "按年度认定/入库数统计，不做推算")
    linear = actual / share if share else None
    seasonal_share = None
    seasonal = None
    if last_year_total and last_year_total > 0 and last_year_to_date is not None and last_year_to_date > 0:
        seasonal_share = Decimal(last_year_to_date) / Decimal(last_year_total)
        seasonal = actual / seasonal_share
    if seasonal is not None:
        text = (f"季节法：按上年月度分布，上年同期累计占上年全年的 "
                f"{(seasonal_share * 100).quantize(Decimal('0.1'))}%，按此比例推算全年")
        return Projection(actual, share, seasonal_share, linear, seasonal, "seasonal", seasonal, text)
    text = (f"线性法：已过 {elapsed}/{days} 天（{(share * 100).quantize(Decimal('0.1'))}%），按时间进度推算全年"
            + ("；上年无同期数据，未用季节法" if share else ""))
    return Projection(actual, share, None, linear, None, "linear", linear, text)


def _target_value(spec: IndicatorSpec, t: IndicatorTarget) -> Decimal:
    return Decimal(t.target_amount) if spec.unit == "money" else Decimal(t.target_count or 0)


def target_status(spec: IndicatorSpec, actual: Decimal, target: Decimal, behind: bool, ended: bool,
                  year: int) -> dict:
    """The target's state in words. An indicator known only per year (科小入库, 高企认定) is
    not "on track" at 0 in November: until the year is over it is counted when the year's
    recognitions are in, and says so."""
    if target > 0 and actual >= target:
        return {"status": "done", "status_label": "已完成"}
    if behind:
        return {"status": "behind", "status_label": "进度滞后"}
    if not spec.dated and not ended:
        return {"status": "annual", "status_label": f"按年度认定结果计入，{year}年底统计"}
    return {"status": "on_track", "status_label": "正常"}


@with_fact_cache
def target_row(session: Session, t: IndicatorTarget, as_of: date | None = None) -> dict:
    spec = _spec(t.indicator)
    as_of = as_of or default_as_of(t.year)
    start, end = ytd_bounds(t.year, as_of)
    actual = _sum(points(session, t.indicator, start, end, t.region)) if as_of >= start else Decimal(0)
    ly_start, ly_end = same_period_last_year(start, end)
    ly_pts = points(session, t.indicator, date(t.year - 1, 1, 1), date(t.year - 1, 12, 31), t.region)
    ly_to_date = _sum(ly_pts, ly_start, ly_end) if as_of >= start else Decimal(0)
    ly_total = _sum(ly_pts)
    started, ended = as_of >= start, as_of >= date(t.year, 12, 31)
    shape = (ly_total if ended else monthly_shape_to_date(ly_pts, as_of)) if started else Decimal(0)
    pr = projection(actual, t.year, as_of, shape, ly_total, spec.dated)
    target = _target_value(spec, t)
    if spec.dated:
        used_share = pr.seasonal_share if pr.method == "seasonal" else pr.elapsed_share
        expected = target * used_share
        behind = actual < expected
    else:
        expected = target if pr.elapsed_share >= 1 else None
        behind = pr.elapsed_share >= 1 and actual < target
    return {
        "id": t.id, "indicator": t.indicator, "label": spec.label, "unit": spec.unit, "year": t.year,
        "region": t.region, "region_name": regions.full_name(t.region), "as_of": as_of,
        "target": _out(spec, target), "actual": _out(spec, actual),
        "progress_pct": _pct(actual, target), "time_elapsed_pct": _pct(pr.elapsed_share, Decimal(1)),
        "expected_by_now": _out(spec, expected) if expected is not None else None,
        "projection": _out(spec, pr.projected), "projection_linear": _out(spec, pr.linear),
        "projection_seasonal": _out(spec, pr.seasonal), "projection_method": pr.method,
        "projection_method_text": pr.method_text, "projection_method_label": METHOD_LABELS[pr.method],
        "projected_pct": _pct(pr.projected, target) if pr.projected is not None else None,
        "last_year_same_period": _out(spec, ly_to_date), "last_year_total": _out(spec, ly_total),
        "behind_schedule": bool(behind), "note": t.note,
        **target_status(spec, actual, target, bool(behind), ended, t.year),
        "target_wan": to_wan(target) if spec.unit == "money" else None,
        "actual_wan": to_wan(actual) if spec.unit == "money" else None,
    }


@with_fact_cache
def targets(session: Session, viewer, year: int, region: str | None = None,
            as_of: date | None = None) -> list[dict]:
    if viewer is not None:
        perm.require(can_view_indicators(viewer), "只有科技局和技术经纪人可以查看指标")
    validation.check_year(year)
    q = select(IndicatorTarget).where(IndicatorTarget.year == year)
    if region:
        perm.require_in_jurisdiction(viewer, region)
        q = q.where(IndicatorTarget.region == region)
    else:
        inside = perm.region_clause(viewer, IndicatorTarget.region)
        if inside is not None:
            q = q.where(inside)
    order = list(INDICATORS)
    rows = [target_row(session, t, as_of) for t in session.scalars(q)]
    return sorted(rows, key=lambda r: (r["region"], order.index(r["indicator"])))


def set_target(session: Session, actor, data: TargetIn | dict) -> IndicatorTarget:
    """Create or update the yearly target of one indicator in one region (bureau only)."""
    data = validate(TargetIn, data)
    if actor is not None:
        perm.require(perm.can_edit_targets(actor), "只有科技局可以设置指标目标")
        perm.require_in_jurisdiction(actor, data.region, "目标地区")
    spec = _spec(data.indicator)
    if spec.unit == "count" and data.target != data.target.to_integral_value():
        raise ValidationFailed(f"“{spec.label}”的目标应为整数", field="target")
    t = session.scalar(select(IndicatorTarget).where(IndicatorTarget.indicator == data.indicator,
                                                     IndicatorTarget.year == data.year,
                                                     IndicatorTarget.region == data.region))
    values = {"target_amount": data.target if spec.unit == "money" else None,
              "target_count": int(data.target) if spec.unit == "count" else None, "note": data.note,
              "updated_by_id": getattr(actor, "id", None)}
    if t is None:
        t = IndicatorTarget(indicator=data.indicator, year=data.year, region=data.region, **values)
        session.add(t)
        session.flush()
        audit.record(session, actor, "target.create", "indicator_target", t.id,
                     {"indicator": t.indicator, "year": t.year, "region": t.region, "target": data.target})
    else:
        changes = audit.diff(t, values)
        session.flush()
        audit.record(session, actor, "target.update", "indicator_target", t.id, changes)
    return t


def delete_target(session: Session, actor, target_id: int) -> None:
    if actor is not None:
        perm.require(perm.can_edit_targets(actor), "只有科技局可以设置指标目标")
    t = get_or_404(session, IndicatorTarget, target_id, "指标目标不存在")
    if actor is not None:
        perm.require_in_jurisdiction(actor, t.region, "目标地区")
    audit.record(session, actor, "target.delete", "indicator_target", t.id,
                 {"indicator": t.indicator, "year": t.year, "region": t.region})
    session.delete(t)
    session.flush()


# ----------------------------------------------------------------- summary, series, breakdowns

def _check_view(viewer, region: str | None, year: int | None = None) -> str | None:
    """The region the view is for: the one asked for (inside the viewer's jurisdiction) or, for a
    bureau, its own region by default (core.permissions.scope_region)."""
    if viewer is not None:
        perm.require(can_view_indicators(viewer), "只有科技局和技术经纪人可以查看指标")
    if region is not None and not regions.is_valid(region):
        raise ValidationFailed(f"行政区划代码 {region} 不存在（GB/T 2260）", field="region")
    validation.check_year(year)
    return perm.scope_region(viewer, region)


def local_level(f: Fact) -> str | None:
    """就地转化 level of a contract: the narrowest of county, city, province shared by seller and buyer."""
    return eligibility.local_level(f.seller_region, f.buyer_region)


def _side_block(cur: list[Fact], ly: list[Fact], ly_full: list[Fact]) -> dict:
    c, p, full = totals(cur), totals(ly), totals(ly_full)
    return {**c.as_dict(),
            "last_year_same_period": p.as_dict(), "last_year_total": full.as_dict(),
            "growth_pct": {"count": growth_pct(c.count, p.count), "total_amount": growth_pct(c.total, p.total),
                           "tech_amount": growth_pct(c.tech, p.tech)}}


@with_fact_cache
def summary(session: Session, viewer, year: int, region: str | None = None, as_of: date | None = None) -> dict:
    """The dashboard: year to date (as_of, default today) against the same period last year."""
    region = _check_view(viewer, region, year)
    as_of = as_of or default_as_of(year)
    start, end = ytd_bounds(year, as_of)
    ly_start, ly_end = same_period_last_year(start, end)
    started = as_of >= start
    blocks = {}
    for side, name in (("seller", "output"), ("buyer", "absorbed")):
        ly_full = facts(session, date(year - 1, 1, 1), date(year - 1, 12, 31), region, side)
        cur = facts(session, start, end, region, side) if started else []
        ly = [f for f in ly_full if ly_start <= f.registered_on <= ly_end] if started else []
        blocks[name] = _side_block(cur, ly, ly_full)
        if side == "seller":
            out_cur = cur
            # 就地转化: of the output, the contracts whose buyer is in the seller's county, city or province.
            blocks["local"] = _side_block(*([f for f in x if local_level(f) is not None] for x in (cur, ly, ly_full)))
            blocks["local"]["by_level"] = [
                {"level": lv, "label": label, **totals(f for f in cur if local_level(f) == lv).as_dict()}
                for lv, label in eligibility.LOCAL_LEVELS.items()]
    conv_rows = breakdown_rows(out_cur, "conversion")
    conv = {"items": sum(r["count"] for r in conv_rows), "amount": sum((r["total_amount"] for r in conv_rows), ZERO),
            "on_platform_items": sum(1 for f in out_cur if f.conversion_mode and f.on_platform),
            "by_mode": conv_rows}
    conv["amount_wan"] = to_wan(conv["amount"])
    acts = {}
    activities = [k for k, spec in INDICATORS.items() if spec.group == "activities"]
    for key in (k for k in activities if INDICATORS[k].dated):
        if started:
            cur_v = indicator_value(session, key, start, end, region)
            ly_v = indicator_value(session, key, ly_start, ly_end, region)
        else:
            cur_v, ly_v = 0, 0
        acts[key] = {"label": INDICATORS[key].label, "value": cur_v, "last_year_same_period": ly_v,
                     "growth_pct": growth_pct(cur_v, ly_v)}
    for key in (k for k in activities if not INDICATORS[k].dated):
        cur_v = indicator_value(session, key, date(year, 1, 1), date(year, 12, 31), region)
        ly_v = indicator_value(session, key, date(year - 1, 1, 1), date(year - 1, 12, 31), region)
        acts[key] = {"label": INDICATORS[key].label, "value": cur_v, "last_year_same_period": ly_v,
                     "growth_pct": growth_pct(cur_v, ly_v)}
    tgt = targets(session, None, year, region, as_of) if region else []
    return {
        "year": year, "region": region, "region_name": regions.full_name(region) if region else "全部地区",
        "as_of": as_of, "period": {"start": start, "end": end},
        "last_year_period": {"start": ly_start, "end": ly_end},
        "contracts": blocks["output"], "absorbed": blocks["absorbed"], "local": blocks["local"], "conversion": conv,
        "activities": acts, "targets": tgt, "behind_schedule": [t["indicator"] for t in tgt if t["behind_schedule"]],
        "definitions": {"counting": "按登记日期统计；输出按卖方所在地，吸纳按买方所在地；就地转化为输出中买方与卖方"
                                    "同县（区）、同市或同省的合同；已终止合同不计入",
                        "amount_unit": "元（精确到分）；*_wan 为万元，四舍五入保留两位"},
    }


@with_fact_cache
def series(session: Session, viewer, year: int, region: str | None = None, side: str = "seller") -> dict:
    """Monthly and quarterly figures for the year and last year, with cumulative totals."""
    region = _check_view(viewer, region, year)
    cur = facts(session, date(year, 1, 1), date(year, 12, 31), region, side)
    ly = facts(session, date(year - 1, 1, 1), date(year - 1, 12, 31), region, side)
    gm, gl = group(cur, lambda f: f.registered_on.month), group(ly, lambda f: f.registered_on.month)
    months, cum, cum_ly = [], Totals(), Totals()
    for m in range(1, 13):
        t, p = gm.get(m, Totals()), gl.get(m, Totals())
        cum += t
        cum_ly += p
        months.append({"month": m, "label": f"{m}月", **t.as_dict(),
                       "cumulative_total_amount": cum.total, "cumulative_tech_amount": cum.tech,
                       "cumulative_count": cum.count,
                       "last_year": p.as_dict(), "last_year_cumulative_total_amount": cum_ly.total,
                       "growth_pct": growth_pct(t.total, p.total)})
    quarters = []
    gq = group(cur, lambda f: (f.registered_on.month - 1) // 3 + 1)
    gql = group(ly, lambda f: (f.registered_on.month - 1) // 3 + 1)
    for q in range(1, 5):
        t, p = gq.get(q, Totals()), gql.get(q, Totals())
        quarters.append({"quarter": q, "label": f"第{q}季度", **t.as_dict(), "last_year": p.as_dict(),
                         "growth_pct": growth_pct(t.total, p.total)})
    return {"year": year, "region": region, "side": side, "months": months, "quarters": quarters,
            "total": totals(cur).as_dict(), "last_year_total": totals(ly).as_dict()}


@with_fact_cache
def breakdown(session: Session, viewer, year: int, by: str, region: str | None = None, side: str = "seller",
              quarter: int | None = None, month: int | None = None, as_of: date | None = None) -> dict:
    """One breakdown table (region, type, sub_type, field, seller_type, buyer_type, conversion,
    month, quarter) for a period; rows sum to the total exactly."""
    region = _check_view(viewer, region, year)
    if side not in ("seller", "buyer"):
        raise ValidationFailed("side 应为 seller（输出）或 buyer（吸纳）", field="side")
    start, end = period_bounds(year, quarter, month)
    if as_of is not None:
        end = min(end, as_of)
    items = facts(session, start, end, region, side) if end >= start else []
    rows = breakdown_rows(items, by, parent=region, side=side)
    total = totals([f for f in items if f.conversion_mode] if by == "conversion" else items)
    title = {"region": "地区", "conversion": "转化方式"}.get(by) or BREAKDOWNS.get(by, (by,))[0]
    return {"year": year, "by": by, "title": title, "region": region,
            "region_name": regions.full_name(region) if region else "全部地区",
            "side": side, "side_label": "吸纳" if side == "buyer" else "输出",
            "period": {"start": start, "end": end}, "rows": rows, "total": total.as_dict()}
