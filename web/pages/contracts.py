"""Contract pages: registration (bureau, and brokers for their matches), detail, amendment,
termination, the bureau's contract list and its export."""
from __future__ import annotations

import math
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from api.deps import DB
from api.params import Id, IdQuery, PageNo
from api.responses import download
from core import regions
from core.contracts import exports as contract_exports
from core.contracts import service as contracts
from core.contracts.vocab import (
    CONTRACT_LABELS,
    ContractStatus,
    ContractSubType,
    ContractType,
    ConversionMode,
    PartyType,
)
from core.db import local_today
from core.errors import ValidationFailed
from core.matches import service as matches
from core.vocab import PatentType
from web import forms
from web.security import BrokerOrBureau, Bureau, LoggedIn, csrf_protect
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
    return forms.as_form_text(v)


def _contract_form(request, *, match=None, contract=None, values=None, errors=None, general=None, status=200):
    """The registration form, or (contract given) the amendment form of that contract."""
    today = local_today()
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
    return matches.get_for(db, user, match_id)


@router.get("/contracts/new")
def contract_new(request: Request, db: DB, user: BrokerOrBureau, match_id: IdQuery = None):
    if user.role == "broker" and not match_id:
        raise ValidationFailed("技术经纪人请从对接详情页为自己负责的撮合登记合同")
    return _contract_form(request, match=_match_for_contract(db, user, match_id))


@router.post("/contracts/new")
async def contract_create(request: Request, db: DB, user: BrokerOrBureau):
    form = await request.form()
    match_id = forms.int_field(form, "match_id", {})
    match = _match_for_contract(db, user, match_id)
    payload, early = _contract_payload(form)

    def write():
        if early:
            raise forms.FormErrors(early)
        if match is not None:
            return contracts.register_contract_for_match(db, user, match.id, payload)
        return contracts.register(db, user, payload)

    c, fe = forms.submit(db, write)
    if fe:
        match = _match_for_contract(db, user, match_id)
        return _contract_form(request, match=match, values=_submitted(form), errors=fe.fields,
                              general=fe.general, status=422)
    request.session["flash"] = f"技术合同 {c.reg_number} 已登记"
    return RedirectResponse(f"/contracts/{c.id}", status_code=303)


@router.get("/contracts/{contract_id:int}")
def contract_detail(request: Request, db: DB, user: LoggedIn, contract_id: Id):
    from core.contracts.exports import SOURCE_LABELS
    from core.registration import service as registration

    c = contracts.get_for(db, user, contract_id)
    out = contracts.to_out(db, c)
    app = registration.application_for_contract(db, c.id)
    return render(request, "bureau/contract.html", {
        "c": out, "history": [_history_entry(a) for a in out.amendments],
        "can_amend": contracts.can_amend(user, c), "can_terminate": contracts.can_terminate(user, c),
        "source_label": SOURCE_LABELS.get(c.source, c.source), "application": app,
        "flags": registration.contract_eligibility(db, c, app),
    })


@router.get("/contracts/{contract_id:int}/amend")
def contract_amend_form(request: Request, db: DB, user: Bureau, contract_id: Id):
    c = contracts.get_for(db, user, contract_id)
    contracts.ensure_amendable(user, c)
    return _contract_form(request, contract=c)


@router.post("/contracts/{contract_id:int}/amend")
async def contract_amend(request: Request, db: DB, user: Bureau, contract_id: Id):
    form = await request.form()
    payload, early = _amend_payload(form)

    def write():
        if early:
            raise forms.FormErrors(early)
        return contracts.amend(db, user, contract_id, payload)

    c, fe = forms.submit(db, write)
    if fe:
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
def contract_terminate_form(request: Request, db: DB, user: Bureau, contract_id: Id):
    c = contracts.get_for(db, user, contract_id)
    contracts.ensure_terminable(user, c)
    return _terminate_form(request, db, c, {"terminated_on": local_today().isoformat()})


@router.post("/contracts/{contract_id:int}/terminate")
async def contract_terminate(request: Request, db: DB, user: Bureau, contract_id: Id):
    form = await request.form()
    values = {k: forms.text(form, k) for k in ("reason", "terminated_on")}
    c, fe = forms.submit(db, lambda: contracts.terminate(db, user, contract_id, {k: v for k, v in values.items() if v}))
    if fe:
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


def _contract_filters(qp, user) -> tuple[contracts.ContractFilters, dict]:
    """The filters asked for; region and side not in the query start as the service says (a
    bureau: its own jurisdiction). A region cleared in the form (region=) means no region."""
    defaults = contracts.default_filters(user)
    raw = {k: (qp[k] if k in qp else defaults.get(k, "")).strip()
           for k in ("q", "year", "region", "side", "contract_type", "status", "field")}
    year = int(raw["year"]) if raw["year"].isdigit() else None
    f = contracts.ContractFilters(q=raw["q"] or None, year=year, region=raw["region"] or None,
                                  side=raw["side"] or "seller", contract_type=raw["contract_type"] or None,
                                  status=raw["status"] or None, field=raw["field"] or None)
    return f, raw


@router.get("/bureau/contracts")
def contract_list(request: Request, db: DB, user: Bureau, page: PageNo = 1):
    f, raw = _contract_filters(request.query_params, user)
    items, total = contracts.list_for(db, user, f, page=max(1, page), size=20)
    query = {k: v for k, v in raw.items() if v or k == "region"}  # a cleared region stays cleared
    return render(request, "bureau/contracts.html", {
        "items": items, "total": total, "raw": raw, "page": page, "pages": max(1, math.ceil(total / 20)),
        "page_url": lambda p: "/bureau/contracts?" + urlencode({**query, "page": p}),
        "export_query": urlencode(query), "contract_types": ContractType.choices(),
        "side_choices": [("any", "不限（卖方、买方或登记地）"), ("seller", "输出（卖方）"), ("buyer", "吸纳（买方）")],
        # the filter offers the labels the status column shows (plus the two that are in force)
        "status_choices": [("active", f"有效（{ContractStatus.labels_of(['registered', 'amended'])}）"),
                           *ContractStatus.choices()],
        "status_label": ContractStatus.label_of,
    })


@router.get("/bureau/exports/contracts.{fmt}")
def export_contracts(request: Request, db: DB, user: Bureau, fmt: str):

    if fmt not in ("xlsx", "csv"):
        raise ValidationFailed("只支持 XLSX 或 CSV")
    f, _ = _contract_filters(request.query_params, user)
    return download(*contract_exports.export_contracts(db, user, f, fmt))


