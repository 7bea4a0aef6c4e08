"""Bureau pages (and the contract form brokers use for their matches): contract
registration and list, account approval, and — over the indicator/export services — the
dashboard, targets, events, downloads and imports."""
from __future__ import annotations

import math
from datetime import date
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from api.deps import DB
from core.contract_schemas import (CONTRACT_LABELS, ContractStatus, ContractSubType, ContractType, ConversionMode,
                                   PartyType)
from core.errors import DomainError, ValidationFailed
from core.services import accounts, contracts
from core.vocab import PatentType
from web import forms
from web.security import Bureau, BrokerOrBureau, LoggedIn, csrf_protect
from web.templating import render, wan_exact

router = APIRouter(dependencies=[Depends(csrf_protect)], include_in_schema=False)


# ----------------------------------------------------------------- contracts

CONTRACT_TEXT = ("reg_number", "project_name", "contract_type", "sub_type", "conversion_mode", "signed_on",
                 "registered_on", "valid_from", "valid_to", "field", "ip_type", "note", "total_amount",
                 "tech_amount")


MONEY_FIELDS = ("total_amount", "tech_amount")  # entered in 万元
SIDES = ("seller", "buyer")


def _party(form, side: str, errors: dict) -> dict | None:
    org_id = forms.int_field(form, f"{side}.org_id", errors)
    name, region, ptype = (forms.optional(form, f"{side}.{k}") for k in ("name", "region", "party_type"))
    if org_id is None and not (name or region or ptype):
        return None
    return {"org_id": org_id, "name": name, "region": region, "party_type": ptype}


def _contract_values(form, errors: dict) -> dict:
    """The contract fields of the registration/amendment form; None = left blank."""
    p = {k: forms.optional(form, k) for k in CONTRACT_TEXT if k not in MONEY_FIELDS}
    p["note"] = p["note"] or ""
    p["field"] = p["field"] or "其他"
    for k in MONEY_FIELDS:
        p[k] = forms.wan_field(form, k, errors)
    for side in SIDES:
        p[side] = _party(form, side, errors)
    return p


def _contract_payload(form) -> tuple[dict, dict]:
    errors: dict[str, str] = {}
    p = _contract_values(form, errors)
    for k in ("problem_id", "achievement_id"):
        p[k] = forms.int_field(form, k, errors)
    return {k: v for k, v in p.items() if v is not None}, errors


def _amend_payload(form) -> tuple[dict, dict]:
    """Every field the amendment form shows replaces the stored value (a blank optional field
    clears it; the service refuses a blank required one); a party left wholly blank is kept."""
    errors: dict[str, str] = {}
    p = _contract_values(form, errors)
    payload = {k: v for k, v in p.items() if k in form and k not in SIDES}
    payload.update({side: p[side] for side in SIDES if p[side] is not None})
    reason = forms.optional(form, "reason")
    if reason is not None:
        payload["reason"] = reason
    return payload, errors


def _as_form_text(values: dict) -> dict:
    """Stored values as form inputs show them: '' for None, dates as YYYY-MM-DD."""
    return {k: "" if v is None else v.isoformat() if isinstance(v, date) else str(v) for k, v in values.items()}


def _submitted(form) -> dict:
    """The form as typed, to show it again with the errors."""
    return {k: forms.text(form, k) for k in form.keys() if k != "csrf_token"}


def _stored_values(c) -> dict:
    """A registered contract as the registration form shows it (amounts in exact 万元)."""
    v = {k: getattr(c, k) for k in CONTRACT_TEXT}
    for k in MONEY_FIELDS:
        v[k] = forms.wan_text(v[k])
    for side in SIDES:
        v[f"{side}.org_id"] = getattr(c, f"{side}_org_id")
        v[f"{side}.name"] = getattr(c, f"{side}_name")
        v[f"{side}.region"] = getattr(c, f"{side}_region")
        v[f"{side}.party_type"] = getattr(c, f"{side}_type")
    return _as_form_text(v)


