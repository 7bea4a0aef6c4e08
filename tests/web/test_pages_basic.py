"""Pages without the matching/contract services: auth, CSRF, roles, errors, listing forms."""
from __future__ import annotations

from decimal import Decimal

from core.models import TechProblem


def test_home_and_empty_states(client):
    r = client.get("/")
    assert r.status_code == 200
    assert "科技成果转化撮合平台" in r.text
    assert "暂无已发布的技术需求" in r.text
    r = client.get("/search")
    assert "暂无符合条件的信息" in r.text


def test_error_pages_are_html(client):
    r = client.get("/no-such-page")
    assert r.status_code == 404 and "页面不存在" in r.text and "<html" in r.text
    r = client.get("/problems/424242")
    assert r.status_code == 404 and "技术需求不存在" in r.text
    # the API keeps JSON errors
    r = client.get("/api/problems/424242")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def test_login_required_redirects(client):
    r = client.get("/problems/new", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/problems/new"


def test_login_logout_and_session_cookie_flags(client, factory, csrf):
    user = factory.user("enterprise")
    token = csrf("/login")
    r = client.post("/login", data={"email": user.email, "password": "wrong-pass", "csrf_token": token})
    assert r.status_code == 401 and "邮箱或密码错误" in r.text
    r = client.post("/login", data={"email": user.email, "password": "copper-lantern-42", "csrf_token": token},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/my/problems"
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert client.get("/my/problems").status_code == 200
    r = client.post("/logout", data={"csrf_token": csrf("/")}, follow_redirects=False)
    assert r.status_code == 303
    assert client.get("/my/problems", follow_redirects=False).status_code == 303


def test_csrf_is_required(client, factory, web_login):
    user = factory.user("enterprise")
    web_login(user)
    r = client.post("/problems/new", data={"title": "x"})
    assert r.status_code == 403 and "刷新页面" in r.text
    r = client.post("/problems/new", data={"title": "x", "csrf_token": "forged"})
    assert r.status_code == 403
    # login itself is protected too
    client.cookies.clear()
    r = client.post("/login", data={"email": user.email, "password": "copper-lantern-42"})
    assert r.status_code == 403


def test_open_redirect_refused(client, factory, csrf):
    user = factory.user("enterprise")
    r = client.post("/login", data={"email": user.email, "password": "copper-lantern-42", "next": "//evil.example",
                                    "csrf_token": csrf("/login")}, follow_redirects=False)
    assert r.headers["location"] == "/my/problems"
    # browsers read "/\\host" as "//host"
    r = client.post("/login", data={"email": user.email, "password": "copper-lantern-42", "next": "/\\evil.example",
                                    "csrf_token": csrf("/login")}, follow_redirects=False)
    assert r.headers["location"] == "/my/problems"
    r = client.get("/login", params={"next": "/\\evil.example"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"


def test_status_change_return_to_stays_local(client, db, factory, web_login, csrf):
    user = factory.user("enterprise")
    problem = factory.problem(user)
    web_login(user)
    token = csrf(f"/problems/{problem.id}")
    for target in ("//evil.example", "/\\evil.example", "https://evil.example/"):
        r = client.post(f"/problems/{problem.id}/status", follow_redirects=False,
                        data={"csrf_token": token, "status": "draft", "return_to": target})
        assert r.status_code == 303 and r.headers["location"] == f"/problems/{problem.id}", target
    r = client.post(f"/problems/{problem.id}/status", follow_redirects=False,
                    data={"csrf_token": token, "status": "draft", "return_to": "/my/problems"})
    assert r.headers["location"] == "/my/problems"


def test_role_checks_on_pages(client, factory, web_login):
    uni = factory.user("university")
    web_login(uni)
    assert client.get("/my/achievements").status_code == 200
    for path in ("/problems/new", "/my/problems"):
        r = client.get(path)
        assert r.status_code == 403 and "无权访问" in r.text, path
    ent = factory.user("enterprise")
    web_login(ent)
    for path in ("/achievements/new", "/my/achievements"):
        assert client.get(path).status_code == 403, path


def test_problem_form_validation_and_publish(client, db, factory, web_login, csrf):
    user = factory.user("enterprise")
    web_login(user)
    token = csrf("/problems/new")
    bad = {"csrf_token": token, "title": "短", "description": "太短", "region": "999999",
           "budget_min": "50", "budget_max": "abc", "action": "publish"}
    r = client.post("/problems/new", data=bad)
    assert r.status_code == 422
    assert "内容过短" in r.text  # title / description
    assert "请输入数字金额" in r.text  # budget_max in 万元
    assert 'id="err-region"' in r.text and 'id="err-title"' in r.text
    assert db.query(TechProblem).count() == 0
    good = {"csrf_token": token, "title": "锂电池回收中钴镍分离效率低", "region": "330421",
            "description": "废旧三元锂电池湿法回收中钴镍分离效率偏低，希望提高回收率。",
            "fields": ["新能源"], "keywords": "锂电池，回收 湿法冶金", "budget_min": "20",
            "budget_max": "50.5", "coop_modes": ["development"], "contact_name": "王经理",
            "contact_phone": "13800000000", "action": "draft"}
    r = client.post("/problems/new", data=good, follow_redirects=False)
    assert r.status_code == 303, r.text
    obj = db.query(TechProblem).one()
    assert obj.status == "draft"
    assert obj.budget_max == Decimal("505000.00") and obj.keywords == ["锂电池", "回收", "湿法冶金"]
    page = client.get(r.headers["location"])
    assert "已保存为草稿" in page.text and "20.00–50.50万元" in page.text
    # edit and publish
    edit = dict(good, title="锂电池回收钴镍分离效率低", action="publish")
    r = client.post(f"/problems/{obj.id}/edit", data=edit, follow_redirects=False)
    assert r.status_code == 303
    db.expire_all()
    assert obj.status == "published" and obj.title == "锂电池回收钴镍分离效率低"
    assert "锂电池回收钴镍分离效率低" in client.get("/my/problems").text
    # budget order is checked by the schema
    r = client.post(f"/problems/{obj.id}/edit", data=dict(edit, budget_min="80"))
    assert r.status_code == 422 and "预算下限不能高于预算上限" in r.text


def test_other_org_cannot_edit(client, db, factory, web_login):
    from core import hooks

    hooks.suppress(db)  # no indexing/matching needed here
    owner = factory.user("enterprise")
    p = factory.problem(owner)
    other = factory.user("enterprise")
    web_login(other)
    assert client.get(f"/problems/{p.id}/edit").status_code == 403


def test_contact_hidden_for_others(client, db, factory, web_login):
    from core import hooks

    hooks.suppress(db)
    owner = factory.user("enterprise")
    p = factory.problem(owner)
    r = client.get(f"/problems/{p.id}")
    assert r.status_code == 200 and "13800000000" not in r.text and "引荐双方后可见" in r.text
    web_login(owner)
    assert "13800000000" in client.get(f"/problems/{p.id}").text


def test_registration_request(client, csrf):
    from tests.conftest import make_credit_code

    token = csrf("/register")
    data = {"csrf_token": token, "org.kind": "enterprise", "org.name": "嘉善新材料有限公司",
            "org.credit_code": "123", "org.region": "330421", "name": "李四", "email": "li@example.com",
            "password": "copper-lantern-42", "password2": "copper-lantern-42"}
    r = client.post("/register", data=data)
    assert r.status_code == 422 and 'id="err-org.credit_code"' in r.text
    data["org.credit_code"] = make_credit_code(4242)
    r = client.post("/register", data=data)
    assert r.status_code == 200 and "等待科技局审核" in r.text


def test_server_error_page(settings):
    from fastapi.testclient import TestClient

    from api.main import create_app

    app = create_app()

    @app.get("/boom-page")
    def boom_page():
        raise RuntimeError("boom")

    @app.get("/api/boom")
    def boom_api():
        raise RuntimeError("boom")

    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/boom-page")
        assert r.status_code == 500 and "服务器出错了" in r.text and "boom" not in r.text
        r = c.get("/api/boom")
        assert r.status_code == 500 and r.json()["error"]["code"] == "server_error"


def test_achievement_form_patents_trl_and_edit(client, db, factory, web_login, csrf):
    from core.models import Achievement

    user = factory.user("university")
    web_login(user)
    token = csrf("/achievements/new")
    data = {"csrf_token": token, "title": "秸秆生物炭土壤改良技术", "region": "330106",
            "abstract": "以农作物秸秆热解制备生物炭，改良酸性土壤，提高作物产量 10% 以上。",
            "maturity": "lab", "trl": "8", "patents": "ZL202310000001.2,发明专利\nZL202320000002.3,实用新型",
            "asking_price": "12.5", "inventors": "张三、李四", "action": "draft"}
    r = client.post("/achievements/new", data=data)
    assert r.status_code == 422 and "与成熟度“实验室”不符" in r.text
    r = client.post("/achievements/new", data=dict(data, trl="3"), follow_redirects=False)
    assert r.status_code == 303
    a = db.query(Achievement).one()
    assert a.status == "draft" and a.patents[1] == {"number": "ZL202320000002.3", "type": "utility_model"}
    assert a.asking_price == Decimal("125000.00") and a.inventors == ["张三", "李四"]
    page = client.get(f"/achievements/{a.id}/edit")
    assert "ZL202320000002.3,实用新型" in page.text and 'value="12.5"' in page.text
    r = client.post(f"/achievements/{a.id}/edit", data=dict(data, trl="3", asking_price="", action="draft"),
                    follow_redirects=False)
    assert r.status_code == 303
    db.expire_all()
    assert db.get(Achievement, a.id).asking_price is None
    assert "面议" in client.get(f"/achievements/{a.id}").text


def test_charts_are_served_locally(client):
    r = client.get("/static/vendor/echarts/echarts.min.js")
    assert r.status_code == 200 and len(r.content) > 500_000
    assert client.get("/static/vendor/echarts/LICENSE.txt").status_code == 200
    from pathlib import Path

    import web

    for tpl in (Path(web.__file__).parent / "templates").rglob("*.html"):
        text = tpl.read_text(encoding="utf-8")
        assert '<script src="http' not in text and "cdn" not in text.lower(), tpl


def test_unread_notifications_badge(client, db, factory, web_login, csrf):
    from core.notifications import service as notifications

    user = factory.user("enterprise")
    other = factory.user("enterprise")
    for i in range(2):
        notifications.notify(db, user.id, "match", f"新的推荐 {i}")
    notifications.notify(db, other.id, "match", "别人的消息")
    db.commit()
    assert 'class="badge warn unread"' not in client.get("/").text  # anonymous: no badge
    web_login(user)
    page = client.get("/").text
    assert 'class="badge warn unread">2<span class="skip"> 条未读</span>' in page
    r = client.post("/notifications/read", data={"csrf_token": csrf("/notifications")}, follow_redirects=True)
    assert r.status_code == 200 and 'class="badge warn unread"' not in r.text
    assert notifications.unread_count(db, other) == 1
