"""What a newcomer meets first: offline API docs, the favicon, HEAD / for uptime checks."""
from __future__ import annotations

import re


def test_api_docs_pages_load_only_local_assets(client):
    for url in ("/api/docs", "/api/redoc"):
        r = client.get(url)
        assert r.status_code == 200
        refs = re.findall(r'(?:src|href|spec-url|data-openapi)="([^"]+)"', r.text)
        assert refs and all(ref.startswith("/") and not ref.startswith("//") for ref in refs), refs
        assert "<script>" not in r.text and "<style>" not in r.text  # no inline code (CSP 'self')
        for ref in refs:
            assert client.get(ref).status_code == 200, ref
    js = client.get("/api/docs-assets/vendor/swagger-ui-bundle.js")
    assert "SwaggerUIBundle" in js.text[:200000] and "javascript" in js.headers["content-type"]


def test_favicon_and_head_of_home(client):
    r = client.get("/favicon.ico")
    assert r.status_code == 200 and r.headers["content-type"] == "image/x-icon" and r.content[:4] == b"\0\0\1\0"
    assert client.get("/static/favicon.svg").status_code == 200
    assert 'rel="icon"' in client.get("/").text
    h = client.head("/")
    assert h.status_code == 200 and h.content == b""


def test_enterprise_problem_page_says_what_happens_next(client, db, factory, web_login, no_listing_tasks):
    from core.matches import service as M

    ent, uni = factory.user("enterprise"), factory.user("university")
    p = factory.problem(ent)
    a = factory.achievement(uni)
    web_login(ent)
    text = client.get(f"/problems/{p.id}").text
    assert "正在为这条信息匹配科技成果" in text and "相似技术需求" not in text
    assert "相关科技成果与专家" in text
    M.propose_many(db, [dict(problem=p, achievement=a, score=0.8, features={}, reasons={}, rank=1)])
    db.commit()
    text = client.get(f"/problems/{p.id}").text
    assert "系统已找到 1 项可能匹配的科技成果，正由技术经纪人审核" in text
    assert "经纪人已采纳 0 项" in text and "暂无推荐" not in text
    assert a.title not in text  # the owner does not see a proposal before a broker accepted it


def test_nothing_to_propose_says_what_the_enterprise_can_do(client, db, factory, web_login, no_listing_tasks):
    from datetime import timedelta

    ent = factory.user("enterprise")
    p = factory.problem(ent)
    p.published_at = p.published_at - timedelta(hours=1)
    db.commit()
    web_login(ent)
    text = client.get(f"/problems/{p.id}").text
    assert "暂未找到与这条信息足够匹配的科技成果" in text
    assert f"/problems/{p.id}/edit" in text and "/search?kind=achievement" in text


def test_a_form_with_errors_says_the_chosen_file_must_be_chosen_again(client, factory, web_login, csrf,
                                                                      no_listing_tasks):
    ent = factory.user("enterprise")
    web_login(ent)
    token = csrf("/problems/new")
    r = client.post("/problems/new", data={"csrf_token": token, "title": "", "action": "publish"},
                    files={"files": ("工艺说明.txt", "正极材料包覆工艺说明".encode(), "text/plain")})
    assert r.status_code == 422
    assert "您选择的附件（工艺说明.txt）尚未保存" in r.text and "重新选择" in r.text
    r = client.post("/problems/new", data={"csrf_token": token, "title": "", "action": "publish"})
    assert r.status_code == 422 and "尚未保存" not in r.text


def test_contract_list_filter_offers_the_labels_of_its_status_column(client, db, factory, web_login):
    bureau = factory.user("bureau")
    web_login(bureau)
    text = client.get("/bureau/contracts").text
    select = text[text.index('id="c-status"'):]
    select = select[:select.index("</select>")]
    for label in ("已登记", "已变更", "已终止", "有效（已登记、已变更）"):
        assert f">{label}</option>" in select


def test_region_tree_for_the_picker(client):
    r = client.get("/regions.json")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    tree = r.json()
    zj = next(p for p in tree if p[0] == "330000")
    assert zj[1] == "浙江省"
    jx = next(c for c in zj[2] if c[0] == "330400")
    assert jx[1] == "嘉兴市" and ["330421", "嘉善县"] in jx[2]
    henan = next(p for p in tree if p[0] == "410000")
    assert any(c[0] == "419001" and c[2] == [] for c in henan[2])  # 济源市, directly under the province
    from core import regions

    n = sum(1 + len(c[2]) for p in tree for c in p[2]) + len(tree)
    assert n == len(regions.all_codes())  # every code is reachable


def test_new_listing_form_starts_in_the_orgs_region_with_the_picker(client, factory, web_login):
    ent = factory.user("enterprise", org=factory.org(kind="enterprise", region="330421"))
    web_login(ent)
    text = client.get("/problems/new").text
    i = text.index('id="f-region"')
    tag = text[text.rindex("<input", 0, i):text.index(">", i)]
    assert 'value="330421"' in tag and "data-region-picker" in tag
    assert '/static/js/regions.js' in text
