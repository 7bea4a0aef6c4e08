"""Stored profiles, who may see them, self-checks, draft needs from gaps, the bureau's pool.

Services take a Session and an actor, flush, never commit. Visibility: a profile is seen only by
its own enterprise, by the bureaus whose jurisdiction holds the enterprise, and by admins.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, regions
from core import permissions as perm
from core.db import get_or_404, local_today, utcnow
from core.errors import NotFound, PermissionDenied, ValidationFailed
from core.models import Achievement, EnterpriseProfile, Organization, ProfileYear, QualificationNeed
from core.qualification import assess as A
from core.qualification import rules
from core.qualification.schemas import StoredProfileIn, to_profile
from core.vocab import FIELDS, Role

# ----------------------------------------------------------------- jurisdiction and permissions



def jurisdiction_prefix(user) -> str | None:
    """The region-code prefix of the organizations in a bureau user's jurisdiction
    (core.permissions.jurisdiction); None means every region (admin)."""
    if perm.has_role(user, Role.admin):
        return None
    if perm.has_role(user, Role.bureau):
        return regions.prefix(perm.jurisdiction(user))
    raise PermissionDenied("只有科技局可以查看辖区企业")


def orgs_in_jurisdiction(user):
    """SQL filter: enterprises within this bureau's jurisdiction."""
    clause = Organization.kind == "enterprise"
    jurisdiction_prefix(user)  # bureau or admin only
    inside = perm.region_clause(user, Organization.region)
    return clause if inside is None else clause & inside


def in_jurisdiction(user, org: Organization) -> bool:
    return perm.is_staff(user) and perm.in_jurisdiction(user, org.region)


def can_view_profile(user, org: Organization) -> bool:
    if user is None or not user.is_active:
        return False
    if perm.has_role(user, Role.enterprise) and user.org_id == org.id:
        return True
    return in_jurisdiction(user, org)


def can_edit_profile(user, org: Organization) -> bool:
    """The enterprise fills its own profile; its bureau may import it."""
    return can_view_profile(user, org)


def is_own_enterprise(user, org: Organization) -> bool:
    """The enterprise's own account: it fills in the profile form (the bureau imports instead)."""
    return perm.has_role(user, Role.enterprise) and user.org_id == org.id


def can_create_needs(user, org: Organization) -> bool:
    """Only the enterprise (or an admin) turns its gaps into needs: the need is the enterprise's."""
    return is_own_enterprise(user, org) or perm.has_role(user, Role.admin)


def _org(session: Session, org_id: int) -> Organization:
    org = get_or_404(session, Organization, org_id, "企业不存在")
    if org.kind != "enterprise":
        raise NotFound("企业不存在")
    return org


# ----------------------------------------------------------------- profiles

def get_profile(session: Session, viewer, org_id: int, year: int | None = None) -> EnterpriseProfile | None:
    """The profile of an enterprise for a year (default: its latest); 404 to those who may not see it."""
    org = _org(session, org_id)
    if viewer is not None and not can_view_profile(viewer, org):
        raise NotFound("企业画像不存在")
    q = select(EnterpriseProfile).where(EnterpriseProfile.org_id == org_id)
    if year is not None:
        q = q.where(EnterpriseProfile.evaluation_year == year)
    return session.scalars(q.order_by(EnterpriseProfile.evaluation_year.desc()).limit(1)).first()


def to_assess_profile(p: EnterpriseProfile) -> A.Profile:
    ys = {y.year: y for y in p.years}
    return A.Profile(
        id=str(p.org_id), name=p.org.name if p.org else "", evaluation_year=p.evaluation_year,
        application_date=p.application_date, registered_on=p.registered_on, resident=p.resident,
        employees=p.employees, tech_staff=p.tech_staff,
        sales={y: r.sales for y, r in ys.items() if r.sales is not None},
        rd_expense={y: r.rd_expense for y, r in ys.items() if r.rd_expense is not None},
        rd_expense_domestic={y: r.rd_expense_domestic for y, r in ys.items() if r.rd_expense_domestic is not None},
        net_assets={y: r.net_assets for y, r in ys.items() if r.net_assets is not None},
        total_assets=p.total_assets, total_costs=p.total_costs, hitech_income=p.hitech_income,
        total_income=p.total_income, ip_class1=p.ip_class1, ip_class2=p.ip_class2,
        conversions={y: r.conversions for y, r in ys.items()}, field_supported=p.field_supported,
        hnte_certificate_valid=p.hnte_certificate_valid, national_award_top3_5y=p.national_award_top3_5y,
        provincial_rd_institution=p.provincial_rd_institution, led_standard_5y=p.led_standard_5y,
        prohibited_products=p.prohibited_products, major_incident=p.major_incident, on_blacklist=p.on_blacklist)


