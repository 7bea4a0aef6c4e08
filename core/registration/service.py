"""技术合同认定登记 as a workflow: the seller (or its broker) applies at the registration office of
the seller's region; the office accepts, classifies, sets (核定) the 技术交易额 from the itemised
non-technical costs, calls an expert review when the rule set asks for one, and registers (through
``core.contracts``: the registered contract counts in the indicators), refuses or returns the
application for completion. Registered contracts are amended and cancelled through the same office.

Services take a Session and an actor, flush, never commit.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from core import audit, regions
from core import permissions as perm
from core.contracts import service as contracts
from core.contracts.vocab import ORG_KIND_TO_PARTY, SUB_TYPES, ContractSubType, ContractType, make_reg_number
from core.db import local_today, utcnow
from core.errors import (
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from core.models import Contract, Match, Organization, User
from core.models.registration import ExpertReview, RegistrationApplication, RegistrationCost, RegistrationEvent
from core.notifications import service as notifications
from core.registration import assessment, eligibility, jurisdiction, rules
from core.registration.schemas import (
    ApplicationIn,
    AssessIn,
    ClassifyIn,
    ExpertAssignIn,
    OpinionIn,
    RefuseIn,
    RegisterIn,
    ReturnIn,
)
from core.registration.vocab import EDITABLE, OPEN, AppStatus
from core.schemas import validate
from core.vocab import Role

APPLICANT_ROLES = (Role.enterprise, Role.university, Role.broker)
#: statuses in the office's queue (not yet decided)
OPEN_STATUSES = ("submitted", "reviewing", "expert_review")
SELLER_KINDS = ("enterprise", "university", "institute")


def _event(session: Session, app: RegistrationApplication, actor, kind: str, note: str = "",
           changes: dict | None = None) -> RegistrationEvent:
    ev = RegistrationEvent(application_id=app.id, kind=kind, actor_id=getattr(actor, "id", None), note=note,
                           changes=audit.jsonable(changes or {}))
    session.add(ev)
    app.events.append(ev)
    audit.record(session, actor, f"registration.{kind}", "registration", app.id, {**(changes or {}), "note": note})
    return ev


# ----------------------------------------------------------------- permissions

def is_applicant(user, app: RegistrationApplication) -> bool:
    if user is None or not user.is_active:
        return False
    return app.applicant_id == user.id or (user.role in (Role.enterprise, Role.university)
                                           and user.org_id == app.seller_org_id)


def is_office(user) -> bool:
    """A registration office's account (a bureau, or the admin): it sees the queue, not applications of its own."""
    return perm.has_role(user, Role.bureau, Role.admin)


def can_apply(user) -> bool:
    return perm.has_role(user, *APPLICANT_ROLES)


def applies_for_others(user) -> bool:
    """A broker applies for the seller of a match assigned to it, and names that seller."""
    return perm.has_role(user, Role.broker)


def decided_for(session: Session, viewer, limit: int = 50) -> list[RegistrationApplication]:
    """The office's applications already decided (registered, refused, returned, withdrawn)."""
    return [a for a in list_for(session, viewer) if a.status not in OPEN_STATUSES][:limit]


def can_review(user, app: RegistrationApplication) -> bool:
    return jurisdiction.may_act(user, app.office_region)


def can_view(user, app: RegistrationApplication) -> bool:
    if is_applicant(user, app) or (app.office_region and can_review(user, app)):
        return True
    # The buyer sees the outcome once it is registered.
    return (user is not None and user.is_active and app.status == "registered"
            and app.buyer_org_id is not None and user.org_id == app.buyer_org_id)


def _require_office(actor, app) -> None:
    if actor is not None and not can_review(actor, app):
        raise PermissionDenied("只有该申请所属的技术合同登记机构可以办理")


def _require_status(app, *allowed: str, doing: str) -> None:
    if app.status not in allowed:
        raise InvalidTransition(f"申请状态为“{AppStatus(app.status).label}”，不能{doing}", code="bad_status")


# ----------------------------------------------------------------- application

