"""Polite HTTP fetching with httpx.

- robots.txt is obeyed (fetched once per host and run; 401/403 disallow everything,
  other 4xx allow everything, 5xx and network errors disallow everything for the run).
- Per host, one request at a time, with a configurable delay between requests (shared by
  every fetcher in the process, so two sources on one host do not double the rate).
- Retries with exponential backoff on timeouts, connection errors, 429 and 5xx
  (``Retry-After`` is honoured for 429/503, capped).
- Conditional GET with ETag / Last-Modified.
- Size limit (Content-Length and streamed bytes) and per-request time limit.
- Charset detection: HTTP header, BOM, ``<meta charset>`` / http-equiv, then UTF-8 and
  GB18030 (a superset of GBK/GB2312). Text that no candidate decodes is rejected.
"""
from __future__ import annotations

import codecs
import logging
import re
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

import httpx

from core.settings import get_settings

log = logging.getLogger(__name__)


class DecodeError(ValueError):
    pass


@dataclass
class FetchResult:
    url: str
    status: int | None = None
    final_url: str | None = None
    content: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    attempts: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and 200 <= self.status < 300

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


# --------------------------------------------------------------------- per-host politeness

class _HostSlot:
    def __init__(self):
        self.lock = threading.Lock()
        self.last = 0.0


_slots: dict[str, _HostSlot] = {}
_slots_lock = threading.Lock()


def _slot(host: str) -> _HostSlot:
    with _slots_lock:
        s = _slots.get(host)
        if s is None:
            s = _slots[host] = _HostSlot()
        return s


def host_key(url: str) -> str:
    p = urlsplit(url)
    return f"{p.scheme}://{p.netloc.lower()}"


# --------------------------------------------------------------------- fetcher

class TooLarge(Exception):
    pass


class Fetcher:
    """One per crawl run. ``request_log`` records (url, status or error) of every attempt."""

    RETRY_STATUSES = {429, 500, 502, 503, 504}

    def __init__(self, *, user_agent: str | None = None, delay: float | None = None,
                 timeout: float | None = None, max_bytes: int | None = None,
                 max_retries: int | None = None, backoff_base: float | None = None,
                 transport: httpx.BaseTransport | None = None):
        s = get_settings()
        self.user_agent = user_agent or s.crawler_user_agent
        self.delay = s.crawler_delay_seconds if delay is None else delay
        self.timeout = s.crawler_timeout_seconds if timeout is None else timeout
        self.max_bytes = s.crawler_max_bytes if max_bytes is None else max_bytes
        self.max_retries = s.crawler_max_retries if max_retries is None else max_retries
        # first retry waits backoff_base, then 2x, 4x ... (default: the politeness delay, >= 0.5 s)
        self.backoff_base = backoff_base if backoff_base is not None else max(self.delay, 0.5)
        self.client = httpx.Client(
            headers={"User-Agent": self.user_agent, "Accept-Language": "zh-CN,zh;q=0.9"},
            timeout=httpx.Timeout(self.timeout), follow_redirects=True, transport=transport)
        self._robots: dict[str, RobotFileParser] = {}
        self._host_delay: dict[str, float] = {}  # robots.txt Crawl-delay, when longer than ours
        self.requests = 0
        self.request_log: list[tuple[str, object]] = []

    def close(self) -> None:
        self.client.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- robots.txt -------------------------------------------------------------
    def allowed(self, url: str) -> bool:
        key = host_key(url)
        rp = self._robots.get(key)
        if rp is None:
            rp = RobotFileParser()
            res = self.get(key + "/robots.txt", retries=1)
            if res.ok:
                try:
                    text = res.content.decode("utf-8")
                except UnicodeDecodeError:
                    text = res.content.decode("latin-1")
                rp.parse(text.splitlines())
            elif res.status in (401, 403):
                rp.disallow_all = True
            elif res.status is not None and 400 <= res.status < 500:
                rp.allow_all = True
            else:  # server error or unreachable: do not crawl this host in this run
                rp.disallow_all = True
            self._robots[key] = rp
            try:
                cd = rp.crawl_delay(self.user_agent)
            except (TypeError, ValueError):
                cd = None
            if cd:
                self._host_delay[key] = min(float(cd), 60.0)
        return rp.can_fetch(self.user_agent, url)

    def delay_for(self, url: str) -> float:
        return max(self.delay, self._host_delay.get(host_key(url), 0.0))

    # -- GET --------------------------------------------------------------------
    def get(self, url: str, *, etag: str | None = None, last_modified: str | None = None,
            retries: int | None = None) -> FetchResult:
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        retries = self.max_retries if retries is None else retries
        result = FetchResult(url=url)
        for attempt in range(retries + 1):
            result = self._once(url, headers)
            result.attempts = attempt + 1
            retry = result.error is not None and result.error.startswith(("timeout", "network")) \
                or result.status in self.RETRY_STATUSES
            if not retry or attempt == retries:
                break
            wait = self.backoff_base * (2 ** attempt)
            ra = result.headers.get("retry-after")
            if ra and ra.isdigit():
                wait = max(wait, min(float(ra), 60.0))
            log.info("retry %s in %.2fs (%s)", url, wait, result.error or result.status)
            time.sleep(wait)
        if result.error is None and result.status is not None and result.status >= 400:
            result.error = f"HTTP {result.status}"
        return result

    def _once(self, url: str, headers: dict) -> FetchResult:
        slot = _slot(host_key(url))
        with slot.lock:  # one request at a time per host
            wait = slot.last + self.delay_for(url) - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            try:
                return self._request(url, headers)
            finally:
                slot.last = time.monotonic()

    def _request(self, url: str, headers: dict) -> FetchResult:
        self.requests += 1
        res = FetchResult(url=url)
        deadline = time.monotonic() + self.timeout * 2  # whole-response limit (slow drip)
        try:
            with self.client.stream("GET", url, headers=headers) as r:
                res.status = r.status_code
                res.final_url = str(r.url)
                res.headers = {k.lower(): v for k, v in r.headers.items()}
                declared = r.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > self.max_bytes:
                    raise TooLarge(int(declared))
                chunks, size = [], 0
                for chunk in r.iter_bytes():
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise TooLarge(size)
                    if time.monotonic() > deadline:
                        raise httpx.ReadTimeout("response too slow")
                    chunks.append(chunk)
                res.content = b"".join(chunks)
        except TooLarge as e:
            res.error = f"too_large: 超过大小限制（{e.args[0]} > {self.max_bytes} 字节）"
        except httpx.TimeoutException:
            res.error = f"timeout: 超时（{self.timeout:g} 秒）"
        except httpx.TransportError as e:
            res.error = f"network: 网络错误（{type(e).__name__}）"
        except httpx.HTTPError as e:  # invalid URL and the like
            res.error = f"http: {e}"
        self.request_log.append((url, res.error or res.status))
        return res


