"""The backend interface and the value types every backend shares."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from core.listings.vocab import PUBLIC_ACHIEVEMENT_STATUSES, PUBLIC_PROBLEM_STATUSES

KINDS = ("problem", "achievement")
#: statuses a viewer without the right to see unpublished listings may see (the union of
#: core.listings.vocab.PUBLIC_PROBLEM_STATUSES and PUBLIC_ACHIEVEMENT_STATUSES; each status exists
#: for one kind only, so the union is exact per kind)
PUBLIC_STATUSES = tuple(sorted(set(PUBLIC_PROBLEM_STATUSES) | set(PUBLIC_ACHIEVEMENT_STATUSES)))


def doc_key(kind: str, listing_id) -> str:
    return f"{kind}:{listing_id}"


def split_key(key: str) -> tuple[str, str]:
    kind, _, lid = key.partition(":")
    return kind, lid


_NOT_STORED = frozenset({"title_tokens", "body_tokens", "keyword_tokens", "vector"})


@dataclass
class IndexDoc:
    """One listing as the index sees it. Token fields are pre-segmented, space-joined."""

    kind: str
    id: str
    title: str
    text: str                     # main text, used for snippets
    title_tokens: str = ""
    body_tokens: str = ""         # text + indicators + conditions + attachment text
    keyword_tokens: str = ""
    keywords: list[str] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)
    modes: list[str] = field(default_factory=list)
    region: str | None = None
    maturity: str | None = None
    status: str = "published"
    created_at: float | None = None  # epoch seconds
    updated_at: float | None = None
    content_hash: str = ""
    vector: np.ndarray | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # display-only data

    @property
    def key(self) -> str:
        return doc_key(self.kind, self.id)

    def stored(self) -> dict[str, Any]:
        """The display fields (no tokens, no vector). Shallow copies: ``asdict`` would
        deep-copy the vector and the token strings only to drop them."""
        d = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in _NOT_STORED}
        for k in ("keywords", "fields", "modes"):
            d[k] = list(d[k])
        d["extra"] = dict(self.extra)
        d["text"] = (self.text or "")[:4000]
        return d


@dataclass
class Filters:
    kind: str | None = None
    fields: list[str] = field(default_factory=list)      # any of
    region: str | None = None                            # code prefix: "32" province, "3201" city
    maturity: list[str] = field(default_factory=list)    # any of
    modes: list[str] = field(default_factory=list)       # any of (transfer / cooperation modes)
    status: list[str] = field(default_factory=list)      # any of
    published_only: bool = True
    date_from: float | None = None                       # created_at >= (epoch seconds)
    date_to: float | None = None                         # created_at < (epoch seconds)
    exclude: list[str] = field(default_factory=list)     # doc keys to leave out

    def effective_status(self) -> list[str] | None:
        if self.published_only:
            allowed = [s for s in (self.status or PUBLIC_STATUSES) if s in PUBLIC_STATUSES]
            return allowed or ["__none__"]
        return list(self.status) or None

    def region_range(self) -> tuple[int, int] | None:
        if not self.region:
            return None
        p = "".join(ch for ch in self.region if ch.isdigit())[:6]
        if not p:
            return None
        # strip trailing "00" pairs: "320000" is the province, "320100" the city
        while len(p) > 2 and p.endswith("00"):
            p = p[:-2]
        scale = 10 ** (6 - len(p))
        return int(p) * scale, (int(p) + 1) * scale - 1


FACET_FIELDS = ("kind", "fields", "region", "maturity", "modes", "status")
Hit = tuple[str, float]  # (doc key, score) best first


@dataclass
class Browse:
    """One page of the listings that match filters alone (no query), newest first."""

    keys: list[str]
    total: int                                  # exact: every listing that matches the filters
    facets: dict[str, dict[str, int]]           # over all ``total`` of them, not just the page


class SearchBackend(ABC):
    """Storage + the two retrievers. Fusion, highlighting and facets live in the service."""

    name: str = "abstract"

    @abstractmethod
    def upsert(self, docs: list[IndexDoc]) -> None: ...

    @abstractmethod
    def delete(self, keys: list[str]) -> None: ...

    @abstractmethod
    def keyword_search(self, groups: list[list[str]], filters: Filters, k: int) -> list[Hit]:
        """BM25 over title/body/keywords tokens; a doc matches if any term matches."""

    @abstractmethod
    def vector_search(self, qvec: np.ndarray, filters: Filters, k: int) -> list[Hit]:
        """Cosine similarity (vectors are L2-normalised), best first."""

    @abstractmethod
    def browse(self, filters: Filters, offset: int, limit: int) -> Browse:
        """Listings matching ``filters`` (no query), newest ``created_at`` first, ties by key;
        the exact total and the facet counts over all matches."""

    @abstractmethod
    def get_docs(self, keys: list[str]) -> dict[str, dict]: ...

    @abstractmethod
    def get_vectors(self, keys: list[str]) -> dict[str, np.ndarray]: ...

    @abstractmethod
    def hashes(self) -> dict[str, str]:
        """key -> content hash of every indexed listing (for index-check / reindex)."""

    @abstractmethod
    def count(self) -> int: ...

    @abstractmethod
    def facets(self, keys: list[str]) -> dict[str, dict[str, int]]:
        """Facet counts (kind, fields, region by province, maturity, modes, status) over ``keys``."""

    def keyword_coverage(self, groups: list[list[str]], key: str) -> float | None:
        """Share of the query's IDF mass that listing ``key`` contains (a query term group
        counts when any of its terms occurs in the listing), in [0, 1]; None when the backend
        cannot tell. The fusion uses it for the keyword leader: a query whose distinctive words
        are all in that listing is a known-item query, a paraphrase leaves most of them out."""
        return None

    def term_counts(self, terms: list[str]) -> dict[str, int]:
        """How many listings contain each analysed term (empty when the backend cannot tell)."""
        return {}

    def dense_scores(self, qvec: np.ndarray, keys: list[str]) -> dict[str, float]:
        vecs = self.get_vectors(keys)
        return {k: float(v @ qvec) for k, v in vecs.items()}

    # full rebuild into a fresh version, switched atomically (no downtime)
    def begin_rebuild(self) -> "SearchBackend":
        return self

    def commit_rebuild(self, new: "SearchBackend") -> None:  # noqa: B027 - optional hook, a no-op by default
        pass

    def refresh(self) -> None:  # noqa: B027 - optional hook, a no-op by default
        """Make writes visible to searches (ES refresh; embedded: no-op)."""

    def close(self) -> None:  # noqa: B027 - optional hook, a no-op by default
        pass