def _seller_for(session: Session, actor, data: ApplicationIn) -> tuple[Organization, Match | None]:
    match = None
    if data.match_id is not None:
        match = session.get(Match, data.match_id)
        if match is None:
            raise ValidationFailed("撮合记录不存在", field="match_id")
    if actor is None:
        org_id = data.seller_org_id
    elif actor.role == Role.broker:
        # A broker applies for the seller of a match assigned to them.
        if match is None or match.assigned_broker_id != actor.id:
            raise PermissionDenied("技术经纪人只能为分配给自己的撮合代卖方申请登记")
        org_id = data.seller_org_id or match.achievement.org_id
        if org_id not in (match.achievement.org_id, match.problem.org_id):
            raise ValidationFailed("卖方须是该撮合的一方", field="seller_org_id")
    elif actor.role in (Role.enterprise, Role.university):
        if data.seller_org_id not in (None, actor.org_id):
            raise PermissionDenied("只能为本单位作为卖方的合同申请登记")
        org_id = actor.org_id
    else:
        raise PermissionDenied("技术合同认定登记由卖方（企业、高校、科研院所）或其技术经纪人申请")
    org = session.get(Organization, org_id) if org_id else None
    if org is None:
        raise ValidationFailed("请选择卖方单位", field="seller_org_id")
    if org.kind not in SELLER_KINDS:
        raise ValidationFailed("卖方应为企业、高校或科研院所", field="seller_org_id")
    return org, match


def _apply_values(session: Session, app: RegistrationApplication, data: ApplicationIn, seller: Organization,
                  match: Match | None) -> dict:
    values = dict(
        project_name=data.project_name, contract_type=str(data.contract_type),
        sub_type=str(data.sub_type) if data.sub_type else None, signed_on=data.signed_on,
        valid_from=data.valid_from, valid_to=data.valid_to, field=data.field,
        ip_type=str(data.ip_type) if data.ip_type else None, ip_object=str(data.ip_object) if data.ip_object else None,
        seller_org_id=seller.id, seller_name=seller.name, seller_region=seller.region,
        seller_type=ORG_KIND_TO_PARTY.get(seller.kind, "other"), common_control=data.common_control,
        total_amount=data.total_amount, expected_investment=data.expected_investment,
        expected_output=data.expected_output, license_years=data.license_years,
        license_scope=str(data.license_scope) if data.license_scope else None,
        related_reg_number=data.related_reg_number, contract_text=data.contract_text, note=data.note,
        match_id=match.id if match else None, problem_id=match.problem_id if match else None,
        achievement_id=match.achievement_id if match else None,
    )
    buyer = data.buyer
    if buyer is None and match is not None:
        from core.contracts.schemas import PartyIn

        buyer = PartyIn(org_id=match.problem.org_id if seller.id != match.problem.org_id else match.achievement.org_id)
    if buyer is not None:
        if buyer.org_id is not None:
            org = session.get(Organization, buyer.org_id)
            if org is None:
                raise ValidationFailed("买方单位不存在", field="buyer.org_id")
            values.update(buyer_org_id=org.id, buyer_name=buyer.name or org.name, buyer_region=buyer.region or org.region,
                          buyer_type=str(buyer.party_type or ORG_KIND_TO_PARTY.get(org.kind, "other")))
        else:
            values.update(buyer_org_id=None, buyer_name=buyer.name, buyer_region=buyer.region,
                          buyer_type=str(buyer.party_type))
    else:
        values.update(buyer_org_id=None, buyer_name="", buyer_region="", buyer_type="")
    changes = audit.diff(app, values)
    old_costs = [(c.category, c.description, str(c.amount), c.deliverable) for c in app.costs]
    new_costs = [(str(c.category), c.description, str(c.amount), c.deliverable) for c in data.costs]
    if old_costs != new_costs:
        app.costs.clear()
        for c in data.costs:
            app.costs.append(RegistrationCost(category=str(c.category), description=c.description, amount=c.amount,
                                              deliverable=c.deliverable))
        changes["costs"] = [old_costs, new_costs]
    return changes


