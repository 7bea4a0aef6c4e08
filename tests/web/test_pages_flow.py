"""Broker and bureau pages over the real services (TestClient; the browser tests walk the
same journeys in Chromium)."""
from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal

from openpyxl import load_workbook
from sqlalchemy import select

from core.models import Match
from tests.web.conftest import csrf_of
from tests.web.fixtures import ACHIEVEMENTS, PROBLEM


def _setup(factory):
    ent = factory.user("enterprise", org=factory.org("enterprise", region="330421", name="平湖锂想新能源"))
    uni = factory.user("university", org=factory.org("university", region="330106", name="浙北理工大学"))
    uni2 = factory.user("university", org=factory.org("university", region="320102", name="江南食品研究院"))
    broker = factory.user("broker", name="经纪人甲")
    bureau = factory.user("bureau", name="科技局")
    achs = [factory.achievement(uni2 if "保鲜" in a["title"] else uni, **a) for a in ACHIEVEMENTS]
    return ent, uni, broker, bureau, achs


def test_broker_review_introduce_and_bureau_contract(client, db, factory, web_login):
    ent, uni, broker, bureau, achs = _setup(factory)
    problem = factory.problem(ent, **PROBLEM)
    rows = list(db.scalars(select(Match).where(Match.problem_id == problem.id).order_by(Match.score.desc())))
    assert len(rows) >= 2, "two battery achievements should be proposed"
    top, second = rows[0], rows[1]

    # the enterprise sees no proposals yet (none accepted)
    web_login(ent)
    assert "经纪人已采纳的推荐" not in client.get("/my/problems").text

    web_login(broker)
    page = client.get("/broker/queue")
    assert page.status_code == 200 and problem.title in page.text and "推荐理由" not in page.text
    assert top.reasons["summary"][:10] in page.text
    token = csrf_of(client, "/broker/queue")
    # reject without a reason: refused with a message, nothing changes
    r = client.post(f"/broker/matches/{second.id}/reject", data={"csrf_token": token, "return_to": "/broker/queue"})
    assert "请选择驳回原因" in client.get(r.headers.get("location", "/broker/queue")).text if r.status_code == 303 else True
    db.expire_all()
    assert db.get(Match, second.id).status == "proposed"
    # bulk: without a reason nothing is rejected and the page says why; with one it goes through
    r = client.post("/broker/bulk", data={"csrf_token": token, "action": "reject", "ids": [str(second.id)]})
    assert "0 条推荐" in r.text and "请选择驳回原因" in r.text
    r = client.post("/broker/bulk", data={"csrf_token": token, "action": "reject", "ids": [str(second.id)],
                                          "reason_code": "maturity", "comment": "需要中试验证"})
    assert "已驳回 1 条推荐" in r.text
    db.expire_all()
    assert db.get(Match, second.id).status == "rejected" and db.get(Match, second.id).reject_reason == "maturity"
    # the match page's reject form is the queue's: a reason must be chosen
    assert f'<select id="reason-{top.id}" name="reason_code" required' in client.get(f"/matches/{top.id}").text
    r = client.post(f"/broker/matches/{top.id}/accept", data={"csrf_token": token})
    assert "已采纳推荐" in r.text
    listing = client.get(f"/problems/{problem.id}").text
    assert f'<a href="/matches/{top.id}">查看对接详情</a>' in listing
    page = client.get(f"/matches/{top.id}")
    assert "介绍对接" in page.text and problem.title in page.text and top.achievement.title in page.text
    assert "10.00–50.00万元" in page.text  # budget shown in 万元
    r = client.post(f"/broker/matches/{top.id}/introduce", data={"csrf_token": token, "comment": "请尽快联系"})
    assert "已介绍双方对接" in r.text
    board = client.get("/broker/pipeline")
    assert board.status_code == 200 and problem.title in board.text

    # the enterprise now sees the accepted proposal and the other side's contact
    web_login(ent)
    mine = client.get("/my/problems").text
    assert "经纪人已采纳的推荐" in mine
    assert "查看对接详情" not in client.get(f"/problems/{problem.id}").text  # the owner is no reviewer
    other = db.get(Match, top.id).achievement
    detail = client.get(f"/matches/{top.id}").text
    assert other.contact_phone in detail
    assert client.get(f"/matches/{second.id}").status_code == 404  # rejected: not shown to parties

    # bureau registers the contract for the match; dashboard and XLSX move by that amount
    web_login(bureau)
    year = date.today().year
    before = client.get(f"/bureau/dashboard?year={year}")
    assert before.status_code == 200
    m0 = re.search(r'id="kpi-turnover" data-wan="([^"]+)"', before.text)
    assert m0, before.text[:500]
    token = csrf_of(client, f"/contracts/new?match_id={top.id}")
    form = {"csrf_token": token, "match_id": str(top.id), "reg_number": f"{year}330400000123",
            "project_name": "正极材料包覆改性技术许可", "contract_type": "license",
            "signed_on": date.today().isoformat(), "registered_on": date.today().isoformat(),
            "total_amount": "58.5", "tech_amount": "50", "field": "新能源"}
    bad = client.post("/contracts/new", data=dict(form, tech_amount="60"))
    assert bad.status_code == 422 and "技术交易额不能大于合同成交额" in bad.text
    r = client.post("/contracts/new", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    assert "58.50万元" in client.get(r.headers["location"]).text
    after = client.get(f"/bureau/dashboard?year={year}")
    m1 = re.search(r'id="kpi-turnover" data-wan="([^"]+)"', after.text)
    assert Decimal(m1.group(1)) - Decimal(m0.group(1)) == Decimal("58.50")
    x = client.get(f"/bureau/exports/indicators.xlsx?year={year}")
    assert x.status_code == 200 and x.headers["content-type"].startswith("application/vnd.openxml")
    wb = load_workbook(io.BytesIO(x.content))
    ws = wb.worksheets[0]
    row = next(r for r in ws.iter_rows(values_only=True) if r[0] == "技术合同成交额（输出）")
    assert Decimal(str(row[1])) == Decimal(m1.group(1))
    lst = client.get("/bureau/contracts")
    assert f"{year}330400000123" in lst.text
    c = client.get("/bureau/exports/contracts.csv")
    assert c.status_code == 200 and "正极材料包覆改性技术许可" in c.content.decode("utf-8-sig")


def test_contract_refusal_is_an_error_page_not_a_form_error(client, factory, web_login):
    """A broker may register contracts only for their own matches: posting the form without
    one is a refusal (403 page), not an input error shown on the form."""
    broker = factory.user("broker")
    web_login(broker)
    today = date.today().isoformat()
    r = client.post("/contracts/new", data={
        "csrf_token": csrf_of(client, "/broker/queue"), "reg_number": f"{date.today().year}330400000999",
        "project_name": "未关联撮合的技术许可", "contract_type": "license", "signed_on": today,
        "registered_on": today, "total_amount": "10", "tech_amount": "8", "field": "新能源"})
    assert r.status_code == 403 and "技术经纪人只能为分配给自己的撮合登记合同" in r.text


def test_bureau_targets_events_accounts(client, db, factory, web_login):
    bureau = factory.user("bureau")
    web_login(bureau)
    year = date.today().year
    token = csrf_of(client, "/bureau/targets")
    r = client.post("/bureau/targets", data={"csrf_token": token, "indicator": "contract_turnover",
                                             "year": str(year), "region": "330400", "target": "abc"})
    assert r.status_code == 422 and "请输入数字金额" in r.text
    r = client.post("/bureau/targets", data={"csrf_token": token, "indicator": "contract_turnover",
                                             "year": str(year), "region": "330400", "target": "5000"})
    assert r.status_code == 200 and "5,000.00万元" in r.text
    dash = client.get(f"/bureau/dashboard?year={year}")
    assert "目标完成进度" in dash.text and "5,000.00万元" in dash.text
    r = client.post("/bureau/events", data={"csrf_token": token, "title": "新能源供需对接会", "kind": "matchmaking",
                                            "held_on": date.today().isoformat(), "region": "330400",
                                            "attendance": "120", "enterprises": "30", "matches_made": "5"})
    assert r.status_code == 200 and "新能源供需对接会" in r.text
    r = client.post("/bureau/events", data={"csrf_token": token, "title": "x", "held_on": "2026-13-01",
                                            "region": "330400"})
    assert r.status_code == 422
    pending = factory.org("university", name="待批研究院")
    pending.approved = False
    db.commit()
    acc = client.get("/bureau/accounts")
    assert acc.status_code == 200 and "待批研究院" in acc.text
    assert "<title>账号审核 · techmatch</title>" in acc.text and acc.text.count("待审核单位") == 1
    assert client.get("/bureau/import").status_code == 200
    t = client.get("/bureau/import/template.xlsx?kind=problem")
    assert t.status_code == 200 and len(t.content) > 1000


def test_registration_then_approval(client, db, factory, web_login):
    from tests.conftest import make_credit_code

    token = csrf_of(client, "/register")
    r = client.post("/register", data={"csrf_token": token, "org.kind": "university", "org.name": "浙江农林研究院",
                                   "org.credit_code": make_credit_code(777, category="12"), "org.region": "330106",
                                   "name": "赵老师", "email": "zhao@example.com", "password": "copper-lantern-42",
                                   "password2": "copper-lantern-42"})
    assert r.status_code == 200, re.findall(r'field-error[^>]*>([^<]+)', r.text)
    bureau = factory.user("bureau")
    web_login(bureau)
    page = client.get("/bureau/accounts")
    assert "zhao@example.com" in page.text
    uid = re.search(r'/bureau/accounts/(\d+)/approve', page.text).group(1)
    r = client.post(f"/bureau/accounts/{uid}/approve", data={"csrf_token": csrf_of(client, "/bureau/accounts")})
    assert "已通过" in r.text
    client.cookies.clear()
    token = csrf_of(client, "/login")
    r = client.post("/login", data={"email": "zhao@example.com", "password": "copper-lantern-42", "csrf_token": token},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/my/achievements"


def test_bureau_reviews_imported_listing(client, db, factory, web_login):
    from core import hooks
    from core.listings import service as listings
    from core.listings.schemas import ProblemIn

    hooks.suppress(db)
    org = factory.org("enterprise")
    p = listings.create(db, None, "problem", ProblemIn(title="导入的需求：印染废水处理", region="330421",
                                                       description="印染废水 COD 偏高，需要深度处理工艺。"),
                        org_id=org.id, status="pending_review", source="imported")
    db.commit()
    assert client.get(f"/problems/{p.id}").status_code == 404  # not public yet
    ent = factory.user("enterprise")
    web_login(ent)
    assert client.get("/bureau/review").status_code == 403
    web_login(factory.user("bureau"))
    page = client.get("/bureau/review")
    assert "导入的需求：印染废水处理" in page.text
    r = client.post(f"/problems/{p.id}/status", data={"csrf_token": csrf_of(client, "/bureau/review"),
                                                      "status": "published", "return_to": "/bureau/review"})
    assert r.status_code == 200 and "状态已更新" in r.text
    db.expire_all()
    assert db.get(type(p), p.id).status == "published"
    client.cookies.clear()
    assert client.get(f"/problems/{p.id}").status_code == 200
