"""GET /api/search — hybrid search over problems and achievements (indexes.service)."""
from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from api.deps import OptionalUser
from core.db import local_day_bounds
from core.errors import DomainError
from core.permissions import can_see_unpublished
from indexes.backends.base import Filters
from indexes.service import get_search_service, preferred_kind

router = APIRouter(tags=["search"])


@router.get("/search", summary="检索技术需求与科技成果（关键词 / 语义 / 混合）")
def search(user: OptionalUser,
           q: Annotated[str, Query(max_length=500, description="检索词")] = "",
           kind: Literal["problem", "achievement"] | None = None,
           mode: Literal["keyword", "semantic", "hybrid"] = "hybrid",
           field: Annotated[list[str] | None, Query(description="领域（可多选，任一）")] = None,
           region: Annotated[str | None, Query(pattern=r"^\d{2,6}$", description="地区代码前缀")] = None,
           maturity: Annotated[list[str] | None, Query()] = None,
           coop_mode: Annotated[list[str] | None, Query(description="转化 / 合作方式（任一）")] = None,
           status: Annotated[list[str] | None, Query()] = None,
           created_from: date | None = None, created_to: date | None = None,
           page: Annotated[int, Query(ge=1, le=100)] = 1,
           size: Annotated[int, Query(ge=1, le=100)] = 10) -> dict:
    if created_from and created_to and created_from > created_to:
        raise DomainError("起始日期不能晚于结束日期", code="bad_date_range")
    date_from, date_to = local_day_bounds(created_from, created_to)
    f = Filters(kind=kind, fields=field or [], region=region, maturity=maturity or [],
                modes=coop_mode or [], status=status or [],
                published_only=not can_see_unpublished(user),
                date_from=date_from, date_to=date_to)
    # relevant=false: nothing reached the relevance floor; suggestions then holds broader terms
    res = get_search_service().search(q, kind=kind, mode=mode, filters=f, page=page, size=size,
                                      published_only=f.published_only, prefer=preferred_kind(user))
    return res.to_dict()
