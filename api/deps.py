"""Request-scoped dependencies: the unit of work and the current user."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from core.accounts import service as accounts
from core.db import session_scope
from core.errors import NotAuthenticated, PermissionDenied
from core.models import User

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


def get_db() -> Iterator[Session]:
    """One transaction per request: committed on success, rolled back on any error."""
    with session_scope() as session:
        yield session


DB = Annotated[Session, Depends(get_db)]


def get_optional_user(request: Request, db: DB, token: Annotated[str | None, Depends(oauth2)]) -> User | None:
    """Bearer token (API clients) or the signed session cookie (pages)."""
    if token:
        user = accounts.user_from_token(db, token)
        if user is None:
            raise NotAuthenticated("登录凭证无效或已过期", code="invalid_token")
        return user
    uid = request.session.get("uid") if "session" in request.scope else None
    return accounts.active_user(db, uid)


def get_user(user: Annotated[User | None, Depends(get_optional_user)]) -> User:
    if user is None:
        raise NotAuthenticated("请先登录")
    return user


OptionalUser = Annotated[User | None, Depends(get_optional_user)]
CurrentUser = Annotated[User, Depends(get_user)]


def require_roles(*roles: str):
    def dep(user: CurrentUser) -> User:
        if user.role not in roles:
            raise PermissionDenied("您的角色无权访问")
        return user
    return Depends(dep)
