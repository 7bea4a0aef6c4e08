"""Pages for everyone: home, login/logout, registration, search, notifications."""
from __future__ import annotations

import logging
import math
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from api.deps import DB, client_address, session_secret
from core.accounts import service as accounts
from core.accounts import sessions
from core.accounts.schemas import RegistrationIn
from core.db import local_today
from core.errors import DomainError
from core.listings import service as listings
from core.notifications import service as notifications
from web import dashboard, forms, views
from web.security import LoggedIn, PageUser, csrf_protect, login_session, logout_session
from web.templating import render

log = logging.getLogger(__name__)
router = APIRouter(dependencies=[Depends(csrf_protect)], include_in_schema=False)


@router.api_route("/", methods=["GET", "HEAD"])  # HEAD: uptime checks
def home(request: Request, db: DB, user: PageUser):
    recent = {kind: listings.list_for(db, user, kind, listings.ListingFilters(), page=1, size=6)[0]
              for kind in ("problem", "achievement")}
    return render(request, "home.html", {"recent": recent,
                                         "headline": dashboard.headline(db, local_today().year, user)})


@router.get("/login")
def login_form(request: Request, user: PageUser, next: str | None = None):
    if user is not None:
        return RedirectResponse(forms.local_path(next), status_code=303)
    return render(request, "auth/login.html", {"next": forms.local_path(next), "email": ""})


@router.post("/login")
async def login(request: Request, db: DB):
    form = await request.form()
    email, password = forms.text(form, "email"), form.get("password") or ""
    nxt = forms.local_path(forms.text(form, "next"))
    try:
        user, secret = accounts.login(db, email, str(password), sessions.COOKIE, address=client_address(request),
                                      user_agent=request.headers.get("user-agent", ""),
                                      previous=session_secret(request))
    except DomainError as e:
        db.commit()  # the failed attempt's audit record
        headers = {"Retry-After": str(e.retry_after)} if getattr(e, "retry_after", None) else None
        return render(request, "auth/login.html", {"next": nxt, "email": email, "error": e.message},
                      status_code=e.status_code, headers=headers)
    db.commit()
    login_session(request, secret)
    if nxt == "/":
        nxt = views.landing_page(user)
    return RedirectResponse(nxt, status_code=303)


@router.post("/logout")
def logout(request: Request, db: DB):
    accounts.logout(db, session_secret(request))
    db.commit()
    logout_session(request)
    return RedirectResponse("/", status_code=303)


@router.get("/account/password")
def password_form(request: Request, user: LoggedIn):
    return render(request, "auth/password.html", {"errors": {}})


@router.post("/account/password")
async def password_change(request: Request, db: DB, user: LoggedIn):
    form = await request.form()
    new = str(form.get("new_password") or "")
    try:
        if new != str(form.get("new_password2") or ""):
            raise forms.FormErrors({"new_password2": "两次输入的密码不一致"})
        accounts.change_password(db, user, str(form.get("current_password") or ""), new)
        secret = sessions.start(db, user, sessions.COOKIE, address=client_address(request),
                                user_agent=request.headers.get("user-agent", ""))
        db.commit()
    except forms.INPUT_ERRORS as e:
        db.rollback()
        fe = forms.collect(e)
        return render(request, "auth/password.html", {"errors": fe.fields, "general": fe.general},
                      status_code=422)
    login_session(request, secret)  # every other session of the user is revoked
    request.session["flash"] = "密码已修改，其他设备上的登录已全部退出"
    return RedirectResponse(views.landing_page(user), status_code=303)


@router.get("/register")
def register_form(request: Request):
    return render(request, "auth/register.html", {"values": {}, "errors": {}})


@router.post("/register")
async def register(request: Request, db: DB):
    form = await request.form()
    values = {k: forms.text(form, k) for k in ("org.kind", "org.name", "org.credit_code", "org.region",
                                                "org.industry", "email", "name", "phone")}
    errors: dict[str, str] = {}
    password = str(form.get("password") or "")
    if password != str(form.get("password2") or ""):
        errors["password2"] = "两次输入的密码不一致"

    def write():
        data = RegistrationIn(
            org={"kind": values["org.kind"], "name": values["org.name"],
                 "credit_code": values["org.credit_code"], "region": values["org.region"],
                 "industry": values["org.industry"]},
            email=values["email"], password=password, name=values["name"], phone=values["phone"] or None)
        if errors:
            raise forms.FormErrors(errors)
        return accounts.register(db, data)

    _, fe = forms.submit(db, write)
    if fe:
        errors.update(fe.fields)
        return render(request, "auth/register.html", {"values": values, "errors": errors,
                                                      "general": fe.general}, status_code=422)
    return render(request, "auth/registered.html", {"email": values["email"]})


@router.get("/search")
def search(request: Request, db: DB, user: PageUser):
    params = views.SearchParams.from_query(request.query_params)
    result = views.run_search(db, user, params)

    def url_with(**changes) -> str:
        q = params.as_query()
        q.update({k: v for k, v in changes.items()})
        q = {k: v for k, v in q.items() if v not in (None, "", [])}
        return "/search?" + urlencode(q, doseq=True)

    pages = max(1, min(views.MAX_PAGE, math.ceil(result.total / params.size)))
    return render(request, "search.html", {
        "params": params, "result": result, "url_with": url_with, "pages": pages,
        "page_url": lambda p: url_with(page=p), "page": params.page, "total": result.total,
    })


@router.get("/notifications")
def notifications_page(request: Request, db: DB, user: LoggedIn):
    items = notifications.list_for(db, user)
    return render(request, "notifications.html", {"items": items})


@router.post("/notifications/read")
def notifications_read(db: DB, user: LoggedIn):
    notifications.mark_read(db, user)
    db.commit()
    return RedirectResponse("/notifications", status_code=303)
