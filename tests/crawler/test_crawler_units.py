"""Units of the crawler: fetching policy, charsets, parsing, dedup, values, sources, schedule."""
from __future__ import annotations

import time
from decimal import Decimal

import httpx
import pytest

# ----------------------------------------------------------------------------- fetching

def _fetcher(handler, **kw):
    from crawler.fetch import Fetcher

    kw.setdefault("delay", 0)
    kw.setdefault("timeout", 1)
    kw.setdefault("max_retries", 2)
    kw.setdefault("backoff_base", 0.01)
    return Fetcher(transport=httpx.MockTransport(handler), **kw)


def test_retries_on_429_and_5xx_with_backoff(monkeypatch):
    import crawler.fetch

    calls, waits = [], []
    monkeypatch.setattr(crawler.fetch.time, "sleep", lambda s: waits.append(round(s, 4)))

    def handler(request):
        calls.append(time.monotonic())
        if len(calls) == 1:
            return httpx.Response(429, headers={"Retry-After": "3"})
        if len(calls) == 2:
            return httpx.Response(503)
        return httpx.Response(200, text="ok", headers={"ETag": '"x"'})

    f = _fetcher(handler)
    r = f.get("http://example.test/a")
    assert r.ok and r.attempts == 3 and r.etag == '"x"' and f.requests == 3
    # Retry-After (3 s) beats the first backoff step; then base * 2**1
    assert waits == [3.0, 0.02]
    waits.clear()
    calls.clear()
    calls.append(0)  # the next request gets 503, then 200
    f.get("http://example.test/b")
    assert waits == [0.01]


def test_no_retry_on_404_and_gives_up_after_max_retries():
    n = []

    def handler(request):
        n.append(1)
        return httpx.Response(404 if "missing" in str(request.url) else 500)

    f = _fetcher(handler, max_retries=2)
    assert f.get("http://example.test/missing").error == "HTTP 404" and len(n) == 1
    r = f.get("http://example.test/broken")
    assert r.error == "HTTP 500" and r.attempts == 3 and len(n) == 4


def test_size_limit_and_conditional_headers():
    seen = {}

    def handler(request):
        seen.update(request.headers)
        if request.headers.get("if-none-match") == '"v1"':
            return httpx.Response(304)
        return httpx.Response(200, content=b"x" * 5000)

    f = _fetcher(handler, max_bytes=1000)
    r = f.get("http://example.test/big")
    assert r.error.startswith("too_large") and not r.ok
    r = f.get("http://example.test/big", etag='"v1"', last_modified="Thu, 01 Jan 2026 00:00:00 GMT")
    assert r.not_modified and seen["if-modified-since"] == "Thu, 01 Jan 2026 00:00:00 GMT"
    assert seen["user-agent"]


def test_robots_rules():
    def handler(request):
        host = request.url.host
        if request.url.path == "/robots.txt":
            if host == "a.test":
                return httpx.Response(200, text="User-agent: *\nDisallow: /private/\n")
            if host == "b.test":
                return httpx.Response(404)
            if host == "c.test":
                return httpx.Response(403)
            return httpx.Response(503)
        return httpx.Response(200, text="ok")

    f = _fetcher(handler, max_retries=0)
    assert f.allowed("http://a.test/public/x") and not f.allowed("http://a.test/private/x")
    assert f.allowed("http://b.test/anything")
    assert not f.allowed("http://c.test/anything")
    assert not f.allowed("http://d.test/anything")  # robots.txt unavailable: stay away this run
    robots_requests = [u for u, _ in f.request_log if u.endswith("/robots.txt")]
    # once per host (503 is retried once)
    assert robots_requests == [f"http://{h}.test/robots.txt" for h in ("a", "b", "c", "d", "d")]


def test_robots_crawl_delay():
    def handler(request):
        if request.url.path == "/robots.txt":
            return httpx.Response(200, text="User-agent: *\nCrawl-delay: 3\nDisallow:\n")
        return httpx.Response(200, text="ok")

    f = _fetcher(handler, delay=0.5)
    assert f.allowed("http://slow-host.test/x")
    assert f.delay_for("http://slow-host.test/y") == 3.0
    assert f.delay_for("http://other.test/y") == 0.5


