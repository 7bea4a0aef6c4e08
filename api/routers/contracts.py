"""/api/contracts: register (also from a match), amend, terminate, list, filter, export."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Query, UploadFile
from pydantic import BaseModel

from api.deps import DB, CurrentUser
from api.guards import allowed, contract_changeable
from api.params import Id, PageNo
from api.responses import download
from core.attachments import service as attachments
from core.contracts import exports as contract_exports
from core.contracts import service as contracts
from core.contracts.schemas import (
    ContractAmendIn,
    ContractIn,
    ContractOut,
    ContractTerminateIn,
    vocab,
)
from core.errors import NotFound
from core.schemas import DbId, Page

router = APIRouter(prefix="/contracts", tags=["技术合同"])

# Permission checks that run before input validation (api.guards).
REGISTRARS = allowed(contracts.can_register, "您的角色不能登记技术合同")
CHANGEABLE = contract_changeable()


@router.get("/vocab", summary="合同类型、子类、当事人类型等选项")
def contract_vocab():
    return vocab()


@router.get("", response_model=Page[ContractOut], summary="技术合同列表（分页、筛选）")
def list_(db: DB, user: CurrentUser, f: Annotated[contracts.ContractFilters, Depends()],
          page: PageNo = 1, size: Annotated[int, Query(ge=1, le=200)] = 20):
    items, total = contracts.list_for(db, user, f, page=page, size=size)
    return Page(items=[contracts.to_out(db, c, with_history=False) for c in items], total=total, page=page,
                size=size)


@router.get("/export.{fmt}", summary="导出技术合同（XLSX 或 CSV，金额万元）")
def export(db: DB, user: CurrentUser, fmt: str, f: Annotated[contracts.ContractFilters, Depends()]):

    if fmt not in ("xlsx", "csv"):
        raise NotFound("仅支持 xlsx 或 csv")
    return download(*contract_exports.export_contracts(db, user, f, fmt))


@router.post("", response_model=ContractOut, status_code=201, summary="登记技术合同", dependencies=[REGISTRARS])
def register(db: DB, user: CurrentUser, data: ContractIn):
    c = contracts.register(db, user, data)
    return contracts.to_out(db, c)


@router.post("/from-match/{match_id}", response_model=ContractOut, status_code=201,
             summary="为撮合登记技术合同（撮合转为已签约）", dependencies=[REGISTRARS])
def register_for_match(db: DB, user: CurrentUser, match_id: Id, data: ContractIn):
    c = contracts.register_contract_for_match(db, user, match_id, data)
    return contracts.to_out(db, c)


class LinkMatchIn(BaseModel):
    match_id: DbId


@router.post("/{contract_id}/link-match", response_model=ContractOut, summary="将已登记合同关联到撮合记录", dependencies=[REGISTRARS])
def link_match(db: DB, user: CurrentUser, contract_id: Id, data: LinkMatchIn):
    return contracts.to_out(db, contracts.link_to_match(db, user, contract_id, data.match_id))


@router.get("/{contract_id}", response_model=ContractOut)
def read(db: DB, user: CurrentUser, contract_id: Id):
    return contracts.to_out(db, contracts.get_for(db, user, contract_id))


@router.post("/{contract_id}/amend", response_model=ContractOut, summary="变更合同登记（保留变更记录）", dependencies=[CHANGEABLE])
def amend(db: DB, user: CurrentUser, contract_id: Id, data: ContractAmendIn):
    return contracts.to_out(db, contracts.amend(db, user, contract_id, data))


@router.post("/{contract_id}/terminate", response_model=ContractOut, summary="终止合同", dependencies=[CHANGEABLE])
def terminate(db: DB, user: CurrentUser, contract_id: Id, data: ContractTerminateIn):
    return contracts.to_out(db, contracts.terminate(db, user, contract_id, data))


@router.post("/{contract_id}/attachments", status_code=201, summary="上传合同附件", dependencies=[REGISTRARS])
async def upload(db: DB, user: CurrentUser, contract_id: Id, file: Annotated[UploadFile, File()]):
    data = await file.read()
    att = attachments.add(db, user, "contract", contract_id, file.filename or "file", data)
    return {"id": att.id, "filename": att.filename, "size": att.size, "content_type": att.content_type}