def create(session: Session, actor, data: ApplicationIn | dict) -> RegistrationApplication:
    """A draft application; nothing goes to the office until :func:`submit`."""
    data = validate(ApplicationIn, data)
    seller, match = _seller_for(session, actor, data)
    app = RegistrationApplication(status="draft", rule_set=rules.current().code,
                                  applicant_id=getattr(actor, "id", None),
                                  on_behalf=getattr(actor, "role", None) == Role.broker,
                                  project_name="", contract_type="", signed_on=data.signed_on, seller_org_id=seller.id,
                                  seller_name="", seller_region="", seller_type="", total_amount=data.total_amount)
    session.add(app)
    _apply_values(session, app, data, seller, match)
    session.flush()
    _event(session, app, actor, "create")
    session.flush()
    return app


def update(session: Session, actor, app_id: int, data: ApplicationIn | dict) -> RegistrationApplication:
    data = validate(ApplicationIn, data)
    app = get(session, app_id)
    if actor is not None and not is_applicant(actor, app):
        raise PermissionDenied("只有申请人可以修改申请")
    _require_status(app, *EDITABLE, doing="修改")
    seller, match = _seller_for(session, actor, data)
    changes = _apply_values(session, app, data, seller, match)
    if changes:
        app.updated_at = utcnow()
        _event(session, app, actor, "edit", changes=changes)
    session.flush()
    return app


def _has_contract_file(session: Session, app: RegistrationApplication) -> bool:
    from core.models import Attachment

    return session.scalar(select(func.count()).select_from(Attachment).where(
        Attachment.owner_kind == "registration", Attachment.owner_id == app.id)) > 0


def missing_items(session: Session, app: RegistrationApplication) -> list[str]:
    """What the application still lacks before it can be submitted (named, in Chinese)."""
    out = []
    if not app.contract_text.strip() and not _has_contract_file(session, app):
        out.append("合同文本（填写合同正文或上传合同文件）")
    if not app.buyer_name or not app.buyer_region or not app.buyer_type:
        out.append("买方（名称、所在地区、单位类型）")
    subs = SUB_TYPES.get(app.contract_type, ())
    if subs and app.sub_type is None:
        out.append(f"{ContractType(app.contract_type).label}合同的子类")
    if app.contract_type in ("transfer", "license"):
        if app.expected_investment is None:
            out.append("预计新增投资")
        if app.expected_output is None:
            out.append("预计新增产值")
        if app.ip_object is None:
            out.append("转让/许可的技术类别")
    if app.contract_type == "license":
        if app.license_years is None:
            out.append("许可期限（年）")
        if app.license_scope is None:
            out.append("许可方式（独占、排他或普通）")
    if app.valid_from and app.valid_to and app.valid_to < app.valid_from:
        out.append("正确的有效期（有效期止不能早于有效期起）")
    try:
        assessment.assess(app.total_amount, assessment.office_lines(app.costs))
    except ValidationFailed:
        out.append("正确的非技术性费用（合计不能超过合同成交额）")
    return out


def add_attachment(session: Session, actor, app_id: int, filename: str, data: bytes):
    """The contract text as a file, or another attachment, while the applicant may edit."""
    from core.attachments import service as attachments

    app = get(session, app_id)
    if actor is not None and not is_applicant(actor, app):
        raise PermissionDenied("只有申请人可以上传申请材料")
    _require_status(app, *EDITABLE, doing="上传材料")
    att = attachments.add(session, actor, "registration", app.id, filename, data, check_permission=False)
    _event(session, app, actor, "edit", f"上传 {att.filename}")
    return att


def submit(session: Session, actor, app_id: int) -> RegistrationApplication:
    app = get(session, app_id)
    if actor is not None and not is_applicant(actor, app):
        raise PermissionDenied("只有申请人可以提交申请")
    _require_status(app, *EDITABLE, doing="提交")
    missing = missing_items(session, app)
    if missing:
        raise ValidationFailed("申请材料不完整，请补充：" + "、".join(missing), code="incomplete",
                               details=[{"field": "application", "message": m} for m in missing])
    office = jurisdiction.office_for_region(session, app.seller_region)
    if office is None:
        raise ValidationFailed(f"{regions.full_name(app.seller_region)}尚无技术合同登记机构，请联系上级科技局",
                               code="no_office")
    resubmit = app.status == "returned"
    old = app.status
    app.status = "submitted"
    app.office_org_id, app.office_region = office.id, office.region
    if not resubmit:
        app.rule_set = rules.current().code
    app.submitted_at = utcnow()
    app.accepted_on = app.due_on = None
    _event(session, app, actor, "submit", "补正后重新提交" if resubmit else "",
           {"status": [old, "submitted"], "office": [None, office.name]})
    notifications.notify_org(session, office.id, "registration", f"新的技术合同登记申请：{app.project_name}",
                             f"{app.seller_name} 申请技术合同认定登记", f"/registration/{app.id}")
    session.flush()
    return app


