"""Crawler and importer throughput on the demo achievements (not a test; run by hand):

    python tests/crawler/bench_crawl.py [N]

Serves N demo achievements as a university site (20 per list page, every other detail page
GBK) and a platform site that republishes them with light edits (a phrase dropped, a
sentence added), crawls both, then crawls the university again (conditional GET), and
imports the same N achievements from an XLSX file. Uses a temporary SQLite database and
zero politeness delay; prints the run counts and timings as JSON.
"""
from __future__ import annotations

import html
import io
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def _write_site(root: Path, docs: list[dict], *, variant: bool) -> None:
    (root / "d").mkdir(parents=True)
    per = 20
    pages = [docs[i:i + per] for i in range(0, len(docs), per)]
    for p, chunk in enumerate(pages, start=1):
        items = "".join(f'<li><a href="/d/{d["i"]}.html">{html.escape(d["title"])}</a></li>' for d in chunk)
        nxt = f'<a class="next" href="/list{p + 1}.html">下一页</a>' if p < len(pages) else ""
        (root / f"list{p}.html").write_text(f'<html><head><meta charset="utf-8"></head><body><ul class="r">{items}</ul>'
                                            f"{nxt}</body></html>", encoding="utf-8")
    for d in docs:
        abstract = d["abstract"]
        if variant:
            abstract = abstract.replace("，", "，", 1).rsplit("，", 1)[0] + "。该成果已在本平台登记。"
        enc = "gbk" if d["i"] % 2 and not variant else "utf-8"
        page = (f'<html><head><meta charset="{enc}"><title>{html.escape(d["title"])}</title></head><body>'
                f'<div class="detail"><h1>{html.escape(d["title"])}</h1>'
                f'<p>成熟度：{d["maturity_label"]}</p><p>技术领域：{"、".join(d.get("fields") or [])}</p>'
                f'<p>成果持有单位：{html.escape(d["org"])}</p>'
                f'<div class="abstract">{html.escape(abstract)}</div><div class="body">{html.escape(d.get("body") or "")}'
                f"</div></div></body></html>")
        (root / "d" / f'{d["i"]}.html').write_bytes(page.encode(enc, "replace"))


def main(n: int = 300) -> dict:
    from core import hooks, migrate
    from core import settings as settings_mod
    from core.listings.vocab import Maturity

    tmp = Path(tempfile.mkdtemp(prefix="techmatch-bench-"))
    settings_mod.configure(data_dir=tmp / "data", database_url=f"sqlite:///{tmp / 'bench.db'}",
                           crawler_delay_seconds=0.0, crawler_max_retries=0)
    migrate.upgrade("head")
    hooks.enqueue = lambda *a, **k: None  # indexing is measured by the search package, not here

    root = Path(__file__).resolve().parents[2]
    docs, orgs = [], {}
    for o in json.loads((root / "core/demo/data/organizations.json").read_text(encoding="utf-8")):
        orgs[o["key"]] = o["name"]
    for f in sorted((root / "core/demo/data").glob("achievements_g*.jsonl")):
        for line in f.read_text(encoding="utf-8").splitlines():
            if line.strip():
                d = json.loads(line)
                d["i"] = len(docs)
                d["maturity_label"] = Maturity(d.get("maturity", "lab")).label
                d["org"] = orgs.get(d.get("org"), "示例大学")
                docs.append(d)
    docs = docs[:n]

    from fixture_site import FixtureSite

    from crawler.config import parse_source
    from crawler.engine import crawl

    _write_site(tmp / "univ", docs, variant=False)
    _write_site(tmp / "platform", docs, variant=True)
    a = FixtureSite("univ", root=tmp / "univ").start()
    b = FixtureSite("platform", root=tmp / "platform").start()
    spec = """
kind: achievement
start_urls: ["{url}/list1.html"]
list: {{items: ul.r li}}
pagination: {{next: a.next::attr(href), max_pages: 1000}}
required: [title, abstract]
fields:
  title: h1::text
  abstract: div.abstract
  body: div.body
  maturity: {{label: 成熟度}}
  fields: {{label: 技术领域}}
  owner: {{label: 成果持有单位}}
defaults: {{maturity: lab}}
region: "330000"
"""
    out = {"listings": len(docs)}
    for name, site in (("univ", a), ("platform", b), ("univ_again", a)):
        src = parse_source(spec.format(url=site.url), name=name.replace("_again", ""))
        t = time.perf_counter()
        r = crawl(src)
        out[name] = {**r.counts, "requests": r.requests, "seconds": round(time.perf_counter() - t, 2)}
    a.stop()
    b.stop()

    from sqlalchemy import select

    from core.db import session_scope
    from core.models import Achievement, Provenance

    with session_scope() as s:
        right = wrong = 0
        for p in s.scalars(select(Provenance).where(Provenance.source == "platform")):
            page_id = int(p.url.rsplit("/", 1)[-1].split(".")[0])
            if s.get(Achievement, p.listing_id).title == docs[page_id]["title"]:
                right += 1
            else:
                wrong += 1
        out["platform"]["linked_to_the_right_listing"] = right
        out["platform"]["linked_to_a_wrong_listing"] = wrong

    import openpyxl

    from core.imports.service import import_file

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["成果名称", "成果持有单位", "所在地区", "成果简介", "成熟度", "技术领域"])
    for d in docs:
        ws.append([d["title"] + "（导入）", d["org"], "330000", d["abstract"], d["maturity_label"],
                   "、".join(d.get("fields") or [])])
    buf = io.BytesIO()
    wb.save(buf)
    t = time.perf_counter()
    with session_scope() as s:
        rep = import_file(s, None, buf.getvalue(), "bench.xlsx", "achievement", partial=True)
    out["import"] = {"rows": rep.total_rows, "imported": rep.imported, "errors": rep.error_rows,
                     "duplicates": len(rep.duplicates), "seconds": round(time.perf_counter() - t, 2)}
    return out


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 300), ensure_ascii=False, indent=1))
