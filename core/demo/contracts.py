"""Demo contracts, targets and events: all of 2025 and 2026 up to November, so that the
dashboard shows real shapes (a slow Spring Festival, a June peak and a December rush), with
year-over-year comparisons. Deterministic (fixed seed) and idempotent (keyed by registration
number, target key and event title).

Registration numbers of demo contracts use serials 800001+ (off-platform) and 900001+
(registered from demo matches), so they never collide with numbers typed in by hand.
"""
from __future__ import annotations

import json
import random
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from rich.console import Console
from sqlalchemy import select

from core import hooks, regions
from core.contracts import service as contract_service
from core.contracts.vocab import make_reg_number
from core.db import session_scope
from core.events import service as event_service
from core.indicators import service as indicators
from core.matches import service as match_service
from core.models import Match, Organization, User
from core.models.contracts import Contract
from core.models.events import Event
from core.models.targets import IndicatorTarget

SEED = 20261128
ORGS = Path(__file__).parent / "data" / "organizations.json"
LAST_DAY_2026 = date(2026, 11, 27)

# Relative registration volume per month (Spring Festival dip, mid-year and year-end peaks).
MONTH_WEIGHTS = [5, 3, 7, 7, 8, 11, 7, 6, 9, 8, 10, 19]

OUTSIDE_SELLERS = [
    ("浙江大学", "330106", "university"), ("上海交通大学", "310112", "university"),
    ("中国科学院宁波材料技术与工程研究所", "330211", "institute"), ("江南大学", "320211", "university"),
    ("东华大学", "310117", "university"), ("合肥工业大学", "340104", "university"),
    ("浙江工业大学", "330106", "university"), ("杭州电子科技大学", "330109", "university"),
    ("嘉兴南湖学院", "330402", "university"), ("苏州纳米科技发展有限公司", "320505", "enterprise"),
    ("深圳智能制造技术有限公司", "440305", "enterprise"), ("嘉兴市农业科学研究院", "330402", "institute"),
    ("浙江清华长三角研究院", "330402", "institute"), ("嘉兴微电子仪器与设备工程中心", "330411", "institute"),
]
OUTSIDE_BUYERS = [
    ("嘉兴博创机电有限公司", "330411", "enterprise"), ("嘉善恒远精密机械有限公司", "330421", "enterprise"),
    ("海宁皮革城智能制造有限公司", "330481", "enterprise"), ("平湖光电子器件有限公司", "330482", "enterprise"),
    ("桐乡新材料科技有限公司", "330483", "enterprise"), ("海盐核电配套装备有限公司", "330424", "enterprise"),
    ("南湖生物医药有限公司", "330402", "enterprise"), ("昆山精密模具有限公司", "320583", "enterprise"),
    ("上海浦东新能源汽车部件有限公司", "310115", "enterprise"), ("义乌小商品智能包装有限公司", "330782", "enterprise"),
    ("绍兴柯桥纺织科技有限公司", "330603", "enterprise"), ("杭州萧山汽配有限公司", "330109", "enterprise"),
]

SUBJECTS = {
    "新能源": ["高镍三元正极材料包覆改性", "光伏组件低温焊接工艺", "储能电池热管理系统", "锂电池极片干法制备"],
    "新材料": ["高性能碳纤维复合材料成型", "可降解聚乳酸改性", "石墨烯导热膜制备", "特种工程塑料配方"],
    "装备制造": ["数控机床热误差补偿", "工业机器人视觉定位", "精密轴承寿命预测", "紧固件冷镦成形优化"],
    "现代农业": ["设施蔬菜水肥一体化", "白茶品质快速检测", "稻渔综合种养模式", "果蔬采后保鲜"],
    "食品加工": ["粽子工业化蒸煮杀菌", "水产品低温速冻", "功能性食品配料提取", "食品包装阻隔涂层"],
    "生物医药": ["医用敷料抗菌改性", "中药材有效成分提取", "体外诊断试剂开发", "医疗器械灭菌验证"],
    "电子信息": ["工业物联网边缘网关", "光电传感器信号处理", "MES 生产执行系统", "芯片封装缺陷检测"],
    "节能环保": ["印染废水深度处理", "VOCs 催化燃烧治理", "工业余热回收利用", "固废资源化利用"],
    "化工": ["精细化工连续流合成", "环保型水性涂料配方", "催化剂再生工艺", "分散染料清洁生产"],
    "纺织": ["功能性袜业纤维开发", "数码印花节水工艺", "化纤差别化纺丝", "智能织造质量检测"],
}
TYPE_WEIGHTS = [("development", 30), ("service", 28), ("transfer", 12), ("license", 10), ("consulting", 20)]
SUFFIX = {"development": "技术开发", "transfer": "专利转让", "license": "技术实施许可", "consulting": "技术咨询",
          "service": "技术服务"}
