"""Pure assessment functions: a ``Profile`` in, a result with codes and Chinese explanations out.

No database, no I/O. Every threshold, tier and point band comes from a rule set (``rules``).

Exactness: amounts are Decimal yuan; every ratio is an exact ``Fraction`` and is compared with
its threshold exactly (so 4.99996% is below 5%). Ratios are *reported* rounded half-up to four
places (``"0.0463"``); a percentage shown in a message gets extra digits when two would make a
failing ratio look equal to its threshold.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from fractions import Fraction

from core.qualification import rules
from core.qualification.rules import RuleSet

WAN = Decimal(10000)


# ----------------------------------------------------------------- the input

@dataclass(frozen=True)
class Profile:
    """One enterprise's figures. Amounts are exact Decimal yuan; yearly figures by fiscal year."""

    id: str | int
    name: str
    evaluation_year: int
    application_date: date
    registered_on: date
    resident: bool
    employees: int
    tech_staff: int
    sales: dict[int, Decimal]
    rd_expense: dict[int, Decimal]
    rd_expense_domestic: dict[int, Decimal]
    net_assets: dict[int, Decimal]
    total_assets: Decimal
    total_costs: Decimal
    hitech_income: Decimal
    total_income: Decimal
    ip_class1: int = 0
    ip_class2: int = 0
    conversions: dict[int, int] = field(default_factory=dict)
    field_supported: bool = False
    hnte_certificate_valid: bool = False
    national_award_top3_5y: bool = False
    provincial_rd_institution: bool = False
    led_standard_5y: bool = False
    prohibited_products: bool = False
    major_incident: bool = False
    on_blacklist: bool = False

    @property
    def latest_year(self) -> int:
        """The latest complete fiscal year: the year before the evaluation year."""
        return self.evaluation_year - 1


def window_years(registered_on: date, latest_year: int, years: int = 3) -> list[int]:
    """The last ``years`` fiscal years up to ``latest_year``, or those since registration if fewer."""
    return list(range(max(latest_year - years + 1, registered_on.year), latest_year + 1))


# ----------------------------------------------------------------- exact helpers

def frac(num, den) -> Fraction | None:
    """num/den exactly, None when the denominator is not positive."""
    den = Fraction(den)
    if den <= 0:
        return None
    return Fraction(num) / den


def round4(r: Fraction | None) -> Decimal | None:
    """A ratio rounded half-up to four places (ratios here are never negative)."""
    if r is None:
        return None
    sign = -1 if r < 0 else 1
    q = abs(r) * 10000
    n = math.floor(q + Fraction(1, 2))
    return (Decimal(sign * n) / 10000).quantize(Decimal("0.0001"))


def pct(r: Fraction | None, below: Fraction | None = None) -> str:
    """A ratio as a percentage with two decimals (more if needed so that a ratio below
    ``below`` never reads as equal to it)."""
    if r is None:
        return "无法计算"
    for places in range(2, 9):
        q = Fraction(10) ** places
        shown = Fraction(math.floor(r * 100 * q + Fraction(1, 2)), q)
        if below is None or r >= below or shown < below * 100:
            break
    d = (Decimal(shown.numerator) / Decimal(shown.denominator)).quantize(Decimal(1).scaleb(-places))
    return f"{d}%"


def pct_threshold(t) -> str:
    if isinstance(t, Fraction):
        t = Decimal(t.numerator) / Decimal(t.denominator)
    d = (Decimal(str(t)) * 100).normalize()
    return f"{d:f}%"


def wan(yuan: Decimal | Fraction, *, up: bool = False) -> str:
    """Yuan as 万元 text, two decimals at most (rounded up for amounts still needed)."""
    if isinstance(yuan, Fraction):
        yuan = Decimal(yuan.numerator) / Decimal(yuan.denominator)
    w = (Decimal(yuan) / WAN).quantize(Decimal("0.01"), ROUND_CEILING if up else ROUND_HALF_UP)
    s = f"{w:,.2f}".rstrip("0").rstrip(".")
    return f"{s} 万元"


def dec(t) -> Fraction:
    return Fraction(Decimal(str(t)))


def tier_points(r: Fraction | None, tiers) -> int:
    """Points of the first tier whose threshold the ratio reaches (tiers from the highest)."""
    if r is None:
        return 0
    for threshold, points in tiers:
        if r >= dec(threshold):
            return int(points)
    return 0


