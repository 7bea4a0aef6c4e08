"""Pages and API: the enterprise form (万元) and self-check, gaps → draft need, the bureau's pool,
its XLSX export (formula-safe) and import (row-level errors)."""
from __future__ import annotations

import io

import pytest
from openpyxl import Workbook, load_workbook

from tests.conftest import auth_headers
from tests.qualification.profiles import raw
from tests.web.conftest import csrf_of, page_login


@pytest.fixture
def world(factory):
    bureau_org = factory.org(kind="bureau", region="330400", name="嘉兴市科学技术局")
    far_bureau_org = factory.org(kind="bureau", region="330600", name="绍兴市科学技术局")
    ent = factory.org(region="330421", name="=HYPERLINK(\"x\")平湖企业", industry="新能源")
    return {"ent": ent, "ent_user": factory.user("enterprise", org=ent),
            "bureau": factory.user("bureau", org=bureau_org),
            "far_bureau": factory.user("bureau", org=far_bureau_org),
            "other_ent": factory.user("enterprise")}


FORM = {
    "evaluation_year": "2026", "registered_on": "2015-03-20", "application_date": "2026-06-15",
    "resident": "1", "employees": "100", "tech_staff": "25", "main_products": "高镍三元正极材料",
    "tech_fields": "新能源", "sales_2023": "3200", "sales_2024": "3600", "sales_2025": "4000",
    "rd_expense_2023": "150", "rd_expense_2024": "170", "rd_expense_2025": "180",
    "rd_expense_domestic_2023": "150", "rd_expense_domestic_2024": "170", "rd_expense_domestic_2025": "180",
    "net_assets_2023": "1000", "net_assets_2024": "1200", "net_assets_2025": "1500",
    "conversions_2023": "2", "conversions_2024": "1", "conversions_2025": "3",
    "total_assets": "5200", "total_costs": "3500", "hitech_income": "2800", "total_income": "4100",
    "ip_class1": "0", "ip_class2": "2", "field_supported": "1",
}


def test_enterprise_form_self_check_and_draft_need(client, world):
    page_login(client, world["ent_user"])
    assert "还没有企业画像" in client.get("/qualification").text
    bad = dict(FORM, sales_2024="abc", csrf_token=csrf_of(client, "/qualification/profile"))
    r = client.post("/qualification/profile", data=bad)
    assert r.status_code == 422 and "必须是以万元为单位的数字" in r.text and 'value="abc"' in r.text
    r = client.post("/qualification/profile", data=dict(FORM, csrf_token=csrf_of(client, "/qualification/profile")),
                    follow_redirects=False)
    assert r.status_code == 303
    page = client.get("/qualification").text
    assert "评价得分 58 分" in page and "研发费用占比 4.63%，需 ≥ 5%：近三年再投入约 40 万元即可达标" in page
    assert "生成技术需求草稿" in page
    # The form shows what was saved, in 万元.
    assert 'value="3600"' in client.get("/qualification/profile").text
    r = client.post("/qualification/needs/rd?year=2026", data={"csrf_token": csrf_of(client, "/qualification")},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/problems/")
    detail = client.get(r.headers["location"]).text
    assert "寻求技术开发合作" in detail and "需求来源：企业梯度培育自测" in detail
    assert "查看并发布" in client.get("/qualification").text


def test_only_the_enterprise_and_its_bureau_see_the_profile(client, world, db):
    from core.qualification import service as Q
    from core.qualification.schemas import StoredProfileIn, parse_profile

    Q.save_profile(db, None, world["ent"].id, parse_profile(raw(), StoredProfileIn))
    db.commit()
    path = f"/bureau/pool/{world['ent'].id}"
    page_login(client, world["bureau"])
    assert "科技型中小企业" in client.get(path).text
    client.cookies.clear()
    page_login(client, world["far_bureau"])
    assert client.get(path).status_code == 404
    client.cookies.clear()
    page_login(client, world["other_ent"])
    assert client.get(path).status_code == 403
    assert client.get("/bureau/pool").status_code == 403
    h = auth_headers(client, world["other_ent"])
    assert client.get(f"/api/qualification/orgs/{world['ent'].id}", headers=h).status_code == 404
    h = auth_headers(client, world["bureau"])
    body = client.get(f"/api/qualification/orgs/{world['ent'].id}", headers=h).json()
    assert body["sme"]["eligible"] is True and body["profile"]["sales"]["2025"] == "4000"


def test_pool_page_export_is_formula_safe(client, world, db):
    from core.models import IndicatorTarget

    db.add(IndicatorTarget(indicator="hnte", year=2026, region="330400", target_count=7))
    db.commit()
    page_login(client, world["bureau"])
    page = client.get("/bureau/pool?year=2026").text
    assert "高新技术企业参评" in page and ">7<" in page and "未评估" in page
    r = client.get("/bureau/pool.xlsx?year=2026")
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.content)).active
    cell = ws["A2"]
    assert cell.value.startswith("=HYPERLINK") and cell.data_type == "s"


