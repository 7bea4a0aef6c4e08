"""The FastAPI application: JSON API under /api, pages at /. Routes are thin: they parse
input, call a service in core/ and serialize the result."""
from __future__ import annotations

from fastapi import Depends, FastAPI
from starlette.middleware.sessions import SessionMiddleware

from api import docs, errors, warmup
from api.headers import SecurityHeaders
from api.params import plain_text_params
from api.routers import (
    accounts,
    achievements,
    contracts,
    events,
    health,
    imports,
    indicators,
    matches,
    problems,
    qualification,
    registration,
    search,
)
from core import celery_app
from core.settings import get_settings


def create_app() -> FastAPI:
    settings = get_settings()
    settings.ensure_data_dir()
    celery_app.configure()
    app = FastAPI(
        title="techmatch 科技成果转化撮合平台 API",
        version="0.1.0",
        description="企业技术需求、科技成果、撮合推荐、技术合同登记与指标统计。",
        docs_url=None,  # served offline by api.docs
        redoc_url=None,
        openapi_url="/api/openapi.json",
        dependencies=[Depends(plain_text_params)],
        responses=errors.RESPONSES,
        lifespan=warmup.lifespan,
    )
    docs.install(app)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.get_secret_key(),
        session_cookie="techmatch_session",
        max_age=settings.session_ttl_seconds,
        same_site="lax",
        https_only=settings.cookie_secure,
    )
    app.add_middleware(SecurityHeaders)
    errors.install(app)
    for module in (health, accounts, problems, achievements, search, matches, contracts, indicators, events, imports,
                   qualification, registration):
        app.include_router(module.router, prefix="/api")
    try:
        from web import routes as web_routes
    except ImportError:  # the pages are optional for API-only deployments
        web_routes = None
    if web_routes is not None and hasattr(web_routes, "install"):
        web_routes.install(app)
    return app
