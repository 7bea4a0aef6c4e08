"""Login throttling, the unknown-account answer, the password policy, and server-side
sessions (revoked at logout, password change and deactivation; rotated at login)."""
from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from core.models import AuditLog
from tests.conftest import auth_headers

PW = "copper-lantern-42"
COOKIE = "techmatch_session"


def _reconfigure(settings, **overrides):
    from core import settings as settings_mod

    settings_mod.configure(data_dir=settings.data_dir, database_url=settings.database_url,
                           secret_key="test-secret", celery_broker_url=None, celery_eager=True, **overrides)


def _page_login(client, email, password=PW):
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token},
                       follow_redirects=False)


def _meta_csrf(client, path="/notifications"):
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', client.get(path).text).group(1)


def _token(client, email, password=PW):
    return client.post("/api/auth/token", data={"username": email, "password": password})


def _audit(db, action):
    db.expire_all()
    return db.scalars(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)).all()


# ----------------------------------------------------------------- throttling and the audit log

def test_wrong_passwords_then_the_right_one_is_throttled_per_account(client, factory, db):
    user = factory.user("enterprise")
    codes = [_token(client, user.email, "wrong-password-x").status_code for _ in range(5)]
    assert codes == [401] * 5
    r = _token(client, user.email, PW)  # the right password, but the account is throttled
    assert r.status_code == 429 and r.json()["error"]["code"] == "login_throttled"
    assert "频繁" in r.json()["error"]["message"] and int(r.headers["Retry-After"]) >= 1
    # the page login is throttled the same way (same account, same limiter)
    r = _page_login(client, user.email, PW)
    assert r.status_code == 429 and "频繁" in r.text
    failed = _audit(db, "auth.login_failed")
    assert len(failed) == 5 and {f.entity_id for f in failed} == {user.id}
    assert failed[0].changes["reason"] == "bad_credentials" and failed[0].changes["address"] == "testclient"
    assert len(_audit(db, "auth.login_throttled")) == 2


def test_a_success_clears_the_account_count(client, factory):
    user = factory.user("enterprise")
    for _ in range(4):
        assert _token(client, user.email, "wrong-password-x").status_code == 401
    assert _token(client, user.email, PW).status_code == 200
    for _ in range(4):
        assert _token(client, user.email, "wrong-password-x").status_code == 401
    assert _token(client, user.email, PW).status_code == 200


def test_throttled_by_client_address_across_accounts(client, factory, settings):
    _reconfigure(settings, login_limit_address="3/minute")
    users = [factory.user("enterprise") for _ in range(4)]
    codes = [_token(client, u.email, "wrong-password-x").status_code for u in users]
    assert codes == [401, 401, 401, 429]
    # another address is not affected
    other = TestClient(client.app, client=("10.1.2.3", 5000))
    assert _token(other, users[0].email, PW).status_code == 200


def test_unknown_account_same_answer_and_same_work(client, factory, db, monkeypatch):
    from core import security

    user = factory.user("enterprise")
    calls = []

    class Counting:
        def __init__(self, inner):
            self.inner = inner

        def hash(self, password):
            return self.inner.hash(password)

        def verify(self, password_hash, password):
            calls.append(password_hash)
            return self.inner.verify(password_hash, password)

    monkeypatch.setattr(security, "_hasher", Counting(security._hasher))
    known = _token(client, user.email, "wrong-password-x")
    unknown = _token(client, "nobody@example.com", "wrong-password-x")
    assert known.status_code == unknown.status_code == 401
    assert known.json() == unknown.json()
    assert len(calls) == 2  # one argon2 verification each
    assert calls[1].startswith("$argon2") and calls[1] != user.password_hash
    failed = _audit(db, "auth.login_failed")
    assert [f.changes["email"] for f in failed] == [user.email, "nobody@example.com"]
    assert failed[1].entity_id is None


# ----------------------------------------------------------------- password policy

def test_weak_passwords_refused_with_chinese_message(client, factory):
    from tests.accounts.test_accounts import _org_payload

    payload = {"org": _org_payload(seed=5151), "email": "zhangwei@example.com", "password": "12345678",
               "name": "张伟"}
    r = client.post("/api/auth/register", json=payload)
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["field"] == "password" and "密码太容易被猜到" in err["message"]
    for weak in ("password1", "qwertyuiop", "zhangwei2026"):
        r = client.post("/api/auth/register", json=dict(payload, password=weak))
        assert r.status_code == 422 and "密码" in r.json()["error"]["message"], weak
    r = client.post("/api/auth/register", json=dict(payload, password="amber-walnut-1987"))
    assert r.status_code == 201, r.text


def test_readme_demo_passwords_pass_the_policy():
    from core.security import password_problem

    demo = {"admin@demo.techmatch.cn": "admin-demo-2026", "bureau@demo.techmatch.cn": "bureau-demo-2026",
            "broker@demo.techmatch.cn": "broker-demo-2026", "enterprise@demo.techmatch.cn": "enterprise-demo-2026",
            "university@demo.techmatch.cn": "university-demo-2026"}
    for email, password in demo.items():
        assert password_problem(password, [email]) is None, password
    assert password_problem("12345678") is not None