def assess_stored(p: EnterpriseProfile) -> A.Assessment:
    """Assess a stored profile and keep the result on it (for the pool)."""
    a = A.assess(to_assess_profile(p))
    p.assessed_at = utcnow()
    p.sme_eligible, p.sme_route, p.sme_score = a.sme.eligible, a.sme.route, a.sme.score
    p.hnte_meets = a.hnte.meets_thresholds
    p.innovation_low, p.innovation_high = a.hnte.innovation_low, a.hnte.innovation_high
    p.failed = [f"sme:{c}" for c in a.sme.failed] + [f"hnte:{c}" for c in a.hnte.failed]
    p.rulesets = [a.sme.ruleset, a.hnte.ruleset]
    return a


YEARLY = ("sales", "rd_expense", "rd_expense_domestic", "net_assets")
SCALARS = ("application_date", "registered_on", "resident", "employees", "tech_staff", "total_assets",
           "total_costs", "hitech_income", "total_income", "ip_class1", "ip_class2", "field_supported",
           "hnte_certificate_valid", "national_award_top3_5y", "provincial_rd_institution", "led_standard_5y",
           "prohibited_products", "major_incident", "on_blacklist", "main_products", "tech_fields",
           "hnte_applied")


def save_profile(session: Session, actor, org_id: int, data: StoredProfileIn, *,
                 source: str = "manual") -> tuple[EnterpriseProfile, A.Assessment]:
    """Create or replace the enterprise's profile for ``data.evaluation_year`` and assess it."""
    org = _org(session, org_id)
    if actor is not None:
        perm.require(can_edit_profile(actor, org), "您只能填写本企业或本辖区企业的画像")
    to_profile(data)  # cross-field checks, naming the field at fault
    p = session.scalars(select(EnterpriseProfile).where(
        EnterpriseProfile.org_id == org_id, EnterpriseProfile.evaluation_year == data.evaluation_year)).first()
    created = p is None
    if created:
        p = EnterpriseProfile(org_id=org_id, evaluation_year=data.evaluation_year, org=org)
        session.add(p)
    for name in SCALARS:
        setattr(p, name, getattr(data, name))
    p.source = source
    p.updated_by_id = getattr(actor, "id", None)
    p.updated_at = utcnow()
    years = set().union(*(getattr(data, n).keys() for n in YEARLY), data.conversions.keys())
    existing = {y.year: y for y in p.years}
    for y in list(existing):
        if y not in years:
            p.years.remove(existing.pop(y))
    for y in sorted(years):
        row = existing.get(y) or ProfileYear(year=y)
        if y not in existing:
            p.years.append(row)
        for n in YEARLY:
            setattr(row, n, getattr(data, n).get(y))
        row.conversions = data.conversions.get(y, 0)
    session.flush()
    a = assess_stored(p)
    session.flush()
    audit.record(session, actor, "profile.create" if created else "profile.update", "profile", p.id,
                 {"org_id": org_id, "year": p.evaluation_year, "failed": p.failed})
    return p, a


def form_values(p: EnterpriseProfile) -> dict:
    """A stored profile as the form/JSON input (amounts in 万元 strings)."""
    from core.money import to_wan

    def w(v):
        return None if v is None else f"{to_wan(v, 6).normalize():f}"

    out = {n: getattr(p, n) for n in SCALARS}
    for n in ("total_assets", "total_costs", "hitech_income", "total_income"):
        out[n] = w(out[n])
    for n in YEARLY:
        out[n] = {y.year: w(getattr(y, n)) for y in p.years if getattr(y, n) is not None}
    out["conversions"] = {y.year: y.conversions for y in p.years}
    out["evaluation_year"] = p.evaluation_year
    return out


# ----------------------------------------------------------------- self-check and needs

NEED_LABELS = {"ip": "核心知识产权", "rd": "技术开发合作", "conversion": "科技成果转化"}
NEED_MODES = {"ip": ["transfer", "license"], "rd": ["development", "joint_rd"],
              "conversion": ["transfer", "license", "equity"]}


