"""技术合同认定登记 pages: the seller's (or its broker's) application, the office's queue and review,
the certificate download. Amounts are entered in 万元 and kept exact."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from api.deps import DB
from api.responses import download
from core.contracts.vocab import ContractSubType, ContractType, PartyType
from core.db import local_today
from core.errors import DomainError, PermissionDenied
from core.registration import out
from core.registration import rules as reg_rules
from core.registration import service as reg
from core.registration.vocab import AppStatus, CostCategory, ExpertConclusion, IpObject, LicenseScope, RefusalCode
from core.vocab import FIELDS, PatentType
from web import forms
from web.security import LoggedIn, csrf_protect, current_user
from web.templating import render

router = APIRouter(dependencies=[Depends(csrf_protect)], include_in_schema=False)

COST_ROWS = 5
STATUS_LABELS = dict(AppStatus.choices())
TEXT = ("project_name", "contract_type", "sub_type", "signed_on", "valid_from", "valid_to", "field", "ip_type",
        "ip_object", "license_scope", "related_reg_number", "contract_text", "note", "seller_org_id", "match_id")
MONEY = ("total_amount", "expected_investment", "expected_output")


def _payload(form) -> tuple[dict, dict]:
    errors: dict[str, str] = {}
    p = {k: forms.optional(form, k) for k in TEXT}
    p["contract_text"] = p["contract_text"] or ""
    p["note"] = p["note"] or ""
    p["field"] = p["field"] or "其他"
    for k in MONEY:
        p[k] = forms.wan_field(form, k, errors)
    p["license_years"] = forms.int_field(form, "license_years", errors)
    p["seller_org_id"] = forms.int_field(form, "seller_org_id", errors)
    p["match_id"] = forms.int_field(form, "match_id", errors)
    p["common_control"] = forms.text(form, "common_control") == "1"
    name, region, ptype = (forms.optional(form, f"buyer.{k}") for k in ("name", "region", "party_type"))
    if name or region or ptype:
        p["buyer"] = {"name": name, "region": region, "party_type": ptype}
    costs = []
    for i in range(COST_ROWS):
        desc = forms.optional(form, f"cost{i}.description")
        amount = forms.wan_field(form, f"cost{i}.amount", errors)
        if desc is None and amount is None:
            continue
        costs.append({"category": forms.optional(form, f"cost{i}.category") or "other", "description": desc or "",
                      "amount": amount, "deliverable": forms.text(form, f"cost{i}.deliverable") == "1"})
    p["costs"] = costs
    return {k: v for k, v in p.items() if v is not None}, errors


def _values_of(app) -> dict:
    v = {k: getattr(app, k) for k in TEXT}
    for k in MONEY:
        v[k] = forms.wan_text(getattr(app, k))
    v["license_years"] = app.license_years
    v["common_control"] = "1" if app.common_control else ""
    v["buyer.name"], v["buyer.region"], v["buyer.party_type"] = app.buyer_name, app.buyer_region, app.buyer_type
    for i, c in enumerate(app.costs[:COST_ROWS]):
        v.update({f"cost{i}.category": c.category, f"cost{i}.description": c.description,
                  f"cost{i}.amount": forms.wan_text(c.amount), f"cost{i}.deliverable": "1" if c.deliverable else ""})
    return forms.as_form_text(v)


def _form(request, *, app=None, values=None, errors=None, general=None, status=200):
    return render(request, "registration/form.html", {
        "app": app, "values": values if values is not None else
        (_values_of(app) if app else {"signed_on": local_today().isoformat()}),
        "errors": errors or {}, "general": general or [], "cost_rows": range(COST_ROWS),
        "names_seller": reg.applies_for_others(current_user(request)),
        "action": f"/registration/{app.id}/edit" if app else "/registration/new",
        "contract_types": ContractType.choices(), "sub_types": ContractSubType.choices(),
        "party_types": PartyType.choices(), "cost_categories": CostCategory.choices(),
        "ip_objects": IpObject.choices(), "license_scopes": LicenseScope.choices(),
        "ip_types": PatentType.choices(), "fields": [(f, f) for f in FIELDS],
    }, status_code=status)


def _submitted(form) -> dict:
    return {k: forms.text(form, k) for k in form.keys() if k != "csrf_token"}


@router.get("/registration")
def index(request: Request, db: DB, user: LoggedIn):
    if reg.is_office(user):
        rows = reg.queue(db, user)
        return render(request, "registration/queue.html", {"rows": rows, "done": reg.decided_for(db, user),
                                                           "rule": reg_rules.current(),
                                                           "STATUS_LABELS": STATUS_LABELS})
    return render(request, "registration/mine.html", {"items": reg.list_for(db, user), "STATUS_LABELS": STATUS_LABELS,
                                                      "can_apply": reg.can_apply(user)})


@router.get("/registration/new")
def new(request: Request, user: LoggedIn, match_id: int | None = None):
    if user.role not in reg.APPLICANT_ROLES:
        raise PermissionDenied("技术合同认定登记由卖方（企业、高校、科研院所）或其技术经纪人申请")
    values = {"signed_on": local_today().isoformat()}
    if match_id:
        values["match_id"] = str(match_id)
    return _form(request, values=values)


@router.post("/registration/new")
async def create(request: Request, db: DB, user: LoggedIn):
    form = await request.form()
    payload, early = _payload(form)

    def write():
        if early:
            raise forms.FormErrors(early)
        return reg.create(db, user, payload)

    app, fe = forms.submit(db, write)
    if fe:
        return _form(request, values=_submitted(form), errors=fe.fields, general=fe.general, status=422)
    request.session["flash"] = "申请已保存，请检查材料完整后提交"
    return RedirectResponse(f"/registration/{app.id}", status_code=303)


@router.get("/registration/{app_id:int}/edit")
def edit_form(request: Request, db: DB, user: LoggedIn, app_id: int):
    return _form(request, app=reg.get_for(db, user, app_id))


@router.post("/registration/{app_id:int}/edit")
async def edit(request: Request, db: DB, user: LoggedIn, app_id: int):
    form = await request.form()
    payload, early = _payload(form)

    def write():
        if early:
            raise forms.FormErrors(early)
        return reg.update(db, user, app_id, payload)

    _, fe = forms.submit(db, write)
    if fe:
        return _form(request, app=reg.get_for(db, user, app_id), values=_submitted(form), errors=fe.fields,
                     general=fe.general, status=422)
    request.session["flash"] = "申请已修改"
    return RedirectResponse(f"/registration/{app_id}", status_code=303)


@router.get("/registration/{app_id:int}")
def detail(request: Request, db: DB, user: LoggedIn, app_id: int):
    app = reg.get_for(db, user, app_id)
    return render(request, "registration/detail.html", {
        "a": out.to_dict(db, app, user), "contract_types": ContractType.choices(),
        "sub_types": ContractSubType.choices(), "ip_objects": IpObject.choices(),
        "refusal_codes": RefusalCode.choices(), "conclusions": ExpertConclusion.choices(), "errors": {},
        "is_office": reg.is_office(user),
    })


def _act(request, db, app_id: int, fn, flash: str):
    try:
        fn()
        db.commit()
        request.session["flash"] = flash
    except DomainError as e:
        db.rollback()
        if isinstance(e, PermissionDenied):
            raise
        request.session["flash"] = e.message
        request.session["flash_kind"] = "error"
    return RedirectResponse(f"/registration/{app_id}", status_code=303)


@router.post("/registration/{app_id:int}/upload")
async def upload(request: Request, db: DB, user: LoggedIn, app_id: int):
    form = await request.form()
    f = form.get("file")
    data = await f.read() if f is not None and hasattr(f, "read") else b""
    name = getattr(f, "filename", None) or "file"
    return _act(request, db, app_id, lambda: reg.add_attachment(db, user, app_id, name, data), f"已上传 {name}")


@router.post("/registration/{app_id:int}/submit")
def submit(request: Request, db: DB, user: LoggedIn, app_id: int):
    return _act(request, db, app_id, lambda: reg.submit(db, user, app_id), "申请已提交登记机构")


@router.post("/registration/{app_id:int}/accept")
def accept(request: Request, db: DB, user: LoggedIn, app_id: int):
    return _act(request, db, app_id, lambda: reg.accept(db, user, app_id), "已受理")


@router.post("/registration/{app_id:int}/classify")
async def classify(request: Request, db: DB, user: LoggedIn, app_id: int):
    form = await request.form()
    data = {k: v for k in ("contract_type", "sub_type", "ip_object") if (v := forms.optional(form, k))}
    data["reason"] = forms.text(form, "classify_reason")
    return _act(request, db, app_id, lambda: reg.classify(db, user, app_id, data), "合同类型已认定")


@router.post("/registration/{app_id:int}/assess")
async def assess(request: Request, db: DB, user: LoggedIn, app_id: int):
    form = await request.form()
    errors: dict[str, str] = {}
    app = reg.get_for(db, user, app_id)
    rulings = []
    for c in app.costs:
        amount = forms.wan_field(form, f"cost{c.id}.amount", errors)
        rulings.append({"cost_id": c.id, "deliverable": forms.text(form, f"cost{c.id}.deliverable") == "1",
                        "amount": amount})

    def run():
        if errors:
            raise forms.FormErrors(errors)
        reg.assess(db, user, app_id, {"rulings": rulings, "reason": forms.text(form, "assess_reason")})
    try:
        return _act(request, db, app_id, run, "技术交易额已核定")
    except forms.FormErrors:
        request.session["flash"], request.session["flash_kind"] = "金额格式不正确（单位：万元）", "error"
        return RedirectResponse(f"/registration/{app_id}", status_code=303)


@router.post("/registration/{app_id:int}/experts")
async def experts(request: Request, db: DB, user: LoggedIn, app_id: int):
    form = await request.form()
    names = [n for n in forms.lines(forms.text(form, "experts"))]
    data = {"experts": [{"expert_name": n.split("，")[0].split(",")[0].strip(),
                         "affiliation": (n.replace(",", "，").split("，", 1) + [""])[1].strip()} for n in names],
            "disputed": forms.text(form, "disputed") == "1", "reason": ""}
    return _act(request, db, app_id, lambda: reg.assign_experts(db, user, app_id, data), "已组织专家评审")


@router.post("/registration/{app_id:int}/opinion")
async def opinion(request: Request, db: DB, user: LoggedIn, app_id: int):
    form = await request.form()
    data = {"review_id": forms.int_field(form, "review_id", {}), "conclusion": forms.text(form, "conclusion"),
            "opinion": forms.text(form, "opinion")}
    return _act(request, db, app_id, lambda: reg.record_opinion(db, user, app_id, data), "专家意见已记录")


@router.post("/registration/{app_id:int}/register")
async def register(request: Request, db: DB, user: LoggedIn, app_id: int):
    form = await request.form()
    return _act(request, db, app_id, lambda: reg.register(db, user, app_id, {"note": forms.text(form, "note")}),
                "已准予登记，登记证明可下载")


@router.post("/registration/{app_id:int}/refuse")
async def refuse(request: Request, db: DB, user: LoggedIn, app_id: int):
    form = await request.form()
    data = {"refusal_code": forms.text(form, "refusal_code"), "reason": forms.text(form, "refuse_reason")}
    return _act(request, db, app_id, lambda: reg.refuse(db, user, app_id, data), "已作出不予登记决定")


@router.post("/registration/{app_id:int}/return")
async def return_(request: Request, db: DB, user: LoggedIn, app_id: int):
    form = await request.form()
    data = {"reason": forms.text(form, "return_reason")}
    return _act(request, db, app_id, lambda: reg.return_for_completion(db, user, app_id, data), "已退回补正")


@router.get("/registration/{app_id:int}/certificate.pdf")
def certificate(db: DB, user: LoggedIn, app_id: int):
    name, pdf = reg.certificate(db, user, app_id)
    return download(pdf, name, "application/pdf")
