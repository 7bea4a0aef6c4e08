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
