"""Technology contracts: register, amend, terminate, list and read, with permissions.

Rules:
- the admin registers, amends and terminates any contract and sees all of them; a bureau sees the
  contracts with a party in its jurisdiction, registers under its own authority code, and amends or
  terminates those registered by itself or a bureau below it (core.permissions);
- a broker may register a contract only for a match assigned to them, and sees those contracts;
- enterprises and universities see the contracts where their organization is seller or buyer.

Indicators count contracts by registration date, at their current (amended) values; a
terminated contract is taken out of every figure (its registration is revoked).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import audit, regions, validation
from core import permissions as perm
from core.contracts.schemas import (
    ContractAmendIn,
    ContractIn,
    ContractOut,
    ContractTerminateIn,
    PartyIn,
    PartyOut,
)
from core.contracts.vocab import (
    CONVERSION_TYPES,
    ORG_KIND_TO_PARTY,
    ContractStatus,
    ContractSubType,
    ContractType,
    ConversionMode,
    PartyType,
)
from core.db import get_or_404, local_today, utcnow
from core.errors import (
    Conflict,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from core.listings import service as listings
from core.matches import service as matches
from core.matches.vocab import ACCEPTED_STATUSES
from core.models import Achievement, Attachment, Match, Organization, TechProblem, User
from core.models.contracts import Contract, ContractAmendment
from core.money import to_wan
from core.schemas import validate
from core.vocab import PatentType, Role

__all__ = [
    "ContractFilters", "register", "register_contract_for_match", "amend", "terminate", "get", "get_for",
    "list_for", "visible_clause", "ensure_may_change", "to_out", "can_view", "can_register", "can_attach",
    "conversion_mode_of", "link_to_match", "all_for", "can_manage",
    "ensure_amendable", "ensure_terminable", "can_amend", "can_terminate", "FILTER_SIDES", "default_filters",
]

AMENDABLE = ("reg_number", "project_name", "contract_type", "sub_type", "conversion_mode", "signed_on",
             "registered_on", "valid_from", "valid_to", "total_amount", "tech_amount", "field",
             "ip_type", "note")
PARTY_FIELDS = ("org_id", "name", "region", "type")


# ----------------------------------------------------------------- permissions

def can_register(user) -> bool:
    """Bureau/admin register any contract; brokers only for their matches (checked per match)."""
    return perm.can_register_contracts(user)


def can_manage(user) -> bool:
    """Amend and terminate at all (role only; the contract's registering region decides the rest)."""
    return perm.is_staff(user)


def ensure_may_change(actor, contract: Contract) -> None:
    """Role and jurisdiction of :func:`amend` and :func:`terminate` (not the status)."""
    perm.require(can_manage(actor), "只有科技局可以变更或终止技术合同")
    perm.require(perm.may_change_contract(actor, contract),
                 "只有登记该合同的科技局或其上级科技局可以变更或终止合同")


def ensure_amendable(actor, contract: Contract) -> None:
    """Raise what :func:`amend` raises before looking at the input (role, jurisdiction, status)."""
    if actor is not None:
        perm.require(can_manage(actor), "只有科技局可以变更技术合同登记")
        perm.require(perm.may_change_contract(actor, contract),
                     "只有登记该合同的科技局或其上级科技局可以变更合同登记")
    if contract.status == "terminated":
        raise InvalidTransition("已终止的合同不能变更")


def ensure_terminable(actor, contract: Contract) -> None:
    """Raise what :func:`terminate` raises before looking at the input (role, jurisdiction, status)."""
    if actor is not None:
        perm.require(can_manage(actor), "只有科技局可以终止技术合同")
        perm.require(perm.may_change_contract(actor, contract),
                     "只有登记该合同的科技局或其上级科技局可以终止合同")
    if contract.status == "terminated":
        raise InvalidTransition("合同已终止")


def can_amend(actor, contract: Contract) -> bool:
    """Whether :func:`amend` accepts this actor and contract (pages offer the action only then)."""
    try:
        ensure_amendable(actor, contract)
    except (PermissionDenied, InvalidTransition):
        return False
    return True


def can_terminate(actor, contract: Contract) -> bool:
    try:
        ensure_terminable(actor, contract)
    except (PermissionDenied, InvalidTransition):
        return False
    return True


def visible_clause(user):
    """The one rule of which contracts a user sees, as a SQL filter (None = everything); lists,
    exports and single reads (:func:`get_for`, :func:`can_view`) all apply it.

    - admin: everything;
    - bureau: seller or buyer inside its jurisdiction, or registered by an authority inside it;
    - broker: contracts of matches assigned to them, and those they registered;
    - enterprise/university: contracts where their organization is seller or buyer."""
    if perm.is_staff(user):
        if not perm.is_regional(user):
            return None
        return or_(perm.region_clause(user, Contract.seller_region, Contract.buyer_region),
                   perm.registering_region_clause(user))
    if user is None or not user.is_active:
        return Contract.id.is_(None)  # nothing
    if user.role == Role.broker:
        mine = select(Match.id).where(Match.assigned_broker_id == user.id)
        return or_(Contract.match_id.in_(mine), Contract.created_by_id == user.id)
    return or_(Contract.seller_org_id == user.org_id, Contract.buyer_org_id == user.org_id)


def can_attach(actor, contract: Contract) -> bool:
    """Who may upload a document to a registered contract: the bureaus that may change it
    (core.permissions.may_change_contract) and the user who registered it."""
    return actor is None or perm.may_change_contract(actor, contract) or contract.created_by_id == actor.id


def can_view(session: Session, user, contract: Contract) -> bool:
    """:func:`visible_clause` for one contract."""
    vis = visible_clause(user)
    if vis is None:
        return True
    return session.scalar(select(Contract.id).where(Contract.id == contract.id, vis)) is not None


# ----------------------------------------------------------------- helpers

def conversion_mode_of(contract_type: str, conversion_mode: str | None) -> str | None:
    """The 成果转化 mode: explicit (作价投资), else implied by a 转让/许可 contract."""
    if conversion_mode:
        return str(conversion_mode)
    return CONVERSION_TYPES.get(str(contract_type))


def _party_values(session: Session, party: PartyIn, side: str) -> dict:
    label = "卖方" if side == "seller" else "买方"
    if party.org_id is not None:
        org = session.get(Organization, party.org_id)
        if org is None:
            raise ValidationFailed(f"{label}单位不存在", field=f"{side}.org_id")
        ptype = party.party_type or ORG_KIND_TO_PARTY.get(org.kind, "other")
        return {f"{side}_org_id": org.id, f"{side}_name": party.name or org.name,
                f"{side}_region": party.region or org.region, f"{side}_type": str(ptype)}
    return {f"{side}_org_id": None, f"{side}_name": party.name, f"{side}_region": party.region,
            f"{side}_type": str(party.party_type)}


def _check_unique_reg_number(session: Session, reg_number: str, exclude_id: int | None = None) -> None:
    q = select(Contract.id).where(Contract.reg_number == reg_number)
    if exclude_id is not None:
        q = q.where(Contract.id != exclude_id)
    if session.scalar(q) is not None:
        raise Conflict(f"登记号 {reg_number} 已被使用", code="duplicate_reg_number", field="reg_number")


def _check_links(session: Session, values: dict) -> None:
    for key, model, label in (("match_id", Match, "撮合记录"), ("problem_id", TechProblem, "技术需求"),
                              ("achievement_id", Achievement, "科技成果")):
        if values.get(key) is not None and session.get(model, values[key]) is None:
            raise ValidationFailed(f"{label}不存在", field=key)


def _scalar_values(data: ContractIn) -> dict:
    return dict(
        reg_number=data.reg_number, project_name=data.project_name, contract_type=str(data.contract_type),
        sub_type=str(data.sub_type) if data.sub_type else None,
        conversion_mode=str(data.conversion_mode) if data.conversion_mode else None,
        signed_on=data.signed_on, registered_on=data.registered_on, valid_from=data.valid_from,
        valid_to=data.valid_to, total_amount=data.total_amount, tech_amount=data.tech_amount,
        field=data.field, ip_type=str(data.ip_type) if data.ip_type else None, note=data.note,
    )


def _link_effects(session: Session, actor, contract: Contract) -> None:
    """A contract on a platform problem solves it; a 转让/许可/作价投资 contract on a platform
    achievement counts it as transferred (成果转化)."""
    if contract.problem_id is not None:
        p = session.get(TechProblem, contract.problem_id)
        if p is not None and p.status in ("published", "matched"):
            listings.transition(session, None, "problem", p.id, "solved",
                                f"技术合同 {contract.reg_number} 已登记")
    mode = conversion_mode_of(contract.contract_type, contract.conversion_mode)
    if contract.achievement_id is not None and mode is not None:
        a = session.get(Achievement, contract.achievement_id)
        if a is not None and a.status == "published":
            listings.transition(session, None, "achievement", a.id, "transferred",
                                f"技术合同 {contract.reg_number}（{ConversionMode(mode).label}）已登记")


# ----------------------------------------------------------------- writes

def register(session: Session, actor, data: ContractIn | dict, *, source: str = "manual",
             _match: Match | None = None) -> Contract:
    """Register a contract signed on or off the platform. Nothing is written on bad input."""
    data = validate(ContractIn, data)
    if data.match_id is not None and _match is None:
        # A contract that names its match goes through the match flow (status, problem, achievement).
        return register_contract_for_match(session, actor, data.match_id, data)
    if actor is not None:
        perm.require(can_register(actor), "您的角色不能登记技术合同")
        if not perm.is_staff(actor):
            # Brokers register only contracts for matches assigned to them.
            # (A contract naming its match came through register_contract_for_match with _match.)
            perm.require(_match is not None and _match.assigned_broker_id == actor.id,
                         "技术经纪人只能为分配给自己的撮合登记合同")
        # A bureau registers under its own authority (the 登记号's region code).
        perm.require(perm.in_jurisdiction(actor, data.reg_number[4:10]),
                     "登记号中的登记机构代码不在您的管辖范围内")
    if data.seller is None or data.buyer is None:
        raise ValidationFailed("请填写合同卖方和买方", field="seller" if data.seller is None else "buyer")
    values = _scalar_values(data)
    values.update(match_id=data.match_id, problem_id=data.problem_id, achievement_id=data.achievement_id)
    _check_links(session, values)
    values.update(_party_values(session, data.seller, "seller"))
    values.update(_party_values(session, data.buyer, "buyer"))
    _check_unique_reg_number(session, data.reg_number)
    c = Contract(**values, status="registered", source=source, created_by_id=getattr(actor, "id", None))
    session.add(c)
    try:
        session.flush()
    except IntegrityError as e:
        if "reg_number" not in str(e.orig):
            raise
        # A concurrent registration took the number between the check and the insert; the
        # caller's unit of work rolls back.
        raise Conflict(f"登记号 {data.reg_number} 已被使用", code="duplicate_reg_number",
                       field="reg_number") from None
    audit.record(session, actor, "contract.register", "contract", c.id,
                 {"reg_number": c.reg_number, "total_amount": c.total_amount, "tech_amount": c.tech_amount,
                  "match_id": c.match_id})
    _link_effects(session, actor, c)
    return c


def _mark_match_contracted(session: Session, actor, match: Match, contract: Contract, comment: str = "") -> None:
    matches.mark_contracted(session, actor, match.id, contract,
                            comment=comment or f"技术合同 {contract.reg_number} 已登记")


def register_contract_for_match(session: Session, actor, match_id: int, data: ContractIn | dict, *,
                                source: str = "match") -> Contract:
    """From match to contract: register the contract linked to the match (parties default to
    the achievement's organization as seller and the problem's organization as buyer), mark the
    match contracted, the problem solved and, for 转让/许可/作价投资, the achievement transferred."""
    match = get_or_404(session, Match, match_id, "撮合记录不存在")
    if actor is not None:
        perm.require(perm.is_staff(actor) or (perm.has_role(actor, Role.broker)
                                              and match.assigned_broker_id == actor.id),
                     "技术经纪人只能为分配给自己的撮合登记合同")
    if match.status not in ACCEPTED_STATUSES:
        raise InvalidTransition(f"撮合状态为“{match.status}”，经纪人确认推荐后才能登记合同",
                                code="match_not_accepted")
    raw = data.model_dump(exclude_unset=True) if isinstance(data, ContractIn) else dict(data)
    problem, achievement = match.problem, match.achievement
    if raw.get("match_id") not in (None, match.id):
        raise ValidationFailed("合同关联的撮合记录不一致", field="match_id")
    raw["match_id"] = match.id
    raw.setdefault("problem_id", problem.id)
    raw.setdefault("achievement_id", achievement.id)
    if raw.get("seller") is None:
        raw["seller"] = {"org_id": achievement.org_id}
    if raw.get("buyer") is None:
        raw["buyer"] = {"org_id": problem.org_id}
    if "field" not in raw:
        f = (achievement.fields or problem.fields or ["其他"])[0]
        raw["field"] = f
    contract = register(session, actor, raw, source=source, _match=match)
    _mark_match_contracted(session, actor, match, contract)
    return contract


def link_to_match(session: Session, actor, contract_id: int, match_id: int, comment: str = "") -> Contract:
    """Link an already registered contract to the match it came from (e.g. registered before
    the broker marked the match): the match becomes contracted, the problem solved and the
    achievement transferred, as with :func:`register_contract_for_match`. Refused, with nothing
    written, for an unknown contract or one that belongs to another match or pair.
    ``comment``: the note on the match's history (default: the registration number)."""
    match = get_or_404(session, Match, match_id, "撮合记录不存在")
    c = get_or_404(session, Contract, contract_id, f"技术合同 #{contract_id} 不存在", field="contract_id")
    if actor is not None:
        perm.require(perm.may_change_contract(actor, c) or (perm.has_role(actor, Role.broker)
                                                             and match.assigned_broker_id == actor.id
                                                             and c.created_by_id == actor.id),
                     "您不能关联该合同与撮合")
    if c.status == "terminated":
        raise InvalidTransition("已终止的合同不能关联撮合")
    if c.match_id is not None and c.match_id != match.id:
        raise Conflict("该合同已关联其他撮合", code="already_linked", field="contract_id")
    if c.problem_id not in (None, match.problem_id) or c.achievement_id not in (None, match.achievement_id):
        raise Conflict("该合同登记的技术需求或科技成果与本撮合不一致", code="contract_mismatch",
                       field="contract_id")
    if match.status not in ACCEPTED_STATUSES:
        raise InvalidTransition(f"撮合状态为“{match.status}”，经纪人确认推荐后才能关联合同",
                                code="match_not_accepted")
    changes = audit.diff(c, {"match_id": match.id, "problem_id": match.problem_id,
                             "achievement_id": match.achievement_id})
    if changes:
        session.add(ContractAmendment(contract_id=c.id, kind="link", actor_id=getattr(actor, "id", None),
                                      reason="关联平台撮合记录", changes=audit.jsonable(changes)))
        audit.record(session, actor, "contract.link_match", "contract", c.id, changes)
    session.flush()
    _link_effects(session, actor, c)
    _mark_match_contracted(session, actor, match, c, comment)
    return c


def move_match_stage(session: Session, actor, match_id: int, stage: str, reason: str = "",
                     contract_id: int | None = None):
    """A broker's stage move on a match. ``contracted`` with a ``contract_id`` links that registered
    contract to the pair through :func:`link_to_match` (which refuses an unknown contract or one of
    another pair, and marks the problem solved); every other move is :func:`matches.set_stage`."""
    if stage == "contracted" and contract_id is not None:
        link_to_match(session, actor, contract_id, match_id, comment=reason)
        return matches.get(session, match_id)
    return matches.set_stage(session, actor, match_id, stage, reason)


def amend(session: Session, actor, contract_id: int, data: ContractAmendIn | dict) -> Contract:
    """Change a registered contract. Every amendment is kept with who, when, why and what."""
    data = validate(ContractAmendIn, data)
    c = get(session, contract_id)
    ensure_amendable(actor, c)
    given = data.model_dump(exclude_unset=True, exclude={"reason", "seller", "buyer"})
    new = {k: getattr(c, k) for k in AMENDABLE}
    for k, v in given.items():
        if v is None and k in ("reg_number", "project_name", "contract_type", "signed_on", "registered_on",
                               "total_amount", "tech_amount", "field"):
            raise ValidationFailed("必填项不能为空", field=k)
        new[k] = str(v) if hasattr(v, "label") else v
    if "contract_type" in given and "sub_type" not in given and new["contract_type"] != c.contract_type:
        new["sub_type"] = None  # the old sub-type belongs to the old type
    merged = dict(new)
    merged["seller"] = data.seller or PartyIn(org_id=c.seller_org_id, name=c.seller_name,
                                              region=c.seller_region, party_type=c.seller_type)
    merged["buyer"] = data.buyer or PartyIn(org_id=c.buyer_org_id, name=c.buyer_name,
                                            region=c.buyer_region, party_type=c.buyer_type)
    # Re-validate the whole merged contract with the registration rules.
    checked = validate(ContractIn, _merged_for_schema(merged))
    values = _scalar_values(checked)
    if data.seller is not None:
        values.update(_party_values(session, data.seller, "seller"))
    if data.buyer is not None:
        values.update(_party_values(session, data.buyer, "buyer"))
    if values["reg_number"] != c.reg_number:
        if actor is not None:
            perm.require(perm.in_jurisdiction(actor, values["reg_number"][4:10]),
                         "登记号中的登记机构代码不在您的管辖范围内")
        _check_unique_reg_number(session, values["reg_number"], exclude_id=c.id)
    changes = audit.diff(c, values)
    if not changes:
        raise ValidationFailed("没有需要变更的内容", code="no_changes")
    c.status = "amended"
    c.updated_at = utcnow()
    changes_json = audit.jsonable(changes)
    session.add(ContractAmendment(contract_id=c.id, kind="amend", actor_id=getattr(actor, "id", None),
                                  reason=data.reason, changes=changes_json))
    session.flush()
    audit.record(session, actor, "contract.amend", "contract", c.id, {**changes, "reason": data.reason})
    _link_effects(session, actor, c)
    return c


def _merged_for_schema(merged: dict) -> dict:
    out = {k: v for k, v in merged.items() if k not in ("seller", "buyer")}
    out["seller"] = merged["seller"]
    out["buyer"] = merged["buyer"]
    for k in ("sub_type", "conversion_mode", "ip_type", "valid_from", "valid_to"):
        if out.get(k) is None:
            out.pop(k, None)
    return out


def terminate(session: Session, actor, contract_id: int, data: ContractTerminateIn | dict) -> Contract:
    """Terminate (解除/撤销) a contract: it leaves every indicator; the history stays."""
    data = validate(ContractTerminateIn, data)
    c = get(session, contract_id)
    ensure_terminable(actor, c)
    when = data.terminated_on or local_today()
    if when < c.signed_on:
        raise ValidationFailed("终止日期不能早于签订日期", field="terminated_on")
    old = c.status
    c.status = "terminated"
    c.terminated_on = when
    c.termination_reason = data.reason
    c.updated_at = utcnow()
    session.add(ContractAmendment(contract_id=c.id, kind="terminate", actor_id=getattr(actor, "id", None),
                                  reason=data.reason,
                                  changes={"status": [old, "terminated"], "terminated_on": [None, str(when)]}))
    session.flush()
    audit.record(session, actor, "contract.terminate", "contract", c.id,
                 {"status": [old, "terminated"], "reason": data.reason})
    return c


# ----------------------------------------------------------------- reads

def get(session: Session, contract_id: int) -> Contract:
    c = get_or_404(session, Contract, contract_id, "技术合同不存在")
    return c


def get_for(session: Session, viewer, contract_id: int) -> Contract:
    """The contract if the viewer may see it (:func:`visible_clause`), else NotFound."""
    stmt = select(Contract).where(Contract.id == contract_id)
    vis = visible_clause(viewer)
    if vis is not None:
        stmt = stmt.where(vis)
    c = session.scalar(stmt)
    if c is None:
        raise NotFound("技术合同不存在")
    return c


@dataclass
class ContractFilters:
    q: str | None = None  # project name, party name or registration number
    year: int | None = None  # registration year
    registered_from: date | None = None
    registered_to: date | None = None
    region: str | None = None  # roll-up by code prefix
    # the region filter's side: seller (输出), buyer (吸纳), or any: the seller, the buyer or the
    # registering authority inside the region (what a bureau's jurisdiction covers, visible_clause)
    side: str = "seller"
    contract_type: str | None = None
    status: str | None = None  # registered, amended, terminated; 'active' = not terminated
    field: str | None = None
    org_id: int | None = None
    match_id: int | None = None
    source: str | None = None

    def __post_init__(self):
        validation.check_year(self.year)
        validation.check_ids(self, "org_id", "match_id")
        if self.region is not None:
            try:
                self.region = validation.check_region(self.region)
            except ValueError as e:
                raise ValidationFailed(str(e), field="region") from None
        if self.side not in FILTER_SIDES:
            raise ValidationFailed(f"地区口径应为 {'、'.join(FILTER_SIDES)} 之一", field="side")


FILTER_SIDES = ("seller", "buyer", "any")


def default_filters(viewer) -> dict:
    """What the contract list's filter starts with: a bureau's own jurisdiction (a county bureau
    its county, a city bureau its city), counted on any side, which is every contract it sees
    (:func:`visible_clause`); no region for the admin."""
    return {"region": perm.jurisdiction(viewer) or "", "side": "any"}


def filtered_query(viewer, f: ContractFilters, *, as_system: bool = False):
    """as_system: the CLI/system reads everything; a None viewer otherwise sees nothing."""
    validation.check_year(f.year)
    stmt = select(Contract)
    vis = None if as_system else visible_clause(viewer)
    if vis is not None:
        stmt = stmt.where(vis)
    if f.q:
        stmt = stmt.where(or_(Contract.project_name.contains(f.q), Contract.seller_name.contains(f.q),
                              Contract.buyer_name.contains(f.q), Contract.reg_number.contains(f.q)))
    if f.year:
        stmt = stmt.where(Contract.registered_on >= date(f.year, 1, 1),
                          Contract.registered_on <= date(f.year, 12, 31))
    if f.registered_from:
        stmt = stmt.where(Contract.registered_on >= f.registered_from)
    if f.registered_to:
        stmt = stmt.where(Contract.registered_on <= f.registered_to)
    if f.region:
        p = regions.prefix(f.region)
        if f.side == "any":
            stmt = stmt.where(or_(Contract.seller_region.startswith(p), Contract.buyer_region.startswith(p),
                                  perm.registered_in_clause(f.region)))
        else:
            col = Contract.buyer_region if f.side == "buyer" else Contract.seller_region
            stmt = stmt.where(col.startswith(p))
    if f.contract_type:
        stmt = stmt.where(Contract.contract_type == f.contract_type)
    if f.status == "active":
        stmt = stmt.where(Contract.status != "terminated")
    elif f.status:
        stmt = stmt.where(Contract.status == f.status)
    if f.field:
        stmt = stmt.where(Contract.field == f.field)
    if f.org_id:
        stmt = stmt.where(or_(Contract.seller_org_id == f.org_id, Contract.buyer_org_id == f.org_id))
    if f.match_id:
        stmt = stmt.where(Contract.match_id == f.match_id)
    if f.source:
        stmt = stmt.where(Contract.source == f.source)
    return stmt


def list_for(session: Session, viewer, f: ContractFilters | None = None, *, page: int = 1,
             size: int = 20, as_system: bool = False) -> tuple[list[Contract], int]:
    f = f or ContractFilters()
    stmt = filtered_query(viewer, f, as_system=as_system)
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    size = max(1, min(size, 500))
    items = session.scalars(stmt.order_by(Contract.registered_on.desc(), Contract.id.desc())
                            .offset((max(page, 1) - 1) * size).limit(size)).all()
    return list(items), total


def all_for(session: Session, viewer, f: ContractFilters | None = None, *,
            as_system: bool = False) -> list[Contract]:
    """Every matching contract (exports), in registration order."""
    stmt = filtered_query(viewer, f or ContractFilters(), as_system=as_system)
    return list(session.scalars(stmt.order_by(Contract.registered_on, Contract.id)))


_full_name = functools.lru_cache(maxsize=8192)(regions.full_name)


def _party_out(c: Contract, side: str) -> PartyOut:
    ptype = getattr(c, f"{side}_type")
    region = getattr(c, f"{side}_region")
    return PartyOut(org_id=getattr(c, f"{side}_org_id"), name=getattr(c, f"{side}_name"), region=region,
                    region_name=_full_name(region), party_type=ptype,
                    party_type_label=PartyType.label_of(ptype))


def to_out(session: Session, c: Contract, *, with_history: bool = True) -> ContractOut:
    amendments, atts = [], []
    if with_history:
        names = {}
        for a in c.amendments:
            if a.actor_id and a.actor_id not in names:
                u = session.get(User, a.actor_id)
                names[a.actor_id] = u.name if u else None
            amendments.append({"id": a.id, "kind": a.kind, "actor_id": a.actor_id,
                               "actor_name": names.get(a.actor_id), "reason": a.reason,
                               "changes": a.changes, "at": a.at})
        atts = [{"id": a.id, "filename": a.filename, "size": a.size, "content_type": a.content_type}
                for a in session.scalars(select(Attachment).where(Attachment.owner_kind == "contract",
                                                                  Attachment.owner_id == c.id))]
    mode = conversion_mode_of(c.contract_type, c.conversion_mode)
    return ContractOut(
        id=c.id, reg_number=c.reg_number, project_name=c.project_name, contract_type=c.contract_type,
        contract_type_label=ContractType.label_of(c.contract_type), sub_type=c.sub_type,
        sub_type_label=ContractSubType.label_of(c.sub_type), conversion_mode=mode,
        conversion_mode_label=ConversionMode.label_of(mode), signed_on=c.signed_on,
        registered_on=c.registered_on, valid_from=c.valid_from, valid_to=c.valid_to,
        seller=_party_out(c, "seller"), buyer=_party_out(c, "buyer"), total_amount=c.total_amount,
        tech_amount=c.tech_amount, total_amount_wan=to_wan(c.total_amount), tech_amount_wan=to_wan(c.tech_amount),
        field=c.field, ip_type=c.ip_type, ip_type_label=PatentType.label_of(c.ip_type), match_id=c.match_id,
        problem_id=c.problem_id, achievement_id=c.achievement_id, status=c.status,
        status_label=ContractStatus.label_of(c.status), terminated_on=c.terminated_on,
        termination_reason=c.termination_reason, note=c.note, source=c.source, created_by_id=c.created_by_id,
        created_at=c.created_at, updated_at=c.updated_at, amendments=amendments, attachments=atts)