# ----------------------------------------------------------------- the office

def _set_due(app: RegistrationApplication) -> None:
    rs = rules.get(app.rule_set)
    due = rs.due_date(app.accepted_on, app.expert_required)
    app.due_on, app.due_official = due.on, due.official


def accept(session: Session, actor, app_id: int, today: date | None = None) -> RegistrationApplication:
    app = get(session, app_id)
    _require_office(actor, app)
    _require_status(app, "submitted", doing="受理")
    app.status = "reviewing"
    app.accepted_on = today or local_today()
    _set_due(app)
    _event(session, app, actor, "accept", changes={"status": ["submitted", "reviewing"], "due_on": [None, app.due_on]})
    session.flush()
    return app


def classify(session: Session, actor, app_id: int, data: ClassifyIn | dict) -> RegistrationApplication:
    """The office confirms or corrects the contract type and sub-type (recorded)."""
    data = validate(ClassifyIn, data)
    app = get(session, app_id)
    _require_office(actor, app)
    _require_status(app, "reviewing", "expert_review", doing="认定合同类型")
    ctype, sub = str(data.contract_type), str(data.sub_type) if data.sub_type else None
    subs = SUB_TYPES[ctype]
    if sub is not None and sub not in subs:
        raise ValidationFailed(f"合同子类“{ContractSubType(sub).label}”不属于{ContractType(ctype).label}",
                               field="sub_type")
    if subs and sub is None:
        raise ValidationFailed(f"{ContractType(ctype).label}合同需选择子类", field="sub_type")
    values = {"contract_type": ctype, "sub_type": sub}
    if data.ip_object is not None:
        values["ip_object"] = str(data.ip_object)
    changes = audit.diff(app, values)
    _event(session, app, actor, "classify", data.reason or ("确认申请的合同类型" if not changes else "更正合同类型"),
           changes)
    session.flush()
    return app


def assess(session: Session, actor, app_id: int, data: AssessIn | dict) -> RegistrationApplication:
    """Set the 核定技术交易额 from the office's rulings on each itemised cost; every change is recorded.
    An amount reaching the rule set's threshold requires an expert review (and its longer deadline)."""
    data = validate(AssessIn, data)
    app = get(session, app_id)
    _require_office(actor, app)
    _require_status(app, "reviewing", "expert_review", doing="核定技术交易额")
    by_id = {c.id: c for c in app.costs}
    changes: dict = {}
    for r in data.rulings:
        cost = by_id.get(r.cost_id)
        if cost is None:
            raise ValidationFailed(f"费用项 #{r.cost_id} 不属于该申请", field="rulings")
        new = {"office_deliverable": r.deliverable,
               "office_amount": r.amount if r.amount is not None and r.amount != cost.amount else None}
        c = audit.diff(cost, new)
        for k, v in c.items():
            changes[f"cost{cost.id}.{k}"] = v
    result = assessment.assess(app.total_amount, assessment.office_lines(app.costs))
    changes.update(audit.diff(app, {"tech_amount": result.tech_amount}))
    rs = rules.get(app.rule_set)
    needed = rs.needs_expert_review(app.tech_amount, app.disputed)
    if needed and not app.expert_required:
        changes.update(audit.diff(app, {"expert_required": True}))
        old_due = app.due_on
        _set_due(app)
        changes["due_on"] = [old_due, app.due_on]
    _event(session, app, actor, "assess", data.reason or f"扣除非技术性费用 {result.deducted} 元", changes)
    session.flush()
    return app