def _xlsx(rows: list[list]) -> bytes:
    from core.qualification.exports import columns

    wb = Workbook()
    ws = wb.active
    ws.append([h for h, _, _ in columns()])
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_bureau_import_with_row_errors(db, world, factory):
    from core.qualification import exports as qx
    from core.qualification import service as Q

    good = [world["ent"].credit_code, 2026, "2026-06-15", "2015-03-20", "是", 100, 30,
            3200, 3600, 4000, 200, 200, 240, 200, 200, 240, 1000, 1200, 1500, 2, 2, 2,
            5200, 3500, 2800, 4100, 1, 2, "是", "否", "否", "否", "否", "否", "否", "否", "否", "锂电池"]
    bad_amount = list(good)
    bad_amount[8] = "三千六"           # 销售收入 第二年
    far = factory.org(region="330602", name="越城企业")
    outside = list(good)
    outside[0] = far.credit_code
    data = _xlsx([good, bad_amount, outside])
    report = qx.import_profiles(db, world["bureau"], data, "p.xlsx")
    assert report.status == "rejected" and report.imported == 0
    errs = {(e["row"], e["column"]) for e in report.errors}
    assert (3, "销售收入（万元）第二年") in errs and (4, "统一社会信用代码") in errs
    report = qx.import_profiles(db, world["bureau"], data, "p.xlsx", partial=True)
    assert report.status == "partial" and report.imported == 1
    p = Q.get_profile(db, world["bureau"], world["ent"].id, 2026)
    assert p.source == "imported" and p.years[1].sales is not None and p.sme_eligible


def test_api_assess_and_save(client, world):
    h = auth_headers(client, world["ent_user"])
    r = client.post("/api/qualification/assess", json=raw(id="x", sales={"2023": "1", "2024": "abc", "2025": "1"}),
                    headers=h)
    assert r.status_code == 422 and r.json()["error"]["field"] == "sales.2024"
    r = client.post("/api/qualification/assess", json=raw(id="x"), headers=h)
    assert r.status_code == 200 and r.json()["hnte"]["rd_ratio"] == "0.0593"  # 640 / 10,800
    r = client.put(f"/api/qualification/orgs/{world['ent'].id}", json=raw(main_products="电池"), headers=h)
    assert r.status_code == 200 and r.json()["sme"]["eligible"] is True
    other = auth_headers(client, world["other_ent"])
    assert client.put(f"/api/qualification/orgs/{world['ent'].id}", json=raw(), headers=other).status_code == 403
    b = auth_headers(client, world["bureau"])
    pool = client.get("/api/qualification/pool?year=2026", headers=b).json()
    rungs = {r["org_id"]: r["rung"] for r in pool["rows"]}
    assert rungs[world["ent"].id] == "hnte_candidate" and rungs[world["other_ent"].org_id] == "not_assessed"
