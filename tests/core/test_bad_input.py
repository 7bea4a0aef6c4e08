"""Issue 12 §2: bad parameters get a 4xx with a Chinese message (never a 5xx), the same on SQLite
and PostgreSQL; permission checks come before validation; datetimes carry an offset."""
from __future__ import annotations

import re

import pytest

from tests.conftest import auth_headers

HUGE = "99999999999999999999"  # beyond 64 bits
MID = str(2**40)  # fits SQLite's INTEGER, not PostgreSQL's
CJK = re.compile("[\u4e00-\u9fff]")


def _chinese_4xx(r, *codes):
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:300])
    if codes:
        assert r.status_code in codes, (r.status_code, r.text[:300])
    if r.headers.get("content-type", "").startswith("application/json"):
        assert CJK.search(r.json()["error"]["message"]), r.text
    else:
        assert CJK.search(r.text)


@pytest.fixture
def people(factory, db):
    bureau = factory.user("bureau")
    ent = factory.user("enterprise")
    uni = factory.user("university")
    problem = factory.problem(ent)
    return {"bureau": bureau, "ent": ent, "uni": uni, "problem": problem}


def test_ids_and_pages_beyond_64_bits(client, people):
    h = auth_headers(client, people["bureau"])
    for path in (f"/api/problems/{HUGE}", f"/api/achievements/{HUGE}", f"/api/problems?page={HUGE}",
                 f"/api/problems?org_id={HUGE}"):
        _chinese_4xx(client.get(path), 404, 422)
    for path in (f"/api/contracts/{HUGE}", f"/api/matches/{HUGE}", f"/api/contracts?page={HUGE}",
                 f"/api/contracts?match_id={HUGE}", f"/api/matches?problem_id={HUGE}",
                 f"/api/matches?assigned={HUGE}", f"/api/users?page={HUGE}", f"/api/organizations/{HUGE}"):
        _chinese_4xx(client.get(path, headers=h), 404, 422)
    for path in (f"/api/organizations/{MID}", f"/api/problems/{MID}", f"/api/contracts?org_id={MID}",
                 f"/api/problems?org_id={MID}", f"/api/matches?achievement_id={MID}", f"/api/events/{MID}"):
        _chinese_4xx(client.get(path, headers=h), 404, 405, 422)
    r = client.post("/api/contracts/0/link-match", json={"match_id": int(HUGE)}, headers=h)
    _chinese_4xx(r, 404, 422)
    r = client.post("/api/events", json={"title": "对接会", "held_on": "2026-05-01", "region": "330402",
                                         "match_ids": [int(HUGE)]}, headers=h)
    _chinese_4xx(r, 422)
    # the pages
    web = client
    for path in (f"/problems/{HUGE}", f"/achievements/{HUGE}"):
        _chinese_4xx(web.get(path), 404, 422)


def test_years_and_days_out_of_range(client, people):
    h = auth_headers(client, people["bureau"])
    for year in ("0", "-5", "99999"):
        for route in ("summary", "series", "breakdown", "targets"):
            _chinese_4xx(client.get(f"/api/indicators/{route}", params={"year": year}, headers=h), 422)
        _chinese_4xx(client.get("/api/indicators/export.xlsx", params={"year": year}, headers=h), 422)
        _chinese_4xx(client.get("/api/contracts", params={"year": year}, headers=h), 422)
    for v in ("1e300", "-1", "nan", "inf"):
        _chinese_4xx(client.get("/api/matches", params={"min_age_days": v}, headers=h), 422)
        _chinese_4xx(client.get("/api/matches", params={"max_age_days": v}, headers=h), 422)
    # the service checks too (pages and CLI call it directly)
    from core.errors import ValidationFailed
    from core.indicators import service as indicators
    from core.matches import service as matches

    with pytest.raises(ValidationFailed):
        indicators.summary(None, None, 0)
    with pytest.raises(ValidationFailed):
        matches.queue(None, people["bureau"], matches.QueueFilters(min_age_days=1e300))


def test_null_for_non_null_fields_in_patch(client, people):
    h = auth_headers(client, people["ent"])
    pid = people["problem"].id
    for field in ("title", "fields", "keywords", "coop_modes", "region", "description"):
        r = client.patch(f"/api/problems/{pid}", json={field: None}, headers=h)
        _chinese_4xx(r, 422)
    bh = auth_headers(client, people["bureau"])
    ev = client.post("/api/events", json={"title": "对接会", "held_on": "2026-05-01", "region": "330402"},
                     headers=bh).json()
    for field in ("venue", "note", "match_ids", "title"):
        _chinese_4xx(client.patch(f"/api/events/{ev['id']}", json={field: None}, headers=bh), 422)
    org = people["ent"].org_id
    _chinese_4xx(client.patch(f"/api/organizations/{org}", json={"industry": None}, headers=bh), 422)