# (low, high) yuan for each type; a few contracts are much larger.
AMOUNT_RANGE = {"development": (150_000, 3_000_000), "transfer": (80_000, 2_000_000),
                "license": (50_000, 1_500_000), "consulting": (10_000, 300_000), "service": (20_000, 800_000)}

EVENTS = [
    ("嘉兴市新能源产业供需对接会", "matchmaking", "330402", 3, 12, 160, 42, 9),
    ("长三角新材料科技成果路演", "roadshow", "330411", 4, 18, 120, 35, 6),
    ("嘉善县“科技副总”走企入校活动", "visit", "330421", 5, 9, 45, 18, 4),
    ("海宁市皮革与时尚产业技术对接会", "matchmaking", "330481", 6, 20, 180, 60, 11),
    ("平湖市科技成果转化培训会", "training", "330482", 7, 8, 90, 40, 2),
    ("高校院所科技成果嘉兴行", "roadshow", "330402", 9, 16, 210, 75, 13),
    ("桐乡市化纤新材料专场对接会", "matchmaking", "330483", 10, 23, 130, 48, 8),
    ("海盐县装备制造产学研对接会", "matchmaking", "330424", 11, 6, 110, 39, 7),
]


def _weighted(rnd: random.Random, items: list[tuple]):
    total = sum(w for _, w in items)
    x = rnd.uniform(0, total)
    for v, w in items:
        x -= w
        if x <= 0:
            return v
    return items[-1][0]


def _day_in_month(rnd: random.Random, year: int, month: int, last: date | None) -> date:
    d = date(year, month, 1) + timedelta(days=rnd.randint(0, 27))
    return min(d, last) if last else d


def _amount(rnd: random.Random, ctype: str) -> Decimal:
    lo, hi = AMOUNT_RANGE[ctype]
    # Log-uniform: many small contracts, a few large ones.
    v = lo * (hi / lo) ** rnd.random()
    if rnd.random() < 0.03:
        v *= 8
    yuan = int(v / 100) * 100
    cents = rnd.choice([0, 0, 0, 50, rnd.randint(1, 99)])
    return Decimal(yuan) + Decimal(cents) / 100


def _org_rows() -> list[dict]:
    return json.loads(ORGS.read_text(encoding="utf-8"))


def _org_ids(session) -> dict[str, Organization]:
    by_code = {o.credit_code: o for o in session.scalars(select(Organization))}
    return {r["key"]: by_code[r["credit_code"]] for r in _org_rows() if r["credit_code"] in by_code}