def staff_needed(tech: int, employees: int, t: Fraction) -> int:
    """New technical staff to hire so that (tech + k) / (employees + k) >= t (t < 1)."""
    if Fraction(tech, employees) >= t:
        return 0
    return math.ceil((t * employees - tech) / (1 - t))


def money_needed_same_base(num: Decimal, den: Decimal, t: Fraction) -> Fraction:
    """Amount x to add to the numerator only so that (num + x) / den >= t."""
    return max(Fraction(0), t * Fraction(den) - Fraction(num))


def money_needed_both(num: Decimal, den: Decimal, t: Fraction) -> Fraction:
    """Amount x added to numerator and denominator so that (num + x) / (den + x) >= t (t < 1)."""
    return max(Fraction(0), (t * Fraction(den) - Fraction(num)) / (1 - t))


# ----------------------------------------------------------------- results

@dataclass
class Gap:
    """One unmet condition (``blocking``) or improvement advice, explained in Chinese.
    ``need`` says which technology need could close it: 'ip', 'rd' or 'conversion'."""

    code: str
    message: str
    blocking: bool = True
    need: str | None = None
    scheme: str = ""  # 'sme' or 'hnte'

    @property
    def key(self) -> str:
        return f"{self.scheme}:{self.code}"

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "blocking": self.blocking, "need": self.need}


@dataclass
class SmeResult:
    ruleset: str
    eligible: bool
    route: str | None
    score: int
    parts: dict[str, int]
    failed: list[str]
    gaps: list[Gap]

    def to_dict(self) -> dict:
        return {"eligible": self.eligible, "route": self.route, "score": self.score,
                "parts": dict(self.parts), "failed": list(self.failed)}


@dataclass
class HnteResult:
    ruleset: str
    meets_thresholds: bool
    failed: list[str]
    rd_ratio: Decimal | None
    required_rd_ratio: Decimal
    innovation_low: int
    innovation_high: int
    innovation_parts: dict[str, tuple[int, int]]
    gaps: list[Gap]

    @property
    def rd_ratio_text(self) -> str:
        """The reported ratio as a percentage for pages ("4.63%")."""
        if self.rd_ratio is None:
            return "无法计算"
        return f"{(self.rd_ratio * 100).quantize(Decimal('0.01'))}%"

    @property
    def required_rd_ratio_text(self) -> str:
        return pct_threshold(self.required_rd_ratio)

    def to_dict(self) -> dict:
        return {"meets_thresholds": self.meets_thresholds, "failed": list(self.failed),
                "rd_ratio": None if self.rd_ratio is None else str(self.rd_ratio),
                "required_rd_ratio": str(self.required_rd_ratio),
                "innovation_estimate": {"low": self.innovation_low, "high": self.innovation_high}}


@dataclass
class Assessment:
    id: str
    sme: SmeResult
    hnte: HnteResult

    def to_dict(self, *, explain: bool = False) -> dict:
        out = {"id": self.id, "sme": self.sme.to_dict(), "hnte": self.hnte.to_dict()}
        if explain:
            out["sme"]["ruleset"] = self.sme.ruleset
            out["sme"]["gaps"] = [g.to_dict() for g in self.sme.gaps]
            out["hnte"]["ruleset"] = self.hnte.ruleset
            out["hnte"]["gaps"] = [g.to_dict() for g in self.hnte.gaps]
        return out

    @property
    def gaps(self) -> list[Gap]:
        return self.sme.gaps + self.hnte.gaps


# ----------------------------------------------------------------- 科技型中小企业

SME_CODES = ("not_resident", "too_large", "prohibited_products", "incident", "blacklisted",
             "tech_staff_zero", "score_below_60")


def _sme_parts(p: Profile, rs: RuleSet):
    y = p.latest_year
    staff_r = frac(p.tech_staff, p.employees)
    rd_sales_r = frac(p.rd_expense[y], p.sales[y])
    rd_costs_r = frac(p.rd_expense[y], p.total_costs)
    tech = tier_points(staff_r, rs["tech_staff"]["tiers"])
    rd = max(tier_points(rd_sales_r, rs["rd"]["sales_tiers"]),
             tier_points(rd_costs_r, rs["rd"]["costs_tiers"]))
    ipr = rs["ip"]
    ip = int(ipr["class1_points"]) if p.ip_class1 >= 1 else next(
        (int(pts) for n, pts in ipr["class2_tiers"] if p.ip_class2 >= n), 0)
    return {"tech_staff": tech, "rd": rd, "ip": ip}, staff_r, rd_sales_r, rd_costs_r


