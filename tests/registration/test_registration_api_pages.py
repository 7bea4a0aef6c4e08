"""/api/registration and the /registration pages: the application, the office's queue and decisions."""
from __future__ import annotations

from tests.web.conftest import csrf_of, page_login


def _world(factory):
    county = factory.org(kind="bureau", region="330421", name="嘉善县科学技术局")
    uni = factory.org(kind="university", region="330421", name="嘉善理工学院")
    return factory.user("university", org=uni), factory.user("bureau", org=county)


BODY = {"project_name": "锂电正极包覆技术开发", "contract_type": "development", "sub_type": "entrusted",
        "signed_on": "2026-11-02", "field": "新能源",
        "buyer": {"name": "平湖锂想新能源有限公司", "region": "330482", "party_type": "enterprise"},
        "total_amount": "800000.00", "contract_text": "委托开发合同正文……",
        "costs": [{"category": "instrument", "description": "测试仪器", "amount": "100000.00"}]}


def test_api_flow_and_certificate(client, factory):
    from tests.conftest import auth_headers

    uni, bureau = _world(factory)
    hu, hb = auth_headers(client, uni), auth_headers(client, bureau)
    r = client.post("/api/registration", json=BODY, headers=hu)
    assert r.status_code == 201, r.text
    a = r.json()
    assert a["missing"] == [] and a["proposed_tech_amount"] == "700000.00"
    assert client.post(f"/api/registration/{a['id']}/accept", headers=hb).status_code == 403  # a draft is not the office's yet
    assert client.post(f"/api/registration/{a['id']}/submit", headers=hu).json()["status"] == "submitted"
    assert client.post(f"/api/registration/{a['id']}/accept", headers=hu).status_code == 403
    q = client.get("/api/registration/queue", headers=hb).json()["items"]
    assert [x["id"] for x in q] == [a["id"]]
    client.post(f"/api/registration/{a['id']}/accept", headers=hb)
    r = client.post(f"/api/registration/{a['id']}/assess", json={}, headers=hb)
    assert r.json()["tech_amount"] == "700000.00"
    r = client.post(f"/api/registration/{a['id']}/register", headers=hb)
    assert r.status_code == 200, r.text
    reg_number = r.json()["contract"]["reg_number"]
    pdf = client.get(f"/api/registration/{a['id']}/certificate.pdf", headers=hu)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    c = client.get("/api/contracts", params={"q": reg_number}, headers=hb).json()["items"][0]
    assert c["source"] == "application" and c["tech_amount"] == "700000.00"
    assert client.get("/api/registration/rules").json()["current"] == "2024-draft"


def test_pages_apply_submit_and_register(client, factory):
    uni, bureau = _world(factory)
    page_login(client, uni)
    token = csrf_of(client, "/registration/new")
    form = {"csrf_token": token, "project_name": "锂电正极包覆技术开发", "contract_type": "development",
            "sub_type": "entrusted", "signed_on": "2026-11-02", "total_amount": "80",
            "buyer.name": "平湖锂想新能源有限公司", "buyer.region": "330482", "buyer.party_type": "enterprise",
            "cost0.category": "materials", "cost0.description": "原材料", "cost0.amount": "10.5"}
    r = client.post("/registration/new", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    url = r.headers["location"]
    page = client.get(url).text
    assert "合同文本" in page and 'id="missing"' in page  # no contract text yet
    r = client.post(url + "/submit", data={"csrf_token": token})
    assert "申请材料不完整" in r.text
    client.post(url + "/edit", data={**form, "contract_text": "合同正文"})
    r = client.post(url + "/submit", data={"csrf_token": token})
    assert "待受理" in r.text
    client.cookies.clear()
    page_login(client, bureau)
    token = csrf_of(client, "/registration")
    assert "锂电正极包覆技术开发" in client.get("/registration").text
    client.post(url + "/accept", data={"csrf_token": token})
    page = client.get(url).text
    assert "剩余 15个工作日" in page
    cost_id = page.split('name="cost')[1].split(".amount")[0]
    client.post(url + "/assess", data={"csrf_token": token, f"cost{cost_id}.amount": "10.500000"})
    assert "69.50万元" in client.get(url).text
    r = client.post(url + "/register", data={"csrf_token": token})
    assert "已登记" in r.text and "下载技术合同登记证明" in r.text
    pdf = client.get(url + "/certificate.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
