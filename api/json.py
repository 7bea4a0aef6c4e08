"""Exact JSON for routes that return plain dicts: FastAPI's encoder turns a ``Decimal`` into a
float, so amounts would lose their exactness. ``exact(data)`` writes Decimals as strings
("1234567.89", as the pydantic response models of the listings and contracts APIs do)."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

from fastapi.responses import JSONResponse


def plain(v):
    """``v`` with every Decimal as a string (never a float) and dates as ISO strings."""
    if isinstance(v, Decimal):
        return f"{v:f}"
    if isinstance(v, datetime):
        # Stored datetimes are UTC without an offset; the API always states it (``date-time``).
        return (v if v.tzinfo is not None else v.replace(tzinfo=timezone.utc)).isoformat()
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, dict):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    return v


def exact(data) -> JSONResponse:
    return JSONResponse(plain(data))