@dataclass
class SelfCheck:
    profile: EnterpriseProfile
    assessment: A.Assessment
    needs: dict[str, list[A.Gap]]          # need kind -> the gaps that call for it
    drafts: dict[str, QualificationNeed]   # need kind -> the need already created
    ip_offers: list[Achievement] = field(default_factory=list)


IP_NEED_MODES = frozenset({"transfer", "license"})


def serves_ip_need(patents, transfer_modes) -> bool:
    """The rule for a core-IP gap: an invention patent (Ⅰ类) that the enterprise can own or use,
    i.e. offered by transfer or licence. The self-check's offers and the matcher's proposals for
    a draft need of kind "ip" both apply it."""
    return (any((p or {}).get("type") == "invention" for p in (patents or []))
            and bool(set(transfer_modes or []) & IP_NEED_MODES))


def ip_need_problems(session: Session, problem_ids) -> set[int]:
    """Which of these technical needs came from a core-IP gap (their proposals must serve it)."""
    ids = sorted({int(i) for i in problem_ids})
    out: set[int] = set()
    for i in range(0, len(ids), 500):
        out |= set(session.scalars(select(QualificationNeed.problem_id).where(
            QualificationNeed.problem_id.in_(ids[i:i + 500]), QualificationNeed.need == "ip")))
    return out


def ip_offers(session: Session, fields: list[str], limit: int = 3) -> list[Achievement]:
    """Published achievements with an invention patent offered by transfer or licence, those in
    the enterprise's fields first."""
    q = (select(Achievement).where(Achievement.status == "published")
         .order_by(Achievement.published_at.desc(), Achievement.id.desc()).limit(2000))
    fit, other = [], []
    for a in session.scalars(q):
        if not serves_ip_need(a.patents, a.transfer_modes):
            continue
        (fit if set(a.fields or []) & set(fields or []) else other).append(a)
        if len(fit) >= limit:
            break
    return (fit + other)[:limit]


def self_check(session: Session, viewer, org_id: int, year: int | None = None) -> SelfCheck | None:
    p = get_profile(session, viewer, org_id, year)
    if p is None:
        return None
    a = assess_stored(p)
    session.flush()
    needs: dict[str, list[A.Gap]] = {}
    for g in a.gaps:
        if g.need:
            needs.setdefault(g.need, []).append(g)
    drafts = {n.need: n for n in session.scalars(select(QualificationNeed).where(QualificationNeed.profile_id == p.id))}
    offers = ip_offers(session, p.tech_fields) if "ip" in needs else []
    if offers:
        for g in needs["ip"]:
            g.message += f"（推荐 {len(offers)} 项）"
    return SelfCheck(p, a, needs, drafts, offers)


def _need_text(p: EnterpriseProfile, need: str, gaps: list[A.Gap]) -> tuple[str, str]:
    """The need in the enterprise's own technical words first (that is what the matcher reads),
    the platform's reason last."""
    product = (p.main_products or "").strip().rstrip("。") or (p.org.industry or "主营产品")
    subject = product.split("。")[0][:80]
    title = {
        "ip": f"{subject}：求购或许可发明专利",
        "rd": f"{subject}：寻求技术开发合作",
        "conversion": f"{subject}：承接可转化的科技成果",
    }[need]
    ask = {
        "ip": f"希望通过技术转让或许可，取得与{subject}相关的发明专利，形成对主要产品起核心支持作用的知识产权。",
        "rd": f"希望与高校院所以技术开发、合作研发方式，围绕{subject}开展研发项目。",
        "conversion": f"希望承接与{subject}相关、可产业化的科技成果（转让、许可或作价投资）。",
    }[need]
    desc = f"{product}。{ask}\n需求来源：企业梯度培育自测——{need_reason(gaps)}"
    return title[:200], desc


def need_reason(gaps: list[A.Gap]) -> str:
    """Why a need exists, naming the conditions but not the enterprise's figures (the profile
    itself is seen only by the enterprise and its bureau)."""
    return "；".join(dict.fromkeys(GAP_LABELS.get(g.key, g.key) for g in gaps))


