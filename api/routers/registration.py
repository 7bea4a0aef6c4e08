"""/api/registration: 技术合同认定登记 applications (the seller applies, the office reviews and registers)."""
from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, File, UploadFile
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response

from api.deps import DB, CurrentUser
from api.responses import download
from core.registration import out
from core.registration import rules as reg_rules
from core.registration import service as reg
from core.registration.schemas import (
    ApplicationIn,
    AssessIn,
    ClassifyIn,
    ExpertAssignIn,
    OpinionIn,
    RefuseIn,
    RegisterIn,
    ReturnIn,
)

router = APIRouter(prefix="/registration", tags=["技术合同认定登记"])


def _json(obj, status_code: int = 200) -> JSONResponse:
    """Amounts as exact decimal strings (yuan), never floats."""
    return JSONResponse(jsonable_encoder(obj, custom_encoder={Decimal: str}), status_code=status_code)


def _out(db, user, app, status_code: int = 200):
    return _json(out.to_dict(db, app, user), status_code)


@router.get("/rules", summary="认定登记规则（期限、专家评审门槛；版本化）")
def rule_sets():
    return _json({"current": reg_rules.current().code,
                  "rule_sets": [{**r.__dict__, "expert_threshold": r.expert_threshold}
                                for r in reg_rules.all_rule_sets()]})


@router.get("", summary="我的登记申请；登记机构：本辖区的申请")
def list_(db: DB, user: CurrentUser, status: str | None = None):
    return _json({"items": [out.to_dict(db, a, user) for a in reg.list_for(db, user, status=status)]})


@router.get("/queue", summary="登记机构待办队列（剩余工作日、超期标记）")
def queue(db: DB, user: CurrentUser):
    return _json({"items": [{**out.to_dict(db, r.app, user), "days_left": r.days_left, "unit": r.unit,
                             "overdue": r.overdue} for r in reg.queue(db, user)]})


@router.post("", status_code=201, summary="创建登记申请（草稿）")
def create(db: DB, user: CurrentUser, data: ApplicationIn):
    return _out(db, user, reg.create(db, user, data), 201)


@router.get("/{app_id}")
def read(db: DB, user: CurrentUser, app_id: int):
    return _out(db, user, reg.get_for(db, user, app_id))


@router.put("/{app_id}", summary="修改申请（草稿或退回补正时）")
def update(db: DB, user: CurrentUser, app_id: int, data: ApplicationIn):
    return _out(db, user, reg.update(db, user, app_id, data))


@router.post("/{app_id}/attachments", status_code=201, summary="上传合同文本或附件")
async def upload(db: DB, user: CurrentUser, app_id: int, file: Annotated[UploadFile, File()]):
    att = reg.add_attachment(db, user, app_id, file.filename or "file", await file.read())
    return {"id": att.id, "filename": att.filename, "size": att.size}


@router.post("/{app_id}/submit", summary="提交申请（完整性检查，送卖方所在地登记机构）")
def submit(db: DB, user: CurrentUser, app_id: int):
    return _out(db, user, reg.submit(db, user, app_id))


@router.post("/{app_id}/accept", summary="受理")
def accept(db: DB, user: CurrentUser, app_id: int):
    return _out(db, user, reg.accept(db, user, app_id))


@router.post("/{app_id}/classify", summary="确认或更正合同类型")
def classify(db: DB, user: CurrentUser, app_id: int, data: ClassifyIn):
    return _out(db, user, reg.classify(db, user, app_id, data))


@router.post("/{app_id}/assess", summary="核定技术交易额（逐项认定非技术性费用）")
def assess(db: DB, user: CurrentUser, app_id: int, data: AssessIn):
    return _out(db, user, reg.assess(db, user, app_id, data))


@router.post("/{app_id}/experts", summary="组织专家评审")
def experts(db: DB, user: CurrentUser, app_id: int, data: ExpertAssignIn):
    return _out(db, user, reg.assign_experts(db, user, app_id, data))


@router.post("/{app_id}/opinions", summary="记录专家意见")
def opinion(db: DB, user: CurrentUser, app_id: int, data: OpinionIn):
    return _out(db, user, reg.record_opinion(db, user, app_id, data))


@router.post("/{app_id}/register", summary="准予登记（分配登记号，计入指标）")
def register(db: DB, user: CurrentUser, app_id: int, data: RegisterIn | None = None):
    return _out(db, user, reg.register(db, user, app_id, data))


@router.post("/{app_id}/refuse", summary="不予登记（原因代码与说明）")
def refuse(db: DB, user: CurrentUser, app_id: int, data: RefuseIn):
    return _out(db, user, reg.refuse(db, user, app_id, data))


@router.post("/{app_id}/return", summary="退回补正（需补充的内容）")
def return_(db: DB, user: CurrentUser, app_id: int, data: ReturnIn):
    return _out(db, user, reg.return_for_completion(db, user, app_id, data))


@router.get("/{app_id}/certificate.pdf", summary="技术合同登记证明（PDF）", response_class=Response)
def certificate(db: DB, user: CurrentUser, app_id: int):
    name, pdf = reg.certificate(db, user, app_id)
    return download(pdf, name, "application/pdf")
