"""Proposals and the broker workflow, as domain services.

Lifecycle of a pair (one ``Match`` row per (problem, achievement), never duplicated)::

    proposed ──accept──> accepted ──introduce──> introduced ──> negotiating ──> contracted
       │                    │                        │               └────────> failed
       ├──reject──> rejected <┘                       └──────────> contracted | failed
       └──(listing closed / score fell)──> withdrawn

* The matcher (system, actor None) creates and refreshes proposals through :func:`propose`;
  a rejected pair is proposed again only when one of the listings changed materially
  (its fingerprint differs from the one recorded at rejection); a withdrawn pair comes back
  when it qualifies again.
* Only brokers and the bureau (and admins) review. An enterprise sees the proposals for its
  own problems — and a university those for its achievements — only once a broker has
  accepted them.
* :func:`introduce` reveals the contacts to both sides (``core.permissions.can_see_contact``
  treats introduced/negotiating/contracted/failed as introduced) and notifies both orgs.
* :func:`mark_contracted` is called by the contracts service when a contract is registered.
* Every step writes a ``MatchReview`` row and an audit-log entry.
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from core import audit, regions, validation
from core import permissions as perm
from core.db import get_or_404, utcnow
from core.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from core.listings import service as listings
from core.listings.kinds import KINDS
from core.listings.service import json_contains
from core.matches.vocab import (
    ACCEPTED_STATUSES,
    OPEN_STATUSES,
    STAGE_MOVES,
    MatchStatus,
    RejectReason,
)
from core.models import Achievement, Match, MatchReview, TechProblem, User
from core.models.contracts import Contract
from core.notifications import service as notifications
from core.schemas import MAX_DAYS, MAX_ID
from core.vocab import Role


def fingerprint(obj) -> str:
    """sha256 of a listing's matching-relevant content (what a material change changes)."""
    k = KINDS[obj.kind]
    parts = [obj.title, *(getattr(obj, f) for f in k.text_fields), k.maturity(obj), sorted(k.mode_values(obj)),
             *(str(v) for v in k.money(obj)), sorted(obj.fields or []), sorted(obj.keywords or []), obj.region]
    norm = [" ".join(p.split()) if isinstance(p, str) else p for p in parts]
    return hashlib.sha256(json.dumps(norm, ensure_ascii=False, default=str).encode()).hexdigest()


def _review(session: Session, m: Match, actor, action: str, frm: str | None, to: str | None,
            reason_code: str | None = None, comment: str | None = None) -> MatchReview:
    r = MatchReview(match_id=m.id, actor_id=getattr(actor, "id", None), action=action, from_status=frm,
                    to_status=to, reason_code=reason_code, comment=comment or None)
    session.add(r)
    audit.record(session, actor, f"match.{action}", "match", m.id,
                 {"status": [frm, to], "problem_id": m.problem_id, "achievement_id": m.achievement_id,
                  **({"reason": reason_code} if reason_code else {}), **({"comment": comment} if comment else {})})
    return r


def _move(session: Session, m: Match, actor, action: str, to: str, **kw) -> Match:
    frm = m.status
    m.status = to
    m.updated_at = utcnow()
    _review(session, m, actor, action, frm, to, **kw)
    session.flush()
    return m


def _clean(text: str | None, limit: int = 1000) -> str:
    try:
        validation.check_text(text or "")
    except ValueError as e:
        raise ValidationFailed(str(e)) from None
    return _clean_text(text, limit)


def _clean_text(text: str | None, limit: int = 1000) -> str:
    text = (text or "").strip()
    if len(text) > limit:
        raise ValidationFailed(f"说明不能超过 {limit} 字", field="comment")
    return text


def get(session: Session, match_id: int) -> Match:
    m = get_or_404(session, Match, match_id, "推荐记录不存在")
    return m


def find_pair(session: Session, problem_id: int, achievement_id: int) -> Match | None:
    return session.scalar(select(Match).where(Match.problem_id == problem_id,
                                              Match.achievement_id == achievement_id))


