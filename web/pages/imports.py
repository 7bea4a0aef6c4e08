"""Bulk import of listings and contracts, and the review of imported or crawled listings."""
from __future__ import annotations

import math

from fastapi import APIRouter, Depends, Request
from starlette.datastructures import UploadFile

from api.deps import DB
from api.params import PageNo
from api.responses import download
from core.errors import DomainError, ValidationFailed
from core.imports import service as importers
from core.listings import service as listings
from web import forms
from web.security import Bureau, csrf_protect
from web.templating import render

router = APIRouter(dependencies=[Depends(csrf_protect)], include_in_schema=False)


# ----------------------------------------------------------------- imports

IMPORT_KINDS = [("problem", "技术需求"), ("achievement", "科技成果"), ("contract", "技术合同")]


@router.get("/bureau/import")
def import_page(request: Request, user: Bureau):
    return render(request, "bureau/import.html", {"kinds": IMPORT_KINDS, "report": None, "values": {}})


@router.get("/bureau/import/template.{fmt}")
def import_template(user: Bureau, fmt: str, kind: str = "problem"):

    if fmt not in ("xlsx", "csv"):
        raise ValidationFailed("只支持 XLSX 或 CSV")
    return download(*importers.template(kind, fmt))


@router.post("/bureau/import")
async def import_upload(request: Request, db: DB, user: Bureau):

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
def review_page(request: Request, db: DB, user: Bureau, kind: str = "problem", page: PageNo = 1):

    kind = kind if kind in ("problem", "achievement") else "problem"
    items, total = listings.list_for(db, user, kind, listings.ListingFilters(status="pending_review"),
                                     page=max(1, page), size=20)
    return render(request, "bureau/review.html", {
        "kind": kind, "items": items, "total": total, "page": page, "pages": max(1, math.ceil(total / 20)),
        "page_url": lambda p: f"/bureau/review?kind={kind}&page={p}",
    })