def test_nul_bidi_and_invisible_text(client, people):
    h = auth_headers(client, people["ent"])
    good = {"title": "锂电池正极材料循环寿命不足", "region": "330421", "fields": ["新能源"],
            "description": "三元正极材料循环 500 次后容量保持率低于 80%，需要改性技术。"}
    for bad in ({"title": "锂电池\x00正极"}, {"description": "说明\x00"}, {"keywords": ["正极\x00"]},
                {"title": "\u200b\u200b\u200b\u200b"}, {"title": "\u200b\ufeff \u2060"},
                {"title": "正常\u202egnp.exe"}, {"contact_name": "王\u2066经理"}):
        r = client.post("/api/problems", json={**good, **bad}, headers=h)
        _chinese_4xx(r, 422)
    pid = people["problem"].id
    _chinese_4xx(client.patch(f"/api/problems/{pid}", json={"title": "\x00\x00标题"}, headers=h), 422)
    for params in ({"q": "正极\x00"}, {"region": "33\x00"}, {"field": "新\x00能源"}, {"status": "\x00"}):
        _chinese_4xx(client.get("/api/problems", params=params), 422)
    bh = auth_headers(client, people["bureau"])
    _chinese_4xx(client.get("/api/contracts", params={"q": "\x00"}, headers=bh), 422)
    _chinese_4xx(client.get("/api/search", params={"q": "电池\x00"}), 422)
    _chinese_4xx(client.get("/search", params={"q": "电池\x00"}), 422)  # the pages too
    r = client.post("/api/auth/register", json={
        "org": {"kind": "enterprise", "name": "\u202e司公限有", "credit_code": "91330421000000001X",
                "region": "330421"}, "email": "x@example.com", "password": "Jx-password-2026!", "name": "王"})
    _chinese_4xx(r, 422)
    assert client.get("/api/problems").json()["total"] == 1  # nothing written


def test_permission_checks_come_before_validation(client, people, db, factory):
    """An unauthorised role gets 403 whatever its input (today: 422 about the input)."""
    ent, uni = auth_headers(client, people["ent"]), auth_headers(client, people["uni"])
    cases = [
        (ent, "post", "/api/contracts", {}),
        (ent, "post", "/api/contracts/from-match/1", {"bad": 1}),
        (ent, "post", "/api/contracts/1/amend", {}),
        (ent, "put", "/api/indicators/targets", {"year": "x"}),
        (ent, "get", "/api/indicators/summary?year=abc", None),
        (ent, "post", "/api/events", {}),
        (ent, "patch", "/api/events/1", {"attendance": -1}),
        (ent, "post", "/api/users", {}),
        (ent, "post", "/api/organizations", {"kind": "x"}),
        (ent, "get", "/api/users?page=0", None),
        (ent, "post", "/api/matches/1/reject", {}),
        (ent, "post", "/api/matches/1/stage", {}),
        (uni, "post", "/api/problems", {}),
        (ent, "post", "/api/achievements", {"title": ""}),
        (uni, "patch", f"/api/problems/{people['problem'].id}", {"title": ""}),
    ]
    other_ent = auth_headers(client, factory.user("enterprise"))
    cases.append((other_ent, "patch", f"/api/problems/{people['problem'].id}", {"budget_min": "x"}))
    for h, method, path, body in cases:
        kw = {"headers": h}
        if body is not None:
            kw["json"] = body
        r = getattr(client, method)(path, **kw)
        assert r.status_code == 403, (method, path, r.status_code, r.text[:200])
        assert CJK.search(r.json()["error"]["message"])
    # anonymous: 401 before 422
    assert client.post("/api/contracts", json={}).status_code == 401


DT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def test_datetimes_in_responses_carry_an_offset(client, people):
    h = auth_headers(client, people["bureau"])
    r = client.get(f"/api/problems/{people['problem'].id}")
    body = r.json()
    for k in ("created_at", "updated_at", "published_at"):
        assert DT.match(body[k]), (k, body[k])
    ev = client.post("/api/events", json={"title": "对接会", "held_on": "2026-05-01", "region": "330402"},
                     headers=h).json()
    assert DT.match(ev["created_at"]), ev["created_at"]
    from tests.contract_helpers import contract_data

    d = contract_data()
    d = {k: (v.isoformat() if hasattr(v, "isoformat") else str(v) if not isinstance(v, dict) else v)
         for k, v in d.items()}
    c = client.post("/api/contracts", json=d, headers=h).json()
    assert DT.match(c["created_at"]) and DT.match(c["updated_at"]), c
    c = client.post(f"/api/contracts/{c['id']}/amend", json={"reason": "补充协议", "note": "x"}, headers=h).json()
    assert DT.match(c["amendments"][0]["at"]), c["amendments"]
    for u in client.get("/api/users", headers=h).json()["items"]:
        for k, v in u.items():
            if k.endswith("_at") and v is not None:
                assert DT.match(v), (k, v)
