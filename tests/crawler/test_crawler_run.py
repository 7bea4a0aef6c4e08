"""The crawler against the fixture sites: exact listings, provenance and run counts."""
from __future__ import annotations

import hashlib

from sqlalchemy import func, select

UNIV_FIRST = {"found": 10, "new": 4, "updated": 0, "duplicate": 0, "unchanged": 0, "skipped": 5, "failed": 1}
UNIV_SECOND = {"found": 10, "new": 0, "updated": 0, "duplicate": 0, "unchanged": 8, "skipped": 1, "failed": 1}
PLATFORM_FIRST = {"found": 3, "new": 2, "updated": 0, "duplicate": 1, "unchanged": 0, "skipped": 0, "failed": 0}
DEMANDS_FIRST = {"found": 1, "new": 1, "updated": 0, "duplicate": 0, "unchanged": 0, "skipped": 0, "failed": 0}


def _crawl(name, variables):
    from crawler.config import get_source
    from crawler.engine import crawl

    return crawl(get_source(name, variables=variables))


def _reasons(summary):
    return {e["url"].rsplit("/", 1)[-1]: e["reason"] for e in summary.log}


def test_crawl_fixture_sites(crawl_settings, db, factory, sites, site_vars, enqueued):
    from core.accounts.owners import is_placeholder_code
    from core.models import (
        Achievement,
        Attachment,
        CrawlRun,
        Organization,
        Provenance,
        TechProblem,
    )

    univ, platform = sites
    institute = factory.org(kind="institute", name="示例化工研究院", region="330100")

    # ---------------------------------------------------------------- first run, university
    r1 = _crawl("fixture_univ", site_vars)
    assert r1.status == "finished"
    assert r1.counts == UNIV_FIRST
    reasons = _reasons(r1)
    assert reasons == {
        "a4.html": "robots.txt 禁止抓取",
        "a5.html": "timeout: 超时（0.5 秒）",
        "a6.html": "页面格式不符，缺少必填字段：标题",
        "a7.html": "需要登录（登录墙）",
        "a9.html": "编码错误（乱码）",
        "a10.html": "页面为空",
    }
    paths = univ.paths()
    assert "/private/a4.html" not in paths  # robots.txt obeyed
    assert paths.count("/flaky/a3.html") == 2  # 500, then retried
    assert paths.count("/slow/a5.html") == 2  # timed out twice (max_retries=1)
    assert "/files/notes.exe" not in paths  # only document attachments are fetched
    assert paths.count("/detail/a1.html?utm_source=list") == 1  # the same page linked twice, fetched once

    achievements = {a.title: a for a in db.scalars(select(Achievement))}
    assert set(achievements) == {"高镍三元正极材料表面包覆改性技术", "农作物秸秆生物质颗粒燃料成型技术",
                                 "工业废水膜生物反应器深度处理工艺", "基于机器视觉的纺织品瑕疵在线检测系统"}
    a1 = achievements["高镍三元正极材料表面包覆改性技术"]
    assert (a1.status, a1.source, a1.maturity, a1.trl, a1.fields) == ("pending_review", "crawled", "pilot", 6, ["新能源"])
    assert a1.asking_price == 800000 and str(a1.asking_price) == "800000.00"
    assert a1.transfer_modes == ["license", "transfer"] and a1.inventors == ["孙明", "李华"]
    assert a1.region == "330106" and a1.contact_phone == "0571-88888888"
    assert "百公斤级中试" in a1.body
    a2 = achievements["农作物秸秆生物质颗粒燃料成型技术"]  # GBK page, charset in the header only
    assert a2.abstract.startswith("以玉米、小麦秸秆为原料") and a2.region == "330421"
    assert a2.asking_price == 350000
    a3 = achievements["工业废水膜生物反应器深度处理工艺"]
    assert a3.fields == ["节能环保"] and a3.asking_price is None  # field_map; 面议

    # the PDF attachment's text is stored with its listing
    atts = list(db.scalars(select(Attachment).where(Attachment.owner_kind == "achievement")))
    assert [(a.owner_id, a.filename) for a in atts] == [(a1.id, "a1-report.pdf")]
    assert "循环 1000 次容量保持率 92.3%" in atts[0].extracted_text

    # owner: the source's declared university, created unapproved with a placeholder code
    owner = a1.org
    assert owner.name == "示例理工大学" and owner.approved is False and is_placeholder_code(owner.credit_code)
    assert {a.org_id for a in achievements.values()} == {owner.id}

    # new listings entered the pipeline (indexed after commit; matched once published)
    indexed = {args for name, args in enqueued if name == "techmatch.index_listing"}
    assert {("achievement", a.id) for a in achievements.values()} <= indexed

    # ---------------------------------------------------------------- platform: GBK, duplicate
    r2 = _crawl("fixture_platform", site_vars)
    assert r2.counts == PLATFORM_FIRST
    a8 = achievements["基于机器视觉的纺织品瑕疵在线检测系统"]
    provs = list(db.scalars(select(Provenance).where(Provenance.listing_id == a8.id)
                           .order_by(Provenance.id)))
    assert [(p.source, p.relation) for p in provs] == [("fixture_univ", "new"), ("fixture_platform", "duplicate")]
    assert provs[0].url == f"{univ.url}/detail/a8.html"
    assert provs[1].url == f"{platform.url}/achievements/view.html?id=b1"
    assert provs[1].similarity >= 0.9 and provs[0].published_on == "2026-01-15"
    assert provs[1].published_on == "2026-01-20"
    for p in provs:
        assert p.etag and p.etag.startswith('"') and len(p.content_hash) == 64 and p.fetched_at is not None
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Achievement)) == 6
    b2 = db.scalar(select(Achievement).where(Achievement.title == "高效催化加氢制备环己酮工艺"))
    assert b2.org_id == institute.id  # matched by name to the existing organization
    b3 = db.scalar(select(Achievement).where(Achievement.title == "钙钛矿叠层太阳能电池封装技术"))
    assert b3.org.name == "某新能源科技有限公司" and b3.org.approved is False
    assert is_placeholder_code(b3.org.credit_code) and b3.contact_phone == "13712345678"
    # the tracking parameter is not part of the canonical URL
    b3_prov = db.scalar(select(Provenance).where(Provenance.listing_id == b3.id))
    assert b3_prov.url == f"{platform.url}/achievements/view.html?id=b3"

    # ---------------------------------------------------------------- demands: a TechProblem
    r3 = _crawl("fixture_platform_demands", site_vars)
    assert r3.counts == DEMANDS_FIRST
    p = db.scalar(select(TechProblem))
    assert (p.title, p.status, p.source, p.region) == ("速冻水饺解冻后破皮率高的技术难题", "pending_review",
                                                       "crawled", "330421")
    assert p.coop_modes == ["development", "consulting"] and p.budget_max == 500000
    assert p.deadline.isoformat() == "2026-12-31" and p.fields == ["食品加工"]
    enterprise = db.get(Organization, p.org_id)
    assert (enterprise.name, enterprise.credit_code, enterprise.kind, enterprise.approved) == (
        "嘉善示例食品有限公司", "913304215555555551", "enterprise", False)

    # ---------------------------------------------------------------- second run: nothing refetched
    univ.reset_log()
    r4 = _crawl("fixture_univ", site_vars)
    assert r4.counts == UNIV_SECOND
    for path, status, conditional in univ.log:
        if path in ("/robots.txt",) or path.startswith("/slow/"):
            continue
        assert (path, status, conditional) == (path, 304, True)
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Achievement)) == 6
    runs = list(db.scalars(select(CrawlRun).order_by(CrawlRun.id)))
    assert [(r.source, r.status) for r in runs] == [("fixture_univ", "finished"), ("fixture_platform", "finished"),
                                                    ("fixture_platform_demands", "finished"),
                                                    ("fixture_univ", "finished")]
    assert runs[0].counts() == UNIV_FIRST and runs[3].counts() == UNIV_SECOND
    assert all(r.duration_seconds is not None and r.duration_seconds > 0 for r in runs)
    assert runs[0].requests == r1.requests and len(runs[0].log) == 6


