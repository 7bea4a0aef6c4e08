"""Turning HTML form input into the shared input schemas, and errors back into per-field
Chinese messages. No business rules here: the schemas and services decide."""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from pydantic import ValidationError

from core import regions
from core.db import local_today
from core.errors import (
    Conflict,
    DomainError,
    ValidationFailed,
    validation_failed_from_pydantic,
)
from core.money import MoneyError, to_wan, wan_to_yuan

_SPLIT = re.compile(r"[,，、;；\s]+")


class FormErrors(Exception):
    """Input errors collected before or while validating: {field: message} plus general ones."""

    def __init__(self, fields: dict[str, str] | None = None, general: list[str] | None = None):
        super().__init__("表单有误")
        self.fields = fields or {}
        self.general = general or []


# Refusals of the input itself: a page shows them on the form (422) with what the user typed.
# Other domain errors (not found, not allowed, wrong state) get the usual error page.
INPUT_ERRORS = (ValidationError, ValidationFailed, Conflict, FormErrors)


def split_list(value: str | None) -> list[str]:
    return [p for p in _SPLIT.split(value or "") if p]


def lines(value: str | None) -> list[str]:
    return [ln.strip() for ln in (value or "").splitlines() if ln.strip()]


def text(form, name: str) -> str:
    v = form.get(name)
    return v.strip() if isinstance(v, str) else ""


def optional(form, name: str) -> str | None:
    v = text(form, name)
    return v or None


def local_path(value: str | None, default: str = "/") -> str:
    """``value`` if it is a path on this site, else ``default`` (no open redirects: browsers
    treat ``//host`` and ``/\\host`` as another site)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return default


def wan_field(form, name: str, errors: dict[str, str]) -> Decimal | None:
    """An amount entered in 万元 → exact yuan, or a field error."""
    raw = text(form, name).replace(",", "").replace("，", "")
    if not raw:
        return None
    try:
        value = wan_to_yuan(Decimal(raw))
    except (InvalidOperation, MoneyError, ValueError):
        errors[name] = "请输入数字金额（单位：万元，最多六位小数）"
        return None
    if value < 0:
        errors[name] = "金额不能为负数"
        return None
    return value


def wan_text(yuan: Decimal | None) -> str:
    """Stored yuan → the exact 万元 number for a form input ('58.5', '0.0001'); '' for None."""
    if yuan is None:
        return ""
    return str(to_wan(Decimal(yuan), 6)).rstrip("0").rstrip(".")


def int_field(form, name: str, errors: dict[str, str]) -> int | None:
    raw = text(form, name)
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        errors[name] = "必须是整数"
        return None


def submit(db, action):
    """Run a form's write and commit it. On an input error (bad values, a conflict, early form
    errors) roll back and return the collected errors for the form to show again; refusals
    (403/404/409 state errors) propagate to the error page. Returns ``(result, errors)``."""
    try:
        result = action()
        db.commit()
    except INPUT_ERRORS as e:
        db.rollback()
        return None, collect(e)
    return result, None


def collect(exc: Exception) -> FormErrors:
    """pydantic ValidationError or DomainError → per-field messages."""
    if isinstance(exc, FormErrors):
        return exc
    if isinstance(exc, ValidationError):
        exc = validation_failed_from_pydantic(exc)
    fields: dict[str, str] = {}
    general: list[str] = []
    if isinstance(exc, DomainError):
        details = exc.details or [{"field": exc.field, "message": exc.message}]
        for d in details:
            f = d.get("field")
            msg = d.get("message") or exc.message
            if f:
                fields.setdefault(_root(f), msg)
            else:
                general.append(msg)
        if not details:
            general.append(exc.message)
    else:
        general.append(str(exc))
    return FormErrors(fields, general)


def _root(field: str) -> str:
    """'patents.0.number' → 'patents'; 'org.name' stays (nested forms use dotted names)."""
    parts = field.split(".")
    if parts[0] == "org" and len(parts) > 1:
        return ".".join(parts[:2])
    return parts[0]


def year_param(value) -> int:
    try:
        y = int(value)
    except (TypeError, ValueError):
        return local_today().year
    return y if 2000 <= y <= 2100 else local_today().year


def region_param(value: str | None) -> str | None:
    v = (value or "").strip()
    if not v:
        return None
    if not regions.is_valid(v):
        raise ValidationFailed(f"行政区划代码 {v} 不存在", field="region")
    return v


def as_form_text(values: dict) -> dict:
    """Stored values as form inputs show them: '' for None, dates as YYYY-MM-DD."""
    return {k: "" if v is None else v.isoformat() if isinstance(v, date) else str(v) for k, v in values.items()}
