"""/api/events: matchmaking events (对接活动). Rules are in core.events.service."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import DB, CurrentUser
from core.events import service as events
from core.events.schemas import EventIn, EventOut, EventUpdate
from core.schemas import Page

router = APIRouter(prefix="/events", tags=["对接活动"])


@router.get("", response_model=Page[EventOut], summary="对接活动列表")
def list_events(db: DB, user: CurrentUser, year: int | None = None, region: str | None = None,
                page: Annotated[int, Query(ge=1)] = 1, size: Annotated[int, Query(ge=1, le=200)] = 50):
    items, total = events.list_events(db, user, year=year, region=region, page=page, size=size)
    return Page(items=[EventOut.model_validate(e) for e in items], total=total, page=page, size=size)


@router.post("", response_model=EventOut, status_code=201, summary="登记对接活动")
def create_event(db: DB, user: CurrentUser, data: EventIn):
    return EventOut.model_validate(events.create(db, user, data))


@router.patch("/{event_id}", response_model=EventOut)
def update_event(db: DB, user: CurrentUser, event_id: int, data: EventUpdate):
    return EventOut.model_validate(events.update(db, user, event_id, data))


@router.delete("/{event_id}", status_code=204)
def delete_event(db: DB, user: CurrentUser, event_id: int):
    events.delete(db, user, event_id)
