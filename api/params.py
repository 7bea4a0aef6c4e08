"""Shared parameter types of the API and the pages: bounded so that no value reaches the
database or the date arithmetic out of range (a 4xx with a Chinese message, never a 5xx)."""
from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query, Request

from core import validation
from core.errors import ValidationFailed
from core.schemas import MAX_DAYS, MAX_ID, MAX_PAGE, MAX_YEAR, MIN_YEAR

Id = Annotated[int, Path(ge=1, le=MAX_ID)]
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]
PageNo = Annotated[int, Query(ge=1, le=MAX_PAGE)]
Year = Annotated[int, Query(ge=MIN_YEAR, le=MAX_YEAR)]
YearQuery = Annotated[int | None, Query(ge=MIN_YEAR, le=MAX_YEAR)]
Days = Annotated[float | None, Query(ge=0, le=MAX_DAYS, allow_inf_nan=False)]
Score = Annotated[float | None, Query(ge=0, le=1, allow_inf_nan=False)]


def plain_text_params(request: Request) -> None:
    """An app-wide dependency: no query or path parameter (filters, search terms) may hold a
    NUL byte or a bidi override (bodies are checked by core.schemas.Schema)."""
    items = list(request.query_params.multi_items()) + list(request.path_params.items())
    for name, value in items:
        for v in (name, value):
            if isinstance(v, str):
                try:
                    validation.check_text(v)
                except ValueError as e:
                    raise ValidationFailed(f"参数 {name[:40]!r}：{e}", field=str(name)[:40]) from None