def _sme_steps(p: Profile, rs: RuleSet, parts: dict[str, int]) -> list[tuple[int, str, str]]:
    """(points gained, part, what to do) for each reachable higher tier of each part."""
    y = p.latest_year
    steps = []
    for threshold, points in reversed(rs["tech_staff"]["tiers"]):
        if points > parts["tech_staff"]:
            k = staff_needed(p.tech_staff, p.employees, dec(threshold))
            steps.append((points - parts["tech_staff"], "tech_staff",
                          f"新聘 {k} 名科技人员（科技人员占比达 {pct_threshold(threshold)}），科技人员指标得 {points} 分"))
    rd_rules = rs["rd"]
    for (ts, points), (tc, _) in zip(reversed(rd_rules["sales_tiers"]), reversed(rd_rules["costs_tiers"])):
        if points > parts["rd"]:
            options = []
            if p.sales[y] > 0:
                options.append((money_needed_same_base(p.rd_expense[y], p.sales[y], dec(ts)),
                                f"占销售收入 {pct_threshold(ts)}"))
            if p.total_costs > 0:
                options.append((money_needed_both(p.rd_expense[y], p.total_costs, dec(tc)),
                                f"占成本费用 {pct_threshold(tc)}"))
            if options:
                x, basis = min(options, key=lambda o: o[0])
                steps.append((points - parts["rd"], "rd",
                              f"{y} 年研发费用再增加约 {wan(x, up=True)}（{basis}），研发投入指标得 {points} 分"))
    ipr = rs["ip"]
    if parts["ip"] < int(ipr["class1_points"]):
        steps.append((int(ipr["class1_points"]) - parts["ip"], "ip",
                      f"取得 1 项Ⅰ类知识产权（如受让或许可发明专利），科技成果指标得 {ipr['class1_points']} 分"))
        for n, points in reversed(ipr["class2_tiers"]):
            if points > parts["ip"]:
                steps.append((points - parts["ip"], "ip",
                              f"Ⅱ类知识产权增至 {n} 项，科技成果指标得 {points} 分"))
    return steps


