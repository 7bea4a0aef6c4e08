"""The API documentation pages (/api/docs: Swagger UI, /api/redoc: ReDoc), served with no
outside request: the Swagger UI and ReDoc bundles come from the fastapi-offline package, the
pages start them from a static script (no inline script: the pages work under a self-only
Content-Security-Policy), ReDoc uses the system fonts and the favicon is the platform's."""
from __future__ import annotations

from html import escape
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

VENDOR_DIR = Path(fastapi_offline.__file__).parent / "static"
OWN_DIR = Path(__file__).parent / "static"
ASSETS = "/api/docs-assets"

PAGE = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="{assets}/favicon.svg" type="image/svg+xml">
{head}
</head>
<body>
{body}
</body>
</html>
"""


def install(app: FastAPI, docs_url: str = "/api/docs", redoc_url: str = "/api/redoc") -> None:
    """Add the two pages to ``app`` (created with ``docs_url=None, redoc_url=None``)."""
    app.mount(f"{ASSETS}/vendor", StaticFiles(directory=str(VENDOR_DIR)), name="api-docs-vendor")
    app.mount(ASSETS, StaticFiles(directory=str(OWN_DIR)), name="api-docs-assets")
    spec = escape(app.openapi_url or "/api/openapi.json")
    title = escape(app.title)

    @app.get(docs_url, include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return HTMLResponse(PAGE.format(
            title=f"{title} · Swagger UI", assets=ASSETS,
            head=f'<link rel="stylesheet" href="{ASSETS}/vendor/swagger-ui.css">',
            body=(f'<div id="swagger-ui" data-openapi="{spec}"></div>\n'
                  f'<script src="{ASSETS}/vendor/swagger-ui-bundle.js"></script>\n'
                  f'<script src="{ASSETS}/swagger-init.js"></script>')))

    @app.get(redoc_url, include_in_schema=False)
    def redoc() -> HTMLResponse:
        return HTMLResponse(PAGE.format(
            title=f"{title} · ReDoc", assets=ASSETS, head=f'<link rel="stylesheet" href="{ASSETS}/redoc.css">',
            body=(f'<redoc spec-url="{spec}"></redoc>\n'
                  f'<script src="{ASSETS}/vendor/redoc.standalone.js"></script>')))
