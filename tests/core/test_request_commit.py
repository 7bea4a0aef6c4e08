"""The request's transaction commits (or fails) before the response is sent; security
headers on HTML responses."""
from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from tests.accounts.test_accounts import _org_payload


class _Order:
    """Wraps the ASGI app: records when the response starts, and (via a Session event) when
    a transaction commits, in one sequence."""

    def __init__(self, app):
        self.app, self.events = app, []

    async def __call__(self, scope, receive, send):
        async def recording_send(message):
            if message["type"] == "http.response.start":
                self.events.append(("response", message["status"]))
            await send(message)
        await self.app(scope, receive, recording_send)

    def committed(self, session):
        self.events.append(("commit", None))


def _registration(seed, email):
    return {"org": _org_payload(seed=seed), "email": email, "password": "amber-walnut-1987", "name": "新用户"}


def test_api_commit_happens_before_the_response(client, db):
    order = _Order(client.app)
    event.listen(Session, "after_commit", order.committed)
    try:
        with TestClient(order) as c:
            r = c.post("/api/auth/register", json=_registration(6161, "order@example.com"))
    finally:
        event.remove(Session, "after_commit", order.committed)
    assert r.status_code == 201, r.text
    assert ("commit", None) in order.events
    assert order.events.index(("commit", None)) < order.events.index(("response", 201)), order.events


def test_page_commit_happens_before_the_response(client, factory):
    user = factory.user("enterprise")
    order = _Order(client.app)
    with TestClient(order) as c:
        token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
        c.post("/login", data={"email": user.email, "password": "copper-lantern-42", "csrf_token": token},
               follow_redirects=False)
        token = re.search(r'<meta name="csrf-token" content="([^"]+)"', c.get("/notifications").text).group(1)
        event.listen(Session, "after_commit", order.committed)
        try:
            order.events.clear()
            r = c.post("/notifications/read", data={"csrf_token": token}, follow_redirects=False)
        finally:
            event.remove(Session, "after_commit", order.committed)
    assert r.status_code == 303
    assert order.events[-1] == ("response", 303) and ("commit", None) in order.events[:-1], order.events


def test_get_straight_after_201_finds_the_row(client, factory, login):
    bureau = factory.user("bureau")
    h = login(bureau)
    for i in range(10):
        r = client.post("/api/organizations", headers=h, json=_org_payload(seed=7000 + i, name=f"即时可见单位{i}"))
        assert r.status_code == 201, r.text
        assert client.get(f"/api/organizations/{r.json()['id']}", headers=h).status_code == 200


def test_failed_commit_is_an_error_not_a_success(settings, db):
    from api.main import create_app
    from core.models import User

    def mark(session, flush_context, instances):
        if any(isinstance(o, User) and o.email == "fail@example.com" for o in session.new):
            session.info["doomed"] = True

    def boom(session):
        if session.info.pop("doomed", False):
            raise RuntimeError("disk full")

    event.listen(Session, "before_flush", mark)
    event.listen(Session, "before_commit", boom)
    try:
        with TestClient(create_app(), raise_server_exceptions=False) as c:
            r = c.post("/api/auth/register", json=_registration(6262, "fail@example.com"))
    finally:
        event.remove(Session, "before_commit", boom)
        event.remove(Session, "before_flush", mark)
    assert r.status_code == 500 and r.json()["error"]["code"] == "server_error"
    assert db.scalar(select(User).where(User.email == "fail@example.com")) is None


def test_security_headers_on_html(client):
    r = client.get("/")
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "same-origin"
    # the pages carry no inline script or style attribute the CSP would block
    for path in ("/", "/login", "/register", "/search?q=电池"):
        html = client.get(path).text
        assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", html), path
        assert " style=" not in html and "<style" not in html, path
    api = client.get("/api/health")
    assert api.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" not in api.headers