def is_party(user, m: Match) -> bool:
    if user is None or not user.is_active:
        return False
    return user.org_id in (m.problem.org_id, m.achievement.org_id)


def can_view(user, m: Match) -> bool:
    if perm.can_review_matches(user):
        return True
    return is_party(user, m) and m.status in ACCEPTED_STATUSES


def get_for(session: Session, viewer, match_id: int) -> Match:
    m = get(session, match_id)
    if not can_view(viewer, m):
        raise NotFound("推荐记录不存在")
    return m


def _require_reviewer(actor) -> None:
    perm.require(perm.can_review_matches(actor), "只有技术经纪人和科技局可以审核推荐")


def propose_many(session: Session, items: list[dict], actor=None) -> list[tuple[Match, str]]:
    """:func:`propose` for several pairs at once (one query for the existing rows, one insert
    batch for the new ones). Items: dicts with problem, achievement, score, features, reasons, rank."""
    if not items:
        return []
    fps: dict[tuple[str, int], str] = {}

    def fp(obj) -> str:
        key = (obj.kind, obj.id)
        if key not in fps:
            fps[key] = fingerprint(obj)
        return fps[key]

    pids = {it["problem"].id for it in items}
    aids = {it["achievement"].id for it in items}
    existing = {(m.problem_id, m.achievement_id): m for m in session.scalars(
        select(Match).where(Match.problem_id.in_(pids), Match.achievement_id.in_(aids)))}
    new: list[tuple[int, Match]] = []
    results: list[tuple[Match, str] | None] = [None] * len(items)
    for i, it in enumerate(items):
        p, a = it["problem"], it["achievement"]
        m = existing.get((p.id, a.id))
        if m is None:
            m = Match(problem_id=p.id, achievement_id=a.id, score=float(it["score"]), features=it["features"],
                      reasons=it["reasons"], rank=it.get("rank"), status="proposed", problem_fingerprint=fp(p),
                      achievement_fingerprint=fp(a), proposed_at=utcnow())
            new.append((i, m))
        else:
            results[i] = (m, _refresh(session, m, fp(p), fp(a), it, actor))
    if new:
        try:
            with session.begin_nested():
                session.add_all([m for _, m in new])
                session.flush()
        except IntegrityError:  # a concurrent worker created one of the pairs: go one by one
            for i, _ in new:
                results[i] = _propose_one(session, items[i], actor)
            return results  # type: ignore[return-value]
        for i, m in new:
            _review(session, m, actor, "propose", None, "proposed", comment=f"评分 {m.score:.2f}")
            results[i] = (m, "created")
    return results  # type: ignore[return-value]


def _propose_one(session: Session, it: dict, actor) -> tuple[Match, str]:
    p, a = it["problem"], it["achievement"]
    m = find_pair(session, p.id, a.id)
    if m is not None:
        return m, _refresh(session, m, fingerprint(p), fingerprint(a), it, actor)
    m = Match(problem_id=p.id, achievement_id=a.id, score=float(it["score"]), features=it["features"],
              reasons=it["reasons"], rank=it.get("rank"), status="proposed", problem_fingerprint=fingerprint(p),
              achievement_fingerprint=fingerprint(a), proposed_at=utcnow())
    try:
        with session.begin_nested():
            session.add(m)
            session.flush()
    except IntegrityError:
        m = find_pair(session, p.id, a.id)
        if m is None:
            raise
        return m, _refresh(session, m, fingerprint(p), fingerprint(a), it, actor)
    _review(session, m, actor, "propose", None, "proposed", comment=f"评分 {m.score:.2f}")
    return m, "created"