def create_draft_need(session: Session, actor, org_id: int, need: str, year: int | None = None) -> QualificationNeed:
    """Turn the gaps of one need kind into a draft technical need (idempotent per profile and kind)."""
    from core.listings import service as listings
    from core.listings.schemas import ProblemIn

    if need not in NEED_LABELS:
        raise ValidationFailed(f"未知的需求类型：{need}", field="need")
    org = _org(session, org_id)
    if actor is not None:
        perm.require(can_create_needs(actor, org), "只有企业本身可以把差距转为技术需求")
    check = self_check(session, actor, org_id, year)
    if check is None:
        raise NotFound("请先填写企业画像并完成自测")
    if need in check.drafts:
        return check.drafts[need]
    gaps = check.needs.get(need)
    if not gaps:
        raise ValidationFailed(f"自测结果中没有需要“{NEED_LABELS[need]}”的差距", field="need")
    p = check.profile
    title, desc = _need_text(p, need, gaps)
    fields = [f for f in (p.tech_fields or []) if f in FIELDS] or (
        [org.industry] if org.industry in FIELDS else ["其他"])
    data = ProblemIn(title=title, description=desc, fields=fields, region=org.region,
                     coop_modes=NEED_MODES[need], keywords=[NEED_LABELS[need]], publish=False)
    problem = listings.create(session, actor, "problem", data, org_id=org.id, status="draft", source="manual")
    qn = QualificationNeed(profile_id=p.id, org_id=org.id, problem_id=problem.id, need=need,
                           gap_code=gaps[0].key, reason=need_reason(gaps),
                           created_by_id=getattr(actor, "id", None))
    session.add(qn)
    session.flush()
    audit.record(session, actor, "profile.need", "problem", problem.id, {"need": need, "gaps": [g.code for g in gaps]})
    return qn


def need_for_problem(session: Session, problem_id: int) -> QualificationNeed | None:
    """Why a technical need exists, when it came from a self-check (shown to the broker)."""
    return session.scalars(select(QualificationNeed).where(QualificationNeed.problem_id == problem_id)).first()


# ----------------------------------------------------------------- the ladder and the pool

RUNGS = (
    ("not_assessed", "未评估"),
    ("sme_candidate", "科小培育"),
    ("sme_registered", "科小入库"),
    ("hnte_candidate", "高企培育"),
    ("hnte_applied", "高企参评"),
    ("hnte_certified", "高企认定"),
)
RUNG_LABELS = dict(RUNGS)


def hnte_valid_until(org: Organization) -> date | None:
    """The latest a certificate can be valid to: three years from its issue date. Only the
    certification year is recorded, so 31 December of year + 3 is used (an upper bound)."""
    if not org.hnte_year:
        return None
    years = int(rules.in_force("hnte", date(org.hnte_year, 12, 31))["certificate_years"])
    return date(org.hnte_year + years, 12, 31)


def rung_of(org: Organization, p: EnterpriseProfile | None, year: int, today: date) -> str:
    until = hnte_valid_until(org)
    if until is not None and until >= today:
        return "hnte_certified"
    if p is not None and p.hnte_applied:
        return "hnte_applied"
    if p is not None and p.hnte_meets:
        return "hnte_candidate"
    if org.sme_year == year:
        return "sme_registered"
    if p is not None and p.assessed_at is not None:
        return "sme_candidate"
    return "not_assessed"


GAP_LABELS = {
    "sme:not_resident": "科小：非居民企业", "sme:too_large": "科小：规模超标", "sme:prohibited_products": "科小：禁止类产品",
    "sme:incident": "科小：重大事件", "sme:blacklisted": "科小：失信名单", "sme:tech_staff_zero": "科小：科技人员不足 10%",
    "sme:score_below_60": "科小：评价得分不足 60 分",
    "hnte:registered_under_1_year": "高企：成立不满一年", "hnte:no_ip": "高企：无知识产权",
    "hnte:field_not_supported": "高企：不属于重点支持领域", "hnte:tech_staff_below_10pct": "高企：科技人员不足 10%",
    "hnte:rd_ratio_below": "高企：研发费用占比不足", "hnte:domestic_rd_below_60pct": "高企：境内研发费用不足 60%",
    "hnte:hitech_income_below_60pct": "高企：高新收入不足 60%", "hnte:incident": "高企：重大事件",
    "hnte:no_class1_ip": "高企：缺少Ⅰ类知识产权（发明专利等）", "hnte:low_conversions": "高企：科技成果转化数偏少",
    "hnte:innovation_low": "高企：创新能力评价估分偏低",
}