def _plan(orgs: dict[str, Organization]) -> list[dict]:
    """The deterministic list of demo contracts (dicts for ContractIn)."""
    rnd = random.Random(SEED)
    sellers = [o for o in orgs.values() if o.kind in ("university", "institute")] + \
        [o for o in orgs.values() if o.kind == "enterprise" and o.region.startswith(("3304", "3306"))][:12]
    buyers = [o for o in orgs.values() if o.kind == "enterprise"]
    plan = []
    serials: dict[tuple[int, str], int] = {}
    for year, n, last in ((2025, 110, None), (2026, 118, LAST_DAY_2026)):
        months = MONTH_WEIGHTS if last is None else MONTH_WEIGHTS[:last.month]
        for _ in range(n):
            month = _weighted(rnd, list(zip(range(1, len(months) + 1), months)))
            registered = _day_in_month(rnd, year, month, last)
            signed = registered - timedelta(days=rnd.randint(3, 45))
            ctype = _weighted(rnd, TYPE_WEIGHTS)
            sub = {"development": rnd.choice(["entrusted", "entrusted", "cooperative"]),
                   "transfer": rnd.choice(["patent", "patent", "know_how", "patent_application", "other_transfer"])
                   }.get(ctype)
            mode = None
            if ctype in ("transfer", "license") and rnd.random() < 0.15:
                mode = "equity"
            pool = sellers
            outside = OUTSIDE_SELLERS
            if rnd.random() < 0.5:  # half the contracts are sold from 嘉兴 (the demo bureau's 输出)
                pool = [o for o in sellers if o.region.startswith("3304")]
                outside = [x for x in OUTSIDE_SELLERS if x[1].startswith("3304")]
            if rnd.random() < 0.55 and pool:
                s = rnd.choice(pool)
                seller = {"org_id": s.id}
                seller_region = s.region
            else:
                name, seller_region, ptype = rnd.choice(outside)
                seller = {"name": name, "region": seller_region, "party_type": ptype}
            if rnd.random() < 0.6 and buyers:
                b = rnd.choice(buyers)
                buyer = {"org_id": b.id}
            else:
                name, region, ptype = rnd.choice(OUTSIDE_BUYERS)
                buyer = {"name": name, "region": region, "party_type": ptype}
            field = rnd.choice(list(SUBJECTS))
            total = _amount(rnd, ctype)
            ratio = {"development": rnd.uniform(0.6, 1.0), "service": rnd.uniform(0.5, 1.0)}.get(ctype, 1.0)
            tech = min(total, (total * Decimal(str(round(ratio, 2)))).quantize(Decimal("0.01")))
            authority = regions.city_of(seller_region) if seller_region.startswith("33") else "330400"
            key = (year, authority)
            serials[key] = serials.get(key, 800000) + 1
            plan.append(dict(
                reg_number=make_reg_number(year, authority, serials[key]),
                project_name=f"{rnd.choice(SUBJECTS[field])}{SUFFIX[ctype]}", contract_type=ctype, sub_type=sub,
                conversion_mode=mode, signed_on=signed, registered_on=registered,
                valid_from=signed, valid_to=signed + timedelta(days=rnd.choice([180, 365, 730, 1095])),
                seller=seller, buyer=buyer, total_amount=total, tech_amount=tech, field=field,
                ip_type=rnd.choice(["invention", "utility_model", "software_copyright"]) if ctype in (
                    "transfer", "license") else None,
                note="演示数据"))
    return plan


def _match_contracts(session, broker: User | None) -> int:
    """Register a few contracts from demo matches (accepting top proposals if none are accepted)."""
    made = 0
    dates = [date(2026, 10, 20), date(2026, 10, 29), date(2026, 11, 6), date(2026, 11, 13), date(2026, 11, 24)]
    regs = [make_reg_number(2026, "330400", 900001 + i) for i in range(len(dates))]
    existing = set(session.scalars(select(Contract.reg_number).where(Contract.reg_number.in_(regs))))
    missing = len(regs) - len(existing)
    if missing == 0:
        return 0
    linked = set(session.scalars(select(Contract.match_id).where(Contract.match_id.is_not(None))))
    eligible = [m for m in session.scalars(select(Match).where(
        Match.status.in_(("accepted", "introduced", "negotiating"))).order_by(Match.score.desc(), Match.id))
        if m.id not in linked]
    if len(eligible) < missing and broker is not None:
        for m in session.scalars(select(Match).where(Match.status == "proposed")
                                 .order_by(Match.score.desc(), Match.id).limit(missing - len(eligible))):
            match_service.accept(session, broker, m.id, "演示：经纪人确认推荐")
            eligible.append(m)
    for reg, when in zip(regs, dates):
        if reg in existing:
            continue
        if not eligible:
            break
        m = eligible.pop(0)
        a = m.achievement
        modes = a.transfer_modes or []
        ctype, sub = ("license", None) if "license" in modes else (
            ("transfer", "patent") if "transfer" in modes else ("development", "cooperative"))
        base = Decimal(a.asking_price) if a.asking_price else Decimal("300000.00")
        total = base * Decimal("1.10") if ctype == "development" else base
        contract_service.register_contract_for_match(session, None, m.id, dict(
            reg_number=reg, project_name=f"{a.title[:60]}{SUFFIX[ctype]}", contract_type=ctype, sub_type=sub,
            signed_on=when - timedelta(days=5), registered_on=when, total_amount=total.quantize(Decimal("0.01")),
            tech_amount=(total * Decimal("0.9")).quantize(Decimal("0.01")), note="演示数据：平台撮合成交"))
        made += 1
    return made


