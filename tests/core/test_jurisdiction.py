"""Jurisdiction: a role × action × region matrix (issue 12 §1).

The world: a city bureau 嘉兴 (330400), its county 海宁 (330481), another city 绍兴 (330600), an
admin, and two organizations of every other role (one in 嘉兴's area, one in 绍兴's). Every cell
says whether the actor may do the action on the object; the test compares the whole matrix so
that a failure lists every wrong cell.
"""
from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from core.errors import NotFound, PermissionDenied
from tests.conftest import auth_headers

DENIED = (PermissionDenied, NotFound)
PASSWORD = "Jx-password-2026!"

# Prefixes spelled out here (not computed by the code under test).
AREA = {"admin": "", "bureau_jx": "3304", "bureau_hn": "330481", "bureau_sx": "3306"}
ACTORS = ("admin", "bureau_jx", "bureau_hn", "bureau_sx", "ent_hn", "ent_sx", "uni_jx", "uni_sx",
          "broker_jx", "broker_sx")


def _contract(reg_number, seller, buyer, name):
    return dict(reg_number=reg_number, project_name=name, contract_type="development", sub_type="entrusted",
                signed_on=date(2026, 3, 1), registered_on=date(2026, 3, 2), seller=seller, buyer=buyer,
                total_amount=Decimal("100000.00"), tech_amount=Decimal("80000.00"), field="新能源")


@pytest.fixture
def world(db, factory):
    from core.accounts import service as accounts
    from core.accounts.schemas import RegistrationIn
    from core.contracts import service as contracts
    from core.events import service as events
    from core.indicators import service as indicators
    from tests.conftest import make_credit_code

    orgs = {
        "bureau_jx": factory.org("bureau", region="330400", name="嘉兴市科学技术局"),
        "bureau_hn": factory.org("bureau", region="330481", name="海宁市科学技术局"),
        "bureau_sx": factory.org("bureau", region="330600", name="绍兴市科学技术局"),
        "ent_hn": factory.org("enterprise", region="330481", name="海宁甲公司"),
        "ent_sx": factory.org("enterprise", region="330602", name="越城乙公司"),
        "uni_jx": factory.org("university", region="330402", name="嘉兴丙学院"),
        "uni_sx": factory.org("university", region="330602", name="绍兴丁大学"),
        "broker_jx": factory.org("broker_agency", region="330402", name="嘉兴技术转移中心"),
        "broker_sx": factory.org("broker_agency", region="330602", name="绍兴技术转移中心"),
    }
    role = {"bureau_jx": "bureau", "bureau_hn": "bureau", "bureau_sx": "bureau", "ent_hn": "enterprise",
            "ent_sx": "enterprise", "uni_jx": "university", "uni_sx": "university", "broker_jx": "broker",
            "broker_sx": "broker"}
    users = {k: factory.user(role[k], org=orgs[k], password=PASSWORD, name=k) for k in role}
    users["admin"] = factory.user("admin", org=orgs["bureau_jx"], password=PASSWORD, name="admin")

    party = {k: {"org_id": orgs[k].id} for k in orgs}
    cs = {
        # registered by 嘉兴, seller in 海宁: 海宁 sees it but may not change it
        "c_jx": _contract("2026330400000001", party["ent_hn"],
                          {"name": "杭州甲公司", "region": "330106", "party_type": "enterprise"}, "嘉兴登记"),
        # registered by 海宁
        "c_hn": _contract("2026330481000001", party["ent_hn"], party["uni_jx"], "海宁登记"),
        # registered by 嘉兴, both parties in 嘉兴 but outside 海宁
        "c_city": _contract("2026330400000002", party["uni_jx"],
                            {"name": "南湖甲公司", "region": "330411", "party_type": "enterprise"}, "市本级"),
        # registered by 绍兴
        "c_sx": _contract("2026330600000001", party["uni_sx"],
                          {"name": "杭州乙公司", "region": "330106", "party_type": "enterprise"}, "绍兴登记"),
    }
    contract_ids = {k: contracts.register(db, None, v).id for k, v in cs.items()}
    pending = {}
    for i, (key, region) in enumerate((("pend_hn", "330481"), ("pend_jx", "330402"), ("pend_sx", "330602"))):
        u = accounts.register(db, RegistrationIn.model_validate({
            "org": {"kind": "enterprise", "name": f"待审{key}", "credit_code": make_credit_code(900 + i, region),
                    "region": region},
            "email": f"{key}@example.com", "password": PASSWORD, "name": key}))
        pending[key] = u.id
    event_ids = {}
    for region in ("330402", "330481", "330602"):
        ev = events.create(db, None, {"title": f"对接会{region}", "held_on": date(2026, 4, 1), "region": region})
        event_ids[region] = ev.id
    for region in ("330400", "330481", "330600"):
        indicators.set_target(db, None, {"indicator": "contract_turnover", "year": 2026, "region": region,
                                         "target": Decimal("1000000")})
    db.commit()
    return {"users": users, "contracts": contract_ids, "pending": pending, "events": event_ids, "orgs": orgs}


