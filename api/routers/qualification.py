"""/api/qualification: stateless assessment, the enterprise's stored profile and self-check,
draft needs from gaps, and the bureau's cultivation pool. Logic lives in core.qualification."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

from api.deps import DB, CurrentUser
from api.json import exact
from api.params import Id, Year, YearQuery
from core.errors import NotFound
from core.qualification import service as Q
from core.qualification.assess import assess
from core.qualification.schemas import StoredProfileIn, parse_profile, to_profile

router = APIRouter(prefix="/qualification", tags=["梯度培育"])


@router.post("/assess", summary="自测（不保存）：科技型中小企业与高新技术企业条件，输出同 techmatch qualify")
def assess_only(user: CurrentUser,
                profile: Annotated[dict, Body(description="企业画像，金额单位万元（十进制字符串）")]):
    a = assess(to_profile(parse_profile(profile)))
    return exact(a.to_dict(explain=True))


def _check_out(check: Q.SelfCheck) -> dict:
    out = check.assessment.to_dict(explain=True)
    out["id"] = check.profile.org_id
    out["evaluation_year"] = check.profile.evaluation_year
    out["profile"] = Q.form_values(check.profile)
    out["needs"] = {k: {"gaps": [g.code for g in v],
                        "problem_id": check.drafts[k].problem_id if k in check.drafts else None}
                    for k, v in check.needs.items()}
    out["ip_offers"] = [{"id": a.id, "title": a.title, "org_name": a.org.name} for a in check.ip_offers]
    return out


@router.get("/orgs/{org_id}", summary="企业画像与自测结果（仅本企业及其所在地科技局可见）")
def self_check(db: DB, user: CurrentUser, org_id: Id, year: YearQuery = None):
    check = Q.self_check(db, user, org_id, year)
    if check is None:
        raise NotFound("企业画像不存在")
    return exact(_check_out(check))


@router.put("/orgs/{org_id}", summary="保存企业画像（按评价年度；金额单位万元）并自测")
def save(db: DB, user: CurrentUser, org_id: Id, profile: Annotated[dict, Body()]):
    data = parse_profile(profile, StoredProfileIn)
    Q.save_profile(db, user, org_id, data)
    return exact(_check_out(Q.self_check(db, user, org_id, data.evaluation_year)))


@router.post("/orgs/{org_id}/needs/{need}", status_code=201, summary="把差距转为技术需求草稿（ip、rd、conversion）")
def create_need(db: DB, user: CurrentUser, org_id: Id, need: str, year: YearQuery = None):
    qn = Q.create_draft_need(db, user, org_id, need, year)
    return {"problem_id": qn.problem_id, "need": qn.need, "reason": qn.reason}


@router.get("/pool", summary="科技局梯度培育库：辖区企业梯度、目标、常见差距、提醒")
def pool(db: DB, user: CurrentUser, year: Year):
    data = Q.pool(db, user, year)
    rows = [{"org_id": r.org.id, "name": r.org.name, "region": r.org.region, "rung": r.rung,
             "rung_label": r.rung_label, "sme_score": r.profile.sme_score if r.profile else None,
             "failed": r.profile.failed if r.profile else [],
             "hnte_valid_until": r.hnte_valid_until} for r in data["rows"]]
    return exact({"year": year, "rows": rows, "counts": {k: n for k, _, n in data["counts"]},
                  "top_gaps": data["top_gaps"], "progress": data["progress"], "reminders": data["reminders"]})
