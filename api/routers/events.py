"""/api/events: matchmaking events (对接活动). Rules are in core.events.service."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import DB, CurrentUser
from api.guards import allowed
from api.params import Id, PageNo, YearQuery
from core.events import service as events
from core.events.schemas import EventIn, EventOut, EventUpdate
from core.schemas import Page

router = APIRouter(prefix="/events", tags=["对接活动"])

# Permission checks that run before input validation (api.guards).
RECORDERS = allowed(events.can_record, "只有科技局和技术经纪人可以登记对接活动")


@router.get("", response_model=Page[EventOut], summary="对接活动列表", dependencies=[RECORDERS])
def list_events(db: DB, user: CurrentUser, year: YearQuery = None, region: str | None = None,
                page: PageNo = 1, size: Annotated[int, Query(ge=1, le=200)] = 50):
    items, total = events.list_events(db, user, year=year, region=region, page=page, size=size)
    return Page(items=[EventOut.model_validate(e) for e in items], total=total, page=page, size=size)


@router.post("", response_model=EventOut, status_code=201, summary="登记对接活动", dependencies=[RECORDERS])
def create_event(db: DB, user: CurrentUser, data: EventIn):
    return EventOut.model_validate(events.create(db, user, data))


@router.patch("/{event_id}", response_model=EventOut, dependencies=[RECORDERS])
def update_event(db: DB, user: CurrentUser, event_id: Id, data: EventUpdate):
    return EventOut.model_validate(events.update(db, user, event_id, data))


@router.delete("/{event_id}", status_code=204, dependencies=[RECORDERS])
def delete_event(db: DB, user: CurrentUser, event_id: Id):
    events.delete(db, user, event_id)