def _targets(session) -> int:
    """2026 targets for 嘉兴市 and 海宁市: last year's actuals times a growth rate (some are set
    above what the year will reach, so the dashboard shows a behind-schedule flag)."""
    growth = {"contract_turnover": Decimal("1.20"), "tech_transaction": Decimal("1.10"),
              "absorbed_turnover": Decimal("1.10"), "contract_count": Decimal("1.10"),
              "conversion_items": Decimal("1.30"), "conversion_amount": Decimal("1.15"),
              "events": None, "recommended": None, "solved_problems": None, "sme": None, "hnte": None}
    fixed = {"330400": {"events": 8, "recommended": 30, "solved_problems": 12, "sme": 6, "hnte": 3},
             # A county's yearly figures swing with single large contracts: fixed targets.
             "330481": {"contract_turnover": 25_000_000, "tech_transaction": 22_000_000,
                        "absorbed_turnover": 12_000_000, "contract_count": 15, "conversion_items": 5,
                        "conversion_amount": 15_000_000, "events": 3, "recommended": 8, "solved_problems": 4,
                        "sme": 2, "hnte": 1}}
    n = 0
    for region in ("330400", "330481"):
        for key, g in growth.items():
            exists = session.scalar(select(IndicatorTarget.id).where(
                IndicatorTarget.indicator == key, IndicatorTarget.year == 2026, IndicatorTarget.region == region))
            if exists:
                continue
            if g is None or key in fixed[region]:
                value = Decimal(fixed[region][key])
            else:
                ly = indicators.indicator_value(session, key, date(2025, 1, 1), date(2025, 12, 31), region)
                value = Decimal(ly) * g
                # Round to 10 万元 for money, whole items for counts.
                value = (value / 100000).quantize(Decimal(1)) * 100000 if indicators.INDICATORS[key].unit == "money" \
                    else value.quantize(Decimal(1))
                if not value:
                    continue
            indicators.set_target(session, None, {"indicator": key, "year": 2026, "region": region,
                                                  "target": value, "note": "演示目标"})
            n += 1
    return n


def _events(session, orgs: dict[str, Organization]) -> int:
    n = 0
    organizer = orgs.get("broker-jx")
    existing = set(session.scalars(select(Event.title)))
    for year in (2025, 2026):
        for title, kind, region, month, day, attendance, enterprises, made in EVENTS:
            if year == 2026 and date(year, month, day) > LAST_DAY_2026:
                continue
            full = f"{year}年{title}"
            if full in existing:
                continue
            grow = 1 if year == 2025 else 1.15
            event_service.create(session, None, {
                "title": full, "kind": kind, "held_on": date(year, month, day), "region": region,
                "venue": f"{regions.name(region)}科技创新服务中心", "organizer_org_id": organizer.id if organizer else None,
                "attendance": int(attendance * grow), "enterprises": int(enterprises * grow),
                "matches_made": int(made * grow), "note": "演示数据"})
            n += 1
    return n


def load(console: Console | None = None, index: bool = True) -> dict:
    console = console or Console()
    with session_scope() as session:
        if not index:
            hooks.suppress(session)  # otherwise the few listings solved/transferred here are re-indexed
        orgs = _org_ids(session)
        existing = set(session.scalars(select(Contract.reg_number)))
        created = 0
        for row in _plan(orgs):
            if row["reg_number"] in existing:
                continue
            contract_service.register(session, None, row, source="demo")
            created += 1
        broker = session.scalar(select(User).where(User.email == "broker@demo.techmatch.cn"))
        from_matches = _match_contracts(session, broker)
        session.flush()
        n_targets = _targets(session)
        n_events = _events(session, orgs)
    total = created + from_matches
    console.print(f"技术合同演示数据：新登记 {total} 项（其中撮合成交 {from_matches} 项），"
                  f"目标 {n_targets} 项，对接活动 {n_events} 场")
    return {"contracts": total, "contract_targets": n_targets, "events": n_events}