def _attempt(db, fn) -> bool:
    """True when the action is allowed; every attempt is rolled back (the world stays)."""
    try:
        fn()
        return True
    except DENIED:
        return False
    finally:
        db.rollback()


def _compare(actual: dict, expected: dict) -> None:
    wrong = [f"{k}: expected {expected[k]!r}, got {actual[k]!r}" for k in expected if actual[k] != expected[k]]
    assert not wrong, "\n".join(wrong)


VISIBLE = {
    "admin": {"c_jx", "c_hn", "c_city", "c_sx"},
    "bureau_jx": {"c_jx", "c_hn", "c_city"},
    "bureau_hn": {"c_jx", "c_hn"},
    "bureau_sx": {"c_sx"},
    "ent_hn": {"c_jx", "c_hn"}, "ent_sx": set(),
    "uni_jx": {"c_hn", "c_city"}, "uni_sx": {"c_sx"},
    "broker_jx": set(), "broker_sx": set(),
}
CHANGEABLE = {
    "admin": {"c_jx", "c_hn", "c_city", "c_sx"},
    "bureau_jx": {"c_jx", "c_hn", "c_city"},
    "bureau_hn": {"c_hn"},
    "bureau_sx": {"c_sx"},
}


def test_contracts_seen_listed_exported_and_changed_by_jurisdiction(db, world):
    from core.contracts import exports as contract_exports
    from core.contracts import service as contracts

    names = {v: k for k, v in world["contracts"].items()}
    actual, expected = {}, {}
    for a in ACTORS:
        u = world["users"][a]
        items, total = contracts.list_for(db, u)
        actual[(a, "list")] = {names[c.id] for c in items}
        expected[(a, "list")] = VISIBLE[a]
        if a in ("admin", "bureau_jx", "bureau_hn", "bureau_sx"):
            content, _, _ = contract_exports.export_contracts(db, u, fmt="csv")
            rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))[1:-1]
            actual[(a, "export")] = {names[world["contracts"][k]] for k in world["contracts"]
                                     if any(r[0] == _reg(db, world["contracts"][k]) for r in rows)}
            expected[(a, "export")] = VISIBLE[a]
        for key, cid in world["contracts"].items():
            actual[(a, "get", key)] = _attempt(db, lambda cid=cid, u=u: contracts.get_for(db, u, cid))
            expected[(a, "get", key)] = key in VISIBLE[a]
            may = key in CHANGEABLE.get(a, set())
            actual[(a, "amend", key)] = _attempt(
                db, lambda cid=cid, u=u: contracts.amend(db, u, cid, {"reason": "补充协议", "note": "变更"}))
            expected[(a, "amend", key)] = may
            actual[(a, "terminate", key)] = _attempt(
                db, lambda cid=cid, u=u: contracts.terminate(db, u, cid, {"reason": "合同解除"}))
            expected[(a, "terminate", key)] = may
            c = contracts.get(db, cid)
            actual[(a, "can_amend", key)] = contracts.can_amend(u, c)
            expected[(a, "can_amend", key)] = may
    _compare(actual, expected)


def _reg(db, cid):
    from core.contracts import service as contracts

    return contracts.get(db, cid).reg_number


def test_contracts_api_list_and_export_follow_jurisdiction(client, db, world):
    for a, n in (("admin", 4), ("bureau_jx", 3), ("bureau_hn", 2), ("bureau_sx", 1)):
        h = auth_headers(client, world["users"][a], PASSWORD)
        assert client.get("/api/contracts", headers=h).json()["total"] == n, a
        r = client.get("/api/contracts/export.csv", headers=h)
        assert r.status_code == 200
        assert len(r.content.decode("utf-8-sig").strip().splitlines()) == n + 2, a  # header + rows + 合计
    h = auth_headers(client, world["users"]["bureau_hn"], PASSWORD)
    cid = world["contracts"]["c_jx"]
    assert client.get(f"/api/contracts/{cid}", headers=h).status_code == 200
    r = client.post(f"/api/contracts/{cid}/terminate", json={"reason": "合同解除"}, headers=h)
    assert r.status_code == 403, r.text
    sx = world["contracts"]["c_sx"]
    assert client.get(f"/api/contracts/{sx}", headers=h).status_code == 404


