"""Region filters and region fields start where the user's organization is (issue 17): the
dashboard and the contract list open on a bureau's jurisdiction (a county bureau its county, a
city bureau its city), the region pickers of the dashboard, targets and events stay inside it,
and a bad region code from a form or a filter is refused in Chinese."""
from __future__ import annotations

import re
from datetime import date

from tests.contract_helpers import contract_data
from tests.web.conftest import csrf_of


def _input(html: str, input_id: str) -> str:
    """The <input> tag with that id."""
    i = html.index(f'id="{input_id}"')
    return html[html.rindex("<input", 0, i):html.index(">", i) + 1]


def _value(tag: str) -> str:
    return re.search(r'value="([^"]*)"', tag).group(1)


def _selected_side(html: str) -> str:
    select = html[html.index('id="c-side"'):]
    return re.search(r'<option value="(\w+)" selected>', select[:select.index("</select>")]).group(1)


def _total(html: str) -> int:
    return int(re.search(r"共 (\d+) 份", html).group(1))


def _bureaus(factory):
    city = factory.user("bureau", org=factory.org("bureau", region="330400", name="嘉兴市科学技术局"))
    county = factory.user("bureau", org=factory.org("bureau", region="330421", name="嘉善县科学技术局"))
    return city, county


def _contracts(db):
    from core.contracts import service as contracts

    year = date.today().year
    on = date(year, 1, 2)

    def reg(n, seller, buyer, authority="330400"):
        return contracts.register(db, None, contract_data(
            reg_number=f"{year}{authority}{n:06d}", registered_on=on, signed_on=on,
            seller={"name": f"卖方{n}", "region": seller, "party_type": "enterprise"},
            buyer={"name": f"买方{n}", "region": buyer, "party_type": "enterprise"}))

    out = {"jiashan_sells": reg(901, "330421", "330106"),  # 嘉善 sells to 杭州
           "haining_buys": reg(902, "330106", "330481"),  # 海宁 buys from 杭州
           "registered_here": reg(903, "110101", "310101")}  # outside parties, registered by 嘉兴
    db.commit()
    return out


def test_dashboard_opens_on_the_bureaus_own_region_and_its_picker_stays_inside(client, factory, web_login):
    city, county = _bureaus(factory)
    year = date.today().year
    for user, code, name in ((city, "330400", "嘉兴市"), (county, "330421", "嘉善县")):
        web_login(user)
        r = client.get(f"/bureau/dashboard?year={year}")
        assert r.status_code == 200 and name in re.search(r"<h1>(.*?)</h1>", r.text, re.S).group(1)
        tag = _input(r.text, "d-region")
        assert _value(tag) == code and f'data-region-within="{code}"' in tag and "data-region-picker" in tag
        assert f"region={code}" in r.text  # the exports are for the same region
    web_login(city)  # a city bureau picks one of its counties
    r = client.get(f"/bureau/dashboard?year={year}&region=330421")
    assert _value(_input(r.text, "d-region")) == "330421" and "嘉善县" in r.text
    admin = factory.user("admin")
    web_login(admin)
    tag = _input(client.get(f"/bureau/dashboard?year={year}").text, "d-region")
    assert _value(tag) == "" and "data-region-within" not in tag  # every region, no bound
    r = client.get(f"/bureau/dashboard?year={year}&region=33012x")
    assert r.status_code == 422 and "行政区划代码 33012x 不存在" in r.text


def test_contract_list_opens_on_the_jurisdiction_on_any_side(client, db, factory, web_login):
    city, county = _bureaus(factory)
    c = _contracts(db)
    web_login(city)
    r = client.get("/bureau/contracts")
    assert r.status_code == 200
    assert _value(_input(r.text, "c-region")) == "330400" and _selected_side(r.text) == "any"
    assert "data-region-picker" in _input(r.text, "c-region")
    assert _total(r.text) == 3  # every contract the city bureau sees: either party or registered here
    assert "region=330400" in r.text and "side=any" in r.text  # the downloads carry the same filter
    csv_rows = client.get("/bureau/exports/contracts.csv").content.decode("utf-8-sig").splitlines()
    assert sum(c["registered_here"].reg_number in row for row in csv_rows) == 1
    # narrowing by side and county; a cleared region is every visible contract again
    r = client.get("/bureau/contracts?region=330481&side=any")
    assert _total(r.text) == 1 and c["haining_buys"].reg_number in r.text
    r = client.get("/bureau/contracts?region=330400&side=seller")
    assert _total(r.text) == 1 and c["jiashan_sells"].reg_number in r.text
    r = client.get("/bureau/contracts?region=&side=seller")
    assert _total(r.text) == 3 and _value(_input(r.text, "c-region")) == ""
    assert 'contracts.csv?region=&amp;side=seller"' in r.text  # and the downloads stay cleared

    web_login(county)
    r = client.get("/bureau/contracts")
    assert _value(_input(r.text, "c-region")) == "330421" and _total(r.text) == 1
    assert c["jiashan_sells"].reg_number in r.text
    # a county bureau may look at the other party's region among the contracts it sees
    r = client.get("/bureau/contracts?region=330100&side=buyer")
    assert _total(r.text) == 1 and c["jiashan_sells"].reg_number in r.text


