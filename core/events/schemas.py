"""Schemas of matchmaking events (对接活动)."""
from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from core import validation
from core.events.vocab import EventKind
from core.schemas import DbId, Name, Schema, UtcDateTime


class EventIn(Schema):
    title: Name
    kind: EventKind = EventKind.matchmaking
    held_on: date
    region: str
    venue: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""
    organizer_org_id: DbId | None = None
    attendance: int = Field(default=0, ge=0, le=1_000_000)
    enterprises: int = Field(default=0, ge=0, le=1_000_000)
    matches_made: int = Field(default=0, ge=0, le=1_000_000)
    match_ids: list[DbId] = Field(default_factory=list, max_length=1000)
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)] = ""

    _region = field_validator("region")(lambda v: validation.check_region(v))


class EventUpdate(Schema):
    title: Name | None = None
    kind: EventKind | None = None
    held_on: date | None = None
    region: str | None = None
    venue: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    organizer_org_id: DbId | None = None
    attendance: int | None = Field(default=None, ge=0, le=1_000_000)
    enterprises: int | None = Field(default=None, ge=0, le=1_000_000)
    matches_made: int | None = Field(default=None, ge=0, le=1_000_000)
    match_ids: list[DbId] | None = Field(default=None, max_length=1000)
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)] | None = None

    _region = field_validator("region")(lambda v: v if v is None else validation.check_region(v))


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    title: str
    kind: str
    held_on: date
    region: str
    venue: str
    organizer_org_id: int | None
    attendance: int
    enterprises: int
    matches_made: int
    match_ids: list[int]
    note: str
    created_at: UtcDateTime