# ----------------------------------------------------------------- sessions

def test_cookie_captured_before_logout_is_refused_after(client, factory):
    user = factory.user("enterprise")
    assert _page_login(client, user.email).status_code == 303
    captured = client.cookies.get(COOKIE)
    thief = TestClient(client.app, cookies={COOKIE: captured})
    assert thief.get("/api/auth/me").status_code == 200
    assert thief.get("/notifications", follow_redirects=False).status_code == 200
    token = _meta_csrf(client)
    assert client.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    thief = TestClient(client.app, cookies={COOKIE: captured})
    assert thief.get("/api/auth/me").status_code == 401
    r = thief.get("/notifications", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_login_rotates_the_session(client, factory):
    user = factory.user("enterprise")
    assert _page_login(client, user.email).status_code == 303
    first = client.cookies.get(COOKIE)
    assert _page_login(client, user.email).status_code == 303
    second = client.cookies.get(COOKIE)
    assert first != second
    assert TestClient(client.app, cookies={COOKIE: first}).get("/api/auth/me").status_code == 401
    assert TestClient(client.app, cookies={COOKIE: second}).get("/api/auth/me").status_code == 200


def test_bearer_token_logout_and_password_change_revoke(client, factory):
    user = factory.user("enterprise")
    h1, h2 = auth_headers(client, user), auth_headers(client, user)
    assert h1 != h2
    assert client.post("/api/auth/logout", headers=h1).status_code == 204
    assert client.get("/api/auth/me", headers=h1).status_code == 401
    assert client.get("/api/auth/me", headers=h2).status_code == 200
    page = TestClient(client.app)
    assert _page_login(page, user.email).status_code == 303
    # a wrong current password or a weak new one changes nothing
    r = client.post("/api/auth/password", headers=h2, json={"current_password": "nope", "new_password": "x"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "current_password"
    r = client.post("/api/auth/password", headers=h2, json={"current_password": PW, "new_password": "12345678"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "new_password"
    assert client.get("/api/auth/me", headers=h2).status_code == 200
    new = "violet-harbor-5521"
    r = client.post("/api/auth/password", headers=h2, json={"current_password": PW, "new_password": new})
    assert r.status_code == 204, r.text
    assert client.get("/api/auth/me", headers=h2).status_code == 401
    assert page.get("/api/auth/me").status_code == 401  # the page session too
    assert _token(client, user.email, PW).status_code == 401
    assert client.get("/api/auth/me", headers=auth_headers(client, user, new)).status_code == 200


def test_password_change_page_keeps_this_session_only(client, factory):
    user = factory.user("enterprise")
    other = TestClient(client.app)
    assert _page_login(other, user.email).status_code == 303
    assert _page_login(client, user.email).status_code == 303
    token = _meta_csrf(client, "/account/password")
    r = client.post("/account/password", follow_redirects=False,
                    data={"csrf_token": token, "current_password": PW, "new_password": "12345678",
                          "new_password2": "12345678"})
    assert r.status_code == 422 and "密码太容易被猜到" in r.text
    r = client.post("/account/password", follow_redirects=False,
                    data={"csrf_token": token, "current_password": PW, "new_password": "violet-harbor-5521",
                          "new_password2": "violet-harbor-5521"})
    assert r.status_code == 303
    assert client.get("/api/auth/me").status_code == 200
    assert other.get("/api/auth/me").status_code == 401


def test_deactivation_revokes_sessions(client, factory):
    bureau = factory.user("bureau")
    user = factory.user("enterprise")
    h = auth_headers(client, user)
    page = TestClient(client.app)
    assert _page_login(page, user.email).status_code == 303
    r = client.post(f"/api/users/{user.id}/deactivate", headers=auth_headers(client, bureau))
    assert r.status_code == 200
    assert client.get("/api/auth/me", headers=h).status_code == 401
    assert page.get("/api/auth/me").status_code == 401
    # reactivating does not bring the old sessions back
    from core.accounts import service as accounts
    from core.db import session_scope

    with session_scope() as s:
        accounts.set_active(s, s.get(type(bureau), bureau.id), user.id, True)
    assert client.get("/api/auth/me", headers=h).status_code == 401
    assert page.get("/api/auth/me").status_code == 401


# ----------------------------------------------------------------- CSRF on the API

@pytest.mark.parametrize("path", ["/api/auth/logout"])
def test_cookie_authenticated_api_writes_need_the_csrf_token(client, factory, path):
    user = factory.user("enterprise")
    assert _page_login(client, user.email).status_code == 303
    r = client.post(path)
    assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed"
    r = client.post(path, headers={"X-CSRF-Token": "forged"})
    assert r.status_code == 403
    assert client.get("/api/auth/me").status_code == 200  # reads need no token
    r = client.post(path, headers={"X-CSRF-Token": _meta_csrf(client)})
    assert r.status_code == 204
    assert client.get("/api/auth/me").status_code == 401


def test_bearer_api_writes_need_no_csrf_token(client, factory):
    user = factory.user("enterprise")
    assert client.post("/api/auth/logout", headers=auth_headers(client, user)).status_code == 204
