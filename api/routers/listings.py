"""Problems and achievements share one router factory: the differences are schemas."""

from typing import Annotated

from fastapi import APIRouter, Depends, File, Query, UploadFile
from fastapi.responses import FileResponse

from api.deps import DB, CurrentUser, OptionalUser
from api.guards import allowed, listing_editable
from api.params import Id, PageNo
from core import permissions as perm
from core.attachments import service as attachments
from core.listings import service as listings
from core.listings.schemas import (
    ListingOut,
    StatusChange,
)
from core.schemas import Page


def make_router(kind: str, path: str, create_schema, update_schema, tag: str) -> APIRouter:
    router = APIRouter(prefix=path, tags=[tag])
    # Permission checks that run before input validation (api.guards).
    creators = allowed(lambda u: perm.can_create_listing(u, kind), f"您的角色不能发布{tag}")

    @router.get("", response_model=Page[ListingOut], summary=f"{tag}列表（分页、筛选）")
    def list_(db: DB, user: OptionalUser, f: Annotated[listings.ListingFilters, Depends()],
              page: PageNo = 1, size: Annotated[int, Query(ge=1, le=100)] = 20):
        items, total = listings.list_for(db, user, kind, f, page=page, size=size)
        return Page(items=[listings.to_out(db, user, o, with_attachments=False) for o in items],
                    total=total, page=page, size=size)

    @router.post("", response_model=ListingOut, status_code=201, summary=f"发布{tag}", dependencies=[creators])
    def create(db: DB, user: CurrentUser, data: create_schema):  # type: ignore[valid-type]
        obj = listings.create(db, user, kind, data)
        return listings.to_out(db, user, obj)

    @router.get("/{listing_id}", response_model=ListingOut)
    def read(db: DB, user: OptionalUser, listing_id: Id):
        return listings.to_out(db, user, listings.get_for(db, user, kind, listing_id))

    @router.patch("/{listing_id}", response_model=ListingOut, dependencies=[listing_editable(kind)])
    def update(db: DB, user: CurrentUser, listing_id: Id, data: update_schema):  # type: ignore[valid-type]
        return listings.to_out(db, user, listings.update(db, user, kind, listing_id, data))

    @router.delete("/{listing_id}", status_code=204)
    def delete(db: DB, user: CurrentUser, listing_id: Id):
        listings.delete(db, user, kind, listing_id)

    @router.post("/{listing_id}/publish", response_model=ListingOut)
    def publish(db: DB, user: CurrentUser, listing_id: Id):
        return listings.to_out(db, user, listings.transition(db, user, kind, listing_id, "published"))

    @router.post("/{listing_id}/close", response_model=ListingOut)
    def close(db: DB, user: CurrentUser, listing_id: Id, body: StatusChange | None = None):
        reason = body.reason if body else ""
        return listings.to_out(db, user, listings.transition(db, user, kind, listing_id, "closed", reason))

    @router.post("/{listing_id}/status", response_model=ListingOut)
    def change_status(db: DB, user: CurrentUser, listing_id: Id, body: StatusChange):
        return listings.to_out(db, user, listings.transition(db, user, kind, listing_id, body.status, body.reason))

    @router.post("/{listing_id}/attachments", status_code=201)
    async def upload(db: DB, user: CurrentUser, listing_id: Id, file: Annotated[UploadFile, File()]):
        data = await file.read()
        att = attachments.add(db, user, kind, listing_id, file.filename or "file", data)
        return {"id": att.id, "filename": att.filename, "size": att.size, "content_type": att.content_type,
                "text_chars": len(att.extracted_text)}

    return router


def download_router() -> APIRouter:
    router = APIRouter(tags=["附件"])

    @router.get("/attachments/{attachment_id}")
    def download(db: DB, user: OptionalUser, attachment_id: Id):
        att, path = attachments.get_for_download(db, user, attachment_id)
        return FileResponse(path, media_type=att.content_type, filename=att.filename)

    return router