def _contract_form(request, *, match=None, contract=None, values=None, errors=None, general=None, status=200):
    """The registration form, or (contract given) the amendment form of that contract."""
    today = date.today()
    if values is None:
        values = (_stored_values(contract) if contract is not None
                  else {"signed_on": today.isoformat(), "registered_on": today.isoformat()})
    if match is not None and values.get("project_name") is None:
        values.setdefault("project_name", match.problem.title)
        values.setdefault("field", (match.achievement.fields or match.problem.fields or ["其他"])[0])
    return render(request, "bureau/contract_form.html", {
        "match": match, "contract": contract, "values": values, "errors": errors or {}, "general": general or [],
        "action": f"/contracts/{contract.id}/amend" if contract is not None else "/contracts/new",
        "contract_types": ContractType.choices(), "sub_types": ContractSubType.choices(),
        "conversion_modes": ConversionMode.choices(), "party_types": PartyType.choices(),
    }, status_code=status)


def _match_for_contract(db, user, match_id: int | None):
    if not match_id:
        return None
    from core.services import matches

    return matches.get_for(db, user, match_id)


@router.get("/contracts/new")
def contract_new(request: Request, db: DB, user: BrokerOrBureau, match_id: int | None = None):
    if user.role == "broker" and not match_id:
        raise ValidationFailed("技术经纪人请从对接详情页为自己负责的撮合登记合同")
    return _contract_form(request, match=_match_for_contract(db, user, match_id))


@router.post("/contracts/new")
async def contract_create(request: Request, db: DB, user: BrokerOrBureau):
    form = await request.form()
    match_id = forms.int_field(form, "match_id", {})
    match = _match_for_contract(db, user, match_id)
    payload, early = _contract_payload(form)
    try:
        if early:
            raise forms.FormErrors(early)
        if match is not None:
            c = contracts.register_contract_for_match(db, user, match.id, payload)
        else:
            c = contracts.register(db, user, payload)
        db.commit()
    except forms.INPUT_ERRORS as e:
        db.rollback()
        fe = forms.collect(e)
        match = _match_for_contract(db, user, match_id)
        return _contract_form(request, match=match, values=_submitted(form), errors=fe.fields,
                              general=fe.general, status=422)
    request.session["flash"] = f"技术合同 {c.reg_number} 已登记"
    return RedirectResponse(f"/contracts/{c.id}", status_code=303)


@router.get("/contracts/{contract_id:int}")
def contract_detail(request: Request, db: DB, user: LoggedIn, contract_id: int):
    c = contracts.get_for(db, user, contract_id)
    out = contracts.to_out(db, c)
    return render(request, "bureau/contract.html", {
        "c": out, "history": [_history_entry(a) for a in out.amendments],
        "can_amend": contracts.can_amend(user, c), "can_terminate": contracts.can_terminate(user, c),
    })


@router.get("/contracts/{contract_id:int}/amend")
def contract_amend_form(request: Request, db: DB, user: Bureau, contract_id: int):
    c = contracts.get_for(db, user, contract_id)
    contracts.ensure_amendable(user, c)
    return _contract_form(request, contract=c)


@router.post("/contracts/{contract_id:int}/amend")
async def contract_amend(request: Request, db: DB, user: Bureau, contract_id: int):
    form = await request.form()
    payload, early = _amend_payload(form)
    try:
        if early:
            raise forms.FormErrors(early)
        c = contracts.amend(db, user, contract_id, payload)
        db.commit()
    except forms.INPUT_ERRORS as e:
        db.rollback()
        fe = forms.collect(e)
        c = contracts.get_for(db, user, contract_id)
        return _contract_form(request, contract=c, values=_submitted(form), errors=fe.fields,
                              general=fe.general, status=422)
    request.session["flash"] = f"技术合同 {c.reg_number} 已变更"
    return RedirectResponse(f"/contracts/{c.id}", status_code=303)


