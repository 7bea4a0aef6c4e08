"""Listing pages: detail (both kinds), the enterprise problem form, the university
achievement form with attachment upload, "my" lists, publish/close, downloads."""
from __future__ import annotations

import math

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, RedirectResponse
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from api.deps import DB
from api.params import Id, PageNo
from core import permissions as perm
from core.attachments import service as attachments
from core.errors import DomainError, NotFound
from core.listings import service as listings
from core.listings.schemas import (
    AchievementIn,
    AchievementUpdate,
    ProblemIn,
    ProblemUpdate,
)
from core.matches import next_steps
from core.vocab import PatentType
from web import forms, views
from web.security import Enterprise, LoggedIn, PageUser, University, csrf_protect
from web.templating import render

router = APIRouter(dependencies=[Depends(csrf_protect)], include_in_schema=False)

KIND_OF_PATH = {path: kind for kind, path in views.PATHS.items()}  # "problems" → "problem"
SCHEMAS = {"problem": (ProblemIn, ProblemUpdate), "achievement": (AchievementIn, AchievementUpdate)}


# ----------------------------------------------------------------- form <-> schema

def _form_payload(kind: str, form) -> tuple[dict, dict[str, str]]:
    """Form fields → schema input (amounts in 万元 → yuan). Returns (payload, early errors)."""
    errors: dict[str, str] = {}
    p: dict = {
        "title": forms.text(form, "title"),
        "fields": form.getlist("fields"),
        "keywords": forms.split_list(forms.text(form, "keywords")),
        "region": forms.text(form, "region"),
        "contact_name": forms.text(form, "contact_name"),
        "contact_phone": forms.text(form, "contact_phone"),
    }
    if kind == "problem":
        p.update(description=forms.text(form, "description"), indicators=forms.text(form, "indicators"),
                 conditions=forms.text(form, "conditions"),
                 budget_min=forms.wan_field(form, "budget_min", errors),
                 budget_max=forms.wan_field(form, "budget_max", errors),
                 coop_modes=form.getlist("coop_modes"),
                 required_maturity=forms.optional(form, "required_maturity"),
                 deadline=forms.optional(form, "deadline"))
    else:
        patents = []
        for line in forms.lines(forms.text(form, "patents")):
            number, _, ptype = line.replace("，", ",").partition(",")
            patents.append({"number": number.strip(), "type": _patent_type(ptype.strip())})
        p.update(abstract=forms.text(form, "abstract"), body=forms.text(form, "body"),
                 maturity=forms.optional(form, "maturity"), trl=forms.int_field(form, "trl", errors),
                 patents=patents, transfer_modes=form.getlist("transfer_modes"),
                 asking_price=forms.wan_field(form, "asking_price", errors),
                 inventors=forms.split_list(forms.text(form, "inventors")))
    return p, errors


def _patent_type(label: str) -> str:

    if not label:
        return "invention"
    try:
        return PatentType.from_label(label).value
    except ValueError:
        return label  # the schema reports it in Chinese


def _form_values(kind: str, obj=None, form=None) -> dict:
    """What the form shows: the submitted text, or the stored listing."""
    if form is not None:
        v = {k: forms.text(form, k) for k in form.keys() if k != "csrf_token"}
        for multi in ("fields", "coop_modes", "transfer_modes"):
            v[multi] = form.getlist(multi)
        return v
    if obj is None:
        return {"fields": [], "coop_modes": [], "transfer_modes": []}
    v = {"title": obj.title, "fields": obj.fields or [], "keywords": "、".join(obj.keywords or []),
         "region": obj.region, "contact_name": obj.contact_name, "contact_phone": obj.contact_phone}
    if kind == "problem":
        v.update(description=obj.description, indicators=obj.indicators, conditions=obj.conditions,
                 budget_min=forms.wan_text(obj.budget_min),
                 budget_max=forms.wan_text(obj.budget_max),
                 coop_modes=obj.coop_modes or [], required_maturity=obj.required_maturity or "",
                 deadline=obj.deadline.isoformat() if obj.deadline else "")
    else:

        v.update(abstract=obj.abstract, body=obj.body, maturity=obj.maturity, trl=obj.trl or "",
                 patents="\n".join(f"{p.get('number')},{PatentType(p.get('type', 'invention')).label}"
                                   for p in (obj.patents or [])),
                 transfer_modes=obj.transfer_modes or [],
                 asking_price=forms.wan_text(obj.asking_price),
                 inventors="、".join(obj.inventors or []))
    return v