def assess_sme(p: Profile, rs: RuleSet | None = None) -> SmeResult:
    """Conditions (1)–(4), then the score on the latest fiscal year. The route is "direct" when
    (1)–(4) hold and a direct-entry fact is true (even if the score also passes: direct entry
    does not depend on the self-reported figures), else "score" when the score passes."""
    rs = rs or rules.in_force("sme", p.application_date)
    y = p.latest_year
    gaps: list[Gap] = []
    lim = rs["size_limits"]
    if not p.resident:
        gaps.append(Gap("not_resident", "不是在中国境内（不含港、澳、台地区）注册的居民企业，不符合评价条件（一）"))
    over = []
    if p.employees > int(lim["employees_max"]):
        over.append(f"职工总数 {p.employees} 人，需 ≤ {lim['employees_max']} 人")
    if p.sales[y] > Decimal(lim["sales_max_yuan"]):
        over.append(f"{y} 年销售收入 {wan(p.sales[y])}，需 ≤ {wan(Decimal(lim['sales_max_yuan']))}")
    if p.total_assets > Decimal(lim["total_assets_max_yuan"]):
        over.append(f"资产总额 {wan(p.total_assets)}，需 ≤ {wan(Decimal(lim['total_assets_max_yuan']))}")
    if over:
        gaps.append(Gap("too_large", "规模超出中小企业标准：" + "；".join(over)
                        + "。规模条件不能通过技术合作弥补，可关注高新技术企业认定"))
    if p.prohibited_products:
        gaps.append(Gap("prohibited_products", "提供的产品（服务）属于国家规定的禁止、限制和淘汰类，不符合评价条件（三）"))
    if p.major_incident:
        gaps.append(Gap("incident", "填报上一年及当年内发生过重大安全、重大质量、严重环境违法或科研严重失信行为，不符合评价条件（四）"))
    if p.on_blacklist:
        gaps.append(Gap("blacklisted", "被列入经营异常名录或严重违法失信企业名单，需先移出名单"))
    basic_ok = not gaps

    parts, staff_r, rd_sales_r, rd_costs_r = _sme_parts(p, rs)
    score = sum(parts.values())
    if parts["tech_staff"] == 0:
        t = dec(rs["tech_staff"]["tiers"][-1][0])
        k = staff_needed(p.tech_staff, p.employees, t)
        gaps.append(Gap("tech_staff_zero",
                        f"科技人员占比 {pct(staff_r, t)}，需 ≥ {pct_threshold(t)} 才能得分（科技人员指标为 0 分不能入库）："
                        f"再新聘 {k} 名科技人员即可达标"))
    pass_score = int(rs["pass_score"])
    if score < pass_score:
        deficit = pass_score - score
        steps = sorted(_sme_steps(p, rs, parts), key=lambda s: s[0])
        closing = [s for s in steps if s[0] >= deficit]  # ascending gain
        # The smallest closing step of each part.
        seen, options = set(), []
        for _gain, part, text in closing:
            if part not in seen:
                seen.add(part)
                options.append(text)
        if not options:
            best: dict[str, tuple[int, str]] = {}
            for gain, part, text in steps:
                if part not in best or gain > best[part][0]:
                    best[part] = (gain, text)
            options = [text for _, text in sorted(best.values(), reverse=True)]
            tail = "单项不足以补齐，需多项同时提高：" + "；".join(options)
        else:
            tail = "；或 ".join(options) + "即可达标"
        need = "ip" if parts["ip"] < int(rs["ip"]["class1_points"]) else (
            "rd" if parts["rd"] < int(rs["rd"]["max"]) else None)
        gaps.append(Gap("score_below_60",
                        f"评价得分 {score} 分（科技人员 {parts['tech_staff']}、研发投入 {parts['rd']}、"
                        f"科技成果 {parts['ip']}），需 ≥ {pass_score} 分，还差 {deficit} 分：{tail}", need=need))

    direct = [label for key, label in rs["direct_entry"].items() if getattr(p, key)]
    score_ok = basic_ok and parts["tech_staff"] > 0 and score >= pass_score
    if basic_ok and direct:
        route = "direct"
    elif score_ok:
        route = "score"
    else:
        route = None
    failed = [] if route else [g.code for g in gaps]
    if route:
        gaps = []
    for g in gaps:
        g.scheme = "sme"
    return SmeResult(rs.document, route is not None, route, score, parts, failed, gaps)


# ----------------------------------------------------------------- 高新技术企业

HNTE_CODES = ("registered_under_1_year", "no_ip", "field_not_supported", "tech_staff_below_10pct",
              "rd_ratio_below", "domestic_rd_below_60pct", "hitech_income_below_60pct", "incident")


def anniversary(d: date, years: int) -> date:
    """The last day of a period of ``years`` years starting on ``d`` (民法典 第二百零二条: the
    corresponding day, or the month's last day when there is none)."""
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def required_rd_ratio(latest_sales: Decimal, rs: RuleSet) -> Decimal:
    for limit, ratio in rs["rd_tiers_by_sales"]:
        if limit is None or latest_sales <= Decimal(limit):
            return Decimal(ratio)
    raise AssertionError("rule set has no open-ended R&D tier")


def _band(value: Fraction | None, tiers, floor=(0, 0)) -> tuple[int, int]:
    if value is not None:
        for threshold, low, high in tiers:
            if value >= dec(threshold):
                return int(low), int(high)
    return tuple(int(x) for x in floor)


def growth_rate(series: dict[int, Decimal], years: list[int]) -> Fraction | None:
    """½(Y2/Y1 + Y3/Y2) − 1 over the window; Y3/Y2 − 1 over two years, or when Y1 is zero
    (工作指引: the first year at zero counts two years); None when it cannot be computed
    (a zero second year, or a single year), which scores 0."""
    vals = [Fraction(series[y]) for y in years]
    if len(vals) >= 3:
        y1, y2, y3 = vals[-3:]
        if y2 <= 0:
            return None
        if y1 <= 0:
            return y3 / y2 - 1
        return (y2 / y1 + y3 / y2) / 2 - 1
    if len(vals) == 2 and vals[0] > 0:
        return vals[1] / vals[0] - 1
    return None