def _terminate_form(request, db, c, values: dict, errors=None, general=None, status=200):
    return render(request, "bureau/contract_terminate.html", {
        "c": contracts.to_out(db, c, with_history=False), "values": values, "errors": errors or {},
        "general": general or []}, status_code=status)


@router.get("/contracts/{contract_id:int}/terminate")
def contract_terminate_form(request: Request, db: DB, user: Bureau, contract_id: int):
    c = contracts.get_for(db, user, contract_id)
    contracts.ensure_terminable(user, c)
    return _terminate_form(request, db, c, {"terminated_on": date.today().isoformat()})


@router.post("/contracts/{contract_id:int}/terminate")
async def contract_terminate(request: Request, db: DB, user: Bureau, contract_id: int):
    form = await request.form()
    values = {k: forms.text(form, k) for k in ("reason", "terminated_on")}
    try:
        c = contracts.terminate(db, user, contract_id, {k: v for k, v in values.items() if v})
        db.commit()
    except forms.INPUT_ERRORS as e:
        db.rollback()
        fe = forms.collect(e)
        c = contracts.get_for(db, user, contract_id)
        return _terminate_form(request, db, c, values, fe.fields, fe.general, status=422)
    request.session["flash"] = f"技术合同 {c.reg_number} 已终止"
    return RedirectResponse(f"/contracts/{c.id}", status_code=303)


# What the amendment history shows: labels and readable values of the stored changes.
CHANGE_LABELS = {
    **CONTRACT_LABELS, "status": "状态",
    **{f"{side}_{k}": f"{label}{what}" for side, label in (("seller", "卖方"), ("buyer", "买方"))
       for k, what in (("org_id", "平台单位编号"), ("name", "名称"), ("region", "地区"), ("type", "单位类型"))},
}
CHANGE_ENUMS = {"contract_type": ContractType, "sub_type": ContractSubType, "conversion_mode": ConversionMode,
                "ip_type": PatentType, "seller_type": PartyType, "buyer_type": PartyType, "status": ContractStatus}
AMENDMENT_KINDS = {"amend": "变更", "terminate": "终止", "link": "关联撮合"}


def _change_text(field: str, value) -> str:
    from core import regions

    if value is None or value == "":
        return "（空）"
    if field in MONEY_FIELDS:
        return wan_exact(value)
    if field in CHANGE_ENUMS:
        try:
            return CHANGE_ENUMS[field](value).label
        except ValueError:
            return str(value)
    if field.endswith("_region"):
        return f"{regions.full_name(value) or value}（{value}）"
    return str(value)


def _history_entry(a) -> dict:
    rows = [{"label": CHANGE_LABELS.get(k, k), "old": _change_text(k, old), "new": _change_text(k, new)}
            for k, (old, new) in a.changes.items()]
    return {"kind": AMENDMENT_KINDS.get(a.kind, a.kind), "at": a.at, "actor": a.actor_name or "系统",
            "reason": a.reason, "changes": rows}


def _contract_filters(qp) -> tuple[contracts.ContractFilters, dict]:
    raw = {k: (qp.get(k) or "").strip() for k in ("q", "year", "region", "side", "contract_type", "status", "field")}
    year = int(raw["year"]) if raw["year"].isdigit() else None
    f = contracts.ContractFilters(q=raw["q"] or None, year=year, region=raw["region"] or None,
                                  side=raw["side"] or "seller", contract_type=raw["contract_type"] or None,
                                  status=raw["status"] or None, field=raw["field"] or None)
    return f, raw


@router.get("/bureau/contracts")
def contract_list(request: Request, db: DB, user: Bureau, page: int = 1):
    f, raw = _contract_filters(request.query_params)
    items, total = contracts.list_for(db, user, f, page=max(1, page), size=20)
    query = {k: v for k, v in raw.items() if v}
    return render(request, "bureau/contracts.html", {
        "items": items, "total": total, "raw": raw, "page": page, "pages": max(1, math.ceil(total / 20)),
        "page_url": lambda p: "/bureau/contracts?" + urlencode({**query, "page": p}),
        "export_query": urlencode(query), "contract_types": ContractType.choices(),
    })