def test_changed_page_updates_listing(crawl_settings, db, sites, site_vars, enqueued):
    from core.models import Achievement, Provenance

    univ, _ = sites
    first = _crawl("fixture_univ", site_vars)
    assert first.counts["new"] == 4
    page = (univ.root / "detail" / "a8.html").read_text(encoding="utf-8")
    changed = page.replace("检出率 95% 以上", "检出率 98% 以上").replace("<td>小试</td>", "<td>中试</td>")
    univ.extra["/detail/a8.html"] = (changed.encode("utf-8"), "text/html; charset=utf-8")
    second = _crawl("fixture_univ", site_vars)
    assert second.counts == {"found": 10, "new": 0, "updated": 1, "duplicate": 0, "unchanged": 7,
                             "skipped": 1, "failed": 1}
    a8 = db.scalar(select(Achievement).where(Achievement.title == "基于机器视觉的纺织品瑕疵在线检测系统"))
    assert "检出率 98% 以上" in a8.abstract and a8.maturity == "pilot"
    prov = db.scalar(select(Provenance).where(Provenance.listing_id == a8.id))
    assert prov.etag == '"' + hashlib.sha1(changed.encode("utf-8")).hexdigest() + '"'  # refreshed validators
    assert db.scalar(select(func.count()).select_from(Achievement)) == 4


