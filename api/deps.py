"""Request-scoped dependencies: the unit of work and the current user."""
from __future__ import annotations

import hmac
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

#: the session-cookie keys: the session secret and the CSRF token
SESSION_KEY = "sid"
CSRF_KEY = "csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def get_db() -> Iterator[Session]:
    """One transaction per request: committed on success, rolled back on any error.

    Used with ``scope="function"``: the commit runs when the route (and the serialization of
    its response) is done and *before* the response is sent, so a client that got a 2xx can
    read what it wrote, and a failed commit is an error response, not a success."""
    with session_scope() as session:
        yield session


DB = Annotated[Session, Depends(get_db, scope="function")]


def session_secret(request: Request) -> str | None:
    """The page-session secret held in the signed session cookie."""
    if "session" not in request.scope:
        return None
    value = request.session.get(SESSION_KEY)
    return value if isinstance(value, str) else None


def csrf_ok(request: Request, sent: str | None) -> bool:
    expected = request.session.get(CSRF_KEY) if "session" in request.scope else None
    return bool(expected) and isinstance(sent, str) and hmac.compare_digest(sent, expected)


def get_optional_user(request: Request, db: DB, token: Annotated[str | None, Depends(oauth2)]) -> User | None:
    """Bearer token (API clients) or the session cookie (pages, and the pages' scripts).
    A state-changing API request authenticated by the cookie must carry the session's CSRF
    token in the ``X-CSRF-Token`` header (bearer tokens are not sent by browsers on their own)."""
    if token:
        user = accounts.user_for_token(db, token)
        if user is None:
            raise NotAuthenticated("登录凭证无效或已过期", code="invalid_token")
        return user
    user = accounts.user_for_cookie(db, session_secret(request))
    if (user is not None and request.method not in SAFE_METHODS and request.url.path.startswith("/api")
            and not csrf_ok(request, request.headers.get(CSRF_HEADER))):
        raise PermissionDenied("请求缺少有效的 CSRF 令牌（X-CSRF-Token），请刷新页面后重试，或使用 Bearer 令牌",
                               code="csrf_failed")
    return user


def get_user(user: Annotated[User | None, Depends(get_optional_user)]) -> User:
    if user is None:
        raise NotAuthenticated("请先登录")
    return user


OptionalUser = Annotated[User | None, Depends(get_optional_user)]
CurrentUser = Annotated[User, Depends(get_user)]


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""


def require_roles(*roles: str):
    def dep(user: CurrentUser) -> User:
        if user.role not in roles:
            raise PermissionDenied("您的角色无权访问")
        return user
    return Depends(dep)
