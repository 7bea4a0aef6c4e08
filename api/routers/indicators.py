"""/api/indicators: summary, time series, breakdowns, targets (progress, projection, behind-schedule
flag) and exports. Figures come from core.indicators.service only."""
from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import DB, CurrentUser
from api.guards import allowed
from api.json import exact
from api.params import Id, Year
from api.responses import download
from core import permissions as perm
from core.errors import NotFound
from core.indicators import exports as indicator_exports
from core.indicators import service as indicators
from core.indicators.schemas import TargetIn

router = APIRouter(prefix="/indicators", tags=["科技指标"])

# Permission checks that run before input validation (api.guards).
VIEWERS = allowed(indicators.can_view_indicators, "只有科技局和技术经纪人可以查看指标")
TARGET_EDITORS = allowed(perm.can_edit_targets, "只有科技局可以设置指标目标")

Side = Annotated[str, Query(pattern="^(seller|buyer)$")]


@router.get("/catalog", summary="指标清单（键、名称、单位）")
def catalog(user: CurrentUser):
    return [{"key": s.key, "label": s.label, "unit": s.unit, "dated": s.dated, "note": s.note}
            for s in indicators.INDICATORS.values()]


@router.get("/summary", summary="年度指标汇总（截至今日，对比上年同期）", dependencies=[VIEWERS])
def summary(db: DB, user: CurrentUser, year: Year, region: str | None = None, as_of: date | None = None):
    return exact(indicators.summary(db, user, year, region, as_of))


@router.get("/series", summary="按月、按季度的技术合同成交额（含上年）", dependencies=[VIEWERS])
def series(db: DB, user: CurrentUser, year: Year, region: str | None = None, side: Side = "seller"):
    return exact(indicators.series(db, user, year, region, side))


@router.get("/breakdown", summary="分组统计：region/type/sub_type/field/seller_type/buyer_type/conversion/month/quarter", dependencies=[VIEWERS])
def breakdown(db: DB, user: CurrentUser, year: Year, by: str = "region", region: str | None = None,
              side: Side = "seller", quarter: Annotated[int | None, Query(ge=1, le=4)] = None,
              month: Annotated[int | None, Query(ge=1, le=12)] = None, as_of: date | None = None):
    return exact(indicators.breakdown(db, user, year, by, region, side, quarter, month, as_of))


@router.get("/targets", summary="指标目标与完成进度、全年预计、是否滞后", dependencies=[VIEWERS])
def list_targets(db: DB, user: CurrentUser, year: Year, region: str | None = None, as_of: date | None = None):
    return exact(indicators.targets(db, user, year, region, as_of))


@router.put("/targets", summary="设置（新增或修改）年度目标", dependencies=[TARGET_EDITORS])
def put_target(db: DB, user: CurrentUser, data: TargetIn):
    t = indicators.set_target(db, user, data)
    return exact(indicators.target_row(db, t))


@router.delete("/targets/{target_id}", status_code=204, dependencies=[TARGET_EDITORS])
def delete_target(db: DB, user: CurrentUser, target_id: Id):
    indicators.delete_target(db, user, target_id)


@router.get("/export.{fmt}", summary="导出指标表（XLSX 含全部表；CSV 用 table 选择一张表）", dependencies=[VIEWERS])
def export(db: DB, user: CurrentUser, fmt: str, year: Year, region: str | None = None, table: str | None = None,
           as_of: date | None = None):
    if fmt not in ("xlsx", "csv"):
        raise NotFound("仅支持 xlsx 或 csv")
    return download(*indicator_exports.export_indicators(db, user, year, region, fmt, table, as_of))