def _growth_band(series, years, g) -> tuple[tuple[int, int], Fraction | None, bool]:
    if any(y not in series for y in years):
        return (0, int(g["each_max"])), None, False  # not given: unknown, the whole range
    rate = growth_rate(series, years)
    if rate is None or rate <= 0:
        return (0, 0), rate, True
    band = _band(rate, g["tiers"], floor=g["positive"])
    return band, rate, True


def innovation_estimate(p: Profile, rs: RuleSet, years: list[int]) -> dict[str, tuple[int, int]]:
    """创新能力 as (low, high) per part. Parts an expert judges are their whole band;
    parts computed from the figures are the band of their tier."""
    inv = rs["innovation"]
    ipr = inv["ip"]
    if p.ip_class1 + p.ip_class2 == 0:
        ip_parts = [(0, 0)]
    else:
        if p.ip_class1 >= 1:
            qty = tuple(ipr["quantity"]["class1"])
        else:
            qty = next((tuple(b[1:]) for b in ipr["quantity"]["class2_tiers"] if p.ip_class2 >= b[0]),
                       tuple(ipr["quantity"]["none"]))
        ip_parts = [tuple(ipr["advancement"]), tuple(ipr["core_support"]), qty, tuple(ipr["acquisition"])]
    ip_parts.append(tuple(ipr["standard_led"] if p.led_standard_5y else ipr["standard_unknown"]))
    cap = int(ipr["max"])
    ip = (min(cap, sum(int(a) for a, _ in ip_parts)), min(cap, sum(int(b) for _, b in ip_parts)))

    conv = inv["conversion"]
    avg = Fraction(sum(p.conversions.get(y, 0) for y in years), len(years)) if years else None
    conversion = _band(avg, conv["tiers"])

    mgmt = tuple(int(x) for x in inv["rd_management"]["range"])

    g = inv["growth"]
    na, _, _ = _growth_band(p.net_assets, years, g)
    sa, _, _ = _growth_band(p.sales, years, g)
    growth = (na[0] + sa[0], na[1] + sa[1])
    return {"ip": ip, "conversion": conversion, "rd_management": mgmt, "growth": growth,
            "net_asset_growth": na, "sales_growth": sa, "_avg_conversions": avg}


