"""The bureau's indicator dashboard, its exports and the yearly targets."""
from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from api.deps import DB
from api.params import Id
from api.responses import download
from core.errors import ValidationFailed
from core.indicators import exports as indicator_exports
from core.indicators import service as indicators
from web import dashboard as dash
from web import forms
from web.security import Bureau, csrf_protect
from web.templating import render

router = APIRouter(dependencies=[Depends(csrf_protect)], include_in_schema=False)


# ----------------------------------------------------------------- dashboard

@router.get("/bureau/dashboard")
def dashboard(request: Request, db: DB, user: Bureau, year: str | None = None, region: str | None = None):

    y, r = forms.year_param(year), forms.region_param(region)
    data = dash.build(db, user, y, r)
    r = data["s"]["region"]  # the bureau's own region when none was asked for
    query = urlencode({"year": y, **({"region": r} if r else {})})
    return render(request, "bureau/dashboard.html", {**data, "year": y, "region": r or "", "query": query,
                                                     "home_region": user.org.region,
                                                     "region_within": indicators.region_scope(user)})


# ----------------------------------------------------------------- downloads

@router.get("/bureau/exports/indicators.{fmt}")
def export_indicators(request: Request, db: DB, user: Bureau, fmt: str, year: str | None = None,
                      region: str | None = None, table: str | None = None):

    if fmt not in ("xlsx", "csv"):
        raise ValidationFailed("只支持 XLSX 或 CSV")
    return download(*indicator_exports.export_indicators(db, user, forms.year_param(year), forms.region_param(region), fmt, table))


# ----------------------------------------------------------------- targets

@router.get("/bureau/targets")
def targets_page(request: Request, db: DB, user: Bureau, year: str | None = None):
    y = forms.year_param(year)
    return _targets(request, db, user, y, {"year": str(y), "region": user.org.region}, {}, [])


def _targets(request, db, user, y, values, errors, general, status=200):

    rows = indicators.targets(db, user, y)
    choices = [(k, s.label + ("（万元）" if s.unit == "money" else "")) for k, s in indicators.INDICATORS.items()]
    return render(request, "bureau/targets.html", {
        "rows": rows, "year": y, "values": values, "errors": errors, "general": general,
        "indicator_choices": choices, "region_within": indicators.region_scope(user),
    }, status_code=status)


@router.post("/bureau/targets")
async def targets_save(request: Request, db: DB, user: Bureau):

    form = await request.form()
    values = {k: forms.text(form, k) for k in ("indicator", "year", "region", "target", "note")}
    errors: dict[str, str] = {}
    y = forms.year_param(values["year"])
    spec = indicators.INDICATORS.get(values["indicator"])

    def write():
        if spec is None:
            raise forms.FormErrors({"indicator": "请选择指标"})
        if spec.unit == "money":
            target = forms.wan_field(form, "target", errors)  # entered in 万元
        else:
            target = forms.text(form, "target") or None
        if errors:
            raise forms.FormErrors(errors)
        return indicators.set_target(db, user, {"indicator": values["indicator"], "year": values["year"] or None,
                                                "region": values["region"], "target": target,
                                                "note": values["note"]})

    _, fe = forms.submit(db, write)
    if fe:
        return _targets(request, db, user, y, values, fe.fields, fe.general, status=422)
    request.session["flash"] = f"已保存 {y} 年“{spec.label}”目标"
    return RedirectResponse(f"/bureau/targets?year={y}", status_code=303)


@router.post("/bureau/targets/{target_id:int}/delete")
def targets_delete(request: Request, db: DB, user: Bureau, target_id: Id, year: str | None = None):

    indicators.delete_target(db, user, target_id)
    db.commit()
    request.session["flash"] = "已删除目标"
    return RedirectResponse(f"/bureau/targets?year={forms.year_param(year)}", status_code=303)