# --------------------------------------------------------------------- charsets

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.I)
_WEAK = {"iso8859-1", "latin-1", "iso-8859-1", "cp1252", "windows-1252", "ascii", "us-ascii"}
_ALIASES = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "gb_2312-80": "gb18030",
            "cp936": "gb18030", "utf8": "utf-8"}


def _norm_charset(name: str | None) -> str | None:
    if not name:
        return None
    name = name.strip().strip("\"'").lower()
    name = _ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def header_charset(content_type: str) -> str | None:
    m = re.search(r"charset\s*=\s*([^\s;]+)", content_type or "", re.I)
    return _norm_charset(m.group(1)) if m else None


def meta_charset(data: bytes) -> str | None:
    m = _META_CHARSET.search(data[:4096])
    return _norm_charset(m.group(1).decode("ascii", "ignore")) if m else None


def decode_html(data: bytes, content_type: str = "") -> tuple[str, str]:
    """Return (text, encoding). Raises DecodeError when no candidate decodes the bytes."""
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", "replace"), "utf-8"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", "replace"), "utf-16"
    candidates: list[str] = []
    declared = [header_charset(content_type), meta_charset(data)]
    strong = [c for c in declared if c and c not in _WEAK]
    # Valid UTF-8 with multibyte characters is a strong signal whatever the page declares
    # (GBK text almost never validates as UTF-8, while UTF-8 often "decodes" as GB18030).
    candidates += ["utf-8"] + strong + ["gb18030"] + [c for c in declared if c and c in _WEAK]
    seen = set()
    for enc in candidates:
        if enc in seen:
            continue
        seen.add(enc)
        try:
            return data.decode(enc), enc
        except (UnicodeDecodeError, LookupError):
            continue
    raise DecodeError("编码无法识别（声明的字符集与内容不符）")