def test_contract_list_refuses_a_bad_region_in_chinese(client, db, factory, web_login):
    city, _ = _bureaus(factory)
    web_login(city)
    for bad, words in (("33040", "行政区划代码应为 6 位数字"), ("abcdef", "行政区划代码应为 6 位数字"),
                       ("339999", "行政区划代码 339999 不存在")):
        r = client.get(f"/bureau/contracts?region={bad}")
        assert r.status_code == 422 and words in r.text, (bad, r.status_code)
        assert client.get(f"/bureau/exports/contracts.csv?region={bad}").status_code == 422
    r = client.get("/bureau/contracts?region=330400&side=both")
    assert r.status_code == 422 and "地区口径" in r.text


def test_admin_contract_list_has_no_region_and_enterprises_have_no_list(client, db, factory, web_login):
    _contracts(db)
    web_login(factory.user("admin"))
    r = client.get("/bureau/contracts")
    assert _value(_input(r.text, "c-region")) == "" and _total(r.text) == 3
    web_login(factory.user("enterprise", org=factory.org(kind="enterprise", region="330421")))
    assert client.get("/bureau/contracts").status_code == 403
    assert client.get("/bureau/dashboard").status_code == 403


def test_targets_and_events_pick_inside_the_jurisdiction(client, factory, web_login):
    city, county = _bureaus(factory)
    year = date.today().year
    for user, code in ((city, "330400"), (county, "330421")):
        web_login(user)
        for path in (f"/bureau/targets?year={year}", f"/bureau/events?year={year}"):
            tag = _input(client.get(path).text, "f-region")
            assert _value(tag) == code and "data-region-picker" in tag and f'data-region-within="{code}"' in tag

    web_login(county)
    token = csrf_of(client, f"/bureau/targets?year={year}")
    base = {"csrf_token": token, "indicator": "contract_turnover", "year": str(year), "target": "100"}
    for bad, words in (("3304", "行政区划代码应为 6 位数字"), ("339999", "不存在")):
        r = client.post("/bureau/targets", data={**base, "region": bad})
        assert r.status_code == 422 and words in r.text, r.text[-2000:]
        assert _value(_input(r.text, "f-region")) == bad  # shown again as typed
    r = client.post("/bureau/targets", data={**base, "region": "330481"})  # 海宁: the city's, not the county's
    assert r.status_code in (403, 422) and "不在您的管辖范围" in r.text
    ev = {"csrf_token": token, "title": "储能技术对接会", "kind": "matchmaking", "held_on": f"{year}-01-05"}
    r = client.post("/bureau/events", data={**ev, "region": "33042"})
    assert r.status_code == 422 and "行政区划代码应为 6 位数字" in r.text
    r = client.post("/bureau/events", data={**ev, "region": "330421"}, follow_redirects=False)
    assert r.status_code == 303


def test_contract_form_offers_the_picker_for_both_parties_and_refuses_a_bad_code(client, factory, web_login):
    city, _ = _bureaus(factory)
    web_login(city)
    text = client.get("/contracts/new").text
    for side, label in (("seller", "卖方地区代码"), ("buyer", "买方地区代码")):
        assert "data-region-picker" in _input(text, f"f-{side}.region")
        assert f'<label for="f-{side}.region">{label}</label>' in text
    today = date.today()
    r = client.post("/contracts/new", data={
        "csrf_token": csrf_of(client, "/contracts/new"), "reg_number": f"{today.year}330400000777",
        "project_name": "储能变流器控制技术开发", "contract_type": "development", "sub_type": "entrusted",
        "signed_on": today.isoformat(), "registered_on": today.isoformat(), "total_amount": "10",
        "tech_amount": "8", "field": "新能源",
        "seller.name": "浙北理工大学", "seller.region": "33a106", "seller.party_type": "university",
        "buyer.name": "嘉善甲公司", "buyer.region": "330421", "buyer.party_type": "enterprise"})
    assert r.status_code == 422 and "行政区划代码应为 6 位数字" in r.text
    assert _value(_input(r.text, "f-seller.region")) == "33a106"
