"""梯度培育 in headless Chromium at phone width (375 px): the enterprise fills its profile, sees
its gaps, turns one into a draft need, publishes it; the broker sees why the need exists and
accepts a proposal; the enterprise sees it on its self-check; the bureau sets its 科小 target
and sees its pool against it."""
from __future__ import annotations

import re

import pytest

from tests.browser.conftest import PHONE

pytestmark = [pytest.mark.browser]

PROFILE = {
    "#f-registered_on": "2015-03-20", "#f-application_date": "2026-06-15", "#f-employees": "100",
    "#f-tech_staff": "25", "#f-main_products": "高镍三元正极材料，正极材料包覆与掺杂改性以延长电池循环寿命",
    "#f-sales_2023": "3200", "#f-sales_2024": "3600", "#f-sales_2025": "4000",
    "#f-rd_expense_2023": "150", "#f-rd_expense_2024": "170", "#f-rd_expense_2025": "180",
    "#f-rd_expense_domestic_2023": "150", "#f-rd_expense_domestic_2024": "170", "#f-rd_expense_domestic_2025": "180",
    "#f-net_assets_2023": "1000", "#f-net_assets_2024": "1200", "#f-net_assets_2025": "1500",
    "#f-conversions_2023": "2", "#f-conversions_2024": "1", "#f-conversions_2025": "3",
    "#f-total_assets": "5200", "#f-total_costs": "3500", "#f-hitech_income": "2800", "#f-total_income": "4100",
    "#f-ip_class1": "0", "#f-ip_class2": "2",
}


def _fits_phone(session) -> None:
    width = session.page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{session.page.url} is {width}px wide on a phone"


def test_self_check_gap_draft_need_proposals_and_the_bureau_pool(open_session, live, shots):
    base, acc = live
    ent = open_session(acc["enterprise"], viewport=PHONE)
    p = ent.page
    ent.go("/qualification")
    assert "还没有企业画像" in p.content()
    _fits_phone(ent)
    p.get_by_role("link", name="填写企业画像").click()
    p.wait_for_url(re.compile(r"/qualification/profile"))
    for sel, value in PROFILE.items():
        p.fill(sel, value)
    p.fill("#f-sales_2024", "三千六")
    p.get_by_label("新能源").check()
    p.get_by_label("核心技术属于《国家重点支持的高新技术领域》").check()
    p.get_by_role("button", name="保存并自测").click()
    assert "必须是以万元为单位的数字" in p.content()  # next to the field, the rest kept
    assert p.input_value("#f-sales_2023") == "3200"
    _fits_phone(ent)
    p.fill("#f-sales_2024", "3600")
    p.get_by_role("button", name="保存并自测").click()
    p.wait_for_url(re.compile(r"/qualification\?year=2026"))
    text = p.locator("main").inner_text()
    assert "评价得分 58 分" in text
    assert "研发费用占比 4.63%，需 ≥ 5%：近三年再投入约 40 万元即可达标" in text
    assert "创新能力估分" in text and "—" in p.locator("#hnte dl").inner_text()
    _fits_phone(ent)
    p.screenshot(path=str(shots / "qualification-self-check-phone.png"), full_page=False)

    # the IP gap becomes a draft need, which the enterprise checks and publishes
    p.locator('[data-need="ip"]').get_by_role("button", name="生成技术需求草稿").click()
    p.wait_for_url(re.compile(r"/problems/\d+$"))
    assert "草稿" in p.content() and "需求来源：企业梯度培育自测" in p.content()
    title = p.locator("h1").first.inner_text().strip()
    p.get_by_role("button", name="发布").click()
    p.wait_for_load_state()
    assert "已发布" in p.content()

    # the broker sees the proposals, and why the need exists
    br = open_session(acc["broker"])
    q = br.page
    items = q.locator("article.queue-item", has_text=title[:12])
    assert items.count() >= 1, q.content()[:2000]
    match_id = items.nth(0).get_attribute("id").split("-")[1]
    br.go(f"/matches/{match_id}")
    why = q.locator("#why-need").inner_text()
    assert "企业梯度培育自测" in why and "高企：缺少Ⅰ类知识产权" in why
    assert "4.63" not in why  # the enterprise's figures stay private
    br.go("/broker/queue")
    q.locator(f"#match-{match_id}").get_by_role("button", name="采纳").click()
    q.wait_for_load_state()
    assert "已采纳推荐" in q.locator(".flash").inner_text()

    # the enterprise sees the accepted proposal on its self-check
    ent.go("/qualification")
    need = p.locator('[data-need="ip"]').inner_text()
    assert "经纪人已采纳的推荐" in need
    _fits_phone(ent)

    # the bureau sets its 科小 target, then sees the pool against it
    bu = open_session(acc["bureau"], viewport=PHONE)
    b = bu.page
    bu.go("/bureau/targets?year=2026")
    b.get_by_label("指标").select_option("sme")
    b.get_by_label("年度").last.fill("2026")
    b.get_by_label("地区代码").fill("330000")  # the seeded bureau is the province (its own region)
    b.get_by_label("目标值（金额类为万元，其余为项数）").fill("5")
    b.get_by_role("button", name="保存目标").click()
    b.wait_for_load_state()
    bu.go("/bureau/pool?year=2026")
    row = b.locator('#targets tr[data-indicator="sme"]').inner_text()
    assert "5" in row and "科技型中小企业入库" in row
    assert b.locator('[data-rung="sme_candidate"] strong').inner_text() == "1"
    assert "平湖锂想新能源有限公司" in b.locator("main").inner_text()
    _fits_phone(bu)
    b.screenshot(path=str(shots / "qualification-pool-phone.png"), full_page=False)
    b.get_by_role("link", name="平湖锂想新能源有限公司").click()
    assert "评价得分 58 分" in b.locator("main").inner_text()
    assert not ent.errors and not br.errors and not bu.errors