def _refresh(session: Session, m: Match, pf: str, af: str, it: dict, actor) -> str:
    score, features, reasons, rank = float(it["score"]), it["features"], it["reasons"], it.get("rank")
    if m.status == "proposed":
        m.score, m.features, m.reasons, m.rank = score, features, reasons, rank
        m.problem_fingerprint, m.achievement_fingerprint = pf, af
        return "updated"
    if m.status == "rejected":
        if (pf, af) == (m.problem_fingerprint, m.achievement_fingerprint):
            return "rejected"
        changed = "、".join(x for x, c in (("需求", pf != m.problem_fingerprint),
                                           ("成果", af != m.achievement_fingerprint)) if c)
        m.reject_reason = None
        m.reject_comment = None
        m.decided_at = None
        m.assigned_broker_id = None
        note = f"{changed}内容已实质修改，重新推荐"
    elif m.status == "withdrawn":
        note = "重新符合推荐条件"
    else:
        return "kept"
    m.score, m.features, m.reasons, m.rank = score, features, reasons, rank
    m.problem_fingerprint, m.achievement_fingerprint = pf, af
    m.proposed_at = utcnow()
    _move(session, m, actor, "repropose", "proposed", comment=note)
    return "reproposed"


def refresh_score(session: Session, m: Match, *, score: float, features: dict) -> None:
    """Keep a proposal's score current without touching its reasons or status."""
    m.score, m.features = float(score), features


def withdraw(session: Session, m: Match, actor=None, reason: str = "") -> Match:
    if m.status not in OPEN_STATUSES:
        raise InvalidTransition(f"“{MatchStatus.label_of(m.status)}”状态的推荐不能撤回")
    return _move(session, m, actor, "withdraw", "withdrawn", comment=reason)


def withdraw_for_listing(session: Session, kind: str, listing_id: int, actor=None, reason: str = "") -> int:
    """Withdraw the open (proposed or accepted) proposals of a listing, e.g. when it closes."""
    col = Match.problem_id if kind == "problem" else Match.achievement_id
    ms = list(session.scalars(select(Match).where(col == listing_id, Match.status.in_(OPEN_STATUSES))))
    for m in ms:
        withdraw(session, m, actor, reason or "信息已关闭或下架")
    return len(ms)


def assign(session: Session, actor, match_id: int, broker_id: int | None = None) -> Match:
    """Assign a proposal to a broker. Brokers take proposals for themselves; the bureau
    (and admins) assign to any broker."""
    _require_reviewer(actor)
    m = get(session, match_id)
    if m.status in ("rejected", "withdrawn", "contracted", "failed"):
        raise InvalidTransition(f"“{MatchStatus.label_of(m.status)}”状态的推荐不能再分配")
    target_id = broker_id or actor.id
    if actor.role == Role.broker:
        perm.require(target_id == actor.id, "技术经纪人只能认领给自己")
        perm.require(m.assigned_broker_id in (None, actor.id), "该推荐已由其他经纪人负责，请联系科技局调整")
    target = session.get(User, target_id)
    if target is None or not target.is_active or target.role != Role.broker:
        raise ValidationFailed("只能分配给在职的技术经纪人", field="broker_id")
    old = m.assigned_broker_id
    m.assigned_broker_id = target.id
    m.updated_at = utcnow()
    _review(session, m, actor, "assign", m.status, m.status,
            comment=f"分配给 {target.name or target.email}" + (f"（原 #{old}）" if old and old != target.id else ""))
    session.flush()
    return m


def _take(m: Match, actor) -> None:
    """A broker acting on an unassigned proposal becomes its broker."""
    if m.assigned_broker_id is None and actor.role == Role.broker:
        m.assigned_broker_id = actor.id
    elif actor.role == Role.broker and m.assigned_broker_id != actor.id:
        perm.require(False, "该推荐已由其他经纪人负责")


