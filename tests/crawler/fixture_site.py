"""A fixture website on 127.0.0.1 for the crawler tests: files from tests/crawler/site/<name>/
plus dynamic behaviour.

- ETag (quoted SHA-1 of the bytes) and Last-Modified on every file; If-None-Match and
  If-Modified-Since answer 304;
- ``/flaky/...`` answers 500 on its first request, then normally;
- ``/slow/...`` sleeps ``slow_seconds`` before answering;
- ``/achievements/view.html?id=X`` serves ``achievements/view_X.html``;
- ``extra`` maps paths to (bytes, content type) served in place of files (the PDF made by
  the test, pages changed between runs);
- ``content_types`` overrides the Content-Type of a path (GBK declared in the header only);
- every request is logged as (path with query, status, conditional?).

Run by hand: ``python -m tests.crawler.fixture_site`` serves both sites and prints the
variables the fixture sources need.
"""
from __future__ import annotations

import hashlib
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

SITE_DIR = Path(__file__).parent / "site"
LAST_MODIFIED = formatdate(1767225600, usegmt=True)  # 2026-01-01


class FixtureSite:
    def __init__(self, name: str, *, slow_seconds: float = 2.0, root: Path | None = None):
        self.root = Path(root) if root else SITE_DIR / name
        self.slow_seconds = slow_seconds
        self.extra: dict[str, tuple[bytes, str]] = {}
        self.content_types: dict[str, str] = {}
        self.log: list[tuple[str, int, bool]] = []  # responses sent
        self.arrivals: list[str] = []  # requests received (a timed-out one may never be answered)
        self.failed_once: set[str] = set()
        self.lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                site.handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FixtureSite:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def reset_log(self) -> None:
        with self.lock:
            self.log.clear()
            self.arrivals.clear()

    def paths(self) -> list[str]:
        return list(self.arrivals)

    # ------------------------------------------------------------------ serving
    def _resolve(self, path: str, query: str) -> tuple[bytes, str] | None:
        key = path + (f"?{query}" if query else "")
        if key in self.extra:
            return self.extra[key]
        if path in self.extra:
            return self.extra[path]
        if path.endswith("/view.html"):
            ident = parse_qs(query).get("id", [""])[0]
            path = path.replace("view.html", f"view_{ident}.html")
        file = (self.root / path.lstrip("/")).resolve()
        if not str(file).startswith(str(self.root.resolve())) or not file.is_file():
            return None
        ctype = "text/html" if file.suffix == ".html" else "text/plain; charset=utf-8"
        return file.read_bytes(), self.content_types.get(path, ctype)

    def _send(self, h, status: int, body: bytes = b"", headers: dict | None = None, conditional=False):
        with self.lock:
            self.log.append((h.path, status, conditional))
        try:
            h.send_response(status)
            for k, v in (headers or {}).items():
                h.send_header(k, v)
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            if body:
                h.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        with self.lock:
            self.arrivals.append(h.path)
        parts = urlsplit(h.path)
        path, query = parts.path, parts.query
        conditional = bool(h.headers.get("If-None-Match") or h.headers.get("If-Modified-Since"))
        if path.startswith("/slow/"):
            time.sleep(self.slow_seconds)
        if path.startswith("/flaky/"):
            with self.lock:
                first = path not in self.failed_once
                self.failed_once.add(path)
            if first:
                return self._send(h, 500, "服务器内部错误".encode(), {"Content-Type": "text/plain; charset=utf-8"},
                                  conditional)
        found = self._resolve(path, query)
        if found is None:
            return self._send(h, 404, b"not found", {"Content-Type": "text/plain"}, conditional)
        body, ctype = found
        etag = '"' + hashlib.sha1(body).hexdigest() + '"'
        headers = {"ETag": etag, "Last-Modified": LAST_MODIFIED, "Content-Type": ctype}
        inm = h.headers.get("If-None-Match")
        ims = h.headers.get("If-Modified-Since")
        if (inm and inm == etag) or (not inm and ims == LAST_MODIFIED and path not in self.extra):
            return self._send(h, 304, b"", {"ETag": etag, "Last-Modified": LAST_MODIFIED}, conditional)
        self._send(h, 200, body, headers, conditional)


def make_pdf(lines: list[str]) -> bytes:
    """A small PDF with Chinese text (reportlab's built-in CID font)."""
    import io

    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.setFont("STSong-Light", 12)
    y = 760
    for line in lines:
        c.drawString(72, y, line)
        y -= 20
    c.save()
    return buf.getvalue()


A1_PDF_LINES = ["高镍三元正极材料检测报告", "循环 1000 次容量保持率 92.3%", "检测单位：示例检测中心"]


def start_sites(slow_seconds: float = 2.0) -> tuple[FixtureSite, FixtureSite]:
    univ = FixtureSite("univ", slow_seconds=slow_seconds)
    univ.extra["/files/a1-report.pdf"] = (make_pdf(A1_PDF_LINES), "application/pdf")
    univ.extra["/files/notes.exe"] = (b"MZ\x00\x00", "application/octet-stream")
    # a2 is GBK, declared in the HTTP header only (no <meta charset>)
    univ.content_types["/detail/a2.html"] = "text/html; charset=GBK"
    platform = FixtureSite("platform", slow_seconds=slow_seconds)
    return univ.start(), platform.start()


if __name__ == "__main__":  # pragma: no cover - manual use
    a, b = start_sites()
    print(f"export FIXTURE_UNIV={a.url} FIXTURE_PLATFORM={b.url}")
    print("techmatch crawl fixture_univ; techmatch crawl fixture_platform; techmatch crawl fixture_platform_demands")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        a.stop()
        b.stop()
