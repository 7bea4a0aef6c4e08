"""Proposals and the broker workflow (thin: every rule is in core.matches.service).

* ``GET  /api/matches``                      broker queue (filters: status, field, region, region_side,
                                             min_score, max_score, min_age_days, max_age_days, assigned,
                                             problem_id, achievement_id, q, sort; paging)
* ``GET  /api/matches/pipeline``             board by stage (accepted → introduced → negotiating →
                                             contracted | failed)
* ``GET  /api/matches/counts``               proposals per status
* ``GET  /api/matches/choices``              status labels and reject reason codes (for forms)
* ``GET  /api/matches/{id}``                 detail: both listings, reasons, features, history, actions
* ``POST /api/matches/{id}/assign``          ``{"broker_id": optional}``
* ``POST /api/matches/{id}/accept``          ``{"comment"}``
* ``POST /api/matches/{id}/reject``          ``{"reason_code", "comment"}``
* ``POST /api/matches/{id}/introduce``       ``{"comment"}``
* ``POST /api/matches/{id}/stage``           ``{"stage": negotiating|contracted|failed, "reason", "contract_id"}``
                                             (contract_id: a registered contract to link to the pair)
* ``GET  /api/problems/{id}/matches``        proposals of a problem (as the viewer may see them)
* ``GET  /api/achievements/{id}/matches``    proposals of an achievement
* ``POST /api/problems/{id}/matches/refresh`` and ``/api/achievements/{id}/matches/refresh``:
  recompute now (reviewers and the owner)
"""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from api.deps import DB, CurrentUser
from api.guards import allowed
from api.json import exact
from api.params import Id, PageNo
from core import permissions as perm
from core.contracts import service as contracts
from core.listings import service as listings
from core.matches import service as svc
from core.schemas import DbId
from matcher.proposals import match_listing

router = APIRouter(tags=["撮合推荐"])

# Permission checks that run before input validation (api.guards).
REVIEWERS = allowed(perm.can_review_matches, "只有技术经纪人和科技局可以审核推荐")


class CommentIn(BaseModel):
    comment: Annotated[str, Field(max_length=1000)] = ""


class AssignIn(BaseModel):
    broker_id: DbId | None = None


class RejectIn(BaseModel):
    reason_code: str
    comment: Annotated[str, Field(max_length=1000)] = ""


class StageIn(BaseModel):
    stage: str
    reason: Annotated[str, Field(max_length=1000)] = ""
    contract_id: DbId | None = None


def _page(db, user, items, total, page, size):
    return exact({"items": svc.to_out_many(db, user, items), "total": total, "page": page, "size": size})


@router.get("/matches", summary="待审核推荐队列（经纪人、科技局）", dependencies=[REVIEWERS])
def queue(db: DB, user: CurrentUser, f: Annotated[svc.QueueFilters, Depends()],
          page: PageNo = 1, size: Annotated[int, Query(ge=1, le=100)] = 20):
    items, total = svc.queue(db, user, f, page=page, size=size)
    return _page(db, user, items, total, page, size)


@router.get("/matches/pipeline", summary="对接进度看板（按阶段）", dependencies=[REVIEWERS])
def pipeline(db: DB, user: CurrentUser, mine: bool = False, field: str | None = None, region: str | None = None,
             limit: Annotated[int, Query(ge=1, le=100)] = 50):
    board = svc.pipeline(db, user, mine=mine, field=field, region=region, limit=limit)
    return exact({"stages": [{"stage": k, "label": v["label"], "count": v["count"],
                              "items": svc.to_out_many(db, user, v["items"])} for k, v in board.items()]})


@router.get("/matches/counts", summary="各状态推荐数量")
def counts(db: DB, user: CurrentUser):
    return exact(svc.counts(db, user))


@router.get("/matches/choices", summary="状态与驳回原因选项")
def choices():
    return exact({"statuses": svc.status_choices(), "reject_reasons": svc.reason_choices()})


@router.get("/matches/{match_id}", summary="推荐详情：双方信息、推荐理由、处理记录")
def detail(db: DB, user: CurrentUser, match_id: Id):
    return exact(svc.to_out(db, user, svc.get_for(db, user, match_id), detail=True))


@router.post("/matches/{match_id}/assign", summary="分配给经纪人", dependencies=[REVIEWERS])
def assign(db: DB, user: CurrentUser, match_id: Id, body: AssignIn | None = None):
    m = svc.assign(db, user, match_id, body.broker_id if body else None)
    return exact(svc.to_out(db, user, m, detail=True))


@router.post("/matches/{match_id}/accept", summary="采纳推荐", dependencies=[REVIEWERS])
def accept(db: DB, user: CurrentUser, match_id: Id, body: CommentIn | None = None):
    return exact(svc.to_out(db, user, svc.accept(db, user, match_id, body.comment if body else ""), detail=True))


@router.post("/matches/{match_id}/reject", summary="驳回推荐（原因代码 + 说明）", dependencies=[REVIEWERS])
def reject(db: DB, user: CurrentUser, match_id: Id, body: RejectIn):
    return exact(svc.to_out(db, user, svc.reject(db, user, match_id, body.reason_code, body.comment), detail=True))


@router.post("/matches/{match_id}/introduce", summary="介绍对接：向双方公开联系方式并通知", dependencies=[REVIEWERS])
def introduce(db: DB, user: CurrentUser, match_id: Id, body: CommentIn | None = None):
    return exact(svc.to_out(db, user, svc.introduce(db, user, match_id, body.comment if body else ""),
                             detail=True))


@router.post("/matches/{match_id}/stage", summary="更新对接阶段：洽谈中 / 已签约 / 未成交", dependencies=[REVIEWERS])
def stage(db: DB, user: CurrentUser, match_id: Id, body: StageIn):
    m = contracts.move_match_stage(db, user, match_id, body.stage, body.reason, contract_id=body.contract_id)
    return exact(svc.to_out(db, user, m, detail=True))


def _listing_routes(kind: str, path: str) -> None:
    @router.get(f"{path}/{{listing_id}}/matches", summary=f"{listings.spec(kind).label}的推荐")
    def for_listing(db: DB, user: CurrentUser, listing_id: Id, include_closed: bool = False):
        items = svc.for_listing(db, user, kind, listing_id, include_closed=include_closed)
        return exact({"items": svc.to_out_many(db, user, items), "total": len(items)})

    @router.post(f"{path}/{{listing_id}}/matches/refresh", summary=f"立即重新计算{listings.spec(kind).label}的推荐")
    def refresh(db: DB, user: CurrentUser, listing_id: Id):
        obj = svc.refreshable_listing(db, user, kind, listing_id)
        return exact(match_listing(db, kind, obj.id))

    for_listing.__name__ = f"{kind}_matches"
    refresh.__name__ = f"{kind}_matches_refresh"


_listing_routes("problem", "/problems")
_listing_routes("achievement", "/achievements")
