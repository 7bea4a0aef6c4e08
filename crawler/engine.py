"""One crawl run of one source.

List pages (with pagination) yield detail links; each detail page becomes one of:

- ``new`` — a new listing (source ``crawled``, status ``pending_review``) with provenance
  and its attachments' text, entering the normal pipeline (index, then match after review);
- ``updated`` — the page changed since the last run: its listing is updated;
- ``duplicate`` — the same content is already a listing (another page or another site,
  found by SimHash or by title): a second provenance link on that listing, no new listing;
- ``unchanged`` — 304 Not Modified, or the same content hash: nothing parsed or written;
- ``skipped`` — robots.txt disallows it, or garbage (empty page, login wall, wrong encoding,
  missing required fields): logged with the URL and the reason, never stored as a listing;
- ``failed`` — network errors, timeouts or HTTP errors after the retries.

Every run is recorded in ``crawl_runs`` with these counts, ``found`` and its duration.
Each page is written in its own transaction, so a failure does not undo the others and
indexing starts as each listing commits. Network I/O happens outside transactions.
"""
from __future__ import annotations

import hashlib
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.accounts import owners
from core.attachments import service as attachment_service
from core.db import session_scope, utcnow
from core.errors import DomainError
from core.listings import dedup
from core.listings import service as listings
from core.listings.schemas import AchievementUpdate, ProblemUpdate
from core.models import Attachment, CrawledPage, CrawlRun, Provenance
from core.models.listings import LISTING_MODELS
from core.schemas import FIELD_LABELS
from crawler import parse
from crawler.config import Source
from crawler.fetch import DecodeError, Fetcher, FetchResult, decode_html
from crawler.mapping import Mapped, MappingError, map_fields

log = logging.getLogger(__name__)

OUTCOMES = ("new", "updated", "duplicate", "unchanged", "skipped", "failed")
MAX_LOG = 1000

ProgressFn = Callable[[str, str, dict], None]


@dataclass
class PageOutcome:
    outcome: str
    url: str
    reason: str = ""
    listing_id: int | None = None


@dataclass
class _Fetched:
    url: str
    filename: str
    result: FetchResult
    sha256: str = ""


@dataclass
class RunSummary:
    run_id: int
    source: str
    counts: dict[str, int]
    duration_seconds: float
    requests: int
    log: list[dict] = field(default_factory=list)
    status: str = "finished"
    error: str = ""


