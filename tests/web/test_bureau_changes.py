"""Bureau pages that change registered records: contract amendment (变更) and termination (终止),
event edit and delete — over the real services, on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from core.contracts import service as contracts
from core.events import service as events
from core.models.contracts import Contract, ContractAmendment
from core.models.events import Event
from tests.web.conftest import csrf_of


class _FormFields(HTMLParser):
    """What a browser would submit from the form posting to `action` (inputs, selects, textareas)."""

    def __init__(self, action: str):
        super().__init__()
        self.action, self.inside, self.fields = action, False, {}
        self._select = self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("action") == self.action
        elif not self.inside:
            return
        elif tag == "input" and a.get("name"):
            self.fields[a["name"]] = a.get("value") or ""
        elif tag == "select":
            self._select = a["name"]
            self.fields[self._select] = ""
        elif tag == "option" and self._select and "selected" in a:
            self.fields[self._select] = a.get("value") or ""
        elif tag == "textarea":
            self._textarea = a["name"]
            self.fields[self._textarea] = ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.fields[self._textarea] += data


def form_fields(html: str, action: str) -> dict:
    p = _FormFields(action)
    p.feed(html)
    assert p.fields, f"no form posting to {action}"
    return p.fields


def _contract(db, bureau, **kw) -> Contract:
    data = dict(reg_number="2026330400000001", project_name="高镍三元正极材料包覆改性技术开发",
                contract_type="development", sub_type="entrusted", signed_on=date(2026, 3, 1),
                registered_on=date(2026, 3, 15), total_amount=Decimal("1000000"), tech_amount=Decimal("800000"),
                seller={"name": "浙北理工大学", "region": "330106", "party_type": "university"},
                buyer={"name": "平湖锂想新能源有限公司", "region": "330482", "party_type": "enterprise"},
                field="新能源")
    data.update(kw)
    c = contracts.register(db, bureau, data)
    db.commit()
    return c


def _state(db, contract_id: int) -> tuple:
    """What must not move when a change is refused."""
    db.expire_all()
    c = db.get(Contract, contract_id)
    n = db.scalar(select(func.count()).select_from(ContractAmendment))
    return c.status, c.total_amount, c.tech_amount, c.project_name, c.terminated_on, n


@pytest.fixture
def bureau(factory):
    return factory.user("bureau", name="张科长")


def test_amend_contract_records_who_why_what_with_exact_amounts(client, db, bureau, web_login):
    c = _contract(db, bureau)
    web_login(bureau)
    detail = client.get(f"/contracts/{c.id}")
    assert f'href="/contracts/{c.id}/amend"' in detail.text and f'href="/contracts/{c.id}/terminate"' in detail.text
    page = client.get(f"/contracts/{c.id}/amend")
    assert page.status_code == 200
    data = form_fields(page.text, f"/contracts/{c.id}/amend")
    # the form shows the stored contract, amounts in exact 万元
    assert (data["total_amount"], data["tech_amount"], data["seller.name"]) == ("100", "80", "浙北理工大学")
    data.update(total_amount="120.0001", tech_amount="96.123456", reason="签订补充协议，增加中试验证内容")
    r = client.post(f"/contracts/{c.id}/amend", data=data, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/contracts/{c.id}", r.text

    db.expire_all()
    c = db.get(Contract, c.id)
    assert c.status == "amended"
    assert c.total_amount == Decimal("1200001.00") and c.tech_amount == Decimal("961234.56")
    [a] = c.amendments
    assert a.actor_id == bureau.id and a.reason == "签订补充协议，增加中试验证内容"
    # only what the user changed is recorded (the unchanged fields the form sent back are not)
    assert a.changes == {"total_amount": ["1000000.00", "1200001.00"], "tech_amount": ["800000.00", "961234.56"]}

    page = client.get(f"/contracts/{c.id}").text
    assert "技术合同 2026330400000001 已变更" in page  # flash
    history = page[page.index('id="history"'):]
    assert "张科长" in history and "签订补充协议，增加中试验证内容" in history
    assert "<td>合同成交额</td><td>100.00万元</td><td>120.0001万元</td>" in history
    assert "<td>技术交易额</td><td>80.00万元</td><td>96.123456万元</td>" in history

    # a party and a date change show with labels and readable values
    data = form_fields(client.get(f"/contracts/{c.id}/amend").text, f"/contracts/{c.id}/amend")
    data.update({"buyer.region": "330421", "valid_to": "2027-12-31", "reason": "买方迁址"})
    r = client.post(f"/contracts/{c.id}/amend", data=data, follow_redirects=False)
    assert r.status_code == 303, r.text
    db.expire_all()
    c = db.get(Contract, c.id)
    assert c.buyer_region == "330421" and c.total_amount == Decimal("1200001.00")
    assert set(c.amendments[-1].changes) == {"buyer_region", "valid_to"}  # 120.0001 万元 shown exactly
    history = client.get(f"/contracts/{c.id}").text
    assert "<td>买方地区</td><td>浙江省嘉兴市平湖市（330482）</td>" in history
    assert "<td>有效期止</td><td>（空）</td><td>2027-12-31</td>" in history

    # fields the POST does not carry are kept (only what is sent is replaced)
    r = client.post(f"/contracts/{c.id}/amend", data={"csrf_token": data["csrf_token"], "tech_amount": "70",
                                                       "reason": "核减技术交易额"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    db.expire_all()
    c = db.get(Contract, c.id)
    assert c.tech_amount == Decimal("700000.00") and c.valid_to == date(2027, 12, 31)
    assert c.amendments[-1].changes == {"tech_amount": ["961234.56", "700000.00"]}


def test_amend_bad_input_is_shown_on_the_form_and_nothing_changes(client, db, bureau, web_login):
    c = _contract(db, bureau)
    web_login(bureau)
    form = form_fields(client.get(f"/contracts/{c.id}/amend").text, f"/contracts/{c.id}/amend")
    before = _state(db, c.id)

    # 技术交易额 > 成交额 (the merged contract is checked with the registration rules)
    r = client.post(f"/contracts/{c.id}/amend", data=dict(form, tech_amount="150", reason="调整技术交易额"))
    assert r.status_code == 422
    assert "技术交易额不能大于合同成交额" in r.text
    assert 'value="150"' in r.text and "调整技术交易额" in r.text  # the input is kept
    assert _state(db, c.id) == before

    # no reason
    r = client.post(f"/contracts/{c.id}/amend", data=dict(form, total_amount="90"))
    assert r.status_code == 422
    assert 'id="err-reason"' in r.text and "必填项不能为空" in r.text and 'value="90"' in r.text
    assert _state(db, c.id) == before

    # an amount that is not a number, a cleared required field, nothing changed
    r = client.post(f"/contracts/{c.id}/amend", data=dict(form, total_amount="九十", reason="更正金额"))
    assert r.status_code == 422 and 'id="err-total_amount"' in r.text and "请输入数字金额" in r.text
    r = client.post(f"/contracts/{c.id}/amend", data=dict(form, project_name="", reason="更正名称"))
    assert r.status_code == 422 and 'id="err-project_name"' in r.text and "必填项不能为空" in r.text
    r = client.post(f"/contracts/{c.id}/amend", data=dict(form, reason="仅核对"))
    assert r.status_code == 422 and "没有需要变更的内容" in r.text
    assert _state(db, c.id) == before


def test_terminate_then_amending_is_refused(client, db, bureau, web_login):
    c = _contract(db, bureau)
    web_login(bureau)
    page = client.get(f"/contracts/{c.id}/terminate")
    assert page.status_code == 200 and "确认终止" in page.text
    token = csrf_of(client, f"/contracts/{c.id}/terminate")
    before = _state(db, c.id)
    r = client.post(f"/contracts/{c.id}/terminate", data={"csrf_token": token, "terminated_on": "2026-06-01"})
    assert r.status_code == 422 and 'id="err-reason"' in r.text and "必填项不能为空" in r.text
    r = client.post(f"/contracts/{c.id}/terminate", data={"csrf_token": token, "terminated_on": "2026-02-01",
                                                           "reason": "日期填错"})
    assert r.status_code == 422 and "终止日期不能早于签订日期" in r.text and "日期填错" in r.text
    assert _state(db, c.id) == before

    r = client.post(f"/contracts/{c.id}/terminate", data={"csrf_token": token, "terminated_on": "2026-06-01",
                                                           "reason": "双方协商解除合同"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/contracts/{c.id}"
    db.expire_all()
    c = db.get(Contract, c.id)
    assert c.status == "terminated" and c.terminated_on == date(2026, 6, 1)
    assert c.termination_reason == "双方协商解除合同"

    page = client.get(f"/contracts/{c.id}").text
    assert "已终止" in page and "2026-06-01" in page and "双方协商解除合同" in page
    assert f"/contracts/{c.id}/amend" not in page and f"/contracts/{c.id}/terminate" not in page
    assert "<strong>终止</strong>" in page[page.index('id="history"'):]

    # the service refuses further changes; the pages say so and nothing is written
    after = _state(db, c.id)
    r = client.get(f"/contracts/{c.id}/amend")
    assert r.status_code == 409 and "已终止的合同不能变更" in r.text
    r = client.post(f"/contracts/{c.id}/amend", data={"csrf_token": token, "total_amount": "1",
                                                       "reason": "终止后变更"})
    assert r.status_code == 409 and "已终止的合同不能变更" in r.text
    r = client.post(f"/contracts/{c.id}/terminate", data={"csrf_token": token, "reason": "再次终止"})
    assert r.status_code == 409 and "合同已终止" in r.text
    assert _state(db, c.id) == after


def test_other_roles_cannot_amend_or_terminate(client, db, factory, bureau, web_login):
    ent = factory.user("enterprise")
    c = _contract(db, bureau, buyer={"org_id": ent.org_id})  # the enterprise is a party: it may read it
    broker = factory.user("broker")
    before = _state(db, c.id)
    for user in (ent, broker):
        web_login(user)
        token = csrf_of(client, "/")
        if user is ent:
            page = client.get(f"/contracts/{c.id}")
            assert page.status_code == 200 and "变更登记" not in page.text and "终止合同" not in page.text
        for path in (f"/contracts/{c.id}/amend", f"/contracts/{c.id}/terminate"):
            r = client.get(path)
            assert r.status_code == 403 and "无权访问" in r.text, (user.role, path)
            r = client.post(path, data={"csrf_token": token, "total_amount": "1", "reason": "越权操作"})
            assert r.status_code == 403, (user.role, path)
    assert _state(db, c.id) == before


def test_contract_and_event_changes_require_csrf(client, db, bureau, web_login):
    c = _contract(db, bureau)
    ev = events.create(db, bureau, {"title": "新能源供需对接会", "held_on": date(2026, 4, 1), "region": "330400"})
    db.commit()
    web_login(bureau)
    before = _state(db, c.id)
    for path, data in ((f"/contracts/{c.id}/amend", {"total_amount": "1", "reason": "无令牌变更"}),
                       (f"/contracts/{c.id}/terminate", {"reason": "无令牌终止"}),
                       (f"/bureau/events/{ev.id}/edit", {"title": "被篡改的活动", "held_on": "2026-04-01",
                                                         "region": "330400", "kind": "matchmaking"}),
                       (f"/bureau/events/{ev.id}/delete", {})):
        r = client.post(path, data=data)
        assert r.status_code == 403 and "刷新页面" in r.text, path
        r = client.post(path, data=dict(data, csrf_token="forged"))
        assert r.status_code == 403, path
    assert _state(db, c.id) == before
    db.expire_all()
    assert db.get(Event, ev.id).title == "新能源供需对接会"


def test_event_edit_and_delete(client, db, bureau, web_login):
    ev = events.create(db, bureau, {"title": "新能源供需对接会", "kind": "matchmaking", "held_on": date(2026, 4, 1),
                                    "region": "330400", "attendance": 120, "enterprises": 30, "matches_made": 5})
    db.commit()
    eid = ev.id
    web_login(bureau)
    listing = client.get("/bureau/events?year=2026").text
    assert f'href="/bureau/events/{eid}/edit"' in listing and f'href="/bureau/events/{eid}/delete"' in listing
    form = form_fields(client.get(f"/bureau/events/{eid}/edit").text, f"/bureau/events/{eid}/edit")
    assert (form["title"], form["attendance"], form["held_on"]) == ("新能源供需对接会", "120", "2026-04-01")

    r = client.post(f"/bureau/events/{eid}/edit", data=dict(form, title="", attendance="150"))
    assert r.status_code == 422 and 'id="err-title"' in r.text and "必填项不能为空" in r.text
    assert 'value="150"' in r.text
    r = client.post(f"/bureau/events/{eid}/edit", data=dict(form, attendance="-3"))
    assert r.status_code == 422 and 'id="err-attendance"' in r.text and "不能小于 0" in r.text
    db.expire_all()
    assert (db.get(Event, eid).title, db.get(Event, eid).attendance) == ("新能源供需对接会", 120)

    r = client.post(f"/bureau/events/{eid}/edit", data=dict(form, title="新能源与储能供需对接会",
                                                              attendance="150", venue=""), follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/bureau/events?year=2026"
    db.expire_all()
    e = db.get(Event, eid)
    assert (e.title, e.attendance, e.enterprises, e.matches_made) == ("新能源与储能供需对接会", 150, 30, 5)
    assert "已修改对接活动“新能源与储能供需对接会”" in client.get("/bureau/events?year=2026").text

    # delete: a confirmation page first (GET deletes nothing), then the POST
    page = client.get(f"/bureau/events/{eid}/delete")
    assert page.status_code == 200 and "确认删除" in page.text and "新能源与储能供需对接会" in page.text
    assert form_fields(page.text, f"/bureau/events/{eid}/delete")["csrf_token"]
    db.expire_all()
    assert db.get(Event, eid) is not None
    r = client.post(f"/bureau/events/{eid}/delete", data={"csrf_token": csrf_of(client, "/bureau/events")},
                    follow_redirects=False)
    assert r.status_code == 303
    db.expire_all()
    assert db.get(Event, eid) is None
    page = client.get(r.headers["location"]).text
    assert "已删除对接活动“新能源与储能供需对接会”" in page and f"/bureau/events/{eid}/edit" not in page
    assert client.get(f"/bureau/events/{eid}/edit").status_code == 404


def test_event_edit_and_delete_refused_for_other_roles(client, db, factory, web_login):
    broker = factory.user("broker")
    # even an event the broker recorded: the bureau events pages are the bureau's
    ev = events.create(db, broker, {"title": "成果路演", "kind": "roadshow", "held_on": date(2026, 5, 1),
                                    "region": "330400"})
    db.commit()
    for user in (broker, factory.user("enterprise")):
        web_login(user)
        token = csrf_of(client, "/")
        assert client.get(f"/bureau/events/{ev.id}/edit").status_code == 403
        assert client.get(f"/bureau/events/{ev.id}/delete").status_code == 403
        r = client.post(f"/bureau/events/{ev.id}/edit", data={"csrf_token": token, "title": "改名的路演",
                                                              "kind": "roadshow", "held_on": "2026-05-01",
                                                              "region": "330400"})
        assert r.status_code == 403 and "无权访问" in r.text
        r = client.post(f"/bureau/events/{ev.id}/delete", data={"csrf_token": token})
        assert r.status_code == 403
    db.expire_all()
    assert db.get(Event, ev.id).title == "成果路演"