def accept(session: Session, actor, match_id: int, comment: str = "") -> Match:
    _require_reviewer(actor)
    m = get(session, match_id)
    if m.status != "proposed":
        raise InvalidTransition(f"只有待审核的推荐可以采纳（当前：{MatchStatus.label_of(m.status)}）")
    comment = _clean(comment)
    _take(m, actor)
    m.decided_at = utcnow()
    m.problem_fingerprint, m.achievement_fingerprint = fingerprint(m.problem), fingerprint(m.achievement)
    _move(session, m, actor, "accept", "accepted", comment=comment)
    notifications.notify_org(
        session, m.problem.org_id, "match.accepted", f"平台为您的需求推荐了科技成果：{m.achievement.title}",
        f"技术经纪人审核后认为科技成果“{m.achievement.title}”可能解决您的需求“{m.problem.title}”。"
        f"推荐理由：{(m.reasons or {}).get('summary', '')}", link=f"/matches/{m.id}")
    return m


def reject(session: Session, actor, match_id: int, reason_code: str, comment: str = "") -> Match:
    _require_reviewer(actor)
    m = get(session, match_id)
    if m.status not in OPEN_STATUSES:
        raise InvalidTransition(f"“{MatchStatus.label_of(m.status)}”状态的推荐不能驳回")
    try:
        code = RejectReason.from_label(reason_code)
    except ValueError:
        raise ValidationFailed("请选择驳回原因：" + "、".join(r.label for r in RejectReason),
                               field="reason_code") from None
    comment = _clean(comment)
    if code == RejectReason.other and not comment:
        raise ValidationFailed("选择“其他”时请填写说明", field="comment")
    _take(m, actor)
    m.reject_reason = code.value
    m.reject_comment = comment or None
    m.decided_at = utcnow()
    # The listings as they are now: a later material change re-opens the pair.
    m.problem_fingerprint, m.achievement_fingerprint = fingerprint(m.problem), fingerprint(m.achievement)
    return _move(session, m, actor, "reject", "rejected", reason_code=code.value, comment=comment)


def _contact_line(listing) -> str:
    who = listing.contact_name or "联系人未填写"
    return f"{listing.org.name if listing.org else ''} {who} {listing.contact_phone or ''}".strip()


def introduce(session: Session, actor, match_id: int, comment: str = "") -> Match:
    """Introduce the two parties: contacts become visible to both, both orgs are notified."""
    _require_reviewer(actor)
    m = get(session, match_id)
    if m.status != "accepted":
        raise InvalidTransition(f"只有已采纳的推荐可以介绍对接（当前：{MatchStatus.label_of(m.status)}）")
    comment = _clean(comment)
    _take(m, actor)
    m.introduced_at = m.stage_changed_at = utcnow()
    _move(session, m, actor, "introduce", "introduced", comment=comment)
    broker = session.get(User, m.assigned_broker_id) if m.assigned_broker_id else actor
    broker_line = f"负责经纪人：{broker.name or broker.email}" + (f" {broker.phone}" if broker.phone else "")
    p, a = m.problem, m.achievement
    notifications.notify_org(
        session, p.org_id, "match.introduced", f"对接介绍：{a.title}",
        f"您的需求“{p.title}”已与科技成果“{a.title}”建立对接。\n成果方联系人：{_contact_line(a)}\n{broker_line}"
        + (f"\n经纪人留言：{comment}" if comment else ""), link=f"/matches/{m.id}")
    notifications.notify_org(
        session, a.org_id, "match.introduced", f"对接介绍：{p.title}",
        f"您的科技成果“{a.title}”已与企业需求“{p.title}”建立对接。\n需求方联系人：{_contact_line(p)}\n{broker_line}"
        + (f"\n经纪人留言：{comment}" if comment else ""), link=f"/matches/{m.id}")
    return m


def _notify_stage(session: Session, m: Match, to: str, note: str = "") -> None:
    title = f"对接进展：{m.problem.title} ↔ {m.achievement.title}：{MatchStatus.label_of(to)}"
    body = f"对接状态已更新为“{MatchStatus.label_of(to)}”。" + (f"\n说明：{note}" if note else "")
    for org_id in {m.problem.org_id, m.achievement.org_id}:
        notifications.notify_org(session, org_id, "match.stage", title[:200], body, link=f"/matches/{m.id}")


