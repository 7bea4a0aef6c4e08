"""Source declarations: one YAML file per site in ``crawler/sources/``.

Adding a site means adding a file. A source says where to start, how to page, which
elements are the list items, where each detail field is, how the fields map onto an
Achievement or a TechProblem, who owns the listings when the page does not say, and when
to run. See ``crawler/sources/README.md`` for the format and
``crawler/sources/example_university.yaml`` for a documented example.

Values may reference variables as ``${NAME}`` or ``${NAME:-default}``; they are taken from
the ``variables`` passed to :func:`load_source` and then from the environment (the test
fixture sites use this for their random ports).
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

SOURCES_DIR = Path(__file__).parent / "sources"

# A selector: a CSS selector string ("div.title::text", "xpath://h1"), or a mapping
# {css|xpath|label, attr, all, join, regex}.
Selector = str | dict[str, Any]


class Pagination(BaseModel):
    model_config = ConfigDict(extra="forbid")
    next: Selector | None = None  # selector of the next-page link
    max_pages: int = Field(default=50, ge=1, le=10000)


class ListSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: str  # selector of one list item
    link: Selector = "a::attr(href)"  # detail link inside an item


class OwnerSpec(BaseModel):
    """Who owns the listings when the page does not name an organization we know."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    credit_code: str | None = None
    kind: Literal["enterprise", "university", "institute", "broker_agency", "bureau"] = "university"
    region: str | None = None  # defaults to the source's region


class Schedule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cron: str | None = None  # "minute hour day_of_month month day_of_week", Asia/Shanghai
    every_seconds: int | None = Field(default=None, ge=60)


class Limits(BaseModel):
    """Per-source overrides of the crawler settings (None: use settings)."""

    model_config = ConfigDict(extra="forbid")
    delay_seconds: float | None = Field(default=None, ge=0)
    timeout_seconds: float | None = Field(default=None, gt=0)
    max_bytes: int | None = Field(default=None, gt=0)
    max_retries: int | None = Field(default=None, ge=0, le=10)
    max_items: int = Field(default=5000, ge=1)


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str  # identifier, e.g. "zju_tt"; the file stem by default
    title: str = ""  # human-readable Chinese name
    kind: Literal["achievement", "problem"]
    enabled: bool = True  # disabled sources run only when named explicitly
    start_urls: list[str] = Field(min_length=1)
    list_page: ListSpec = Field(alias="list")
    pagination: Pagination = Field(default_factory=Pagination)
    # detail field selectors: title, abstract/description, body, fields, keywords, region,
    # maturity, trl, transfer_modes/coop_modes, asking_price/budget, inventors, owner,
    # owner_credit_code, date, contact_name, contact_phone, attachments ...
    fields: dict[str, Selector]
    # the detail page's main content (used for the empty-page and login-wall checks)
    content: str | None = None
    required: list[str] = Field(default_factory=lambda: ["title"])
    defaults: dict[str, Any] = Field(default_factory=dict)  # e.g. {maturity: lab}
    field_map: dict[str, str] = Field(default_factory=dict)  # site's 领域 label -> FIELDS value
    region: str = "330000"  # default region code of listings and placeholder owners
    owner: OwnerSpec = Field(default_factory=OwnerSpec)
    attachment_extensions: list[str] = Field(default_factory=lambda: [".pdf", ".docx", ".xlsx", ".txt"])
    login_markers: list[str] = Field(default_factory=lambda: [
        "请登录", "请先登录", "登录后查看", "用户登录", "会员登录", "登录后可见"])
    min_text_chars: int = 20
    # Near duplicates: SimHash (64 bits) within dup_max_hamming finds candidates, the token-set
    # Jaccard similarity confirms them. Measured on the 300 distinct demo achievements: the
    # closest pairs are 13 bits apart and their Jaccard is at most 0.34; a copy with a phrase
    # dropped, a sentence added and a number rewritten is 9-10 bits and 0.75 Jaccard away.
    dup_max_hamming: int = Field(default=16, ge=0, le=32)
    dup_min_jaccard: float = Field(default=0.55, gt=0, le=1)
    drop_query_params: list[str] = Field(default_factory=list)
    schedule: Schedule | None = None
    limits: Limits = Field(default_factory=Limits)
    user_agent: str | None = None

    @field_validator("region")
    @classmethod
    def _region(cls, v: str) -> str:
        from core.validation import check_region
        return check_region(v)


class SourceError(ValueError):
    pass


_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def _expand(value, variables: dict[str, str]):
    if isinstance(value, str):
        def sub(m):
            name, default = m.group(1), m.group(2)
            if name in variables:
                return str(variables[name])
            if name in os.environ:
                return os.environ[name]
            if default is not None:
                return default
            raise SourceError(f"变量 {name} 未设置")
        return _VAR.sub(sub, value)
    if isinstance(value, list):
        return [_expand(v, variables) for v in value]
    if isinstance(value, dict):
        return {k: _expand(v, variables) for k, v in value.items()}
    return value


def parse_source(text: str, *, name: str | None = None, variables: dict | None = None) -> Source:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise SourceError(f"YAML 格式错误：{e}") from None
    if not isinstance(raw, dict):
        raise SourceError("来源配置应为一个映射")
    raw = _expand(raw, variables or {})
    if name and "name" not in raw:
        raw["name"] = name
    try:
        return Source.model_validate(raw)
    except ValidationError as e:
        first = e.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise SourceError(f"来源配置 {name or raw.get('name')} 无效：{loc}: {first['msg']}") from None


def load_source(path: str | Path, variables: dict | None = None) -> Source:
    path = Path(path)
    return parse_source(path.read_text(encoding="utf-8"), name=path.stem, variables=variables)


def source_files(directory: Path | None = None) -> list[Path]:
    d = Path(directory or SOURCES_DIR)
    return sorted(p for p in d.glob("*.y*ml") if p.suffix in (".yaml", ".yml"))


def load_all(directory: Path | None = None, variables: dict | None = None,
             *, strict: bool = False) -> dict[str, Source]:
    """All sources by name. A broken file is reported and skipped unless ``strict``."""
    import logging

    out: dict[str, Source] = {}
    for p in source_files(directory):
        try:
            s = load_source(p, variables)
        except (SourceError, OSError) as e:
            if strict:
                raise
            logging.getLogger(__name__).error("source %s skipped: %s", p, e)
            continue
        out[s.name] = s
    return out


def get_source(name: str, directory: Path | None = None, variables: dict | None = None) -> Source:
    d = Path(directory or SOURCES_DIR)
    for p in source_files(d):
        if p.stem == name:
            return load_source(p, variables)
    for s in load_all(d, variables).values():
        if s.name == name:
            return s
    raise SourceError(f"找不到采集来源：{name}")
