"""Domain errors: a machine-readable code, a Chinese message, and the field at fault."""
from __future__ import annotations


class DomainError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None,
                 details: list[dict] | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.field = field
        self.details = details or []

    def to_dict(self) -> dict:
        out = {"code": self.code, "message": self.message}
        if self.field:
            out["field"] = self.field
        if self.details:
            out["details"] = self.details
        return out


class ValidationFailed(DomainError):
    status_code = 422
    code = "validation_error"


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class PermissionDenied(DomainError):
    status_code = 403
    code = "forbidden"


class NotAuthenticated(DomainError):
    status_code = 401
    code = "not_authenticated"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class TooManyRequests(DomainError):
    """Throttled (login attempts); ``retry_after`` seconds until the next attempt may pass."""

    status_code = 429
    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: int = 60, **kw):
        super().__init__(message, **kw)
        self.retry_after = max(1, int(retry_after))


class InvalidTransition(DomainError):
    status_code = 409
    code = "invalid_transition"


# Chinese messages for pydantic's built-in error types.
_PYDANTIC_MESSAGES = {
    "missing": "必填项不能为空",
    "string_too_short": "内容过短（至少 {min_length} 个字符）",
    "string_too_long": "内容过长（最多 {max_length} 个字符）",
    "too_long": "条目过多（最多 {max_length} 项）",
    "too_short": "条目过少（至少 {min_length} 项）",
    "int_parsing": "必须是整数",
    "int_type": "必须是整数",
    "decimal_parsing": "必须是数字",
    "decimal_type": "必须是数字",
    "float_parsing": "必须是数字",
    "greater_than_equal": "不能小于 {ge}",
    "greater_than": "必须大于 {gt}",
    "less_than_equal": "不能大于 {le}",
    "less_than": "必须小于 {lt}",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD",
    "date_parsing": "日期格式应为 YYYY-MM-DD",
    "date_type": "日期格式应为 YYYY-MM-DD",
    "datetime_parsing": "时间格式不正确",
    "enum": "取值无效，可选：{expected}",
    "literal_error": "取值无效，可选：{expected}",
    "string_type": "必须是文本",
    "list_type": "必须是列表",
    "bool_parsing": "必须是是/否",
    "value_error": "{msg}",
    "assertion_error": "{msg}",
    "extra_forbidden": "不支持的字段",
    "json_invalid": "JSON 格式错误",
    "model_attributes_type": "请求格式错误",
    "dict_type": "请求格式错误",
    "string_pattern_mismatch": "格式不正确",
    "missing_argument": "必填项不能为空",
    "url_parsing": "网址格式不正确",
    "value_error.email": "邮箱格式不正确",
}


def pydantic_error_details(errors: list[dict], skip_loc: int = 0) -> list[dict]:
    """Translate pydantic ``errors()`` into [{field, code, message}] with Chinese messages."""
    out = []
    for e in errors:
        loc = [str(p) for p in e.get("loc", ())[skip_loc:]]
        field = ".".join(loc) if loc else None
        etype = e.get("type", "value_error")
        ctx = dict(e.get("ctx") or {})
        if etype in ("value_error", "assertion_error"):
            msg = str(ctx.get("error", e.get("msg", ""))) or e.get("msg", "")
            msg = msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
            ctx["msg"] = msg
        template = _PYDANTIC_MESSAGES.get(etype)
        if template is None:
            message = "输入不正确"
        else:
            try:
                message = template.format(**ctx)
            except (KeyError, IndexError):
                message = template
        from core.schemas import FIELD_LABELS

        label = FIELD_LABELS.get(loc[0], loc[0]) if loc else ""
        if label and len(loc) > 1:
            label += "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in loc[1:])
        out.append({"field": field, "label": label, "code": etype, "message": message})
    return out


def validation_failed_from_pydantic(exc, skip_loc: int = 0) -> ValidationFailed:
    details = pydantic_error_details(exc.errors(), skip_loc=skip_loc)
    first = details[0] if details else {"field": None, "message": "输入不正确"}
    prefix = f"{first['label']}：" if first.get("label") else ""
    return ValidationFailed(prefix + first["message"], field=first.get("field"), details=details)