def assign_experts(session: Session, actor, app_id: int, data: ExpertAssignIn | dict) -> RegistrationApplication:
    data = validate(ExpertAssignIn, data)
    app = get(session, app_id)
    _require_office(actor, app)
    _require_status(app, "reviewing", "expert_review", doing="组织专家评审")
    changes = audit.diff(app, {"disputed": app.disputed or data.disputed, "expert_required": True,
                               "status": "expert_review"})
    if "expert_required" in changes:
        old_due = app.due_on
        _set_due(app)
        changes["due_on"] = [old_due, app.due_on]
    for e in data.experts:
        app.experts.append(ExpertReview(expert_name=e.expert_name, affiliation=e.affiliation,
                                        assigned_by_id=getattr(actor, "id", None)))
    changes["experts"] = [None, [e.expert_name for e in data.experts]]
    _event(session, app, actor, "expert_assign", data.reason, changes)
    session.flush()
    return app


def record_opinion(session: Session, actor, app_id: int, data: OpinionIn | dict) -> RegistrationApplication:
    data = validate(OpinionIn, data)
    app = get(session, app_id)
    _require_office(actor, app)
    _require_status(app, "expert_review", doing="记录专家意见")
    review = next((r for r in app.experts if r.id == data.review_id), None)
    if review is None:
        raise ValidationFailed("评审专家不属于该申请", field="review_id")
    changes = audit.diff(review, {"conclusion": str(data.conclusion), "opinion": data.opinion})
    review.answered_at = utcnow()
    _event(session, app, actor, "expert_opinion", f"{review.expert_name}：{data.opinion}", changes)
    session.flush()
    return app


def _check_decidable(app: RegistrationApplication) -> None:
    if app.expert_required:
        if app.status != "expert_review" or not app.experts:
            raise InvalidTransition("该申请需经专家评审后才能决定", code="expert_review_required")
        pending = [r.expert_name for r in app.experts if r.conclusion is None]
        if pending:
            raise InvalidTransition("尚有专家未提交评审意见：" + "、".join(pending), code="opinions_pending")


def next_reg_number(session: Session, year: int, office_region: str) -> str:
    prefix = f"{year:04d}{office_region}"
    last = session.scalar(select(func.max(Contract.reg_number)).where(Contract.reg_number.startswith(prefix)))
    serial = int(last[-6:]) + 1 if last else 1
    return make_reg_number(year, office_region, serial)


def register(session: Session, actor, app_id: int, data: RegisterIn | dict | None = None,
             today: date | None = None) -> RegistrationApplication:
    """已登记: the contract is registered through core.contracts (16-digit 登记号 of the office's region)
    and counts in the indicators; both parties are notified."""
    data = validate(RegisterIn, data or {})
    app = get(session, app_id)
    _require_office(actor, app)
    _require_status(app, "reviewing", "expert_review", doing="登记")
    if app.tech_amount is None:
        raise InvalidTransition("请先核定技术交易额", code="not_assessed")
    _check_decidable(app)
    when = today or local_today()
    payload = dict(
        reg_number=next_reg_number(session, when.year, app.office_region), project_name=app.project_name,
        contract_type=app.contract_type, signed_on=app.signed_on, registered_on=when,
        seller={"org_id": app.seller_org_id, "name": app.seller_name, "region": app.seller_region,
                "party_type": app.seller_type},
        buyer={"org_id": app.buyer_org_id, "name": app.buyer_name, "region": app.buyer_region,
               "party_type": app.buyer_type},
        total_amount=app.total_amount, tech_amount=app.tech_amount, field=app.field,
        note=data.note or f"认定登记申请 #{app.id}",
    )
    for k in ("sub_type", "valid_from", "valid_to", "ip_type", "problem_id", "achievement_id"):
        if getattr(app, k) is not None:
            payload[k] = getattr(app, k)
    if app.match_id is not None:
        payload["match_id"] = app.match_id
        c = contracts.register_contract_for_match(session, actor, app.match_id, payload, source="application")
    else:
        c = contracts.register(session, actor, payload, source="application")
    old = app.status
    app.status, app.contract_id, app.decided_on = "registered", c.id, when
    _event(session, app, actor, "register", data.note, {"status": [old, "registered"], "reg_number": [None, c.reg_number]})
    link = f"/registration/{app.id}"
    title = f"技术合同已登记：{app.project_name}（登记号 {c.reg_number}）"
    for org_id in {app.seller_org_id, app.buyer_org_id} - {None}:
        notifications.notify_org(session, org_id, "registration", title, "可下载技术合同登记证明", link)
    if app.applicant_id and session.get(User, app.applicant_id).org_id not in (app.seller_org_id, app.buyer_org_id):
        notifications.notify(session, app.applicant_id, "registration", title, "", link)
    session.flush()
    return app