@dataclass
class PoolRow:
    org: Organization
    profile: EnterpriseProfile | None
    rung: str
    hnte_valid_until: date | None

    @property
    def rung_label(self) -> str:
        return RUNG_LABELS[self.rung]


def pool(session: Session, viewer, year: int, today: date | None = None) -> dict:
    """Every enterprise in the bureau's jurisdiction on the ladder, against the 科小/高企 targets."""
    from core.models import IndicatorTarget

    today = today or local_today()
    orgs = list(session.scalars(select(Organization).where(orgs_in_jurisdiction(viewer))
                                .order_by(Organization.region, Organization.id)))
    ids = [o.id for o in orgs]
    profiles: dict[int, EnterpriseProfile] = {}
    if ids:
        for p in session.scalars(select(EnterpriseProfile).where(EnterpriseProfile.org_id.in_(ids),
                                                                 EnterpriseProfile.evaluation_year <= year)
                                 .order_by(EnterpriseProfile.evaluation_year)):
            profiles[p.org_id] = p  # the latest up to this year
    rows = [PoolRow(o, profiles.get(o.id), rung_of(o, profiles.get(o.id), year, today), hnte_valid_until(o))
            for o in orgs]
    counts = Counter(r.rung for r in rows)
    gaps = Counter(code for r in rows if r.profile and r.rung in ("sme_candidate", "sme_registered", "hnte_candidate")
                   for code in r.profile.failed or [])
    pre = jurisdiction_prefix(viewer)
    region = viewer.org.region if pre is not None else None
    targets = {}
    for ind in ("sme", "hnte"):
        t = None
        if region:  # a bureau's own target; an admin sees every region, which has no single target
            t = session.scalars(select(IndicatorTarget).where(
                IndicatorTarget.indicator == ind, IndicatorTarget.year == year,
                IndicatorTarget.region == region)).first()
        targets[ind] = t.target_count if t else None
    sme_actual = sum(1 for r in rows if r.org.sme_year == year)
    hnte_actual = sum(1 for r in rows if r.rung == "hnte_applied" or r.org.hnte_year == year)
    progress = {
        "sme": {"label": "科技型中小企业入库", "target": targets["sme"], "actual": sme_actual,
                "pipeline": sum(1 for r in rows if r.org.sme_year != year and r.profile and r.profile.sme_eligible)},
        "hnte": {"label": "高新技术企业参评", "target": targets["hnte"], "actual": hnte_actual,
                 "pipeline": counts["hnte_candidate"]},
    }
    return {"year": year, "rows": rows, "counts": [(k, label, counts[k]) for k, label in RUNGS],
            "top_gaps": [(GAP_LABELS.get(c, c), n) for c, n in gaps.most_common(5)],
            "progress": progress, "reminders": reminders(rows, year, today)}


def reminders(rows: list[PoolRow], year: int, today: date) -> list[str]:
    out = []
    win = rules.in_force("sme", today)["evaluation_window"]
    opens = date.fromisoformat(f"{year}-{win['opens']}")
    closes = date.fromisoformat(f"{year}-{win['closes']}")
    ready = [r for r in rows if r.org.sme_year != year and r.profile and r.profile.sme_eligible]
    due = [r for r in rows if r.org.sme_year == year - 1]
    if today <= closes:
        state = "已开放" if today >= opens else f"{opens.month} 月 {opens.day} 日开放"
        out.append(f"{year} 年科技型中小企业评价{state}，{closes.month} 月 {closes.day} 日截止：{len(ready)} 家企业自测已符合条件尚未入库，"
                   f"{len(due)} 家 {year - 1} 年入库企业需重新评价")
    for r in rows:
        if r.hnte_valid_until and today <= r.hnte_valid_until <= _add_months(today, 6):
            out.append(f"{r.org.name} 的高新技术企业证书（{r.org.hnte_year} 年认定，有效期 3 年）将于 "
                       f"最迟于 {r.hnte_valid_until.isoformat()} 到期，请提醒重新认定")
    return out


def _add_months(d: date, months: int) -> date:
    m = d.month - 1 + months
    y, m = d.year + m // 12, m % 12 + 1
    import calendar
    return date(y, m, min(d.day, calendar.monthrange(y, m)[1]))