REGIONS = ("330000", "330400", "330481", "330600")
MAY_SET = {"admin": set(REGIONS), "bureau_jx": {"330400", "330481"}, "bureau_hn": {"330481"},
           "bureau_sx": {"330600"}}


def test_targets_and_events_set_only_for_own_region_and_below(db, world):
    from core.events import service as events
    from core.indicators import service as indicators

    actual, expected = {}, {}
    for a in ACTORS:
        u = world["users"][a]
        for region in REGIONS:
            actual[(a, "target", region)] = _attempt(db, lambda u=u, r=region: indicators.set_target(
                db, u, {"indicator": "contract_turnover", "year": 2026, "region": r, "target": "5000000"}))
            expected[(a, "target", region)] = region in MAY_SET.get(a, set())
            actual[(a, "event", region)] = _attempt(db, lambda u=u, r=region: events.create(
                db, u, {"title": "路演活动", "held_on": "2026-05-01", "region": r}))
            # Brokers record events too; they are not bound to a bureau's region.
            expected[(a, "event", region)] = region in MAY_SET.get(a, set()) or a.startswith("broker")
        for region, eid in world["events"].items():
            actual[(a, "event_update", region)] = _attempt(
                db, lambda u=u, eid=eid: events.update(db, u, eid, {"note": "更新"}))
            expected[(a, "event_update", region)] = a in AREA and region.startswith(AREA[a])
        # Moving an event out of the jurisdiction is refused too.
        if a == "bureau_hn":
            actual[(a, "event_move_out")] = _attempt(
                db, lambda u=u: events.update(db, u, world["events"]["330481"], {"region": "330602"}))
            expected[(a, "event_move_out")] = False
    _compare(actual, expected)


def test_lists_of_events_targets_accounts_and_dashboards_inside_jurisdiction(db, world):
    from core.accounts import service as accounts
    from core.events import service as events
    from core.indicators import service as indicators
    from core.models import User

    actual, expected = {}, {}
    all_users = list(db.query(User))
    for a in ("admin", "bureau_jx", "bureau_hn", "bureau_sx"):
        u, area = world["users"][a], AREA[a]
        items, _ = events.list_events(db, u)
        actual[(a, "events")] = {e.region for e in items}
        expected[(a, "events")] = {r for r in world["events"] if r.startswith(area)}
        actual[(a, "targets")] = {t["region"] for t in indicators.targets(db, u, 2026)}
        expected[(a, "targets")] = {r for r in ("330400", "330481", "330600") if r.startswith(area)}
        listed, total = accounts.list_users(db, u, size=100)
        actual[(a, "users")] = {x.id for x in listed}
        expected[(a, "users")] = {x.id for x in all_users if x.org.region.startswith(area)}
        s = indicators.summary(db, u, 2026)
        actual[(a, "dashboard_region")] = s["region"]
        expected[(a, "dashboard_region")] = {"admin": None, "bureau_jx": "330400", "bureau_hn": "330481",
                                             "bureau_sx": "330600"}[a]
        for region in ("330400", "330481", "330600"):
            actual[(a, "summary", region)] = _attempt(db, lambda u=u, r=region: indicators.summary(db, u, 2026, r))
            expected[(a, "summary", region)] = region.startswith(area)
            actual[(a, "export", region)] = _attempt(db, lambda u=u, r=region: __import__(
                "core.indicators.exports", fromlist=["x"]).export_indicators(db, u, 2026, r, "csv"))
            expected[(a, "export", region)] = region.startswith(area)
    # The dashboard's figures are the bureau's own: 海宁 counts only 海宁 sellers.
    s = indicators.summary(db, world["users"]["bureau_hn"], 2026, as_of=date(2026, 12, 31))
    actual["hn_output_count"] = s["contracts"]["count"]
    expected["hn_output_count"] = 2  # c_jx and c_hn (seller 海宁甲公司)
    _compare(actual, expected)


def test_accounts_approved_and_managed_only_inside_jurisdiction(db, world):
    from core.accounts import service as accounts

    actual, expected = {}, {}
    for a in ACTORS:
        u = world["users"][a]
        for key, uid in world["pending"].items():
            region = {"pend_hn": "330481", "pend_jx": "330402", "pend_sx": "330602"}[key]
            actual[(a, "approve", key)] = _attempt(db, lambda u=u, uid=uid: accounts.decide_registration(
                db, u, uid, True))
            expected[(a, "approve", key)] = a in AREA and region.startswith(AREA[a])
        target = world["users"]["ent_sx"]
        actual[(a, "deactivate_sx")] = _attempt(db, lambda u=u: accounts.set_active(db, u, target.id, False))
        expected[(a, "deactivate_sx")] = a in ("admin", "bureau_sx")
    _compare(actual, expected)
