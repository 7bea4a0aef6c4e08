from core.models import Organization, User
from tests.conftest import make_credit_code


def _org_payload(seed=1, **kw):
    d = {"kind": "enterprise", "name": "嘉善测试科技有限公司", "credit_code": make_credit_code(seed),
         "region": "330421", "industry": "新材料"}
    d.update(kw)
    return d


def test_login_token_and_me(client, factory):
    u = factory.user("enterprise")
    r = client.post("/api/auth/token", data={"username": u.email, "password": "wrong-password"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "bad_credentials"
    assert "密码错误" in r.json()["error"]["message"]
    r = client.post("/api/auth/token", data={"username": u.email, "password": "copper-lantern-42"})
    token = r.json()["access_token"]
    me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["email"] == u.email
    assert client.get("/api/auth/me", headers={"Authorization": "Bearer forged"}).status_code == 401
    assert client.get("/api/auth/me").status_code == 401


def test_self_registration_waits_for_approval(client, factory, db):
    bureau = factory.user("bureau")
    enterprise = factory.user("enterprise")
    payload = {"org": _org_payload(seed=4242), "email": "new@example.com", "password": "amber-walnut-1987",
               "name": "新用户"}
    r = client.post("/api/auth/register", json=payload)
    assert r.status_code == 201, r.text
    new_id = r.json()["id"]
    r = client.post("/api/auth/token", data={"username": "new@example.com", "password": "amber-walnut-1987"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "pending_approval"
    # An enterprise user may not approve; the bureau may.
    assert client.post(f"/api/users/{new_id}/approve", headers=_h(client, enterprise)).status_code == 403
    assert client.post(f"/api/users/{new_id}/approve", headers=_h(client, bureau)).status_code == 200
    r = client.post("/api/auth/token", data={"username": "new@example.com", "password": "amber-walnut-1987"})
    assert r.status_code == 200


def _h(client, user):
    from tests.conftest import auth_headers
    return auth_headers(client, user)


def test_only_staff_create_orgs_and_users(client, factory, db):
    enterprise = factory.user("enterprise")
    bureau = factory.user("bureau")
    r = client.post("/api/organizations", json=_org_payload(seed=77), headers=_h(client, enterprise))
    assert r.status_code == 403
    assert db.query(Organization).filter_by(credit_code=make_credit_code(77)).count() == 0
    r = client.post("/api/organizations", json=_org_payload(seed=77), headers=_h(client, bureau))
    assert r.status_code == 201, r.text
    org_id = r.json()["id"]
    user = {"org_id": org_id, "email": "e@x.com", "password": "copper-lantern-42", "role": "enterprise"}
    assert client.post("/api/users", json=user, headers=_h(client, enterprise)).status_code == 403
    assert client.post("/api/users", json=user, headers=_h(client, bureau)).status_code == 201
    # A bureau user may not mint admins, and roles must fit the organization kind.
    admin = dict(user, email="a@x.com", role="admin")
    assert client.post("/api/users", json=admin, headers=_h(client, bureau)).status_code == 403
    wrong = dict(user, email="b@x.com", role="broker")
    r = client.post("/api/users", json=wrong, headers=_h(client, bureau))
    assert r.status_code == 422 and r.json()["error"]["code"] == "role_org_mismatch"


def test_bad_org_input_is_refused_and_nothing_written(client, factory, db):
    bureau = factory.user("bureau")
    h = _h(client, bureau)
    before = db.query(Organization).count()
    good = make_credit_code(99)
    bad_check = good[:-1] + ("0" if good[-1] != "0" else "1")
    cases = [
        (_org_payload(credit_code=bad_check), "credit_code", "校验位"),
        (_org_payload(seed=98, region="339999"), "region", "不存在"),
        (_org_payload(seed=97, region="33042"), "region", "6 位"),
        (_org_payload(seed=96, name=""), "name", "内容过短"),
    ]
    for payload, field, text in cases:
        r = client.post("/api/organizations", json=payload, headers=h)
        assert r.status_code == 422, r.text
        err = r.json()["error"]
        assert err["code"] == "validation_error" and err["field"] == field and text in err["message"]
    # duplicate credit code
    assert client.post("/api/organizations", json=_org_payload(seed=95), headers=h).status_code == 201
    r = client.post("/api/organizations", json=_org_payload(seed=95, name="另一家"), headers=h)
    assert r.status_code == 409 and r.json()["error"]["code"] == "duplicate_credit_code"
    db.expire_all()
    assert db.query(Organization).count() == before + 1
    assert db.query(User).count() == 1
