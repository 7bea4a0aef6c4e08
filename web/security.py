"""Page-side security: the logged-in user from the session cookie, role checks for every
page, and CSRF protection for every form (a per-session token checked on each POST)."""
from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Request

from api.deps import CSRF_KEY, DB, SESSION_KEY, csrf_ok, session_secret
from core.accounts import service as accounts
from core.db import get_sessionmaker
from core.errors import NotAuthenticated, PermissionDenied
from core.models import User
from core.notifications import service as notifications

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
_MISSING = object()


def csrf_token(request: Request) -> str:
    """The session's CSRF token (created on first use)."""
    if "session" not in request.scope:
        return ""
    token = request.session.get(CSRF_KEY)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_KEY] = token
    return token


async def csrf_protect(request: Request) -> None:
    """Router dependency: every state-changing request must carry the session's token."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    sent = request.headers.get(CSRF_HEADER)
    if not sent:
        form = await request.form()
        sent = form.get(CSRF_FIELD)
    if not csrf_ok(request, sent if isinstance(sent, str) else None):
        raise PermissionDenied("页面已过期或请求来源不可信，请刷新页面后重试", code="csrf_failed")


def login_session(request: Request, secret: str) -> None:
    """Put a new server-side session's secret in a fresh cookie session (new CSRF token:
    no session fixation)."""
    request.session.clear()
    request.session[SESSION_KEY] = secret
    request.session[CSRF_KEY] = secrets.token_urlsafe(32)


def logout_session(request: Request) -> None:
    request.session.clear()


def page_user(request: Request, db: DB) -> User | None:
    user = accounts.user_for_cookie(db, session_secret(request))
    request.state.user = user
    # for the 消息 link in the header of every page
    request.state.unread = notifications.unread_count(db, user) if user is not None else 0
    return user


def current_user(request: Request) -> User | None:
    """The user for templates; loaded on demand for pages rendered outside a route (errors)."""
    user = getattr(request.state, "user", _MISSING)
    if user is not _MISSING:
        return user
    user = None
    secret = session_secret(request)
    if secret:
        session = get_sessionmaker()()
        try:
            user = accounts.user_for_cookie(session, secret)
        except Exception:  # noqa: BLE001 - an error page must render even if the DB is down
            user = None
        finally:
            session.close()
    request.state.user = user
    return user


PageUser = Annotated[User | None, Depends(page_user)]


def require_login(user: PageUser) -> User:
    if user is None:
        raise NotAuthenticated("请先登录")
    return user


LoggedIn = Annotated[User, Depends(require_login)]


def require_role(*roles: str):
    """A dependency that admits only these roles (admin always). Checked on every page."""
    def dep(user: LoggedIn) -> User:
        if user.role not in roles and user.role != "admin":
            raise PermissionDenied("您的角色无权访问此页面")
        return user
    return Depends(dep)


Enterprise = Annotated[User, require_role("enterprise")]
University = Annotated[User, require_role("university")]
Broker = Annotated[User, require_role("broker")]
Bureau = Annotated[User, require_role("bureau")]
BrokerOrBureau = Annotated[User, require_role("broker", "bureau")]
