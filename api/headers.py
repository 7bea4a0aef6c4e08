"""Security headers on every response (a pure ASGI middleware, so streaming and file
responses keep working):

- all responses: ``X-Content-Type-Options: nosniff`` (attachments included) and a Referrer-Policy;
- HTML: a Content-Security-Policy that admits only the site's own scripts, styles, images and
  fonts (the templates carry no inline script or style), no framing (``frame-ancestors`` and
  ``X-Frame-Options``), forms posting only to the site;
- the interactive API docs (/api/docs, /api/redoc) are served offline (api.docs, local assets, no
  inline script); ReDoc injects <style> elements and draws with blob workers, so they get a CSP
  that admits inline styles, blob: workers and ReDoc's one logo image from its CDN (the page renders
  without it offline).
"""
from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
DOCS_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: https://cdn.redoc.ly; "
            "font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; object-src 'none'; "
            "base-uri 'self'; frame-ancestors 'none'")
DOCS_PATHS = ("/api/docs", "/api/redoc")


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "same-origin")
                if headers.get("content-type", "").startswith("text/html"):
                    headers.setdefault("Content-Security-Policy",
                                       DOCS_CSP if path.startswith(DOCS_PATHS) else CSP)
                    headers.setdefault("X-Frame-Options", "DENY")
            await send(message)

        await self.app(scope, receive, send_with_headers)
