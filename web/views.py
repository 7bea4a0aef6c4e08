"""View assembly for the pages: gathers what a template shows from the domain services.
Formatting only; every rule (visibility, permissions, numbers) comes from core/ and the
search/matching/indicator services."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm import Session

from core import permissions as perm
from core.db import local_day_bounds
from core.errors import ValidationFailed
from core.listings.service import KINDS
from core.matches import service as matches
from core.models.listings import LISTING_MODELS
from core.vocab import FIELDS
from indexes.backends.base import Filters
from indexes.service import get_search_service, preferred_kind

log = logging.getLogger(__name__)

SEARCH_MODES = [("hybrid", "综合"), ("keyword", "关键词"), ("semantic", "语义")]
PAGE_SIZE = 10
MAX_PAGE = 100  # the search service pages up to 100 deep


def landing_page(user) -> str:
    return {"enterprise": "/my/problems", "university": "/my/achievements", "broker": "/broker/queue",
            "bureau": "/bureau/dashboard", "admin": "/bureau/dashboard"}.get(user.role, "/")


# URL segment of each listing kind: /problems/7, /achievements/new.
PATHS = {"problem": "problems", "achievement": "achievements"}
KIND_LABELS = {kind: s.label for kind, s in KINDS.items()}  # 技术需求 / 科技成果


def listing_url(kind: str, tail) -> str:
    """A page of a listing kind: ``listing_url("problem", 7)`` → ``/problems/7``,
    ``listing_url("achievement", "new")`` → ``/achievements/new``."""
    return f"/{PATHS[kind]}/{tail}"


def kind_label(kind: str | None) -> str:
    return KIND_LABELS.get(kind, kind or "")


# ----------------------------------------------------------------- search

def _parse_date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed("日期格式应为 YYYY-MM-DD", field="created_from") from None


@dataclass
class SearchParams:
    q: str = ""
    mode: str = "hybrid"
    kind: str | None = None
    fields: list[str] = field(default_factory=list)
    region: str | None = None
    maturity: list[str] = field(default_factory=list)
    modes: list[str] = field(default_factory=list)
    created_from: str = ""
    created_to: str = ""
    page: int = 1
    size: int = PAGE_SIZE

    @classmethod
    def from_query(cls, qp) -> "SearchParams":
        mode = qp.get("mode") or "hybrid"
        if mode not in dict(SEARCH_MODES):
            mode = "hybrid"
        kind = qp.get("kind") or None
        if kind not in (None, "problem", "achievement"):
            kind = None
        try:
            page = max(1, min(MAX_PAGE, int(qp.get("page") or 1)))
        except ValueError:
            page = 1
        region = (qp.get("region") or "").strip() or None
        if region and not (region.isdigit() and 2 <= len(region) <= 6):
            region = None
        return cls(q=(qp.get("q") or "").strip()[:500], mode=mode, kind=kind,
                   fields=[f for f in qp.getlist("field") if f in FIELDS], region=region,
                   maturity=qp.getlist("maturity"), modes=qp.getlist("coop_mode"),
                   created_from=qp.get("created_from") or "", created_to=qp.get("created_to") or "",
                   page=page)

    def as_query(self) -> dict:
        return {"q": self.q, "mode": self.mode, "kind": self.kind, "field": self.fields,
                "region": self.region, "maturity": self.maturity, "coop_mode": self.modes,
                "created_from": self.created_from, "created_to": self.created_to}


@dataclass
class HitView:
    kind: str
    id: int
    title_html: str
    snippet_html: str
    score: float
    row: object | None  # the listing row, for budget / org / maturity


@dataclass
class SearchView:
    total: int
    hits: list[HitView]
    facets: dict
    took_ms: float
    terms: list[str]
    order: str  # "relevance" (a query) or "newest" (filters alone)
    relevant: bool = True       # False: below the relevance floor (nothing relevant found)
    suggestions: list[str] = field(default_factory=list)   # broader terms to try then


def run_search(session: Session, viewer, p: SearchParams) -> SearchView:
    """A query ranks by relevance; without one, the listings the filters admit, newest first."""
    d_from, d_to = _parse_date(p.created_from), _parse_date(p.created_to)
    if d_from and d_to and d_from > d_to:
        raise ValidationFailed("起始日期不能晚于结束日期", field="created_from")
    date_from, date_to = local_day_bounds(d_from, d_to)
    published_only = not perm.can_see_unpublished(viewer)
    f = Filters(kind=p.kind, fields=p.fields, region=p.region, maturity=p.maturity, modes=p.modes,
                published_only=published_only, date_from=date_from, date_to=date_to)
    res = get_search_service().search(p.q, kind=p.kind, mode=p.mode, filters=f, page=p.page, size=p.size,
                                      published_only=published_only, prefer=preferred_kind(viewer))
    return SearchView(total=res.total, hits=hit_views(session, viewer, res.hits), facets=res.facets,
                      took_ms=res.took_ms, terms=res.terms, order=res.order, relevant=res.relevant,
                      suggestions=res.suggestions)


def hit_views(session: Session, viewer, hits) -> list[HitView]:
    out = []
    for h in hits:
        row = session.get(LISTING_MODELS[h.kind], int(h.id))
        if row is None or not perm.can_view_listing(session, viewer, row):
            continue  # the index may briefly lag a deletion
        out.append(HitView(kind=h.kind, id=int(h.id), title_html=h.title, snippet_html=h.snippet,
                           score=h.score, row=row))
    return out


def more_like_this(session: Session, viewer, kind: str, listing_id: int, size: int = 5,
                   target_kind: str | None = None) -> list[HitView]:

    try:
        res = get_search_service().more_like_this(kind, listing_id, target_kind=target_kind, size=size,
                                                  viewer=viewer)
    except Exception:  # noqa: BLE001 - the detail page must render when the index is unavailable
        log.exception("more_like_this failed for %s %s", kind, listing_id)
        return []
    return hit_views(session, viewer, res.hits)


# ----------------------------------------------------------------- proposals

def proposals_for_listing(session: Session, viewer, kind: str, obj):
    """Proposals shown on a listing page to its owner and to brokers/bureau (None: hidden)."""
    if viewer is None:
        return None
    if not (perm.is_owner(viewer, obj) or perm.can_review_matches(viewer)):
        return None
    return matches.for_listing(session, viewer, kind, obj.id)


PROPOSALS_SHOWN = 20


def proposals_context(session: Session, viewer, kind: str, obj) -> dict:
    """The best proposals for the detail page (all of them are in the broker queue)."""
    items = proposals_for_listing(session, viewer, kind, obj)
    if items is None:
        return {"proposals": None, "proposals_total": 0}
    return {"proposals": items[:PROPOSALS_SHOWN], "proposals_total": len(items)}


def related(session: Session, viewer, kind: str, obj) -> dict:
    """The "related" section of a listing page. A problem's page lists related achievements
    and the people who made them (what helps an enterprise; other enterprises' problems do
    not); an achievement's page lists similar achievements."""
    if kind == "problem":
        return {"related_kind": "achievement",
                "similar": more_like_this(session, viewer, kind, obj.id, target_kind="achievement")}
    return {"related_kind": kind, "similar": more_like_this(session, viewer, kind, obj.id)}


def accepted_proposals(session: Session, viewer, kind: str, obj) -> list:
    """Proposals a broker accepted (and later stages) for the owner's "my" list."""
    # The owner sees proposals only once a broker accepted them (service rule).
    return matches.for_listing(session, viewer, kind, obj.id)
