"""Broker pages."""
from __future__ import annotations

from fastapi import APIRouter, Depends

from web.security import csrf_protect

router = APIRouter(dependencies=[Depends(csrf_protect)], include_in_schema=False)
