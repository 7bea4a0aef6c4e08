"""/api/contracts and /api/indicators: permissions and error shapes."""
from __future__ import annotations

from datetime import date

from tests.contract_helpers import contract_data


def body(**kw):
    d = contract_data(**kw)
    for k in ("signed_on", "registered_on"):
        d[k] = d[k].isoformat()
    for k in ("total_amount", "tech_amount"):
        d[k] = str(d[k])
    return d


def test_register_list_amend_terminate_as_bureau(client, factory, login):
    bureau = factory.user("bureau")
    h = login(bureau)
    r = client.post("/api/contracts", json=body(), headers=h)
    assert r.status_code == 201, r.text
    c = r.json()
    assert c["total_amount"] == "1000000.00" and c["total_amount_wan"] == "100.00"
    r = client.post(f"/api/contracts/{c['id']}/amend", json={"reason": "补充协议", "total_amount": "1200000"},
                    headers=h)
    assert r.status_code == 200 and r.json()["status"] == "amended"
    assert r.json()["amendments"][0]["actor_name"] == bureau.name
    r = client.get("/api/contracts", params={"year": 2026, "region": "330100"}, headers=h)
    assert r.json()["total"] == 1
    assert client.get("/api/contracts", params={"region": "330400"}, headers=h).json()["total"] == 0
    assert client.get("/api/contracts", params={"region": "330400", "side": "buyer"}, headers=h).json()["total"] == 1
    # side=any: the seller, the buyer or the registering authority (登记号) inside the region
    for region, n in (("330100", 1), ("330400", 1), ("330200", 0)):
        assert client.get("/api/contracts", params={"region": region, "side": "any"}, headers=h).json()["total"] == n
    r = client.get("/api/contracts", params={"region": "3301"}, headers=h)
    assert r.status_code == 422 and "行政区划代码应为 6 位数字" in r.json()["error"]["message"]
    r = client.get("/api/contracts", params={"region": "330100", "side": "east"}, headers=h)
    assert r.status_code == 422 and "地区口径" in r.json()["error"]["message"]
    r = client.post(f"/api/contracts/{c['id']}/terminate", json={"reason": "合同解除"}, headers=h)
    assert r.json()["status"] == "terminated"
    assert client.get("/api/contracts", params={"status": "active"}, headers=h).json()["total"] == 0


def test_bad_input_gets_chinese_error_and_nothing_written(client, factory, login):
    h = login(factory.user("bureau"))
    r = client.post("/api/contracts", json=body(total_amount="10.00", tech_amount="20.00"), headers=h)
    assert r.status_code == 422
    assert "技术交易额不能大于合同成交额" in r.json()["error"]["message"]
    ok = client.post("/api/contracts", json=body(), headers=h).json()
    r = client.post("/api/contracts", json=body(reg_number=ok["reg_number"]), headers=h)
    assert r.status_code == 409 and r.json()["error"]["code"] == "duplicate_reg_number"
    r = client.post("/api/contracts", json=body(registered_on=date(2026, 1, 1), signed_on=date(2026, 2, 1)),
                    headers=h)
    assert r.status_code == 422 and "登记日期不能早于签订日期" in r.json()["error"]["message"]
    assert client.get("/api/contracts", headers=h).json()["total"] == 1