def refuse(session: Session, actor, app_id: int, data: RefuseIn | dict, today: date | None = None):
    data = validate(RefuseIn, data)
    app = get(session, app_id)
    _require_office(actor, app)
    _require_status(app, "submitted", "reviewing", "expert_review", doing="作出不予登记决定")
    if app.status == "expert_review":
        _check_decidable(app)
    old = app.status
    app.status, app.refusal_code, app.refusal_reason = "refused", str(data.refusal_code), data.reason
    app.decided_on = today or local_today()
    _event(session, app, actor, "refuse", data.reason,
           {"status": [old, "refused"], "refusal_code": [None, str(data.refusal_code)]})
    notifications.notify(session, app.applicant_id, "registration", f"技术合同不予登记：{app.project_name}",
                         data.reason, f"/registration/{app.id}")
    session.flush()
    return app


def return_for_completion(session: Session, actor, app_id: int, data: ReturnIn | dict):
    data = validate(ReturnIn, data)
    app = get(session, app_id)
    _require_office(actor, app)
    _require_status(app, "submitted", "reviewing", doing="退回补正")
    old = app.status
    app.status, app.return_note = "returned", data.reason
    _event(session, app, actor, "return", data.reason, {"status": [old, "returned"]})
    notifications.notify(session, app.applicant_id, "registration", f"技术合同登记申请需补正：{app.project_name}",
                         data.reason, f"/registration/{app.id}")
    session.flush()
    return app


def amend_contract(session: Session, actor, app_id: int, data: dict):
    """Amend the registered contract through the office that registered it (history kept by core.contracts)."""
    app = get(session, app_id)
    _require_office(actor, app)
    _require_status(app, "registered", doing="变更登记")
    c = contracts.amend(session, actor, app.contract_id, data)
    _event(session, app, actor, "amend", data.get("reason", ""))
    return c


def cancel_contract(session: Session, actor, app_id: int, data: dict):
    app = get(session, app_id)
    _require_office(actor, app)
    _require_status(app, "registered", doing="撤销登记")
    c = contracts.terminate(session, actor, app.contract_id, data)
    _event(session, app, actor, "cancel", data.get("reason", ""))
    return c


# ----------------------------------------------------------------- reads

def get(session: Session, app_id: int) -> RegistrationApplication:
    app = session.get(RegistrationApplication, app_id)
    if app is None:
        raise NotFound("登记申请不存在")
    return app


def get_for(session: Session, viewer, app_id: int) -> RegistrationApplication:
    app = get(session, app_id)
    if not can_view(viewer, app):
        raise NotFound("登记申请不存在")
    return app


def list_for(session: Session, viewer, *, status: str | None = None) -> list[RegistrationApplication]:
    """The applicant's own applications; for a bureau, those of its jurisdiction (not drafts)."""
    stmt = select(RegistrationApplication)
    if viewer is None or not viewer.is_active:
        return []
    if viewer.role == Role.admin:
        pass
    elif viewer.role == Role.bureau:
        stmt = stmt.where(RegistrationApplication.office_region.startswith(regions.prefix(viewer.org.region)),
                          RegistrationApplication.status != "draft")
    elif viewer.role in (Role.enterprise, Role.university):
        stmt = stmt.where(or_(RegistrationApplication.applicant_id == viewer.id,
                              RegistrationApplication.seller_org_id == viewer.org_id))
    else:
        stmt = stmt.where(RegistrationApplication.applicant_id == viewer.id)
    if status == "open":
        stmt = stmt.where(RegistrationApplication.status.in_(OPEN))
    elif status:
        stmt = stmt.where(RegistrationApplication.status == status)
    return list(session.scalars(stmt.order_by(RegistrationApplication.id.desc())))


