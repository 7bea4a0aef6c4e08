from core.models import AuditLog, TechProblem
from tests.conftest import auth_headers

PROBLEM = {
    "title": "印染废水脱色效率低",
    "description": "活性染料印染废水经现有生化处理后色度仍在 120 倍以上，达不到排放标准。",
    "indicators": "出水色度 ≤ 40 倍，COD ≤ 80 mg/L",
    "region": "330603", "fields": ["节能环保"], "keywords": ["印染废水", "脱色"],
    "budget_min": "200000", "budget_max": "600000", "coop_modes": ["技术开发", "service"],
    "contact_name": "赵厂长", "contact_phone": "13812345678",
}


def test_enterprise_creates_edits_own_problem_only(client, factory, db):
    a = factory.user("enterprise")
    b = factory.user("enterprise")
    uni = factory.user("university")
    r = client.post("/api/problems", json=PROBLEM, headers=auth_headers(client, a))
    assert r.status_code == 201, r.text
    p = r.json()
    assert p["status"] == "draft" and p["coop_modes"] == ["development", "service"]
    assert p["budget_max"] == "600000.00" and p["contact_phone"] == "13812345678"
    pid = p["id"]
    # Other enterprise: cannot edit, cannot even see the draft.
    hb = auth_headers(client, b)
    assert client.patch(f"/api/problems/{pid}", json={"title": "改标题"}, headers=hb).status_code == 403
    assert client.get(f"/api/problems/{pid}", headers=hb).status_code == 404
    # University users cannot post problems.
    assert client.post("/api/problems", json=PROBLEM, headers=auth_headers(client, uni)).status_code == 403
    # Publish, then the other enterprise sees it without the contact.
    ha = auth_headers(client, a)
    assert client.post(f"/api/problems/{pid}/publish", headers=ha).json()["status"] == "published"
    seen = client.get(f"/api/problems/{pid}", headers=hb).json()
    assert seen["contact_phone"] is None and seen["contact_visible"] is False
    r = client.patch(f"/api/problems/{pid}", json={"title": "改一个标题"}, headers=hb)
    assert r.status_code == 403
    r = client.patch(f"/api/problems/{pid}", json={"title": "改一个标题"}, headers=ha)
    assert r.status_code == 200 and r.json()["title"] == "改一个标题"
    assert db.query(AuditLog).filter_by(entity_type="problem", entity_id=pid).count() == 3


def test_bureau_reads_everything_but_does_not_edit(client, factory):
    a = factory.user("enterprise")
    bureau = factory.user("bureau")
    p = factory.problem(a, publish=False)
    hb = auth_headers(client, bureau)
    r = client.get(f"/api/problems/{p.id}", headers=hb)
    assert r.status_code == 200 and r.json()["contact_phone"] == "13800000000"
    assert client.patch(f"/api/problems/{p.id}", json={"title": "科技局改的"}, headers=hb).status_code == 403
    assert client.post("/api/problems", json=PROBLEM, headers=hb).status_code == 403
    listing = client.get("/api/problems", headers=hb).json()
    assert listing["total"] == 1


def test_university_owns_achievements(client, factory):
    u1 = factory.user("university")
    u2 = factory.user("university")
    ent = factory.user("enterprise")
    body = {"title": "低温等离子体废气处理装置", "abstract": "针对印染定型机废气油烟，去除率 95% 以上，能耗低。",
            "region": "330106", "fields": ["节能环保"], "maturity": "pilot", "trl": 6,
            "transfer_modes": ["许可", "transfer"], "asking_price": "1200000",
            "patents": [{"number": "ZL202310123456.7", "type": "invention"}], "publish": True}
    assert client.post("/api/achievements", json=body, headers=auth_headers(client, ent)).status_code == 403
    r = client.post("/api/achievements", json=body, headers=auth_headers(client, u1))
    assert r.status_code == 201, r.text
    aid = r.json()["id"]
    assert r.json()["transfer_modes"] == ["license", "transfer"]
    assert client.patch(f"/api/achievements/{aid}", json={"trl": 7},
                        headers=auth_headers(client, u2)).status_code == 403
    assert client.patch(f"/api/achievements/{aid}", json={"trl": 7},
                        headers=auth_headers(client, u1)).json()["trl"] == 7
    # TRL must fit the maturity stage.
    r = client.patch(f"/api/achievements/{aid}", json={"trl": 2}, headers=auth_headers(client, u1))
    assert r.status_code == 422 and "不符" in r.json()["error"]["message"]