def test_visibility_by_role(client, factory, login, db):
    from core.contracts import service as contracts

    bureau = factory.user("bureau")
    ent_org = factory.org("enterprise", region="330421", name="嘉善甲公司")
    ent = factory.user("enterprise", org=ent_org)
    other = factory.user("enterprise")
    uni = factory.user("university")
    mine = contracts.register(db, bureau, contract_data(buyer={"org_id": ent_org.id}))
    contracts.register(db, bureau, contract_data(seller={"org_id": uni.org_id}))
    db.commit()
    assert client.get("/api/contracts", headers=login(bureau)).json()["total"] == 2
    r = client.get("/api/contracts", headers=login(ent)).json()
    assert r["total"] == 1 and r["items"][0]["id"] == mine.id
    assert client.get("/api/contracts", headers=login(uni)).json()["total"] == 1
    assert client.get("/api/contracts", headers=login(other)).json()["total"] == 0
    assert client.get(f"/api/contracts/{mine.id}", headers=login(other)).status_code == 404
    assert client.get(f"/api/contracts/{mine.id}", headers=login(ent)).status_code == 200
    # Only the bureau registers off-platform contracts, amends and terminates.
    for u in (ent, uni, factory.user("broker")):
        h = login(u)
        assert client.post("/api/contracts", json=body(), headers=h).status_code == 403
        assert client.post(f"/api/contracts/{mine.id}/terminate", json={"reason": "无权终止"},
                           headers=h).status_code in (403, 404)
    assert client.get("/api/contracts").status_code == 401
    # Indicators: bureau and brokers; not enterprises.
    assert client.get("/api/indicators/summary", params={"year": 2026}, headers=login(ent)).status_code == 403
    assert client.get("/api/indicators/summary", params={"year": 2026}, headers=login(bureau)).status_code == 200


def test_broker_registers_for_own_match_via_api(client, login, broker, accepted_match, db):
    m, ent, uni = accepted_match
    r = client.post(f"/api/contracts/from-match/{m.id}", headers=login(broker), json={
        "reg_number": f"{date.today().year}330400000555", "project_name": "正极包覆专利转让",
        "contract_type": "transfer", "sub_type": "patent", "signed_on": date.today().isoformat(),
        "registered_on": date.today().isoformat(), "total_amount": "300000", "tech_amount": "300000"})
    assert r.status_code == 201, r.text
    assert r.json()["conversion_mode"] == "transfer" and r.json()["match_id"] == m.id
    assert client.get("/api/contracts", headers=login(broker)).json()["total"] == 1


def test_indicator_endpoints(client, factory, login, db):
    from core.contracts import service as contracts

    bureau = factory.user("bureau")
    contracts.register(db, bureau, contract_data(registered_on=date(2026, 2, 3)))
    db.commit()
    h = login(bureau)
    s = client.get("/api/indicators/summary", params={"year": 2026, "region": "330100", "as_of": "2026-06-30"},
                   headers=h).json()
    assert s["contracts"]["total_amount"] == "1000000.00" and s["contracts"]["total_amount_wan"] == "100.00"
    ser = client.get("/api/indicators/series", params={"year": 2026}, headers=h).json()
    assert ser["months"][1]["total_amount"] == "1000000.00"
    b = client.get("/api/indicators/breakdown", params={"year": 2026, "by": "region", "region": "330000"},
                   headers=h).json()
    assert b["rows"][0]["label"] == "杭州市"
    r = client.put("/api/indicators/targets", json={"indicator": "contract_turnover", "year": 2026,
                                                    "region": "330100", "target": "5000000"}, headers=h)
    assert r.status_code == 200, r.text
    t = client.get("/api/indicators/targets", params={"year": 2026, "region": "330100", "as_of": "2026-06-30"},
                   headers=h).json()
    assert t[0]["progress_pct"] == "20.0" and t[0]["behind_schedule"] is True
    assert t[0]["projection_method"] == "linear"
    assert client.put("/api/indicators/targets", json={"indicator": "events", "year": 2026, "region": "330100",
                                                       "target": "3"},
                      headers=login(factory.user("broker"))).status_code == 403
    ev = client.post("/api/events", headers=h, json={
        "title": "新材料成果路演", "kind": "roadshow", "held_on": "2026-05-20", "region": "330402",
        "attendance": 80, "matches_made": 4})
    assert ev.status_code == 201, ev.text
    assert client.get("/api/events", params={"year": 2026}, headers=h).json()["total"] == 1
    assert client.get("/api/indicators/catalog", headers=h).status_code == 200
    assert client.get("/api/contracts/vocab").status_code == 200