@dataclass
class QueueRow:
    app: RegistrationApplication
    days_left: int | None
    unit: str
    overdue: bool


def queue(session: Session, viewer, today: date | None = None) -> list[QueueRow]:
    """The office's open applications, soonest deadline first, with the days left and overdue flags."""
    if viewer is None or viewer.role not in (Role.bureau, Role.admin):
        raise PermissionDenied("只有技术合同登记机构可以查看登记队列")
    today = today or local_today()
    rows = []
    for app in list_for(session, viewer, status="open"):
        rs = rules.get(app.rule_set)
        left = rs.days_left(today, app.due_on) if app.due_on else None
        rows.append(QueueRow(app, left, rs.unit, left is not None and left < 0))
    rows.sort(key=lambda r: (r.days_left is None, r.days_left if r.days_left is not None else 0, r.app.id))
    return rows


def related_type(session: Session, reg_number: str | None) -> str | None:
    if not reg_number:
        return None
    c = session.scalar(select(Contract).where(Contract.reg_number == reg_number, Contract.status != "terminated"))
    return c.contract_type if c else None


def eligibility_of(session: Session, app: RegistrationApplication) -> dict:
    return eligibility.for_values(
        app.contract_type, related_type=related_type(session, app.related_reg_number), ip_object=app.ip_object,
        license_years=app.license_years, common_control=app.common_control, seller_region=app.seller_region,
        buyer_region=app.buyer_region)


def application_for_contract(session: Session, contract_id: int) -> RegistrationApplication | None:
    return session.scalar(select(RegistrationApplication).where(RegistrationApplication.contract_id == contract_id))


def applications_for_contracts(session: Session, contract_ids: list[int]) -> dict[int, RegistrationApplication]:
    out: dict[int, RegistrationApplication] = {}
    for i in range(0, len(contract_ids), 500):
        chunk = contract_ids[i:i + 500]
        for app in session.scalars(select(RegistrationApplication).where(RegistrationApplication.contract_id.in_(chunk))):
            out[app.contract_id] = app
    return out


def contract_eligibility(session: Session, c: Contract, app: RegistrationApplication | None = None) -> dict:
    """Flags of any registered contract: from its application when it came through one, else from what
    the direct entry recorded (relationship between the parties unknown)."""
    if app is not None:
        return eligibility.for_values(
            c.contract_type, related_type=related_type(session, app.related_reg_number), ip_object=app.ip_object,
            license_years=app.license_years, common_control=app.common_control, seller_region=c.seller_region,
            buyer_region=c.buyer_region)
    years = eligibility.license_years_of(c.valid_from, c.valid_to) if c.contract_type == "license" else None
    return eligibility.for_values(
        c.contract_type, related_type=None, ip_object=eligibility.IP_FROM_PATENT_TYPE.get(c.ip_type or ""),
        license_years=years, common_control=None, seller_region=c.seller_region, buyer_region=c.buyer_region)


def certificate(session: Session, viewer, app_id: int) -> tuple[str, bytes]:
    from core.registration import certificate as cert

    app = get_for(session, viewer, app_id)
    if app.status != "registered" or app.contract_id is None:
        raise InvalidTransition("申请尚未登记，没有登记证明", code="not_registered")
    c = contracts.get(session, app.contract_id)
    if c.status == "terminated":
        raise InvalidTransition("该合同登记已撤销", code="cancelled")
    office = session.get(Organization, app.office_org_id)
    label = ContractType(c.contract_type).label + (f"（{ContractSubType(c.sub_type).label}）" if c.sub_type else "")
    pdf = cert.render(reg_number=c.reg_number, project_name=c.project_name, type_label=label, seller=c.seller_name,
                      seller_region=c.seller_region, buyer=c.buyer_name, buyer_region=c.buyer_region,
                      total_amount=c.total_amount, tech_amount=c.tech_amount, registered_on=c.registered_on,
                      office=office.name if office else "")
    return f"技术合同登记证明_{c.reg_number}.pdf", pdf