def set_stage(session: Session, actor, match_id: int, stage: str, reason: str = "") -> Match:
    """introduced -> negotiating -> contracted | failed (failed needs a reason). ``contracted``
    here marks the pair signed without a contract; :func:`core.contracts.service.move_match_stage`
    links a registered contract instead."""
    if stage == "contracted":
        return mark_contracted(session, actor, match_id, comment=reason)
    _require_reviewer(actor)
    m = get(session, match_id)
    if stage not in {s.value for s in MatchStatus}:
        raise ValidationFailed(f"未知的对接阶段：{stage}", field="stage")
    if stage not in STAGE_MOVES.get(m.status, set()):
        raise InvalidTransition(f"不能从“{MatchStatus.label_of(m.status)}”变为“{MatchStatus.label_of(stage)}”")
    reason = _clean(reason)
    if stage == "failed" and not reason:
        raise ValidationFailed("请填写未成交的原因", field="reason")
    _take(m, actor)
    m.stage_changed_at = utcnow()
    if stage == "failed":
        m.failure_reason = reason
    elif m.status == "failed":
        m.failure_reason = None
    _move(session, m, actor, "stage", stage, comment=reason)
    _notify_stage(session, m, stage, reason)
    return m


def mark_contracted(session: Session, actor, match_id: int, contract: Contract | None = None,
                    comment: str = "") -> Match:
    """Move a match to 'contracted' (actor None = system). ``contract``: a registered contract
    already linked to this match (``Contract.match_id``, set by the contracts service, which
    calls this); ``Match.contract_id`` points at it. Idempotent: a contracted match stays
    contracted; a missing contract pointer is filled in."""
    if actor is not None:
        perm.require(perm.can_review_matches(actor) or perm.can_register_contracts(actor),
                     "您无权更新对接状态")
    m = get(session, match_id)
    if contract is not None and contract.match_id != m.id:
        raise Conflict("该合同未关联此撮合记录", code="contract_not_linked", field="contract_id")
    if actor is not None:
        _take(m, actor)  # a broker marks only the matches assigned to them
    contract_id = contract.id if contract is not None else None
    if m.status == "contracted":
        if contract_id is not None and m.contract_id != contract_id:
            old = m.contract_id
            m.contract_id = contract_id
            audit.record(session, actor, "match.contract", "match", m.id, {"contract_id": [old, contract_id]})
        return m
    if m.status not in ACCEPTED_STATUSES:
        raise InvalidTransition(f"“{MatchStatus.label_of(m.status)}”状态的推荐不能登记签约，请先采纳")
    m.contract_id = contract_id
    m.failure_reason = None
    m.stage_changed_at = utcnow()
    if m.introduced_at is None:
        m.introduced_at = m.stage_changed_at
    note = _clean(comment) or (f"已登记技术合同 #{contract_id}" if contract_id else "已签约")
    _move(session, m, actor, "contract", "contracted", comment=note)
    _notify_stage(session, m, "contracted", note)
    return m


@dataclass
class QueueFilters:
    status: str | None = "proposed"     # None or "all": every status
    field: str | None = None            # either side has this field
    region: str | None = None           # GB/T 2260 prefix roll-up
    region_side: str = "problem"        # "problem" | "achievement" | "either"
    min_score: float | None = None
    max_score: float | None = None
    min_age_days: float | None = None   # proposed at least this long ago
    max_age_days: float | None = None   # proposed at most this long ago
    assigned: str | None = None         # "me" | "unassigned" | "<user id>"
    problem_id: int | None = None
    achievement_id: int | None = None
    q: str | None = None                # substring of either title
    sort: str = "score"                 # "score" | "oldest" | "newest"

    def __post_init__(self):
        validation.check_ids(self, "problem_id", "achievement_id")