def test_unchanged_content_without_conditional_get(crawl_settings, db, sites, site_vars, enqueued):
    """A server that ignores validators: the content hash still says 'unchanged'."""
    univ, _ = sites
    _crawl("fixture_univ", site_vars)
    page = (univ.root / "detail" / "a8.html").read_text(encoding="utf-8")
    # same content, new banner: a different ETag, the same extracted fields
    univ.extra["/detail/a8.html"] = (page.replace("<body>", "<body><!-- banner 2026 -->").encode("utf-8"),
                                     "text/html")
    r = _crawl("fixture_univ", site_vars)
    assert r.counts["unchanged"] == 8 and r.counts["updated"] == 0

    # --refresh: everything fetched and parsed again; the same content is still the same listing
    from crawler.config import get_source
    from crawler.engine import crawl

    univ.reset_log()
    r = crawl(get_source("fixture_univ", variables=site_vars), refresh=True)
    assert r.counts == {"found": 10, "new": 0, "updated": 0, "duplicate": 0, "unchanged": 4, "skipped": 5,
                        "failed": 1}
    # no conditional requests for pages (list and detail)
    assert [x[0] for x in univ.log if x[2] and ".html" in x[0]] == []
    assert sorted(x[0] for x in univ.log if x[1] == 200 and ".html" in x[0]
                  and not x[0].startswith("/slow/")) == sorted([
        "/list.html", "/list-2.html", "/detail/a1.html?utm_source=list", "/detail/a2.html", "/flaky/a3.html",
        "/detail/a6.html", "/detail/a7.html", "/detail/a8.html", "/detail/a9.html", "/detail/a10.html"])


