from fastapi import APIRouter
from sqlalchemy import text

from api.deps import DB
from core.celery_app import is_eager
from core.settings import get_settings

router = APIRouter(tags=["health"])


@router.get("/health")
def health(db: DB) -> dict:
    db.execute(text("SELECT 1"))
    s = get_settings()
    return {"status": "ok", "database": db.get_bind().dialect.name, "search_backend": s.search_backend,
            "tasks": "in-process" if is_eager() else "celery"}
