"""科技型企业梯度培育 pages: the enterprise's profile form and self-check (gaps → draft needs),
the bureau's cultivation pool (ladder, targets, blocking gaps, reminders), its XLSX export and
the XLSX import of profiles."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from api.deps import DB
from api.params import Id
from api.responses import download
from core.db import local_today
from core.errors import Conflict, DomainError, ValidationFailed
from core.qualification import exports as qx
from core.qualification import service as Q
from core.qualification.schemas import LABELS, StoredProfileIn, parse_profile
from core.vocab import FIELDS
from web import forms
from web.security import Bureau, Enterprise, csrf_protect
from web.templating import render

router = APIRouter(dependencies=[Depends(csrf_protect)], include_in_schema=False)

YEARLY = ("sales", "rd_expense", "rd_expense_domestic", "net_assets", "conversions")
SCALAR_WAN = ("total_assets", "total_costs", "hitech_income", "total_income")
INTS = ("employees", "tech_staff", "ip_class1", "ip_class2")
BOOLS = ("resident", "field_supported", "hnte_certificate_valid", "national_award_top3_5y",
         "provincial_rd_institution", "led_standard_5y", "prohibited_products", "major_incident",
         "on_blacklist", "hnte_applied")
DIRECT = ("hnte_certificate_valid", "national_award_top3_5y", "provincial_rd_institution", "led_standard_5y")
DISQUALIFIERS = ("prohibited_products", "major_incident", "on_blacklist")


def _years(evaluation_year: int) -> list[int]:
    return [evaluation_year - 3, evaluation_year - 2, evaluation_year - 1]


def _form_raw(form, evaluation_year: int) -> dict:
    """Form fields → the profile input (万元 strings, as typed)."""
    raw: dict = {"evaluation_year": evaluation_year}
    for k in ("application_date", "registered_on", "main_products", *SCALAR_WAN, *INTS):
        v = forms.text(form, k).replace(",", "").replace("，", "")
        if v:
            raw[k] = v
    for k in BOOLS:
        raw[k] = bool(form.get(k))
    raw["tech_fields"] = form.getlist("tech_fields")
    for k in YEARLY:
        raw[k] = {}
        for y in _years(evaluation_year):
            v = forms.text(form, f"{k}_{y}").replace(",", "")
            if v:
                raw[k][str(y)] = v
    return raw


def _flat(values: dict, evaluation_year: int) -> dict:
    """Profile values → the form's flat field names."""
    out = {k: v for k, v in values.items() if k not in YEARLY}
    for k in YEARLY:
        for y, v in (values.get(k) or {}).items():
            out[f"{k}_{y}"] = v
    return out


def _errors(e: DomainError) -> tuple[dict, list]:
    fields, general = {}, []
    for d in e.details or [{"field": e.field, "message": e.message}]:
        f = (d.get("field") or "").replace(".", "_")
        if f:
            fields.setdefault(f, d.get("message") or e.message)
        else:
            general.append(d.get("message") or e.message)
    return fields, general


def _year(value) -> int:
    try:
        y = int(value) if value else local_today().year
    except (TypeError, ValueError):
        raise ValidationFailed("年度必须是整数", field="year") from None
    if not 2017 <= y <= 2100:
        raise ValidationFailed("年度超出范围", field="year")
    return y


def _form_ctx(evaluation_year: int, values: dict, errors: dict | None = None, general: list | None = None,
              org=None) -> dict:
    return {"evaluation_year": evaluation_year, "years": _years(evaluation_year), "values": values,
            "errors": errors or {}, "general": general or [], "labels": LABELS, "fields": FIELDS,
            "direct": DIRECT, "disqualifiers": DISQUALIFIERS, "org": org}


# ----------------------------------------------------------------- the enterprise

@router.get("/qualification")
def self_check_page(request: Request, db: DB, user: Enterprise, year: str | None = None):
    check = Q.self_check(db, user, user.org_id, int(year) if year and year.isdigit() else None)
    db.commit()
    return render(request, "qualification/self_check.html", _check_ctx(db, user, check, user.org))