def test_task_cli_and_api(crawl_settings, client, factory, login, sites, site_vars, enqueued):
    from typer.testing import CliRunner

    from core.cli import _load_plugins, app
    from core.db import session_scope
    from core.models import CrawlRun, TechProblem
    from crawler.tasks import crawl_source

    # the Celery task (eager here) runs one source by name; the URL comes from the environment
    result = crawl_source.apply(args=["fixture_platform_demands"]).get()
    assert (result["source"], result["status"], result["new"], result["found"]) == (
        "fixture_platform_demands", "finished", 1, 1)

    # the CLI: a second run, nothing new
    _load_plugins()
    out = CliRunner().invoke(app, ["crawl", "fixture_platform_demands"])
    assert out.exit_code == 0, out.output
    assert "未变化" in out.output and "fixture_platform_demands" in out.output
    out = CliRunner().invoke(app, ["crawl", "no_such_source"])
    assert out.exit_code == 1 and "找不到采集来源" in out.output

    # a run still going: the scheduled task does not start a second one
    with session_scope() as s:
        s.add(CrawlRun(source="fixture_platform_demands", status="running", log=[], error=""))
    assert crawl_source.apply(args=["fixture_platform_demands"]).get()["skipped"] == "already running"

    bureau = factory.user("bureau")
    r = client.get("/api/crawler/runs?source=fixture_platform_demands", headers=login(bureau))
    assert r.status_code == 200
    runs = r.json()
    assert [(x["status"], x["new"], x["unchanged"]) for x in runs] == [
        ("running", 0, 0), ("finished", 0, 1), ("finished", 1, 0)]
    with session_scope() as s:
        pid = s.scalar(select(TechProblem.id))
    r = client.get(f"/api/crawler/provenance/problem/{pid}", headers=login(bureau))
    assert r.status_code == 200
    prov = r.json()
    assert [(p["source"], p["relation"], p["url"]) for p in prov] == [
        ("fixture_platform_demands", "new", f"{site_vars['FIXTURE_PLATFORM']}/demands/d1.html")]
    enterprise = factory.user("enterprise")
    assert client.get("/api/crawler/runs", headers=login(enterprise)).status_code == 403
    # the crawled problem is pending review: other organizations do not see it, nor its provenance
    assert client.get(f"/api/crawler/provenance/problem/{pid}", headers=login(enterprise)).status_code == 404


def test_forbidden_non_html_and_closed_listing(crawl_settings, db, enqueued):
    """Pages behind 401/403 are login walls; links to non-HTML are not pages; a listing the
    bureau closed is not updated from its page."""
    import httpx

    from core.listings import service as listings
    from core.models import Achievement
    from crawler.config import parse_source
    from crawler.engine import crawl
    from crawler.fetch import Fetcher

    body = {"v": "通过原子层沉积氧化铝包覆高镍正极颗粒表面，循环 1000 次容量保持率 90% 以上。"}

    def handler(request):
        path = request.url.path
        if path == "/robots.txt":
            return httpx.Response(404)
        if path == "/list.html":
            links = "".join(f'<li><a href="{p}">x</a></li>' for p in ("/ok.html", "/members.html", "/file.pdf"))
            return httpx.Response(200, html=f"<ul>{links}</ul>")
        if path == "/members.html":
            return httpx.Response(403, text="forbidden")
        if path == "/file.pdf":
            return httpx.Response(200, content=b"%PDF-1.4 ...", headers={"Content-Type": "application/pdf"})
        return httpx.Response(200, html=f"<h1>高镍正极包覆技术</h1><div class='a'>{body['v']}</div>")

    src = parse_source("""
kind: achievement
start_urls: ["http://mock.test/list.html"]
list: {items: li}
fields: {title: h1::text, abstract: div.a}
required: [title, abstract]
defaults: {maturity: lab}
region: "330106"
""", name="mock")

    def run():
        return crawl(src, fetcher=Fetcher(transport=httpx.MockTransport(handler), delay=0, max_retries=0))

    r = run()
    assert r.counts == {"found": 3, "new": 1, "updated": 0, "duplicate": 0, "unchanged": 0, "skipped": 2, "failed": 0}
    assert {e["reason"] for e in r.log} == {"需要登录（HTTP 403）", "不是网页（application/pdf）"}
    a = db.scalar(select(Achievement))
    assert a.org.name == "mock（采集来源）" and a.org.approved is False  # the per-source placeholder owner
    listings.transition(db, None, "achievement", a.id, "closed", "bureau rejected it")
    db.commit()
    body["v"] = body["v"] + "新增中试数据。"
    r = run()
    assert r.counts["updated"] == 0 and r.counts["skipped"] == 3
    assert "未更新：已关闭的科技成果不能修改" in {e["reason"] for e in r.log}
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Achievement)) == 1
