"""/api/imports: spreadsheet imports for the bureau (with their validation report) and the
templates; /api/crawler: crawl runs and the provenance of a listing."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, UploadFile

from api.deps import DB, CurrentUser
from api.guards import allowed
from api.params import Id
from api.responses import download
from core import permissions as perm
from core.errors import ValidationFailed
from core.imports import service as importers
from core.listings import service as listings
from core.settings import get_settings
from crawler.provenance import for_listing, recent_runs

router = APIRouter(tags=["导入与采集"])

# Permission checks that run before input validation (api.guards).


def _can_import(user) -> bool:
    from core.imports import service as importers

    return importers.can_import(user)


IMPORTERS = allowed(_can_import, "只有科技局可以批量导入")


@router.get("/imports/{kind}/template", summary="下载导入模板（xlsx 或 csv）")
def template(user: CurrentUser, kind: str,
             format: Annotated[str, Query(pattern="^(xlsx|csv)$")] = "xlsx"):

    data, filename, media_type = importers.template(kind, format)
    return download(data, filename, media_type)


@router.post("/imports/{kind}", summary="上传 XLSX/CSV 批量导入，返回逐行校验报告", dependencies=[IMPORTERS])
async def upload(db: DB, user: CurrentUser, kind: str, file: Annotated[UploadFile, File()],
                 partial: Annotated[bool, Form()] = False, dry_run: Annotated[bool, Form()] = False):
    """All-or-nothing by default: with any row error nothing is written (``partial`` imports
    the good rows). The report lists errors by row and column, and duplicates."""
    perm.require(importers.can_import(user), "只有科技局可以批量导入")
    limit = get_settings().max_upload_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise ValidationFailed(f"文件过大（最大 {limit // (1024 * 1024)} MB）", field="file", code="file_too_large")
    report = importers.import_file(db, user, data, file.filename or "", kind, partial=partial, dry_run=dry_run)
    return report.to_dict()


@router.get("/crawler/runs", summary="采集运行记录（最近的在前）")
def crawl_runs(db: DB, user: CurrentUser, source: str | None = None,
               limit: Annotated[int, Query(ge=1, le=200)] = 50):

    perm.require(perm.is_staff(user), "只有科技局可以查看采集记录")
    return [{"id": r.id, "source": r.source, "status": r.status, "started_at": r.started_at,
             "finished_at": r.finished_at, "duration_seconds": r.duration_seconds, **r.counts(),
             "requests": r.requests, "log": r.log, "error": r.error}
            for r in recent_runs(db, source, limit)]


@router.get("/crawler/provenance/{kind}/{listing_id}", summary="信息来源（采集网址、抓取时间、ETag、哈希）")
def provenance(db: DB, user: CurrentUser, kind: str, listing_id: Id):

    listings.get_for(db, user, kind, listing_id)  # 404 unless the user may see the listing
    return for_listing(db, kind, listing_id)