def _queue_stmt(session: Session, actor, f: QueueFilters):
    P, A = aliased(TechProblem), aliased(Achievement)
    stmt = select(Match).join(P, Match.problem_id == P.id).join(A, Match.achievement_id == A.id)
    if f.status and f.status != "all":
        statuses = [s.strip() for s in f.status.split(",") if s.strip()]
        for s in statuses:
            if s not in {x.value for x in MatchStatus}:
                raise ValidationFailed(f"未知的状态：{s}", field="status")
        stmt = stmt.where(Match.status.in_(statuses))
    if f.field:
        stmt = stmt.where(or_(json_contains(session, P.fields, f.field), json_contains(session, A.fields, f.field)))
    if f.region:
        if not regions.is_valid(f.region):
            raise ValidationFailed("地区代码无效", field="region")
        pre = regions.prefix(f.region)
        side = {"problem": [P.region], "achievement": [A.region]}.get(f.region_side, [P.region, A.region])
        stmt = stmt.where(or_(*[c.startswith(pre) for c in side]))
    if f.min_score is not None:
        stmt = stmt.where(Match.score >= f.min_score)
    if f.max_score is not None:
        stmt = stmt.where(Match.score <= f.max_score)
    for name in ("min_score", "max_score", "min_age_days", "max_age_days"):
        v = getattr(f, name)
        upper = 1 if name.endswith("score") else MAX_DAYS
        if v is not None and not (math.isfinite(v) and 0 <= v <= upper):
            raise ValidationFailed(f"{name} 应在 0 到 {upper} 之间", field=name)
    now = utcnow()
    if f.min_age_days is not None:
        stmt = stmt.where(Match.proposed_at <= now - timedelta(days=f.min_age_days))
    if f.max_age_days is not None:
        stmt = stmt.where(Match.proposed_at >= now - timedelta(days=f.max_age_days))
    if f.assigned == "me":
        stmt = stmt.where(Match.assigned_broker_id == actor.id)
    elif f.assigned == "unassigned":
        stmt = stmt.where(Match.assigned_broker_id.is_(None))
    elif f.assigned:
        if not (str(f.assigned).isdigit() and 1 <= int(f.assigned) <= MAX_ID):
            raise ValidationFailed("assigned 应为 me、unassigned 或经纪人的用户编号", field="assigned")
        stmt = stmt.where(Match.assigned_broker_id == int(f.assigned))
    if f.problem_id:
        stmt = stmt.where(Match.problem_id == f.problem_id)
    if f.achievement_id:
        stmt = stmt.where(Match.achievement_id == f.achievement_id)
    if f.q:
        stmt = stmt.where(or_(P.title.contains(f.q), A.title.contains(f.q)))
    return stmt


def queue(session: Session, actor, filters: QueueFilters | None = None, *, page: int = 1,
          size: int = 20) -> tuple[list[Match], int]:
    """The broker review queue (brokers, bureau, admins)."""
    _require_reviewer(actor)
    f = filters or QueueFilters()
    size, page = max(1, min(size, 100)), max(1, page)
    stmt = _queue_stmt(session, actor, f)
    total = session.scalar(select(func.count()).select_from(stmt.with_only_columns(Match.id).subquery()))
    order = {"oldest": (Match.proposed_at.asc(), Match.id.asc()),
             "newest": (Match.proposed_at.desc(), Match.id.desc())}.get(f.sort, (Match.score.desc(), Match.id.asc()))
    items = session.scalars(stmt.order_by(*order).offset((page - 1) * size).limit(size)).unique().all()
    return list(items), int(total or 0)