def test_bad_listing_input_refused_with_nothing_written(client, factory, db):
    a = factory.user("enterprise")
    h = auth_headers(client, a)
    cases = [
        ({**PROBLEM, "budget_min": "-5"}, "budget_min", "不能小于"),
        ({**PROBLEM, "budget_min": "900000", "budget_max": "100000"}, None, "预算下限不能高于预算上限"),
        ({k: v for k, v in PROBLEM.items() if k != "title"}, "title", "必填"),
        ({**PROBLEM, "title": "长" * 201}, "title", "内容过长"),
        ({**PROBLEM, "description": "很" * 20001}, "description", "内容过长"),
        ({**PROBLEM, "region": "339999"}, "region", "不存在"),
        ({**PROBLEM, "coop_modes": ["包销"]}, "coop_modes", "方式"),
        ({**PROBLEM, "contact_phone": "12345"}, "contact_phone", "电话"),
        ({**PROBLEM, "fields": ["航天"]}, "fields", "技术领域"),
    ]
    for payload, field, text in cases:
        r = client.post("/api/problems", json=payload, headers=h)
        assert r.status_code == 422, (payload, r.text)
        err = r.json()["error"]
        assert err["code"] == "validation_error"
        assert text in err["message"], err
        if field:
            assert err["field"] == field
    assert db.query(TechProblem).count() == 0
    assert db.query(AuditLog).filter_by(entity_type="problem").count() == 0


def test_status_transitions_enforced(client, factory, db):
    a = factory.user("enterprise")
    h = auth_headers(client, a)
    p = factory.problem(a, publish=False)
    r = client.post(f"/api/problems/{p.id}/status", json={"status": "solved"}, headers=h)
    assert r.status_code == 409 and r.json()["error"]["code"] == "invalid_transition"
    assert "草稿" in r.json()["error"]["message"]
    r = client.post(f"/api/problems/{p.id}/status", json={"status": "bogus"}, headers=h)
    assert r.status_code == 422 and r.json()["error"]["code"] == "unknown_status"
    assert client.post(f"/api/problems/{p.id}/close", headers=h).json()["status"] == "closed"
    r = client.post(f"/api/problems/{p.id}/publish", headers=h)
    assert r.status_code == 409
    db.expire_all()
    assert db.get(TechProblem, p.id).status == "closed"


def test_list_filters_and_pagination(client, factory):
    a = factory.user("enterprise")
    for i in range(5):
        factory.problem(a, title=f"问题{i}号需要解决", region="330421" if i % 2 else "330603")
    anon = client.get("/api/problems", params={"region": "330400", "size": 2}).json()
    assert anon["total"] == 2 and len(anon["items"]) == 2
    assert all(item["contact_phone"] is None for item in anon["items"])
    assert client.get("/api/problems", params={"field": "新能源"}).json()["total"] == 5
    assert client.get("/api/problems", params={"field": "纺织"}).json()["total"] == 0
    assert client.get("/api/problems", params={"page": 3, "size": 2}).json()["items"].__len__() == 1
    r = client.get("/api/problems", params={"size": 1000})
    assert r.status_code == 422


def test_list_date_filters_are_beijing_days(client, factory, db):
    """A problem published at 00:30 on 2 March in Beijing (16:30 UTC on 1 March) is on 2 March."""
    from datetime import datetime, timezone

    p = factory.problem(factory.user("enterprise"), title="凌晨发布的技术需求")
    p.created_at = datetime(2026, 3, 1, 16, 30, tzinfo=timezone.utc)
    db.commit()

    def total(**days):
        return client.get("/api/problems", params=days).json()["total"]

    assert total(created_from="2026-03-02", created_to="2026-03-02") == 1
    assert total(created_to="2026-03-01") == 0 and total(created_from="2026-03-03") == 0
    assert total(created_from="2026-03-01", created_to="2026-03-03") == 1