# ----------------------------------------------------------------- accounts

@router.get("/bureau/accounts")
def account_list(request: Request, db: DB, user: Bureau, status: str = "pending"):
    status = status if status in ("pending", "approved", "rejected") else "pending"
    users, total = accounts.list_users(db, user, status=status, size=100)
    orgs, _ = accounts.list_orgs(db, approved=False, size=100)
    return render(request, "bureau/accounts.html", {"users": users, "total": total, "status": status,
                                                    "orgs": orgs})


@router.post("/bureau/accounts/{user_id:int}/{decision}")
def account_decide(request: Request, db: DB, user: Bureau, user_id: int, decision: str):
    if decision not in ("approve", "reject"):
        raise ValidationFailed("未知的操作")
    try:
        target = accounts.decide_registration(db, user, user_id, approve=decision == "approve")
        db.commit()
        request.session["flash"] = f"已{'通过' if decision == 'approve' else '驳回'} {target.email} 的注册申请"
    except DomainError as e:
        db.rollback()
        request.session.update(flash=e.message, flash_kind="error")
    return RedirectResponse("/bureau/accounts", status_code=303)


# ----------------------------------------------------------------- dashboard

def _year(value) -> int:
    try:
        y = int(value)
    except (TypeError, ValueError):
        return date.today().year
    return y if 2000 <= y <= 2100 else date.today().year


def _region(value: str | None) -> str | None:
    from core import regions

    v = (value or "").strip()
    if not v:
        return None
    if not regions.is_valid(v):
        raise ValidationFailed(f"行政区划代码 {v} 不存在", field="region")
    return v


@router.get("/bureau/dashboard")
def dashboard(request: Request, db: DB, user: Bureau, year: str | None = None, region: str | None = None):
    from web import dashboard as dash

    y, r = _year(year), _region(region)
    data = dash.build(db, user, y, r)
    query = urlencode({"year": y, **({"region": r} if r else {})})
    return render(request, "bureau/dashboard.html", {**data, "year": y, "region": r or "", "query": query,
                                                     "home_region": user.org.region})


# ----------------------------------------------------------------- downloads

