from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from core.models import AuditLog


def jsonable(v):
    if isinstance(v, (Decimal, date, datetime)):
        return str(v)
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    if isinstance(v, dict):
        return {k: jsonable(x) for k, x in v.items()}
    return v


def record(session: Session, actor, action: str, entity_type: str, entity_id: int | None,
           changes: dict | None = None) -> AuditLog:
    entry = AuditLog(actor_id=getattr(actor, "id", None), action=action, entity_type=entity_type,
                     entity_id=entity_id, changes=jsonable(changes or {}))
    session.add(entry)
    return entry


def diff(obj, values: dict) -> dict:
    """Apply values to obj; return {field: [old, new]} for the fields that changed."""
    changes = {}
    for k, new in values.items():
        old = getattr(obj, k)
        if old != new:
            changes[k] = [old, new]
            setattr(obj, k, new)
    return changes