def assess_hnte(p: Profile, rs: RuleSet | None = None) -> HnteResult:
    rs = rs or rules.in_force("hnte", p.application_date)
    y = p.latest_year
    years = window_years(p.registered_on, y, int(rs["window_years"]))
    gaps: list[Gap] = []

    one_year = anniversary(p.registered_on, int(rs["min_registered_years"]))
    if not p.application_date > one_year:
        gaps.append(Gap("registered_under_1_year",
                        f"注册成立于 {p.registered_on.isoformat()}，申请时需成立一年以上："
                        f"{(one_year + timedelta(days=1)).isoformat()} 起可以申请"))
    if p.ip_class1 + p.ip_class2 == 0:
        gaps.append(Gap("no_ip", "没有对主要产品（服务）起核心支持作用的知识产权：可从平台成果中许可或受让发明专利",
                        need="ip"))
    if not p.field_supported:
        gaps.append(Gap("field_not_supported",
                        "主要产品（服务）的核心技术不属于《国家重点支持的高新技术领域》，需调整主营产品的技术方向"))
    t_staff = dec(rs["tech_staff_min"])
    staff_r = frac(p.tech_staff, p.employees)
    if staff_r < t_staff:
        k = staff_needed(p.tech_staff, p.employees, t_staff)
        gaps.append(Gap("tech_staff_below_10pct",
                        f"科技人员占比 {pct(staff_r, t_staff)}，需 ≥ {pct_threshold(t_staff)}："
                        f"再新聘约 {k} 名科技人员即可达标"))

    req = required_rd_ratio(p.sales[y], rs)
    rd_total = sum((p.rd_expense[yy] for yy in years), Decimal(0))
    sales_total = sum((p.sales[yy] for yy in years), Decimal(0))
    rd_r = frac(rd_total, sales_total) if years else None
    span = f"{years[0]}—{years[-1]} 年" if len(years) > 1 else (f"{years[0]} 年" if years else "")
    if rd_r is None:
        gaps.append(Gap("rd_ratio_below", "没有可计算研发费用占比的完整会计年度销售收入", need="rd"))
    elif rd_r < dec(req):
        x = money_needed_same_base(rd_total, sales_total, dec(req))
        gaps.append(Gap("rd_ratio_below",
                        f"研发费用占比 {pct(rd_r, dec(req))}，需 ≥ {pct_threshold(req)}："
                        f"近{'三' if len(years) == 3 else _cn(len(years))}年再投入约 {wan(x, up=True)}即可达标"
                        f"（按 {span}合计计算），可与高校院所开展技术开发合作", need="rd"))
    dom_total = sum((p.rd_expense_domestic[yy] for yy in years), Decimal(0))
    t_dom = dec(rs["domestic_rd_min"])
    dom_r = frac(dom_total, rd_total)
    if dom_r is not None and dom_r < t_dom:
        x = money_needed_same_base(dom_total, rd_total, t_dom)
        gaps.append(Gap("domestic_rd_below_60pct",
                        f"境内研发费用占比 {pct(dom_r, t_dom)}，需 ≥ {pct_threshold(t_dom)}："
                        f"约 {wan(x, up=True)}研发活动改在境内开展即可达标"))
    t_hi = dec(rs["hitech_income_min"])
    hi_r = frac(p.hitech_income, p.total_income)
    if hi_r is None or hi_r < t_hi:
        x = money_needed_both(p.hitech_income, p.total_income, t_hi)
        gaps.append(Gap("hitech_income_below_60pct",
                        f"高新技术产品（服务）收入占比 {pct(hi_r, t_hi)}，需 ≥ {pct_threshold(t_hi)}："
                        f"高新技术产品（服务）收入再增加约 {wan(x, up=True)}即可达标"))
    if p.major_incident:
        gaps.append(Gap("incident", "申请认定前一年内发生过重大安全、重大质量事故或严重环境违法行为"))
    failed = [g.code for g in gaps]

    est = innovation_estimate(p, rs, years)
    avg = est.pop("_avg_conversions")
    parts = {k: est[k] for k in ("ip", "conversion", "rd_management", "growth")}
    low = sum(a for a, _ in parts.values())
    high = sum(b for _, b in parts.values())
    pass_above = int(rs["innovation"]["pass_above"])
    safe = low > pass_above
    ipq = rs["innovation"]["ip"]["quantity"]["class1"]
    if p.ip_class1 == 0 and p.ip_class1 + p.ip_class2 > 0 and not safe:
        gaps.append(Gap("no_class1_ip",
                        f"没有Ⅰ类知识产权（现有Ⅱ类 {p.ip_class2} 项，知识产权部分估计 {est['ip'][0]}—{est['ip'][1]} 分）："
                        f"有 1 项Ⅰ类知识产权时“知识产权数量”一项可得 {ipq[0]}—{ipq[1]} 分，可从平台成果中许可或受让发明专利", blocking=False, need="ip"))
    top = rs["innovation"]["conversion"]["tiers"][0]
    if avg is not None and avg < dec(top[0]) and not safe:
        gaps.append(Gap("low_conversions",
                        f"近年年均科技成果转化 {_num(avg)} 项，年均 ≥ {top[0]} 项可得 {top[1]}—{top[2]} 分："
                        "可承接平台上的成果进行转化", blocking=False, need="conversion"))
    if high <= pass_above:
        gaps.append(Gap("innovation_low",
                        f"创新能力评价估计 {low}—{high} 分，需 > {pass_above} 分：即使专家评分取高值也难以通过",
                        blocking=False))
    for g in gaps:
        g.scheme = "hnte"
    return HnteResult(rs.document, not failed, failed, round4(rd_r), req, low, high, parts, gaps)


def _cn(n: int) -> str:
    return "一二三四五"[n - 1] if 1 <= n <= 5 else str(n)


def _num(f: Fraction) -> str:
    d = (Decimal(f.numerator) / Decimal(f.denominator)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return f"{d.normalize():f}"


def assess(p: Profile, *, sme_ruleset: str | None = None, hnte_ruleset: str | None = None) -> Assessment:
    sme_rs = rules.in_force("sme", p.application_date, sme_ruleset)
    hnte_rs = rules.in_force("hnte", p.application_date, hnte_ruleset)
    return Assessment(p.id, assess_sme(p, sme_rs), assess_hnte(p, hnte_rs))