def pipeline(session: Session, actor, *, mine: bool = False, field: str | None = None,
             region: str | None = None, limit: int = 100) -> dict[str, dict]:
    """Board by stage: {stage: {"label", "count", "items"}} for accepted .. failed."""
    _require_reviewer(actor)
    out = {}
    for stage in ACCEPTED_STATUSES:
        f = QueueFilters(status=stage, field=field, region=region, region_side="either",
                         assigned="me" if mine else None, sort="newest")
        items, total = queue(session, actor, f, size=min(limit, 100))
        out[stage] = {"label": MatchStatus(stage).label, "count": total, "items": items}
    return out


def counts(session: Session, actor) -> dict[str, int]:
    _require_reviewer(actor)
    rows = session.execute(select(Match.status, func.count()).group_by(Match.status)).all()
    return {s: int(n) for s, n in rows}


def for_listing(session: Session, viewer, kind: str, listing_id: int, *,
                include_closed: bool = False) -> list[Match]:
    """Proposals of one problem or achievement, best first, as the viewer may see them:
    reviewers see every open/in-progress one; the owning organization sees them only after
    a broker accepted them."""
    obj = listings.get_for(session, viewer, kind, listing_id)
    col = Match.problem_id if kind == "problem" else Match.achievement_id
    stmt = select(Match).where(col == obj.id)
    if perm.can_review_matches(viewer):
        if not include_closed:
            stmt = stmt.where(Match.status.notin_(("rejected", "withdrawn")))
    elif viewer is not None and viewer.is_active and viewer.org_id == obj.org_id:
        stmt = stmt.where(Match.status.in_(ACCEPTED_STATUSES))
    else:
        return []
    return list(session.scalars(stmt.order_by(Match.score.desc(), Match.id)).unique())


def history(session: Session, match_id: int) -> list[MatchReview]:
    return list(session.scalars(select(MatchReview).where(MatchReview.match_id == match_id)
                                .order_by(MatchReview.at, MatchReview.id)))


def _user_brief(session: Session, uid: int | None) -> dict | None:
    if not uid:
        return None
    u = session.get(User, uid)
    return {"id": u.id, "name": u.name or u.email} if u else None


def _sees_contacts(session: Session, viewer, m: Match, obj, assigned: set[tuple[str, int]] | None = None) -> bool:
    """perm.can_see_contact for a listing of ``m``, without a query for the staff and for the
    match's own broker (who see the contacts of every listing of their matches). ``assigned``:
    perm.broker_assigned_listings of the whole page (:func:`to_out_many`)."""
    if perm.is_staff(viewer) or (perm.has_role(viewer, Role.broker) and m.assigned_broker_id == viewer.id):
        return True
    return perm.can_see_contact(session, viewer, obj, assigned)


def _listing_brief(session: Session, viewer, m: Match, obj, assigned: set[tuple[str, int]] | None = None) -> dict:
    visible = _sees_contacts(session, viewer, m, obj, assigned)
    d = {"id": obj.id, "kind": obj.kind, "title": obj.title, "status": obj.status, "fields": obj.fields or [],
         "region": obj.region, "region_name": regions.full_name(obj.region), "org_id": obj.org_id,
         "org_name": obj.org.name if obj.org else "", "contact_visible": visible,
         "contact_name": obj.contact_name if visible else None,
         "contact_phone": obj.contact_phone if visible else None}
    if obj.kind == "problem":
        d.update(budget_min=obj.budget_min, budget_max=obj.budget_max, coop_modes=obj.coop_modes or [],
                 required_maturity=obj.required_maturity)
    else:
        d.update(maturity=obj.maturity, asking_price=obj.asking_price, transfer_modes=obj.transfer_modes or [])
    return d


def to_out_many(session: Session, viewer, items: list[Match]) -> list[dict]:
    """:func:`to_out` of a page of matches, with the broker's contact visibility looked up once."""
    assigned = perm.broker_assigned_listings(session, viewer, [x for m in items for x in (m.problem, m.achievement)])
    return [to_out(session, viewer, m, assigned=assigned) for m in items]


