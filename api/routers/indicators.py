"""/api/indicators: summary, time series, breakdowns, targets (progress, projection, behind-schedule
flag), events and exports. Figures come from core.services.indicators only."""
from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import DB, CurrentUser
from api.json import exact
from api.routers.contracts import download
from core.contract_schemas import EventIn, EventOut, EventUpdate, TargetIn
from core.errors import NotFound
from core.schemas import Page
from core.services import events, exports, indicators

router = APIRouter(prefix="/indicators", tags=["科技指标"])

Side = Annotated[str, Query(pattern="^(seller|buyer)$")]


@router.get("/catalog", summary="指标清单（键、名称、单位）")
def catalog(user: CurrentUser):
    return [{"key": s.key, "label": s.label, "unit": s.unit, "dated": s.dated, "note": s.note}
            for s in indicators.INDICATORS.values()]


@router.get("/summary", summary="年度指标汇总（截至今日，对比上年同期）")
def summary(db: DB, user: CurrentUser, year: int, region: str | None = None, as_of: date | None = None):
    return exact(indicators.summary(db, user, year, region, as_of))


@router.get("/series", summary="按月、按季度的技术合同成交额（含上年）")
def series(db: DB, user: CurrentUser, year: int, region: str | None = None, side: Side = "seller"):
    return exact(indicators.series(db, user, year, region, side))


@router.get("/breakdown", summary="分组统计：region/type/sub_type/field/seller_type/buyer_type/conversion/month/quarter")
def breakdown(db: DB, user: CurrentUser, year: int, by: str = "region", region: str | None = None,
              side: Side = "seller", quarter: Annotated[int | None, Query(ge=1, le=4)] = None,
              month: Annotated[int | None, Query(ge=1, le=12)] = None, as_of: date | None = None):
    return exact(indicators.breakdown(db, user, year, by, region, side, quarter, month, as_of))


@router.get("/targets", summary="指标目标与完成进度、全年预计、是否滞后")
def list_targets(db: DB, user: CurrentUser, year: int, region: str | None = None, as_of: date | None = None):
    return exact(indicators.targets(db, user, year, region, as_of))


@router.put("/targets", summary="设置（新增或修改）年度目标")
def put_target(db: DB, user: CurrentUser, data: TargetIn):
    t = indicators.set_target(db, user, data)
    return exact(indicators.target_row(db, t))


@router.delete("/targets/{target_id}", status_code=204)
def delete_target(db: DB, user: CurrentUser, target_id: int):
    indicators.delete_target(db, user, target_id)


@router.get("/events", response_model=Page[EventOut], summary="对接活动列表")
def list_events(db: DB, user: CurrentUser, year: int | None = None, region: str | None = None,
                page: Annotated[int, Query(ge=1)] = 1, size: Annotated[int, Query(ge=1, le=200)] = 50):
    items, total = events.list_events(db, user, year=year, region=region, page=page, size=size)
    return Page(items=[EventOut.model_validate(e) for e in items], total=total, page=page, size=size)


@router.post("/events", response_model=EventOut, status_code=201, summary="登记对接活动")
def create_event(db: DB, user: CurrentUser, data: EventIn):
    return EventOut.model_validate(events.create(db, user, data))


@router.patch("/events/{event_id}", response_model=EventOut)
def update_event(db: DB, user: CurrentUser, event_id: int, data: EventUpdate):
    return EventOut.model_validate(events.update(db, user, event_id, data))


@router.delete("/events/{event_id}", status_code=204)
def delete_event(db: DB, user: CurrentUser, event_id: int):
    events.delete(db, user, event_id)


@router.get("/export.{fmt}", summary="导出指标表（XLSX 含全部表；CSV 用 table 选择一张表）")
def export(db: DB, user: CurrentUser, fmt: str, year: int, region: str | None = None, table: str | None = None,
           as_of: date | None = None):
    if fmt not in ("xlsx", "csv"):
        raise NotFound("仅支持 xlsx 或 csv")
    return download(*exports.export_indicators(db, user, year, region, fmt, table, as_of))
