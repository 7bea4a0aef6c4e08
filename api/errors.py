"""Errors as JSON: {"error": {"code", "message" (Chinese), "field", "details"}}."""
from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.errors import DomainError, validation_failed_from_pydantic


class ErrorDetail(BaseModel):
    code: str
    message: str  # Chinese
    field: str | None = None
    details: list[dict] | None = None


class ErrorOut(BaseModel):
    """Every 4xx answer of the API (documented once for all routes, see :data:`RESPONSES`)."""

    error: ErrorDetail


#: Documented on every route: 4xx answers are ``ErrorOut`` (FastAPI's default 422 schema,
#: ``{"detail": …}``, is not what the API sends).
RESPONSES = {"4XX": {"model": ErrorOut, "description": "错误：code、中文 message、出错的字段"}}


_HTTP_MESSAGES = {404: ("not_found", "请求的资源不存在"), 405: ("method_not_allowed", "不支持该请求方法"),
                  401: ("not_authenticated", "请先登录"), 403: ("forbidden", "您没有权限"),
                  413: ("too_large", "请求内容过大")}


def error_response(exc: DomainError) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
    if getattr(exc, "retry_after", None):
        headers = {"Retry-After": str(exc.retry_after)}
    return JSONResponse({"error": exc.to_dict()}, status_code=exc.status_code, headers=headers)


def _html(request: Request, status: int, exc: DomainError | None):
    """Pages (paths outside /api) get HTML error pages when the web package installs a renderer."""
    render = getattr(request.app.state, "render_error", None)
    if render is not None and not request.url.path.startswith("/api"):
        return render(request, status, exc)
    return None


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError):
        return _html(request, exc.status_code, exc) or error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _request_validation(request: Request, exc: RequestValidationError):
        # loc starts with 'body' / 'query' / 'path'; drop it.
        err = validation_failed_from_pydantic(exc, skip_loc=1)
        return _html(request, err.status_code, err) or error_response(err)

    @app.exception_handler(ValidationError)
    async def _validation(request: Request, exc: ValidationError):
        return error_response(validation_failed_from_pydantic(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        page = _html(request, exc.status_code, None)
        if page is not None:
            return page
        code, message = _HTTP_MESSAGES.get(exc.status_code, ("http_error", str(exc.detail)))
        if isinstance(exc.detail, str) and exc.detail not in ("Not Found", "Method Not Allowed"):
            message = exc.detail if any("\u4e00" <= ch <= "\u9fff" for ch in exc.detail) else message
        return JSONResponse({"error": {"code": code, "message": message}}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))
