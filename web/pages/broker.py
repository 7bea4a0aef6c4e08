"""Broker pages: review queue (filters, accept / reject with a reason, bulk actions), the
proposal page with both listings side by side, introduce, stage moves and the pipeline board.
The match page is also where the two parties land from their notifications."""
from __future__ import annotations

import math
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from api.deps import DB
from api.params import Id, PageNo
from core.errors import DomainError, ValidationFailed
from core.matches import service as matches
from core.matches.vocab import MatchStatus, RejectReason
from web import forms
from web.security import BrokerOrBureau, LoggedIn, csrf_protect
from web.templating import render

router = APIRouter(dependencies=[Depends(csrf_protect)], include_in_schema=False)

QUEUE_STATUSES = [("proposed", "待审核"), ("accepted", "已采纳"), ("rejected", "已驳回"), ("all", "全部")]
PAGE_SIZE = 20


def _float(value: str | None, name: str) -> float | None:
    if not value:
        return None
    try:
        return float(value) / 100 if name.endswith("pct") else float(value)
    except ValueError:
        raise ValidationFailed("请输入数字", field=name) from None


def _queue_filters(qp) -> tuple[matches.QueueFilters, dict]:
    raw = {k: (qp.get(k) or "").strip() for k in ("status", "field", "region", "min_pct", "assigned", "q",
                                                   "sort", "max_age_days")}
    raw["status"] = raw["status"] or "proposed"
    f = matches.QueueFilters(
        status=raw["status"], field=raw["field"] or None, region=raw["region"] or None,
        region_side="either", min_score=_float(raw["min_pct"], "min_pct"),
        max_age_days=_float(raw["max_age_days"], "max_age_days"),
        assigned=raw["assigned"] or None, q=raw["q"] or None, sort=raw["sort"] or "score")
    return f, raw


@router.get("/broker/queue")
def queue(request: Request, db: DB, user: BrokerOrBureau, page: PageNo = 1):
    f, raw = _queue_filters(request.query_params)
    try:
        items, total = matches.queue(db, user, f, page=max(1, page), size=PAGE_SIZE)
        error = None
    except ValidationFailed as e:
        items, total, error = [], 0, e.message
    query = {k: v for k, v in raw.items() if v}
    pages = max(1, math.ceil(total / PAGE_SIZE))
    return render(request, "broker/queue.html", {
        "items": items, "total": total, "raw": raw, "statuses": QUEUE_STATUSES, "error": error,
        "reasons": RejectReason.choices(), "page": page, "pages": pages,
        "page_url": lambda p: "/broker/queue?" + urlencode({**query, "page": p}),
        "return_to": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        "actions": {m.id: matches.allowed_actions(user, m) for m in items},
    })


@router.post("/broker/matches/{match_id:int}/{action}")
async def act(request: Request, db: DB, user: BrokerOrBureau, match_id: Id, action: str):
    form = await request.form()
    comment = forms.text(form, "comment")
    back = forms.local_path(forms.text(form, "return_to"), f"/matches/{match_id}")
    try:
        if action == "accept":
            matches.accept(db, user, match_id, comment)
            msg = "已采纳推荐"
        elif action == "reject":
            matches.reject(db, user, match_id, forms.text(form, "reason_code"), comment)
            msg = "已驳回推荐"
        elif action == "introduce":
            matches.introduce(db, user, match_id, comment)
            msg = "已介绍双方对接，双方已收到对方联系方式"
        elif action == "assign":
            matches.assign(db, user, match_id)
            msg = "已认领"
        elif action == "stage":
            stage = forms.text(form, "stage")
            matches.set_stage(db, user, match_id, stage, forms.text(form, "reason"))
            msg = f"对接阶段已更新为“{MatchStatus(stage).label}”"
        else:
            raise ValidationFailed("未知的操作", field="action")
        db.commit()
    except DomainError as e:
        db.rollback()
        request.session["flash"] = e.message
        request.session["flash_kind"] = "error"
        return RedirectResponse(back, status_code=303)
    request.session["flash"] = msg
    return RedirectResponse(back, status_code=303)


@router.post("/broker/bulk")
async def bulk(request: Request, db: DB, user: BrokerOrBureau):
    """Accept or reject several proposals; each is its own step (a failure does not undo
    the others) and the result lists what did not go through."""
    form = await request.form()
    action = forms.text(form, "action")
    ids = [int(i) for i in form.getlist("ids") if str(i).isdigit()]
    back = forms.local_path(forms.text(form, "return_to"), "/broker/queue")
    if not ids:
        request.session.update(flash="请先勾选推荐", flash_kind="error")
        return RedirectResponse(back, status_code=303)
    if action not in ("accept", "reject"):
        request.session.update(flash="未知的批量操作", flash_kind="error")
        return RedirectResponse(back, status_code=303)
    done, failed = 0, []
    for mid in ids:
        try:
            with db.begin_nested():
                if action == "accept":
                    matches.accept(db, user, mid, forms.text(form, "comment"))
                else:
                    matches.reject(db, user, mid, forms.text(form, "reason_code"), forms.text(form, "comment"))
            done += 1
        except DomainError as e:
            failed.append(f"#{mid}：{e.message}")
    db.commit()
    verb = "采纳" if action == "accept" else "驳回"
    msg = f"已{verb} {done} 条推荐" + (f"；{len(failed)} 条未处理：" + "；".join(failed[:5]) if failed else "")
    request.session.update(flash=msg, flash_kind="error" if failed else "ok")
    return RedirectResponse(back, status_code=303)


@router.get("/matches/{match_id:int}")
def match_detail(request: Request, db: DB, user: LoggedIn, match_id: Id):
    m = matches.get_for(db, user, match_id)
    out = matches.to_out(db, user, m, detail=True)
    from core.qualification.service import need_for_problem

    return render(request, "broker/match.html", {
        "m": m, "out": out, "reasons": RejectReason.choices(),
        "stage_labels": dict(MatchStatus.choices()),
        "why_need": need_for_problem(db, m.problem_id),
    })


@router.get("/broker/matches/{match_id:int}")
def broker_match(match_id: Id, user: BrokerOrBureau):
    return RedirectResponse(f"/matches/{match_id}", status_code=303)


@router.get("/broker/pipeline")
def pipeline(request: Request, db: DB, user: BrokerOrBureau, mine: bool = False, field: str = ""):
    board = matches.pipeline(db, user, mine=mine, field=field or None)
    return render(request, "broker/pipeline.html", {"board": board, "mine": mine, "field": field})
