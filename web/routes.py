"""Mount the pages on the FastAPI app: page routers, static files and HTML error pages."""
from __future__ import annotations

import functools
import json
import logging
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from core.errors import DomainError
from web.pages import (
    accounts,
    broker,
    contracts,
    events,
    imports,
    indicators,
    listings,
    public,
    qualification,
    registration,
)
from web.templating import render

log = logging.getLogger(__name__)


STATIC_DIR = Path(__file__).parent / "static"

ERROR_TITLES = {
    400: "请求有误", 401: "请先登录", 403: "没有权限", 404: "页面不存在", 405: "不支持的操作",
    409: "操作冲突", 413: "内容过大", 422: "输入有误", 500: "服务器出错了",
}
ERROR_HINTS = {
    403: "您的账号角色不能访问这个页面。如需开通权限，请联系科技局。",
    404: "您要找的页面或信息不存在，可能已被关闭或删除。",
    500: "服务器处理请求时出错，我们已记录此问题。请稍后再试。",
}


def render_error(request: Request, status: int, exc: DomainError | None) -> HTMLResponse:
    """HTML error page for paths outside /api (api/errors.py delegates here)."""
    if status == 401:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
    # The request's DB session may be rolled back and closed by now: reload the user.
    if hasattr(request.state, "user"):
        del request.state.user
    message = exc.message if isinstance(exc, DomainError) else ERROR_HINTS.get(status, "")
    if status == 500:
        message = ERROR_HINTS[500]
    try:
        return render(request, "errors/error.html", {
            "status": status, "title": ERROR_TITLES.get(status, "出错了"), "message": message,
            "hint": ERROR_HINTS.get(status, "") if message != ERROR_HINTS.get(status) else "",
        }, status_code=status)
    except Exception:  # noqa: BLE001 - last resort when the template itself fails
        log.exception("error page failed to render")
        return HTMLResponse(f"<h1>{status} {ERROR_TITLES.get(status, '出错了')}</h1>", status_code=status)


@functools.lru_cache(maxsize=1)
def _regions_json() -> bytes:
    from core import regions

    return json.dumps(regions.tree(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def install(app: FastAPI) -> None:

    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")

    @app.get("/regions.json", include_in_schema=False)
    def regions_json() -> Response:
        """The GB/T 2260 table as a province → city → county tree (web/static/js/regions.js)."""
        return Response(_regions_json(), media_type="application/json",
                        headers={"Cache-Control": "public, max-age=86400"})

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> FileResponse:
        return FileResponse(STATIC_DIR / "favicon.ico", media_type="image/x-icon",
                            headers={"Cache-Control": "public, max-age=86400"})
    for module in (public, listings, broker, contracts, accounts, indicators, events, imports,
                   qualification, registration):
        app.include_router(module.router)
    app.state.render_error = render_error

    @app.exception_handler(Exception)
    async def _server_error(request: Request, exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        if request.url.path.startswith("/api"):
            return JSONResponse({"error": {"code": "server_error", "message": "服务器内部错误"}},
                                status_code=500)
        return render_error(request, 500, None)