def test_per_host_one_request_at_a_time_with_delay():
    import threading

    from crawler.fetch import Fetcher

    active, peak, times = [0], [0], []
    lock = threading.Lock()

    def handler(request):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
            times.append(time.monotonic())
        time.sleep(0.02)
        with lock:
            active[0] -= 1
        return httpx.Response(200, text="ok")

    fetchers = [Fetcher(transport=httpx.MockTransport(handler), delay=0.05, max_retries=0) for _ in range(3)]
    threads = [threading.Thread(target=f.get, args=(f"http://same.test/{i}",)) for i, f in enumerate(fetchers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == 1
    times.sort()
    assert all(b - a >= 0.05 + 0.02 - 0.005 for a, b in zip(times, times[1:]))


# ----------------------------------------------------------------------------- charsets

def test_decode_html_charsets():
    from crawler.fetch import DecodeError, decode_html

    text = "<html><body>农作物秸秆颗粒燃料</body></html>"
    gbk = text.encode("gbk")
    assert decode_html(gbk, "text/html; charset=GBK") == (text, "gb18030")
    meta = ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312"></head>'
            '<body>省技术市场</body></html>')
    assert decode_html(meta.encode("gbk"), "text/html")[1] == "gb18030"
    assert decode_html(b'<meta charset="gbk">' + "中文".encode("gbk"), "")[0].endswith("中文")
    # a page that declares GBK but is really UTF-8
    assert decode_html("<p>高分子材料</p>".encode("utf-8"), "text/html; charset=gbk")[0] == "<p>高分子材料</p>"
    # undeclared GBK, or mislabelled as ISO-8859-1 (a common server default)
    assert decode_html(gbk, "text/html; charset=ISO-8859-1")[0] == text
    assert decode_html("\ufeff<p>带BOM</p>".encode("utf-8"))[0] == "<p>带BOM</p>"
    with pytest.raises(DecodeError):
        decode_html(b"<p>" + b"\x80\xff" * 10 + b"</p>", "text/html; charset=utf-8")


# ----------------------------------------------------------------------------- parsing

def test_selectors_and_garbage_helpers():
    from crawler import parse

    html = """<html><body><div id="m">
      <h1 class="t"> 标题 </h1>
      <table><tr><th>成熟度：</th><td>中试</td></tr></table>
      <p>所属领域：新能源</p>
      <p><span>联系人：</span>周工</p>
      <ul><li>甲</li><li>乙</li></ul>
      <a href="/f/a.pdf">附件</a><a href="/f/b.exe">程序</a><a href="a.docx?x=1">说明</a>
      <script>var x = "请登录";</script>
    </div></body></html>"""
    sel = parse.document(html, "http://s.test/d/1.html")
    assert parse.select(sel, "h1.t::text") == "标题"
    assert parse.select(sel, {"label": "成熟度"}) == "中试"
    assert parse.select(sel, "label:所属领域") == "新能源"
    assert parse.select(sel, {"label": "联系人"}) == "周工"
    assert parse.select(sel, {"css": "li", "all": True}) == ["甲", "乙"]
    assert parse.select(sel, {"css": "li", "join": "、"}) == "甲、乙"
    assert parse.select(sel, {"xpath": "//h1/text()", "regex": "(标.)"}) == "标题"
    assert parse.select(sel, "h2") is None
    assert parse.attachment_links(sel, "a", "http://s.test/d/1.html", [".pdf", ".docx"]) == [
        ("http://s.test/f/a.pdf", "附件"), ("http://s.test/d/a.docx?x=1", "说明")]
    assert "请登录" not in parse.visible_text(sel)  # scripts are not visible text
    assert parse.looks_garbled("é«\x98å\x88\x86å­\x90æ\x9d\x90æ\x96\x99" * 3)
    assert not parse.looks_garbled("正常的中文页面内容，包含 Café 一词")


# ----------------------------------------------------------------------------- dedup

def test_canonical_url():
    from core.listings.dedup import canonical_url

    assert canonical_url("HTTP://Example.COM:80/a/b.html?b=2&utm_source=x&a=1#top") == \
        "http://example.com/a/b.html?a=1&b=2"
    assert canonical_url("https://x.cn:443") == "https://x.cn/"
    assert canonical_url("http://x.cn/p;jsessionid=ABC?id=3&spm=1") == "http://x.cn/p?id=3"
    assert canonical_url("http://x.cn/p?id=3&page=2", drop_params=["page"]) == "http://x.cn/p?id=3"


def test_simhash_near_duplicates():
    from core.listings.dedup import content_hash, hamming, jaccard, simhash

    a = ("基于机器视觉的纺织品瑕疵在线检测系统。利用线阵相机与深度学习模型对坯布表面进行实时成像与瑕疵识别，"
         "可检出断经、断纬、油污、破洞等 20 余类瑕疵，检出率 95% 以上，检测速度达到每分钟 60 米，可替代人工验布。")
    b = a.replace("20 余类", "二十余类").replace("，可替代人工验布", "") + "系统包括图像采集模块。"
    trad = "基於機器視覺的紡織品瑕疵在線檢測系統。利用線陣相機與深度學習模型對坯布表面進行實時成像與瑕疵識別，" \
           "可檢出斷經、斷緯、油污、破洞等 20 餘類瑕疵，檢出率 95% 以上，檢測速度達到每分鐘 60 米，可替代人工驗布。"
    other = ("采用负载型钯催化剂在温和条件下催化苯酚选择加氢制备环己酮，选择性大于 99%，催化剂寿命超过 2000 小时，"
             "与传统环己烷氧化法相比能耗降低 30%，三废排放显著减少。")
    ha, hb, ht, ho = simhash(a), simhash(b), simhash(trad), simhash(other)
    # candidates within 16 bits, confirmed by Jaccard >= 0.55 (see crawler/config.py)
    assert hamming(ha, hb) <= 16 and hamming(ha, ht) <= 16
    assert jaccard(a, b) >= 0.7 and jaccard(a, trad) == 1.0
    assert hamming(ha, ho) > 16 and jaccard(a, other) < 0.2
    assert content_hash("标题", "正文") == content_hash(" 标题 ", "正文。")
    assert content_hash("标题", "正文") != content_hash("标题", "正文二")


# ----------------------------------------------------------------------------- values

def test_value_parsers():
    from core.imports import values as V

    assert V.parse_money("80万元") == Decimal("800000.00")
    assert V.parse_money("1.2亿元") == Decimal("120000000.00")
    assert V.parse_money("500000元") == Decimal("500000.00")
    assert V.parse_money(12.5) == Decimal("125000.00")
    assert V.parse_money("面议") is None
    with pytest.raises(ValueError, match="金额格式不正确"):
        V.parse_money("约五十万")
    assert V.parse_region("浙江省嘉兴市嘉善县") == "330421"
    assert V.parse_region("嘉善县") == "330421"
    assert V.parse_region(330106) == "330106"
    with pytest.raises(ValueError, match="不唯一"):
        V.parse_region("朝阳区")
    with pytest.raises(ValueError, match="不存在"):
        V.parse_region("999999")
    assert V.parse_fields("新能源、新材料", {}) == ["新能源", "新材料"]
    assert V.parse_fields("环保;新能源", {"环保": "节能环保"}) == ["节能环保", "新能源"]
    with pytest.raises(ValueError):
        V.parse_fields("航天")
    assert V.parse_fields("航天,化工", strict=False) == ["化工"]
    assert V.parse_date("2026年3月1日").isoformat() == "2026-03-01"
    assert V.find_date("发布时间：2026/1/20 10:00") == "2026-01-20"
    assert V.parse_patents("ZL1（发明专利）, ZL2:软件著作权") == [
        {"number": "ZL1", "type": "invention"}, {"number": "ZL2", "type": "software_copyright"}]


# ----------------------------------------------------------------------------- sources and schedule

def test_shipped_sources_load_and_schedule():
    from celery.schedules import crontab

    from crawler.config import load_all, parse_source
    from crawler.tasks import beat_schedule

    sources = load_all(strict=True)
    assert {"fixture_univ", "fixture_platform", "fixture_platform_demands", "example_university"} <= set(sources)
    assert beat_schedule(sources) == {}  # fixtures and the example are disabled
    enabled = {n: s.model_copy(update={"enabled": True}) for n, s in sources.items()}
    sched = beat_schedule(enabled)
    assert sched["crawl:fixture_univ"]["task"] == "techmatch.crawl_source"
    assert sched["crawl:fixture_univ"]["args"] == ("fixture_univ",)
    assert sched["crawl:fixture_univ"]["schedule"] == crontab(minute="30", hour="2")
    assert sched["crawl:fixture_platform"]["schedule"].total_seconds() == 86400
    with pytest.raises(ValueError, match="来源配置 bad 无效"):
        parse_source("kind: achievement\nstart_urls: []\n", name="bad")


def test_source_variables(monkeypatch):
    from crawler.config import SourceError, get_source, parse_source

    src = get_source("fixture_univ", variables={"FIXTURE_UNIV": "http://h.test:1"})
    assert src.start_urls == ["http://h.test:1/list.html"]
    monkeypatch.delenv("FIXTURE_UNIV", raising=False)
    assert get_source("fixture_univ").start_urls == ["http://127.0.0.1:8701/list.html"]
    with pytest.raises(SourceError, match="变量 NOPE 未设置"):
        parse_source("name: x\nkind: problem\nstart_urls: ['${NOPE}']\nlist: {items: li}\nfields: {title: h1}\n")


def test_placeholder_codes_are_valid_and_stable():
    from core.accounts.owners import is_placeholder_code, placeholder_code
    from core.validation import check_credit_code

    code = placeholder_code("某新能源科技有限公司", "330000")
    assert check_credit_code(code) == code and is_placeholder_code(code)
    assert placeholder_code("某新能源 科技有限公司", "330000") == code
    assert placeholder_code("另一家公司", "330000") != code
    assert not is_placeholder_code("913304215555555551")


def test_example_source_selectors_on_its_documented_layout():
    """The example source cannot be fetched here: check its selectors on the layout it documents."""
    from crawler import parse
    from crawler.config import get_source
    from crawler.mapping import map_fields

    src = get_source("example_university")
    list_html = """<html><body><div class="list"><ul class="news-list">
      <li><span class="date">2026-03-01</span><a href="../info/1021/3456.htm" title="t">高镍三元正极材料表面包覆改性技术</a></li>
      <li><span class="date">2026-02-01</span><a href="../info/1021/3401.htm">另一项成果</a></li>
      </ul><div class="pb_sys_common"><a href="list1.htm">首页</a><a class="Next" href="list2.htm">下页</a></div></div>
      </body></html>"""
    base = "https://tt.example-university.edu.cn/cgzs/list1.htm"
    sel = parse.document(list_html, base)
    assert parse.list_links(sel, src.list_page.items, src.list_page.link, base) == [
        "https://tt.example-university.edu.cn/info/1021/3456.htm",
        "https://tt.example-university.edu.cn/info/1021/3401.htm"]
    assert parse.next_links(sel, src.pagination.next, base) == ["https://tt.example-university.edu.cn/cgzs/list2.htm"]

    detail = """<html><body><div class="article"><h2>高镍三元正极材料表面包覆改性技术</h2>
      <div class="meta">发布时间：2026-03-01  来源：技术转移中心</div>
      <div class="v_news_content">
        <table><tr><td>成果名称</td><td>高镍三元正极材料表面包覆改性技术</td></tr>
               <tr><td>技术领域</td><td>能源</td></tr><tr><td>成熟度</td><td>中试</td></tr>
               <tr><td>合作方式</td><td>技术许可、技术转让</td></tr><tr><td>参考价格</td><td>面议</td></tr>
               <tr><td>团队负责人</td><td>孙明</td></tr><tr><td>联系电话</td><td>0571-88888888</td></tr></table>
        <p><strong>成果简介：</strong>通过原子层沉积氧化铝包覆高镍正极颗粒表面，循环 1000 次容量保持率 90% 以上。</p></div>
      <ul class="attach"><li><a href="/system/_content/download.jsp?wbfileid=123&amp;n=成果简介.pdf">成果简介.pdf</a></li></ul>
      </div></body></html>"""
    url = "https://tt.example-university.edu.cn/info/1021/3456.htm"
    sel = parse.document(detail, url)
    raw = {k: parse.select(sel, v) for k, v in src.fields.items() if k != "attachments"}
    assert raw["date"] == "2026-03-01" and raw["maturity"] == "中试" and raw["inventors"] == "孙明"
    assert raw["abstract"].startswith("通过原子层沉积")
    m = map_fields("achievement", raw, defaults=src.defaults, field_map=src.field_map, region=src.region)
    assert (m.data.fields, m.data.maturity, m.data.transfer_modes, m.data.asking_price) == (
        ["新能源"], "pilot", ["license", "transfer"], None)  # 技术许可 -> 许可
    assert m.published_on == "2026-03-01"