def _download(content: bytes, filename: str, media_type: str):
    from urllib.parse import quote

    from fastapi.responses import Response

    return Response(content, media_type=media_type, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"})


@router.get("/bureau/exports/indicators.{fmt}")
def export_indicators(request: Request, db: DB, user: Bureau, fmt: str, year: str | None = None,
                      region: str | None = None, table: str | None = None):
    from core.services import exports

    if fmt not in ("xlsx", "csv"):
        raise ValidationFailed("只支持 XLSX 或 CSV")
    return _download(*exports.export_indicators(db, user, _year(year), _region(region), fmt, table))


@router.get("/bureau/exports/contracts.{fmt}")
def export_contracts(request: Request, db: DB, user: Bureau, fmt: str):
    from core.services import exports

    if fmt not in ("xlsx", "csv"):
        raise ValidationFailed("只支持 XLSX 或 CSV")
    f, _ = _contract_filters(request.query_params)
    return _download(*exports.export_contracts(db, user, f, fmt))


# ----------------------------------------------------------------- targets

@router.get("/bureau/targets")
def targets_page(request: Request, db: DB, user: Bureau, year: str | None = None):
    y = _year(year)
    return _targets(request, db, user, y, {"year": str(y), "region": user.org.region}, {}, [])


def _targets(request, db, user, y, values, errors, general, status=200):
    from core.services import indicators

    rows = indicators.targets(db, user, y)
    choices = [(k, s.label + ("（万元）" if s.unit == "money" else "")) for k, s in indicators.INDICATORS.items()]
    return render(request, "bureau/targets.html", {
        "rows": rows, "year": y, "values": values, "errors": errors, "general": general,
        "indicator_choices": choices,
    }, status_code=status)


@router.post("/bureau/targets")
async def targets_save(request: Request, db: DB, user: Bureau):
    from core.services import indicators

    form = await request.form()
    values = {k: forms.text(form, k) for k in ("indicator", "year", "region", "target", "note")}
    errors: dict[str, str] = {}
    y = _year(values["year"])
    spec = indicators.INDICATORS.get(values["indicator"])
    try:
        if spec is None:
            raise forms.FormErrors({"indicator": "请选择指标"})
        if spec.unit == "money":
            target = forms.wan_field(form, "target", errors)  # entered in 万元
        else:
            target = forms.text(form, "target") or None
        if errors:
            raise forms.FormErrors(errors)
        indicators.set_target(db, user, {"indicator": values["indicator"], "year": values["year"] or None,
                                         "region": values["region"], "target": target,
                                         "note": values["note"]})
        db.commit()
    except forms.INPUT_ERRORS as e:
        db.rollback()
        fe = forms.collect(e)
        return _targets(request, db, user, y, values, fe.fields, fe.general, status=422)
    request.session["flash"] = f"已保存 {y} 年“{spec.label}”目标"
    return RedirectResponse(f"/bureau/targets?year={y}", status_code=303)


@router.post("/bureau/targets/{target_id:int}/delete")
def targets_delete(request: Request, db: DB, user: Bureau, target_id: int, year: str | None = None):
    from core.services import indicators

    indicators.delete_target(db, user, target_id)
    db.commit()
    request.session["flash"] = "已删除目标"
    return RedirectResponse(f"/bureau/targets?year={_year(year)}", status_code=303)


# ----------------------------------------------------------------- events

EVENT_FIELDS = ("title", "kind", "held_on", "region", "venue", "attendance", "enterprises", "matches_made", "note")


def _events(request, db, user, y, values, errors, general, status=200):
    from core.contract_schemas import EventKind
    from core.services import events

    items, total = events.list_events(db, user, year=y, size=200)
    return render(request, "bureau/events.html", {
        "items": items, "total": total, "year": y, "values": values, "errors": errors, "general": general,
        "kinds": EventKind.choices(),
    }, status_code=status)


@router.get("/bureau/events")
def events_page(request: Request, db: DB, user: Bureau, year: str | None = None):
    y = _year(year)
    return _events(request, db, user, y, {"held_on": date.today().isoformat(), "region": user.org.region,
                                          "kind": "matchmaking"}, {}, [])


@router.post("/bureau/events")
async def events_create(request: Request, db: DB, user: Bureau):
    from core.services import events

    form = await request.form()
    values = {k: forms.text(form, k) for k in EVENT_FIELDS}
    payload = {k: v for k, v in values.items() if v != ""}
    try:
        ev = events.create(db, user, payload)
        db.commit()
    except forms.INPUT_ERRORS as e:
        db.rollback()
        fe = forms.collect(e)
        return _events(request, db, user, _year(values["held_on"][:4]), values, fe.fields, fe.general,
                       status=422)
    request.session["flash"] = f"已登记对接活动“{ev.title}”"
    return RedirectResponse(f"/bureau/events?year={ev.held_on.year}", status_code=303)


def _event_values(ev) -> dict:
    v = {k: getattr(ev, k) for k in EVENT_FIELDS}
    return _as_form_text(v)


def _event_form(request, ev, values, errors=None, general=None, status=200):
    from core.contract_schemas import EventKind

    return render(request, "bureau/event_form.html", {
        "ev": ev, "values": values, "errors": errors or {}, "general": general or [], "kinds": EventKind.choices(),
    }, status_code=status)


@router.get("/bureau/events/{event_id:int}/edit")
def event_edit(request: Request, db: DB, user: Bureau, event_id: int):
    from core.services import events

    ev = events.get(db, event_id)
    return _event_form(request, ev, _event_values(ev))


@router.post("/bureau/events/{event_id:int}/edit")
async def event_update(request: Request, db: DB, user: Bureau, event_id: int):
    from core.services import events

    form = await request.form()
    values = {k: forms.text(form, k) for k in EVENT_FIELDS}
    # Every field the form shows is replaced: a blank venue/note clears it, any other blank field
    # is sent as None (the service refuses a blank required field).
    payload = {k: v if v or k in ("venue", "note") else None for k, v in values.items()}
    try:
        ev = events.update(db, user, event_id, payload)
        db.commit()
    except forms.INPUT_ERRORS as e:
        db.rollback()
        fe = forms.collect(e)
        return _event_form(request, events.get(db, event_id), values, fe.fields, fe.general, status=422)
    request.session["flash"] = f"已修改对接活动“{ev.title}”"
    return RedirectResponse(f"/bureau/events?year={ev.held_on.year}", status_code=303)


@router.get("/bureau/events/{event_id:int}/delete")
def event_delete_confirm(request: Request, db: DB, user: Bureau, event_id: int):
    from core.contract_schemas import EventKind
    from core.services import events

    return render(request, "bureau/event_delete.html", {"ev": events.get(db, event_id),
                                                         "kinds": EventKind.choices()})


@router.post("/bureau/events/{event_id:int}/delete")
def event_delete(request: Request, db: DB, user: Bureau, event_id: int):
    from core.services import events

    ev = events.get(db, event_id)
    title, year = ev.title, ev.held_on.year
    events.delete(db, user, event_id)
    db.commit()
    request.session["flash"] = f"已删除对接活动“{title}”"
    return RedirectResponse(f"/bureau/events?year={year}", status_code=303)


# ----------------------------------------------------------------- imports

IMPORT_KINDS = [("problem", "技术需求"), ("achievement", "科技成果"), ("contract", "技术合同")]


@router.get("/bureau/import")
def import_page(request: Request, user: Bureau):
    return render(request, "bureau/import.html", {"kinds": IMPORT_KINDS, "report": None, "values": {}})


@router.get("/bureau/import/template.{fmt}")
def import_template(user: Bureau, fmt: str, kind: str = "problem"):
    from crawler import importers

    if fmt not in ("xlsx", "csv"):
        raise ValidationFailed("只支持 XLSX 或 CSV")
    return _download(*importers.template(kind, fmt))


@router.post("/bureau/import")
async def import_upload(request: Request, db: DB, user: Bureau):
    from starlette.datastructures import UploadFile

    from crawler import importers

    form = await request.form()
    kind = forms.text(form, "kind")
    values = {"kind": kind, "partial": bool(form.get("partial")), "dry_run": bool(form.get("dry_run"))}
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return render(request, "bureau/import.html", {"kinds": IMPORT_KINDS, "report": None, "values": values,
                                                      "error": "请选择要上传的 XLSX 或 CSV 文件"}, status_code=422)
    data = await upload.read()
    try:
        report = importers.import_file(db, user, data, upload.filename, kind,
                                       partial=values["partial"], dry_run=values["dry_run"])
        if report.status in ("imported", "partial"):
            db.commit()
        else:
            db.rollback()
    except DomainError as e:
        db.rollback()
        return render(request, "bureau/import.html", {"kinds": IMPORT_KINDS, "report": None, "values": values,
                                                      "error": e.message}, status_code=422)
    return render(request, "bureau/import.html", {"kinds": IMPORT_KINDS, "report": report, "values": values})


# ----------------------------------------------------------------- review of imported/crawled listings

@router.get("/bureau/review")
def review_page(request: Request, db: DB, user: Bureau, kind: str = "problem", page: int = 1):
    from core.services import listings

    kind = kind if kind in ("problem", "achievement") else "problem"
    items, total = listings.list_for(db, user, kind, listings.ListingFilters(status="pending_review"),
                                     page=max(1, page), size=20)
    return render(request, "bureau/review.html", {
        "kind": kind, "items": items, "total": total, "page": page, "pages": max(1, math.ceil(total / 20)),
        "page_url": lambda p: f"/bureau/review?kind={kind}&page={p}",
    })
