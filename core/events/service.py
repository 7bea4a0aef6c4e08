"""Matchmaking events (对接活动): recorded by the bureau or brokers, with attendance and the
matches made at each; they feed the 对接活动 indicators."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import audit, regions, validation
from core import permissions as perm
from core.db import get_or_404
from core.errors import ValidationFailed
from core.events.schemas import EventIn, EventUpdate
from core.models import Match, Organization
from core.models.events import Event
from core.schemas import validate
from core.vocab import Role

__all__ = ["create", "update", "delete", "get", "list_events", "can_record", "region_scope"]


def can_record(user) -> bool:
    return perm.is_staff(user) or perm.has_role(user, Role.broker)


def region_scope(user) -> str | None:
    """The region an event's region choice stays inside: a bureau records events for its own
    region and those below (core.permissions.may_set_region); None = any region."""
    return perm.jurisdiction(user)


def _can_edit(user, ev: Event) -> bool:
    """Staff inside their jurisdiction (core.permissions), brokers the events they recorded."""
    return ((perm.is_staff(user) and perm.may_set_region(user, ev.region))
            or (perm.has_role(user, Role.broker) and ev.created_by_id == user.id))


def _check_refs(session: Session, values: dict) -> None:
    org_id = values.get("organizer_org_id")
    if org_id is not None and session.get(Organization, org_id) is None:
        raise ValidationFailed("主办单位不存在", field="organizer_org_id")
    ids = values.get("match_ids") or []
    if ids:
        found = set(session.scalars(select(Match.id).where(Match.id.in_(ids))))
        missing = [i for i in ids if i not in found]
        if missing:
            raise ValidationFailed(f"撮合记录 {missing[0]} 不存在", field="match_ids")
        values["match_ids"] = list(dict.fromkeys(ids))
        if values.get("matches_made", 0) < len(values["match_ids"]):
            values["matches_made"] = len(values["match_ids"])


def create(session: Session, actor, data: EventIn | dict) -> Event:
    data = validate(EventIn, data)
    if actor is not None:
        perm.require(can_record(actor), "只有科技局和技术经纪人可以登记对接活动")
        perm.require_in_jurisdiction(actor, data.region, "活动地区")
    values = data.model_dump()
    values["kind"] = str(values["kind"])
    _check_refs(session, values)
    ev = Event(**values, created_by_id=getattr(actor, "id", None))
    session.add(ev)
    session.flush()
    audit.record(session, actor, "event.create", "event", ev.id, {"title": ev.title, "held_on": ev.held_on})
    return ev


def get(session: Session, event_id: int) -> Event:
    ev = get_or_404(session, Event, event_id, "对接活动不存在")
    return ev


def update(session: Session, actor, event_id: int, data: EventUpdate | dict) -> Event:
    data = validate(EventUpdate, data)
    ev = get(session, event_id)
    if actor is not None:
        perm.require(_can_edit(actor, ev), "您不能修改该对接活动")
        if data.region is not None:
            perm.require_in_jurisdiction(actor, data.region, "活动地区")
    values = data.model_dump(exclude_unset=True)
    validation.reject_nulls(Event, values)
    if "kind" in values:
        values["kind"] = str(values["kind"])
    if "match_ids" in values and "matches_made" not in values:
        values["matches_made"] = ev.matches_made
    _check_refs(session, values)
    changes = audit.diff(ev, values)
    session.flush()
    if changes:
        audit.record(session, actor, "event.update", "event", ev.id, changes)
    return ev


def delete(session: Session, actor, event_id: int) -> None:
    ev = get(session, event_id)
    if actor is not None:
        perm.require(_can_edit(actor, ev), "您不能删除该对接活动")
    audit.record(session, actor, "event.delete", "event", ev.id, {"title": ev.title})
    session.delete(ev)
    session.flush()


def list_events(session: Session, viewer, *, year: int | None = None, region: str | None = None,
                start: date | None = None, end: date | None = None, page: int = 1,
                size: int = 50) -> tuple[list[Event], int]:
    if viewer is not None:
        perm.require(can_record(viewer), "只有科技局和技术经纪人可以查看对接活动")
    validation.check_year(year)
    q = select(Event)
    inside = perm.region_clause(viewer, Event.region)
    if inside is not None:
        q = q.where(inside)
    if year:
        q = q.where(Event.held_on >= date(year, 1, 1), Event.held_on <= date(year, 12, 31))
    if start:
        q = q.where(Event.held_on >= start)
    if end:
        q = q.where(Event.held_on <= end)
    if region:
        q = q.where(Event.region.startswith(regions.prefix(region)))
    total = session.scalar(select(func.count()).select_from(q.subquery()))
    size = max(1, min(size, 500))
    items = session.scalars(q.order_by(Event.held_on.desc(), Event.id.desc())
                            .offset((max(page, 1) - 1) * size).limit(size)).all()
    return list(items), total