class Crawler:
    def __init__(self, source: Source, *, fetcher: Fetcher | None = None,
                 progress: ProgressFn | None = None, refresh: bool = False):
        self.source = source
        # refresh: ignore the validators and hashes of earlier runs (after changing a source's
        # selectors or defaults): every page is fetched and parsed again
        self.refresh = refresh
        lim = source.limits
        self.fetcher = fetcher or Fetcher(user_agent=source.user_agent, delay=lim.delay_seconds,
                                          timeout=lim.timeout_seconds, max_bytes=lim.max_bytes,
                                          max_retries=lim.max_retries)
        self._own_fetcher = fetcher is None
        self.progress = progress
        self.kind = source.kind
        self.model = LISTING_MODELS[source.kind]
        self.counts: Counter = Counter({k: 0 for k in ("found", *OUTCOMES)})
        self.log: list[dict] = []
        self.run_id: int | None = None
        self._simhashes: list[tuple[int, int, str, str]] | None = None

    # ------------------------------------------------------------------ run
    def run(self) -> RunSummary:
        t0 = time.monotonic()
        with session_scope() as s:
            run = CrawlRun(source=self.source.name, status="running", log=[], error="")
            s.add(run)
            s.flush()
            self.run_id = run.id
        status, error = "finished", ""
        try:
            seen: set[str] = set()
            for url in self._discover():
                canon = dedup.canonical_url(url, self.source.drop_query_params)
                if canon in seen:
                    continue
                seen.add(canon)
                if len(seen) > self.source.limits.max_items:
                    self._note("skipped", url, "超过每次采集的条目上限", count=False)
                    break
                self.counts["found"] += 1
                try:
                    out = self.process_detail(url, canon)
                except Exception as e:  # noqa: BLE001 - one bad page must not stop the run
                    log.exception("crawl %s: %s failed", self.source.name, url)
                    out = PageOutcome("failed", url, f"处理出错：{type(e).__name__}: {e}")
                self._note(out.outcome, url, out.reason)
        except Exception as e:  # noqa: BLE001 - recorded on the run
            log.exception("crawl %s failed", self.source.name)
            status, error = "failed", f"{type(e).__name__}: {e}"
        finally:
            if self._own_fetcher:
                self.fetcher.close()
        duration = time.monotonic() - t0
        with session_scope() as s:
            run = s.get(CrawlRun, self.run_id)
            for k in ("found", *OUTCOMES):
                setattr(run, k, self.counts[k])
            run.requests = self.fetcher.requests
            run.status = status
            run.error = error
            run.finished_at = utcnow()
            run.duration_seconds = round(duration, 3)
            run.log = self.log[:MAX_LOG]
        return RunSummary(run_id=self.run_id, source=self.source.name, counts=dict(self.counts),
                          duration_seconds=round(duration, 3), requests=self.fetcher.requests,
                          log=list(self.log), status=status, error=error)

    def _note(self, outcome: str, url: str, reason: str = "", *, count: bool = True) -> None:
        if count:
            self.counts[outcome] += 1
        if outcome in ("skipped", "failed"):
            log.warning("crawl %s: %s %s — %s", self.source.name, outcome, url, reason)
            self.log.append({"url": url, "outcome": outcome, "reason": reason})
        if self.progress:
            self.progress(outcome, url, dict(self.counts))

    # ------------------------------------------------------------------ list pages
    def _discover(self):
        """Detail links of every list page, following pagination; 304 reuses the cached links."""
        queue = list(self.source.start_urls)
        visited: set[str] = set()
        pages = 0
        while queue and pages < self.source.pagination.max_pages:
            url = queue.pop(0)
            canon = dedup.canonical_url(url, self.source.drop_query_params)
            if canon in visited:
                continue
            visited.add(canon)
            pages += 1
            if not self.fetcher.allowed(url):
                self._note("skipped", url, "robots.txt 禁止抓取（列表页）", count=False)
                continue
            with session_scope() as s:
                page = self._page(s, canon)
                etag, lm = (page.etag, page.last_modified) if page and not self.refresh else (None, None)
                cached = list(page.links or []) if page else []
            res = self.fetcher.get(url, etag=etag, last_modified=lm)
            if res.not_modified and page is not None:
                details = [l["url"] for l in cached if l.get("type") == "detail"]
                nexts = [l["url"] for l in cached if l.get("type") == "next"]
            elif not res.ok:
                self._note("failed", url, f"列表页获取失败：{res.error}")
                continue
            else:
                try:
                    html, _enc = decode_html(res.content, res.content_type)
                except DecodeError as e:
                    self._note("skipped", url, f"列表页{e}", count=False)
                    continue
                base = res.final_url or url
                sel = parse.document(html, base)
                details = parse.list_links(sel, self.source.list_page.items, self.source.list_page.link, base)
                nexts = parse.next_links(sel, self.source.pagination.next, base)
                links = [{"type": "detail", "url": u} for u in details] + [{"type": "next", "url": u} for u in nexts]
                with session_scope() as s:
                    page = self._page(s, canon) or self._new_page(s, canon, "list")
                    self._store_validators(page, res)
                    page.outcome = "list"
                    page.links = links
                    page.content_hash = hashlib.sha256(res.content).hexdigest()
            yield from details
            queue.extend(nexts)

    # ------------------------------------------------------------------ detail pages
    def process_detail(self, url: str, canon: str) -> PageOutcome:
        if not self.fetcher.allowed(url):
            return PageOutcome("skipped", url, "robots.txt 禁止抓取")
        with session_scope() as s:
            page = self._page(s, canon)
            etag, lm = (page.etag, page.last_modified) if page else (None, None)
            old_hash = page.content_hash if page else None
            old_outcome = page.outcome if page else None
            if self.refresh:
                etag = lm = None
            old_listing = page.listing_id if page else None
        res = self.fetcher.get(url, etag=etag, last_modified=lm)
        if res.not_modified and etag is not None or res.not_modified and lm is not None:
            self._touch(canon, res)
            return PageOutcome("unchanged", url)
        if res.status in (401, 403):
            return PageOutcome("skipped", url, f"需要登录（HTTP {res.status}）")
        if not res.ok:
            return PageOutcome("failed", url, res.error or f"HTTP {res.status}")
        ctype = res.content_type.split(";")[0].strip().lower()
        if ctype and not (ctype.startswith("text/") or "html" in ctype or "xml" in ctype):
            return PageOutcome("skipped", url, f"不是网页（{ctype}）")

        base = res.final_url or url
        try:
            html, _enc = decode_html(res.content, res.content_type)
        except DecodeError as e:
            return self._skip(canon, res, url, str(e))
        sel = parse.document(html, base)
        raw = {}
        for name, spec in self.source.fields.items():
            if name == "attachments":
                continue
            raw[name] = parse.select(sel, spec)
        att_links = []
        if "attachments" in self.source.fields:
            att_links = parse.attachment_links(sel, self.source.fields["attachments"], base,
                                               self.source.attachment_extensions)
        reason = self._garbage(sel, raw)
        if reason:
            return self._skip(canon, res, url, reason)

        chash = dedup.content_hash(*(f"{k}={_flat(raw[k])}" for k in sorted(raw)),
                                   *(u for u, _t in att_links))
        # (refresh re-fetches everything; the same extracted content is still unchanged, but a
        # page skipped for its fields is mapped again: the source's defaults may have changed)
        if old_hash == chash and (old_outcome in ("listing", "duplicate")
                                  or old_outcome == "skipped" and not self.refresh):
            self._touch(canon, res)
            return PageOutcome("unchanged", url)
        try:
            mapped = map_fields(self.kind, raw, defaults=self.source.defaults,
                                field_map=self.source.field_map, region=self.source.region)
        except MappingError as e:
            return self._skip(canon, res, url, f"字段无效：{e}", chash)
        sh = dedup.simhash(mapped.main_text())

        # Decide what to do (read-only), fetch attachments outside any transaction, then write.
        with session_scope() as s:
            target = None
            if old_outcome == "listing" and old_listing and s.get(self.model, old_listing) is not None:
                target = ("update", old_listing, None)
            else:
                dup = self._find_duplicate(s, mapped, sh, canon)
                target = ("duplicate", dup[0], dup[1]) if dup else ("new", None, None)
        files = self._fetch_attachments(att_links) if target[0] in ("new", "update") else []

        with session_scope() as s:
            if target[0] == "update":
                return self._update(s, canon, url, res, mapped, chash, sh, target[1], files)
            if target[0] == "duplicate":
                return self._duplicate(s, canon, url, res, mapped, chash, sh, target[1], target[2])
            return self._create(s, canon, url, res, mapped, chash, sh, files)

    # -- garbage ------------------------------------------------------------------
    def _garbage(self, sel, raw: dict) -> str | None:
        text = parse.visible_text(sel, self.source.content) if self.source.content else parse.visible_text(sel)
        whole = parse.visible_text(sel)
        missing = [k for k in self.source.required if not raw.get(k)]
        if missing and (parse.has_password_input(sel) or any(m in whole for m in self.source.login_markers)):
            return "需要登录（登录墙）"
        if len(text) < self.source.min_text_chars and len(whole) < self.source.min_text_chars:
            return "页面为空"
        if parse.looks_garbled(whole):
            return "编码错误（乱码）"
        if missing:
            labels = "、".join(FIELD_LABELS.get(k, k) for k in missing)
            return f"页面格式不符，缺少必填字段：{labels}"
        return None

    # -- duplicates ---------------------------------------------------------------
    def _find_duplicate(self, s: Session, mapped: Mapped, sh: int, canon: str) -> tuple[int, float] | None:
        """(listing id, Jaccard similarity) of the listing this page duplicates, if any.
        SimHash finds candidates among crawled pages; listings entered by hand or imported are
        candidates when their title is the same; the token-set Jaccard similarity decides."""
        text = mapped.main_text()
        candidates: dict[int, int] = {}
        for h, lid, src, u in self._sim_index(s):
            if src == self.source.name and u == canon:
                continue
            d = (sh ^ h).bit_count()
            if d <= self.source.dup_max_hamming:
                candidates[lid] = min(d, candidates.get(lid, 64))
        title = mapped.data.title.strip()
        for lid in s.scalars(select(self.model.id).where(self.model.title == title)):
            candidates.setdefault(lid, 64)
        key = dedup.title_key(title)
        for lid, _d in sorted(candidates.items(), key=lambda kv: kv[1]):
            obj = s.get(self.model, lid)
            if obj is None:
                continue
            sim = dedup.jaccard(text, dedup.listing_text(obj))
            if sim >= self.source.dup_min_jaccard or (dedup.title_key(obj.title) == key and sim >= 0.3):
                return obj.id, sim
        return None

    def _sim_index(self, s: Session) -> list[tuple[int, int, str, str]]:
        """(simhash, listing id, source, url) of every crawled listing page of this kind,
        loaded once per run and extended as the run creates listings."""
        if self._simhashes is None:
            rows = s.execute(select(CrawledPage.simhash, CrawledPage.listing_id, CrawledPage.source,
                                    CrawledPage.url)
                             .where(CrawledPage.listing_kind == self.kind, CrawledPage.outcome == "listing",
                                    CrawledPage.simhash.is_not(None), CrawledPage.listing_id.is_not(None)))
            self._simhashes = [(dedup.from_hex(h), lid, src, u) for h, lid, src, u in rows]
        return self._simhashes

    # -- writes -------------------------------------------------------------------
    def _create(self, s, canon, url, res, mapped: Mapped, chash, sh, files) -> PageOutcome:
        org = self._owner(s, mapped)
        obj = listings.create(s, None, self.kind, mapped.data, org_id=org.id, source="crawled",
                              status="pending_review")
        page = self._page(s, canon) or self._new_page(s, canon, "detail")
        self._store_validators(page, res)
        page.content_hash, page.simhash = chash, dedup.to_hex(sh)
        page.outcome, page.reason = "listing", ""
        page.listing_kind, page.listing_id = self.kind, obj.id
        page.changed_at = utcnow()
        self._provenance(s, canon, res, chash, obj.id, "new", None, mapped)
        self._attach(s, obj.id, files)
        if self._simhashes is not None:
            self._simhashes.append((sh, obj.id, self.source.name, canon))
        return PageOutcome("new", url, listing_id=obj.id)

    def _duplicate(self, s, canon, url, res, mapped, chash, sh, listing_id, sim) -> PageOutcome:
        page = self._page(s, canon) or self._new_page(s, canon, "detail")
        self._store_validators(page, res)
        page.content_hash, page.simhash = chash, dedup.to_hex(sh)
        page.outcome, page.reason = "duplicate", f"与{listings.spec(self.kind).label} #{listing_id} 重复"
        page.listing_kind, page.listing_id = self.kind, listing_id
        page.changed_at = utcnow()
        self._provenance(s, canon, res, chash, listing_id, "duplicate", sim, mapped)  # sim: Jaccard
        return PageOutcome("duplicate", url, page.reason, listing_id)

    def _update(self, s, canon, url, res, mapped: Mapped, chash, sh, listing_id, files) -> PageOutcome:
        upd_cls = AchievementUpdate if self.kind == "achievement" else ProblemUpdate
        values = {k: v for k, v in mapped.data.model_dump(exclude={"publish"}).items()
                  if v not in (None, "", [])}
        try:
            listings.update(s, None, self.kind, listing_id, upd_cls(**values))
        except DomainError as e:
            return PageOutcome("skipped", url, f"未更新：{e.message}", listing_id)
        page = self._page(s, canon)
        self._store_validators(page, res)
        page.content_hash, page.simhash = chash, dedup.to_hex(sh)
        page.changed_at = utcnow()
        self._provenance(s, canon, res, chash, listing_id, "new", None, mapped)
        self._attach(s, listing_id, files)
        return PageOutcome("updated", url, listing_id=listing_id)

    def _owner(self, s, mapped: Mapped):
        src = self.source
        region = src.owner.region or src.region
        org = owners.resolve(s, name=mapped.owner_name, credit_code=mapped.owner_credit_code,
                             kind=src.owner.kind, region=region, reason=f"crawler:{src.name}")
        if org is None:  # the page names no owner: the source's declared owner or its placeholder
            from core.validation import check_credit_code
            code = check_credit_code(src.owner.credit_code) if src.owner.credit_code else None
            name = src.owner.name or f"{src.title or src.name}（采集来源）"
            org = owners.resolve(s, name=name, credit_code=code, kind=src.owner.kind, region=region,
                                 reason=f"crawler:{src.name}")
        return org

    def _provenance(self, s, canon, res: FetchResult, chash, listing_id, relation, sim, mapped: Mapped):
        prov = s.scalar(select(Provenance).where(Provenance.source == self.source.name, Provenance.url == canon))
        if prov is None:
            prov = Provenance(source=self.source.name, url=canon)
            s.add(prov)
        prov.listing_kind, prov.listing_id = self.kind, listing_id
        prov.fetched_at = utcnow()
        prov.etag, prov.last_modified = res.etag, res.last_modified
        prov.content_hash = chash
        prov.relation = relation
        prov.similarity = round(sim, 4) if sim is not None else None
        prov.published_on = mapped.published_on
        prov.crawl_run_id = self.run_id
        s.flush()
        return prov

    # -- attachments --------------------------------------------------------------
    def _fetch_attachments(self, links: list[tuple[str, str]]) -> list[_Fetched]:
        out = []
        for url, _text in links:
            canon = dedup.canonical_url(url, self.source.drop_query_params)
            if not self.fetcher.allowed(url):
                self.log.append({"url": url, "outcome": "attachment_skipped", "reason": "robots.txt 禁止抓取"})
                continue
            with session_scope() as s:
                page = self._page(s, canon)
                etag, lm = (page.etag, page.last_modified) if page and page.attachment_id else (None, None)
            res = self.fetcher.get(url, etag=etag, last_modified=lm)
            if res.not_modified:
                continue
            if not res.ok or not res.content:
                self.log.append({"url": url, "outcome": "attachment_failed", "reason": res.error or "空文件"})
                continue
            name = unquote(PurePosixPath(urlsplit(res.final_url or url).path).name) or "attachment"
            out.append(_Fetched(url=canon, filename=name, result=res,
                                sha256=hashlib.sha256(res.content).hexdigest()))
        return out

    def _attach(self, s, listing_id: int, files: list[_Fetched]) -> None:
        for f in files:
            page = self._page(s, f.url)
            if page is not None and page.content_hash == f.sha256 and page.listing_id == listing_id \
                    and page.attachment_id and s.get(Attachment, page.attachment_id) is not None:
                self._store_validators(page, f.result)
                continue
            try:
                with s.begin_nested():
                    att = attachment_service.add(s, None, self.kind, listing_id, f.filename, f.result.content,
                                                 check_permission=False)
            except DomainError as e:
                self.log.append({"url": f.url, "outcome": "attachment_skipped", "reason": e.message})
                continue
            if page is None:
                page = self._new_page(s, f.url, "attachment")
            elif page.attachment_id and page.attachment_id != att.id:
                old = s.get(Attachment, page.attachment_id)
                if old is not None and old.owner_id == listing_id:
                    s.delete(old)
            self._store_validators(page, f.result)
            page.outcome = "attachment"
            page.content_hash = f.sha256
            page.listing_kind, page.listing_id, page.attachment_id = self.kind, listing_id, att.id
            page.changed_at = utcnow()

    # -- page cache ---------------------------------------------------------------
    def _page(self, s: Session, canon: str) -> CrawledPage | None:
        return s.scalar(select(CrawledPage).where(CrawledPage.source == self.source.name,
                                                  CrawledPage.url == canon))

    def _new_page(self, s: Session, canon: str, page_kind: str) -> CrawledPage:
        page = CrawledPage(source=self.source.name, url=canon, page_kind=page_kind, links=[], reason="",
                           outcome="")
        s.add(page)
        return page

    @staticmethod
    def _store_validators(page: CrawledPage, res: FetchResult) -> None:
        page.etag = (res.etag or "")[:200] or None
        page.last_modified = (res.last_modified or "")[:100] or None
        page.fetched_at = utcnow()

    def _touch(self, canon: str, res: FetchResult) -> None:
        with session_scope() as s:
            page = self._page(s, canon)
            if page is not None:
                page.fetched_at = utcnow()
                if res.etag:
                    page.etag = res.etag[:200]
                if res.last_modified:
                    page.last_modified = res.last_modified[:100]

    def _skip(self, canon, res, url, reason, chash: str | None = None) -> PageOutcome:
        """Garbage: remember the validators (so an unchanged page is not parsed again)
        but never store it as a listing."""
        with session_scope() as s:
            page = self._page(s, canon) or self._new_page(s, canon, "detail")
            if page.outcome in ("listing", "duplicate"):
                # a page that was a listing and is garbage now (e.g. behind a login):
                # keep the listing and its validators, just report it
                return PageOutcome("skipped", url, reason)
            self._store_validators(page, res)
            page.outcome, page.reason = "skipped", reason[:500]
            page.content_hash = chash or hashlib.sha256(res.content).hexdigest()
        return PageOutcome("skipped", url, reason)


def _flat(v) -> str:
    if v is None:
        return ""
    if isinstance(v, list):
        return "\n".join(v)
    return str(v)


def crawl(source: Source, *, progress: ProgressFn | None = None, fetcher: Fetcher | None = None,
          refresh: bool = False) -> RunSummary:
    return Crawler(source, progress=progress, fetcher=fetcher, refresh=refresh).run()
