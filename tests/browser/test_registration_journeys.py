"""Browser journeys of 技术合同认定登记 at 375 px: a university applies on a phone and the county
bureau registers it (certificate, dashboard); an application over the threshold goes through expert
review; a refused application does not count."""
from __future__ import annotations

import re
from datetime import date

import pytest

from tests.browser.conftest import PHONE

pytestmark = pytest.mark.browser


def _fits_phone(session) -> None:
    width = session.page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{session.page.url} is {width}px wide on a phone"


def _submit(locator) -> None:
    """Click a form button and wait for the page it leads to (POST, then redirect)."""
    with locator.page.expect_navigation():
        locator.click()
    flash = locator.page.locator(".flash.error")
    if flash.count():
        print("flash:", flash.inner_text())


def _apply(s, name: str, total_wan: str, costs: list[tuple[str, str, str]] = ()) -> str:
    """Fill in and submit an application as the logged-in seller; returns its URL."""
    p = s.page
    s.go("/registration")
    p.locator("#apply").click()
    p.wait_for_url(re.compile(r"/registration/new"))
    _fits_phone(s)
    p.get_by_label("项目名称").fill(name)
    p.get_by_label("合同类型").select_option("development")
    p.get_by_label("合同子类").select_option("entrusted")
    p.get_by_label("合同成交额（万元）").fill(total_wan)
    p.get_by_label("单位名称").fill("平湖锂想新能源有限公司")
    p.get_by_label("所在地区代码").fill("330482")
    p.get_by_label("单位类型").select_option("enterprise")
    for i, (cat, desc, wan) in enumerate(costs):
        p.locator(f'[name="cost{i}.category"]').select_option(cat)
        p.locator(f'[name="cost{i}.description"]').fill(desc)
        p.locator(f'[name="cost{i}.amount"]').fill(wan)
    p.get_by_role("button", name="保存申请").click()
    p.wait_for_url(re.compile(r"/registration/\d+$"))
    # the completeness check names what is missing: the contract text
    assert "合同文本" in p.locator("#missing").inner_text()
    p.get_by_role("link", name="修改申请").click()
    p.wait_for_url(re.compile(r"/registration/\d+/edit$"))
    p.get_by_label("合同文本", exact=True).fill("委托开发合同：乙方委托甲方开发高镍正极包覆工艺……")
    p.get_by_role("button", name="保存申请").click()
    p.wait_for_url(re.compile(r"/registration/\d+$"))
    assert p.locator("#complete").is_visible()
    _submit(p.locator("#submit-app"))
    assert p.locator("#app-status").inner_text() == "待受理"
    return p.url.removeprefix(s.base)


def _count(s) -> int:
    s.go(f"/bureau/dashboard?year={date.today().year}&region=330421")
    return int(s.page.locator("#kpi-count").inner_text().removesuffix("项"))


def _accept(s, url: str) -> None:
    s.go(url)
    _submit(s.page.locator("#accept"))
    assert s.page.locator("#app-status").inner_text() == "审查中"


def test_university_applies_on_a_phone_and_the_county_bureau_registers(open_session, live, shots, tmp_path):
    _, acc = live
    uni = open_session(acc["county_university"], viewport=PHONE)
    url = _apply(uni, "高镍正极包覆工艺委托开发", "80", [("materials", "样品原材料", "10.5")])
    uni.page.screenshot(path=str(shots / "registration-apply-phone.png"), full_page=True)

    office = open_session(acc["county_bureau"], viewport=PHONE)
    before = _count(office)
    office.go("/registration")
    assert "剩余" not in office.page.locator("#queue").inner_text()  # not accepted yet: 待受理
    _accept(office, url)
    office.go("/registration")
    assert "剩余 15个工作日" in office.page.locator("#queue").inner_text()
    office.go(url)
    _fits_phone(office)
    _submit(office.page.locator("#assess"))
    assert "69.5" in office.page.locator("#tech-amount").inner_text()  # 80 − 10.5 万元
    _submit(office.page.locator("#register"))
    assert office.page.locator("#app-status").inner_text() == "已登记"
    reg_number = office.page.locator("#reg-number").inner_text()
    assert re.fullmatch(rf"{date.today().year}330421\d{{6}}", reg_number)
    assert _count(office) == before + 1

    # the seller downloads the certificate on the phone
    uni.go(url)
    with uni.page.expect_download() as dl:
        uni.page.locator("#certificate").click()
    path = tmp_path / "cert.pdf"
    dl.value.save_as(path)
    data = path.read_bytes()
    assert data.startswith(b"%PDF")
    from pypdf import PdfReader

    text = PdfReader(path).pages[0].extract_text()
    assert reg_number in text
    assert uni.page.locator("#flag-vat").inner_text().startswith("增值税免征：可享受（参考）")
    assert not uni.errors and not office.errors


def test_over_the_threshold_goes_through_expert_review(open_session, live):
    _, acc = live
    uni = open_session(acc["county_university"], viewport=PHONE)
    url = _apply(uni, "固态电解质中试技术开发", "600")
    office = open_session(acc["county_bureau"], viewport=PHONE)
    _accept(office, url)
    p = office.page
    _submit(p.locator("#assess"))
    assert p.locator("#expert-required").is_visible()
    _submit(p.locator("#register"))
    assert "专家评审" in p.locator(".flash").inner_text()
    assert p.locator("#app-status").inner_text() == "审查中"
    p.get_by_label("评审专家（每行一位：姓名，单位）").fill("张教授，浙北理工大学\n李研究员，江南材料研究院")
    _submit(p.locator("#assign-experts"))
    assert p.locator("#app-status").inner_text() == "专家评审"
    for name in ("张教授", "李研究员"):
        p.get_by_label(f"{name}的评审结论").select_option("agree")
        p.get_by_label(f"{name}的评审意见").fill("属于技术开发合同，技术交易额核定无误。")
        _submit(p.locator(".expert", has_text=name).get_by_role("button", name="记录意见"))
    _submit(p.locator("#register"))
    assert p.locator("#app-status").inner_text() == "已登记"
    assert not office.errors


def test_a_refused_application_does_not_count(open_session, live):
    _, acc = live
    uni = open_session(acc["county_university"], viewport=PHONE)
    url = _apply(uni, "设备采购及安装", "120", [("equipment", "生产线设备", "110")])
    office = open_session(acc["county_bureau"], viewport=PHONE)
    before = _count(office)
    _accept(office, url)
    p = office.page
    p.get_by_label("不予登记原因").select_option("not_technology")
    p.get_by_label("不予登记说明").fill("合同标的为设备买卖，不属于技术合同。")
    _submit(p.locator("#refuse"))
    assert p.locator("#app-status").inner_text() == "不予登记"
    assert _count(office) == before
    uni.go(url)
    assert "不属于技术合同" in uni.page.locator("#refusal").inner_text()
    assert uni.page.locator("#certificate").count() == 0
