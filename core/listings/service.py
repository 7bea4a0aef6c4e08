"""Problems and achievements: create, update, status transitions, reads with visibility rules.

One implementation for both kinds; the differences are data (schemas, transitions, editor role).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone

from sqlalchemy import func, or_, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from core import audit, hooks, regions, validation
from core import permissions as perm
from core.db import get_or_404, local_day_bounds, utcnow
from core.errors import InvalidTransition, NotFound, ValidationFailed
from core.listings.kinds import KINDS, spec
from core.listings.schemas import (
    AchievementIn,
    AchievementUpdate,
    ListingOut,
    ProblemIn,
    ProblemUpdate,
    check_budget,
    check_trl,
)
from core.models import Attachment
from core.models.listings import LISTING_MODELS


def get(session: Session, kind: str, listing_id: int):
    obj = get_or_404(session, spec(kind).model, listing_id, f"{spec(kind).label}不存在")
    return obj


def get_for(session: Session, viewer, kind: str, listing_id: int):
    """A listing the viewer may see; others get 404 so that drafts do not leak."""
    obj = get(session, kind, listing_id)
    if not perm.can_view_listing(session, viewer, obj):
        raise NotFound(f"{spec(kind).label}不存在")
    return obj


# ----------------------------------------------------------------- writes

def create(session: Session, actor, kind: str, data: ProblemIn | AchievementIn, *,
           org_id: int | None = None, source: str = "manual", status: str | None = None):
    """Create a listing for the actor's organization. System callers (crawler, importer,
    demo loader) pass actor=None with org_id and an explicit status."""
    sp = spec(kind)
    if actor is not None:
        perm.require(perm.can_create_listing(actor, kind), f"您的角色不能发布{sp.label}")
        org_id = org_id if (org_id and perm.has_role(actor, "admin")) else actor.org_id
    if org_id is None:
        raise ValidationFailed("缺少所属单位", field="org_id")
    values = data.model_dump(exclude={"publish"})
    if kind == "achievement":
        values["patents"] = [dict(p) for p in values.get("patents", [])]
    if status is None:
        status = "published" if data.publish else "draft"
    obj = sp.model(**values, org_id=org_id, status=status, source=source,
                   created_by_id=getattr(actor, "id", None))
    if status == "published":
        obj.published_at = utcnow()
    session.add(obj)
    session.flush()
    audit.record(session, actor, f"{kind}.create", kind, obj.id, {"title": obj.title, "status": status})
    hooks.listing_changed(session, kind, obj.id, rematch=status == "published")
    return obj


def ensure_editable(session: Session, actor, kind: str, listing_id: int):
    """The listing, if the actor may edit it (own organization); else PermissionDenied."""
    obj = get(session, kind, listing_id)
    if actor is not None:
        perm.require(perm.can_edit_listing(actor, obj), f"您只能修改本单位的{spec(kind).label}")
    return obj


def update(session: Session, actor, kind: str, listing_id: int, data: ProblemUpdate | AchievementUpdate):
    obj = ensure_editable(session, actor, kind, listing_id)
    if obj.status == "closed":
        raise InvalidTransition(f"已关闭的{spec(kind).label}不能修改")
    values = data.model_dump(exclude_unset=True)
    if "patents" in values and values["patents"] is not None:
        values["patents"] = [dict(p) for p in values["patents"]]
    validation.reject_nulls(spec(kind).model, values)
    # Cross-field rules against the merged state.
    try:
        if kind == "problem":
            check_budget(values.get("budget_min", obj.budget_min), values.get("budget_max", obj.budget_max))
        else:
            check_trl(values.get("maturity", obj.maturity), values.get("trl", obj.trl))
    except ValueError as e:
        raise ValidationFailed(str(e)) from None
    changes = audit.diff(obj, values)
    if changes:
        obj.updated_at = utcnow()
        audit.record(session, actor, f"{kind}.update", kind, obj.id, changes)
        hooks.listing_changed(session, kind, obj.id, rematch=perm.is_public(obj))
    return obj


def _may_transition(actor, obj, to_status: str) -> bool:
    """Review of crawled/imported listings is the bureau's; every other move the owner's."""
    if obj.status == "pending_review" and to_status in ("published", "closed"):
        return perm.can_review_listing(actor)
    return perm.can_edit_listing(actor, obj)


def actions(viewer, obj) -> list[str]:
    """What the viewer may do with the listing now (buttons on pages): ``review_publish`` and
    ``review_reject`` (bureau review), ``edit``, ``publish``, ``close``; each one is accepted by
    :func:`update` / :func:`transition`."""
    allowed = spec(obj.kind).transitions.get(obj.status, set())
    acts = []
    if obj.status == "pending_review" and perm.can_review_listing(viewer):
        acts += [a for a, to in (("review_publish", "published"), ("review_reject", "closed")) if to in allowed]
    if obj.status != "closed" and perm.can_edit_listing(viewer, obj):
        acts.append("edit")
    if obj.status == "draft" and "published" in allowed and _may_transition(viewer, obj, "published"):
        acts.append("publish")
    if (obj.status not in ("draft", "pending_review") and "closed" in allowed
            and _may_transition(viewer, obj, "closed")):
        acts.append("close")
    return acts


def transition(session: Session, actor, kind: str, listing_id: int, to_status: str, reason: str = ""):
    """Change status along the allowed transitions (publish, close, ...)."""
    sp = spec(kind)
    obj = get(session, kind, listing_id)
    if actor is not None and not _may_transition(actor, obj, to_status):
        if obj.status == "pending_review" and to_status in ("published", "closed"):
            perm.require(False, "只有科技局可以审核待发布的信息")
        perm.require(False, f"您只能操作本单位的{sp.label}")
    if to_status not in {s.value for s in sp.statuses}:
        raise ValidationFailed(f"未知的状态：{to_status}", field="status", code="unknown_status")
    if to_status not in sp.transitions.get(obj.status, set()):
        frm = sp.statuses(obj.status).label
        raise InvalidTransition(f"不能从“{frm}”变为“{sp.statuses(to_status).label}”")
    old = obj.status
    obj.status = to_status
    if to_status == "published" and obj.published_at is None:
        obj.published_at = utcnow()
    obj.updated_at = utcnow()
    audit.record(session, actor, f"{kind}.status", kind, obj.id, {"status": [old, to_status], "reason": reason})
    hooks.listing_changed(session, kind, obj.id)
    return obj


def delete(session: Session, actor, kind: str, listing_id: int) -> None:
    """Only drafts are deleted; published listings are closed instead (they may have history)."""
    obj = get(session, kind, listing_id)
    if actor is not None:
        perm.require(perm.can_edit_listing(actor, obj), f"您只能删除本单位的{spec(kind).label}")
    if obj.status not in ("draft", "pending_review"):
        raise InvalidTransition("已发布的信息不能删除，请关闭")
    audit.record(session, actor, f"{kind}.delete", kind, obj.id, {"title": obj.title})
    for att in session.scalars(select(Attachment).where(Attachment.owner_kind == kind,
                                                         Attachment.owner_id == obj.id)):
        session.delete(att)
    session.delete(obj)
    session.flush()
    hooks.listing_changed(session, kind, listing_id, rematch=False)


# ----------------------------------------------------------------- reads

@dataclass
class ListingFilters:
    q: str | None = None  # substring on title (full-text search lives in indexes/)
    status: str | None = None
    field: str | None = None
    region: str | None = None  # code prefix roll-up: a city takes in its counties
    org_id: int | None = None
    mine: bool = False
    source: str | None = None
    maturity: str | None = None
    mode: str | None = None  # cooperation mode (problems) or transfer mode (achievements)
    created_from: date | None = None
    created_to: date | None = None

    def __post_init__(self):
        validation.check_ids(self, "org_id")


def json_contains(session: Session, column, value: str):
    """Portable 'JSON list contains value' (jsonb on PostgreSQL, text match on SQLite)."""
    if session.get_bind().dialect.name == "postgresql":
        return column.cast(JSONB).contains([value])
    each = func.json_each(column).table_valued("value")
    return select(each.c.value).where(each.c.value == value).exists()


def list_for(session: Session, viewer, kind: str, filters: ListingFilters, *, page: int = 1, size: int = 20):
    sp = spec(kind)
    m = sp.model
    size = max(1, min(size, 100))
    page = max(1, page)
    stmt = select(m)
    visible = perm.visible_listing_clause(m, viewer)
    if visible is not None:
        stmt = stmt.where(visible)
    if filters.mine and viewer is not None:
        stmt = stmt.where(m.org_id == viewer.org_id)
    if filters.org_id:
        stmt = stmt.where(m.org_id == filters.org_id)
    if filters.status:
        stmt = stmt.where(m.status == filters.status)
    if filters.source:
        stmt = stmt.where(m.source == filters.source)
    if filters.q:
        stmt = stmt.where(or_(m.title.contains(filters.q), *(
            [m.description.contains(filters.q)] if kind == "problem" else [m.abstract.contains(filters.q)])))
    if filters.region:
        stmt = stmt.where(m.region.startswith(regions.prefix(filters.region)))
    if filters.field:
        stmt = stmt.where(json_contains(session, m.fields, filters.field))
    if filters.maturity and kind == "achievement":
        stmt = stmt.where(m.maturity == filters.maturity)
    if filters.mode:
        col = m.coop_modes if kind == "problem" else m.transfer_modes
        stmt = stmt.where(json_contains(session, col, filters.mode))
    start, end = local_day_bounds(filters.created_from, filters.created_to)  # Beijing-time days
    if start is not None:
        stmt = stmt.where(m.created_at >= datetime.fromtimestamp(start, timezone.utc))
    if end is not None:
        stmt = stmt.where(m.created_at < datetime.fromtimestamp(end, timezone.utc))
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    items = session.scalars(stmt.order_by(m.updated_at.desc(), m.id.desc())
                            .offset((page - 1) * size).limit(size)).unique().all()
    return list(items), total


def attachments_of(session: Session, kind: str, listing_id: int) -> list[Attachment]:
    return list(session.scalars(select(Attachment).where(Attachment.owner_kind == kind,
                                                         Attachment.owner_id == listing_id)
                                .order_by(Attachment.id)))


def to_out(session: Session, viewer, obj, *, with_attachments: bool = True) -> ListingOut:
    """Serialize for a viewer: contact fields are None unless the viewer may see them."""
    visible = perm.can_see_contact(session, viewer, obj)
    common = dict(
        id=obj.id, kind=obj.kind, title=obj.title, status=obj.status, fields=obj.fields or [],
        keywords=obj.keywords or [], region=obj.region, region_name=regions.full_name(obj.region),
        org_id=obj.org_id, org_name=obj.org.name if obj.org else "", source=obj.source,
        contact_name=obj.contact_name if visible else None,
        contact_phone=obj.contact_phone if visible else None, contact_visible=visible,
        created_at=obj.created_at, updated_at=obj.updated_at, published_at=obj.published_at,
    )
    if obj.kind == "problem":
        extra = dict(description=obj.description, indicators=obj.indicators, conditions=obj.conditions,
                     budget_min=obj.budget_min, budget_max=obj.budget_max, coop_modes=obj.coop_modes,
                     required_maturity=obj.required_maturity, deadline=obj.deadline)
    else:
        extra = dict(abstract=obj.abstract, body=obj.body, maturity=obj.maturity, trl=obj.trl,
                     patents=obj.patents, transfer_modes=obj.transfer_modes,
                     asking_price=obj.asking_price, inventors=obj.inventors)
    atts = []
    if with_attachments:
        atts = [{"id": a.id, "filename": a.filename, "size": a.size, "content_type": a.content_type}
                for a in attachments_of(session, obj.kind, obj.id)]
    return ListingOut(**common, **extra, attachments=atts)


def search_text(session: Session, obj) -> str:
    """The text a listing is found by: its fields plus its attachments' extracted text."""
    if obj.kind == "problem":
        parts = [obj.title, obj.description, obj.indicators, obj.conditions]
    else:
        parts = [obj.title, obj.abstract, obj.body]
    parts += [" ".join(obj.keywords or [])]
    parts += [a.extracted_text for a in attachments_of(session, obj.kind, obj.id) if a.extracted_text]
    return "\n".join(p for p in parts if p)


__all__ = ["KINDS", "LISTING_MODELS", "ListingFilters", "create", "update", "transition", "delete",
           "get", "get_for", "list_for", "to_out", "attachments_of", "search_text", "spec",
           "json_contains"]