def _render_form(request, kind, *, obj=None, values=None, errors=None, general=None, status=200,
                 dropped_files=()):
    return render(request, f"listings/{kind}_form.html", {
        "kind": kind, "obj": obj, "values": values if values is not None else _form_values(kind, obj),
        "errors": errors or {}, "general": general or [], "dropped_files": list(dropped_files),
        "action": views.listing_url(kind, f"{obj.id}/edit" if obj else "new"),
    }, status_code=status)


async def _upload_files(db, user, kind: str, listing_id: Id, form) -> int:
    n = 0
    for f in form.getlist("files"):
        if isinstance(f, UploadFile) and f.filename:
            data = await f.read()
            attachments.add(db, user, kind, listing_id, f.filename, data)
            n += 1
    return n


async def _save(request: Request, db, user, kind: str, obj=None):
    form = await request.form()
    payload, early = _form_payload(kind, form)
    publish = forms.text(form, "action") == "publish"
    create_schema, update_schema = SCHEMAS[kind]
    try:
        if obj is None:
            data = create_schema(**payload, publish=publish)
            if early:
                raise forms.FormErrors(early)
            obj = listings.create(db, user, kind, data)
        else:
            data = update_schema(**payload)
            if early:
                raise forms.FormErrors(early)
            listings.update(db, user, kind, obj.id, data)
            if publish and obj.status == "draft":
                listings.transition(db, user, kind, obj.id, "published")
        await _upload_files(db, user, kind, obj.id, form)
        db.commit()
    except (ValidationError, DomainError, forms.FormErrors) as e:
        db.rollback()
        fe = forms.collect(e)
        if isinstance(e, ValidationError):
            # Early (amount) errors are reported together with the schema's.
            for k, msg in early.items():
                fe.fields.setdefault(k, msg)
        target = listings.get(db, kind, obj.id) if obj is not None and obj.id else None
        # A browser cannot refill a file input: say plainly that the chosen files were not saved.
        dropped = [f.filename for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
        return _render_form(request, kind, obj=target, values=_form_values(kind, form=form),
                            errors=fe.fields, general=fe.general, status=422, dropped_files=dropped)
    msg = "已发布" if obj.status == "published" else "已保存为草稿"
    from core.celery_app import is_eager

    if obj.status == "published" and not is_eager():  # a worker process indexes and matches it
        msg += "。检索结果与撮合推荐将在后台处理完成后出现（通常几秒钟）"
    request.session["flash"] = msg
    return RedirectResponse(views.listing_url(kind, obj.id), status_code=303)


# ----------------------------------------------------------------- enterprise

def _new_values(kind: str, user) -> dict:
    """A new listing's form starts in the organization's own region."""
    return {**_form_values(kind), "region": getattr(user.org, "region", "") or ""}


@router.get("/problems/new")
def problem_new(request: Request, user: Enterprise):
    return _render_form(request, "problem", values=_new_values("problem", user))


@router.post("/problems/new")
async def problem_create(request: Request, db: DB, user: Enterprise):
    return await _save(request, db, user, "problem")


@router.get("/problems/{listing_id:int}/edit")
def problem_edit(request: Request, db: DB, user: Enterprise, listing_id: Id):
    obj = _editable(db, user, "problem", listing_id)
    return _render_form(request, "problem", obj=obj)


@router.post("/problems/{listing_id:int}/edit")
async def problem_update(request: Request, db: DB, user: Enterprise, listing_id: Id):
    return await _save(request, db, user, "problem", _editable(db, user, "problem", listing_id))


@router.get("/my/problems")
def my_problems(request: Request, db: DB, user: Enterprise, page: PageNo = 1):
    return _my(request, db, user, "problem", page)


# ----------------------------------------------------------------- university

@router.get("/achievements/new")
def achievement_new(request: Request, user: University):
    return _render_form(request, "achievement", values=_new_values("achievement", user))


@router.post("/achievements/new")
async def achievement_create(request: Request, db: DB, user: University):
    return await _save(request, db, user, "achievement")


@router.get("/achievements/{listing_id:int}/edit")
def achievement_edit(request: Request, db: DB, user: University, listing_id: Id):
    return _render_form(request, "achievement", obj=_editable(db, user, "achievement", listing_id))


@router.post("/achievements/{listing_id:int}/edit")
async def achievement_update(request: Request, db: DB, user: University, listing_id: Id):
    return await _save(request, db, user, "achievement", _editable(db, user, "achievement", listing_id))


@router.get("/my/achievements")
def my_achievements(request: Request, db: DB, user: University, page: PageNo = 1):
    return _my(request, db, user, "achievement", page)


def _editable(db, user, kind: str, listing_id: Id):
    obj = listings.get_for(db, user, kind, listing_id)
    perm.require(perm.can_edit_listing(user, obj), f"您只能修改本单位的{listings.spec(kind).label}")
    return obj


def _my(request, db, user, kind: str, page: int):
    page = max(1, page)
    items, total = listings.list_for(db, user, kind, listings.ListingFilters(mine=True), page=page, size=20)
    accepted = {o.id: views.accepted_proposals(db, user, kind, o) for o in items}
    return render(request, "listings/mine.html", {
        "kind": kind, "items": items, "accepted": accepted, "page": page, "total": total,
        "pages": max(1, math.ceil(total / 20)), "page_url": lambda p: f"/my/{views.PATHS[kind]}?page={p}",
    })


# ----------------------------------------------------------------- both kinds

def _detail(request: Request, db, user, kind: str, listing_id: Id):
    obj = listings.get_for(db, user, kind, listing_id)
    out = listings.to_out(db, user, obj)
    return render(request, "listings/detail.html", {
        "kind": kind, "obj": obj, "out": out, "can_edit": perm.can_edit_listing(user, obj),
        "actions": listings.actions(user, obj),
        "can_review_matches": perm.can_review_matches(user),
        **views.related(db, user, kind, obj),
        **views.proposals_context(db, user, kind, obj),
        "next_steps": next_steps.for_owner(db, user, kind, obj),
    })


@router.get("/problems/{listing_id:int}")
def problem_detail(request: Request, db: DB, user: PageUser, listing_id: Id):
    return _detail(request, db, user, "problem", listing_id)


@router.get("/achievements/{listing_id:int}")
def achievement_detail(request: Request, db: DB, user: PageUser, listing_id: Id):
    return _detail(request, db, user, "achievement", listing_id)


@router.post("/{path:str}/{listing_id:int}/status")
async def change_status(request: Request, db: DB, user: LoggedIn, path: str, listing_id: Id):
    kind = KIND_OF_PATH.get(path)
    if kind is None:
        raise NotFound("页面不存在")
    form = await request.form()
    to = forms.text(form, "status")
    back = forms.local_path(forms.text(form, "return_to"), f"/{path}/{listing_id}")
    try:
        listings.transition(db, user, kind, listing_id, to, forms.text(form, "reason"))
        db.commit()
    except DomainError as e:
        if e.status_code in (403, 404):
            raise
        db.rollback()
        request.session.update(flash=e.message, flash_kind="error")
        return RedirectResponse(back, status_code=303)
    request.session["flash"] = "状态已更新"
    return RedirectResponse(back, status_code=303)


@router.post("/{path:str}/{listing_id:int}/attachments")
async def upload(request: Request, db: DB, user: LoggedIn, path: str, listing_id: Id):
    kind = KIND_OF_PATH.get(path)
    if kind is None:
        raise NotFound("页面不存在")
    obj = listings.get_for(db, user, kind, listing_id)
    perm.require(perm.can_edit_listing(user, obj), "您只能为本单位的信息上传附件")
    form = await request.form()
    n = await _upload_files(db, user, kind, listing_id, form)
    db.commit()
    request.session["flash"] = f"已上传 {n} 个附件，文字内容已加入检索" if n else "请选择要上传的文件"
    return RedirectResponse(f"/{path}/{listing_id}", status_code=303)


@router.get("/attachments/{attachment_id:int}")
def download(db: DB, user: PageUser, attachment_id: Id):
    att, path = attachments.get_for_download(db, user, attachment_id)
    return FileResponse(path, media_type=att.content_type, filename=att.filename)
