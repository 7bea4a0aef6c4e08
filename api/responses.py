"""Responses shared by the API and the pages."""
from __future__ import annotations

from urllib.parse import quote

from fastapi.responses import Response


def download(content: bytes, filename: str, media_type: str) -> Response:
    """A file download with its (Chinese) file name, RFC 6266 encoded."""
    return Response(content, media_type=media_type, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"})
