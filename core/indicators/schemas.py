"""Schemas of indicator targets."""
from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import (
    Field,
    StringConstraints,
    field_validator,
)

from core import validation
from core.schemas import Schema, no_float


class TargetIn(Schema):
    indicator: str
    year: int = Field(ge=2000, le=2100)
    region: str
    target: Decimal = Field(ge=0, max_digits=16, decimal_places=2)
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] = ""

    _region = field_validator("region")(lambda v: validation.check_region(v))
    _target = field_validator("target", mode="before")(no_float)
