"""The bureau's account approval pages."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from api.deps import DB
from api.params import Id
from core.accounts import service as accounts
from core.errors import DomainError, ValidationFailed
from web.security import Bureau, csrf_protect
from web.templating import render

router = APIRouter(dependencies=[Depends(csrf_protect)], include_in_schema=False)


# ----------------------------------------------------------------- accounts

@router.get("/bureau/accounts")
def account_list(request: Request, db: DB, user: Bureau, status: str = "pending"):
    status = status if status in ("pending", "approved", "rejected") else "pending"
    users, total = accounts.list_users(db, user, status=status, size=100)
    orgs, _ = accounts.list_orgs(db, approved=False, size=100)
    return render(request, "bureau/accounts.html", {"users": users, "total": total, "status": status,
                                                    "orgs": orgs})


@router.post("/bureau/accounts/{user_id:int}/{decision}")
def account_decide(request: Request, db: DB, user: Bureau, user_id: Id, decision: str):
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