def _check_ctx(db, user, check, org) -> dict:
    from core.matches import service as matches

    proposals = {}
    if check:
        for need, qn in check.drafts.items():
            try:
                proposals[need] = matches.for_listing(db, user, "problem", qn.problem_id)
            except DomainError:
                proposals[need] = []
    return {"check": check, "org": org, "need_labels": Q.NEED_LABELS, "proposals": proposals,
            "can_create": check is not None and Q.can_create_needs(user, org),
            "can_edit": Q.is_own_enterprise(user, org)}


@router.get("/qualification/profile")
def profile_form(request: Request, db: DB, user: Enterprise, year: str | None = None):
    p = Q.get_profile(db, user, user.org_id, int(year) if year and year.isdigit() else None)
    if p is not None and not (year and year.isdigit() and int(year) != p.evaluation_year):
        ey = p.evaluation_year
        values = _flat(Q.form_values(p), ey)
    else:
        ey = _year(year)
        values = {"resident": True, "application_date": local_today().isoformat(), "tech_fields": []}
    return render(request, "qualification/profile_form.html", _form_ctx(ey, values, org=user.org))


@router.post("/qualification/profile")
async def profile_save(request: Request, db: DB, user: Enterprise):
    form = await request.form()
    ey = _year(forms.text(form, "evaluation_year"))
    raw = _form_raw(form, ey)
    try:
        data = parse_profile(raw, StoredProfileIn)
        Q.save_profile(db, user, user.org_id, data)
        db.commit()
    except (ValidationFailed, Conflict) as e:  # input errors; refusals (403/404) go to the error page
        db.rollback()
        errors, general = _errors(e)
        return render(request, "qualification/profile_form.html",
                      _form_ctx(ey, _flat(raw, ey), errors, general, org=user.org), status_code=422)
    request.session["flash"] = "企业画像已保存，自测结果已更新"
    return RedirectResponse(f"/qualification?year={ey}", status_code=303)


@router.post("/qualification/needs/{need}")
def create_need(request: Request, db: DB, user: Enterprise, need: str, year: str | None = None):
    qn = Q.create_draft_need(db, user, user.org_id, need, int(year) if year and year.isdigit() else None)
    db.commit()
    request.session["flash"] = "已生成技术需求草稿：请核对内容后发布，发布后平台会推荐成果与合作方"
    return RedirectResponse(f"/problems/{qn.problem_id}", status_code=303)


# ----------------------------------------------------------------- the bureau

@router.get("/bureau/pool")
def pool_page(request: Request, db: DB, user: Bureau, year: str | None = None):
    y = _year(year)
    data = Q.pool(db, user, y)
    return render(request, "qualification/pool.html", {"pool": data, "year": y, "rung_labels": Q.RUNG_LABELS})


@router.get("/bureau/pool/{org_id:int}")
def pool_enterprise(request: Request, db: DB, user: Bureau, org_id: Id):
    from core.models import Organization

    org = db.get(Organization, org_id)
    check = Q.self_check(db, user, org_id)
    db.commit()
    return render(request, "qualification/self_check.html", _check_ctx(db, user, check, org))


@router.get("/bureau/pool.xlsx")
def pool_export(db: DB, user: Bureau, year: str | None = None):
    y = _year(year)
    content, filename = qx.export_pool(db, user, y)
    return download(content, filename, qx.XLSX_TYPE)


@router.get("/bureau/pool/import")
def import_page(request: Request, user: Bureau):
    return render(request, "qualification/import.html", {"report": None, "values": {}})


@router.get("/bureau/pool/template.xlsx")
def import_template(user: Bureau):
    content, filename = qx.template()
    return download(content, filename, qx.XLSX_TYPE)


@router.post("/bureau/pool/import")
async def import_upload(request: Request, db: DB, user: Bureau):
    from starlette.datastructures import UploadFile

    form = await request.form()
    values = {"partial": bool(form.get("partial")), "dry_run": bool(form.get("dry_run"))}
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return render(request, "qualification/import.html", {"report": None, "values": values,
                                                             "error": "请选择要上传的 XLSX 文件"}, status_code=422)
    data = await upload.read()
    try:
        report = qx.import_profiles(db, user, data, upload.filename, **values)
        if report.status in ("imported", "partial"):
            db.commit()
        else:
            db.rollback()
    except DomainError as e:
        db.rollback()
        return render(request, "qualification/import.html", {"report": None, "values": values, "error": e.message},
                      status_code=422)
    return render(request, "qualification/import.html", {"report": report, "values": values})
