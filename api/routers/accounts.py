"""Auth, organizations and users."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.security import OAuth2PasswordRequestForm

from api.deps import DB, CurrentUser, client_address, oauth2, session_secret
from api.guards import allowed
from api.params import Id, PageNo
from core import permissions as perm
from core.accounts import service as accounts
from core.accounts import sessions
from core.accounts.schemas import (
    OrganizationIn,
    OrganizationOut,
    OrganizationUpdate,
    PasswordChange,
    RegistrationIn,
    UserCreate,
    UserOut,
)
from core.errors import DomainError
from core.schemas import Page

router = APIRouter(tags=["accounts"])

# Permission checks that run before input validation (api.guards).
MANAGERS = allowed(perm.can_manage_accounts, "只有科技局或管理员可以管理单位和账号")


@router.post("/auth/token", summary="登录（OAuth2 密码模式），返回 Bearer 令牌",
             responses={401: {"description": "邮箱或密码错误"}, 429: {"description": "登录尝试过于频繁"}})
def token(request: Request, db: DB, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> dict:
    try:
        user, secret = accounts.login(db, form.username, form.password, sessions.TOKEN,
                                      address=client_address(request),
                                      user_agent=request.headers.get("user-agent", ""))
    except DomainError:
        db.commit()  # keep the failed attempt's audit record
        raise
    return {"access_token": secret, "token_type": "bearer", "user": UserOut.model_validate(user).model_dump()}


@router.post("/auth/logout", status_code=204, summary="退出登录：当前令牌（或页面会话）立即失效")
def logout(request: Request, db: DB, user: CurrentUser, token: Annotated[str | None, Depends(oauth2)]):
    accounts.logout(db, token or session_secret(request))


@router.post("/auth/password", status_code=204, summary="修改密码：本账号的所有令牌和会话立即失效")
def change_password(db: DB, user: CurrentUser, data: PasswordChange):
    accounts.change_password(db, user, data.current_password, data.new_password)


@router.get("/auth/me", response_model=UserOut)
def me(user: CurrentUser):
    return user


@router.post("/auth/register", response_model=UserOut, status_code=201, summary="自助注册（需审核）")
def register(db: DB, data: RegistrationIn):
    return accounts.register(db, data)


@router.get("/organizations", response_model=Page[OrganizationOut])
def list_orgs(db: DB, user: CurrentUser, kind: str | None = None, region: str | None = None,
              q: str | None = None, page: PageNo = 1,
              size: Annotated[int, Query(ge=1, le=100)] = 20):
    items, total = accounts.list_orgs(db, kind=kind, region=region, q=q, page=page, size=size)
    return Page(items=[OrganizationOut.model_validate(o) for o in items], total=total, page=page, size=size)


@router.post("/organizations", response_model=OrganizationOut, status_code=201, dependencies=[MANAGERS])
def create_org(db: DB, user: CurrentUser, data: OrganizationIn):
    return accounts.create_org(db, user, data)


@router.get("/organizations/{org_id}", response_model=OrganizationOut)
def get_org(db: DB, user: CurrentUser, org_id: Id):
    return accounts.get_org(db, org_id)


@router.patch("/organizations/{org_id}", response_model=OrganizationOut, dependencies=[MANAGERS])
def update_org(db: DB, user: CurrentUser, org_id: Id, data: OrganizationUpdate):
    return accounts.update_org(db, user, org_id, data)


@router.get("/users", response_model=Page[UserOut], dependencies=[MANAGERS])
def list_users(db: DB, user: CurrentUser, status: str | None = None, role: str | None = None,
               page: PageNo = 1, size: Annotated[int, Query(ge=1, le=100)] = 50):
    items, total = accounts.list_users(db, user, status=status, role=role, page=page, size=size)
    return Page(items=[UserOut.model_validate(u) for u in items], total=total, page=page, size=size)


@router.post("/users", response_model=UserOut, status_code=201, dependencies=[MANAGERS])
def create_user(db: DB, user: CurrentUser, data: UserCreate):
    return accounts.create_user(db, user, data)


@router.post("/users/{user_id}/approve", response_model=UserOut, dependencies=[MANAGERS])
def approve_user(db: DB, user: CurrentUser, user_id: Id):
    return accounts.decide_registration(db, user, user_id, approve=True)


@router.post("/users/{user_id}/reject", response_model=UserOut, dependencies=[MANAGERS])
def reject_user(db: DB, user: CurrentUser, user_id: Id):
    return accounts.decide_registration(db, user, user_id, approve=False)


@router.post("/users/{user_id}/deactivate", response_model=UserOut, dependencies=[MANAGERS])
def deactivate_user(db: DB, user: CurrentUser, user_id: Id):
    perm.require(user.id != user_id, "不能停用自己的账号")
    return accounts.set_active(db, user, user_id, False)