def to_out(session: Session, viewer, m: Match, *, detail: bool = False,
           assigned: set[tuple[str, int]] | None = None) -> dict:
    """A match as the viewer may see it. ``detail`` adds both full listings and the history.
    ``assigned``: see :func:`_sees_contacts`."""
    reviewer = perm.can_review_matches(viewer)
    d = {
        "id": m.id, "problem_id": m.problem_id, "achievement_id": m.achievement_id,
        "score": round(float(m.score), 4), "rank": m.rank, "status": m.status,
        "status_label": MatchStatus.label_of(m.status), "reasons": m.reasons or {},
        "features": m.features or {}, "assigned_broker": _user_brief(session, m.assigned_broker_id),
        "proposed_at": m.proposed_at, "decided_at": m.decided_at, "introduced_at": m.introduced_at,
        "stage_changed_at": m.stage_changed_at, "updated_at": m.updated_at, "contract_id": m.contract_id,
        "failure_reason": m.failure_reason,
        "problem": _listing_brief(session, viewer, m, m.problem, assigned),
        "achievement": _listing_brief(session, viewer, m, m.achievement, assigned),
    }
    if reviewer:
        d["reject_reason"] = m.reject_reason
        d["reject_reason_label"] = RejectReason.label_of(m.reject_reason) if m.reject_reason else None
        d["reject_comment"] = m.reject_comment
    if detail:
        d["problem_full"] = listings.to_out(session, viewer, m.problem).model_dump()
        d["achievement_full"] = listings.to_out(session, viewer, m.achievement).model_dump()
        d["history"] = [{"action": r.action, "from_status": r.from_status, "to_status": r.to_status,
                         "reason_code": r.reason_code if reviewer else None,
                         "comment": r.comment if reviewer or r.action != "reject" else None,
                         "actor": _user_brief(session, r.actor_id), "at": r.at}
                        for r in history(session, m.id)]
        d["actions"] = allowed_actions(viewer, m)
    return d


def can_refresh(user, listing) -> bool:
    """Recompute a listing's proposals now: the reviewers and the listing's editors."""
    return perm.can_review_matches(user) or perm.can_edit_listing(user, listing)


def refreshable_listing(session: Session, actor, kind: str, listing_id: int):
    """The listing whose proposals the actor may recompute now (:func:`can_refresh`); the
    caller runs the matcher (core does not import it)."""
    obj = listings.get_for(session, actor, kind, listing_id)
    perm.require(can_refresh(actor, obj), "您无权重新计算推荐")
    return obj


def allowed_actions(viewer, m: Match) -> list[str]:
    """What the viewer may do next (for buttons on pages)."""
    if not perm.can_review_matches(viewer):
        return []
    if viewer.role == Role.broker and m.assigned_broker_id not in (None, viewer.id):
        return []
    acts = []
    if m.status not in ("rejected", "withdrawn", "contracted", "failed"):
        acts.append("assign")
        if viewer.role == Role.broker and m.assigned_broker_id is None:
            acts.append("claim")  # assign to oneself
    if m.status == "proposed":
        acts += ["accept", "reject"]
    elif m.status == "accepted":
        acts += ["introduce", "reject", "contracted"]
    acts += [s for s in sorted(STAGE_MOVES.get(m.status, set()))]
    return acts


def reason_choices() -> list[dict]:
    return [{"code": r.value, "label": r.label} for r in RejectReason]


def status_choices() -> list[dict]:
    return [{"code": s.value, "label": s.label} for s in MatchStatus]


__all__ = ["MatchStatus", "RejectReason", "ACCEPTED_STATUSES", "QueueFilters", "fingerprint",
           "withdraw", "withdraw_for_listing", "assign", "accept", "reject", "introduce", "set_stage",
           "mark_contracted", "queue", "pipeline", "counts", "for_listing", "get", "get_for", "find_pair",
           "to_out", "to_out_many", "history",
           "can_view", "allowed_actions", "can_refresh", "refreshable_listing", "propose_many", "reason_choices", "status_choices", "refresh_score"]
