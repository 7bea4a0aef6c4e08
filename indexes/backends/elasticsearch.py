"""Elasticsearch backend (official client, ``elasticsearch>=8,<9``).

* The mapping is ``indexes/es_listings.json``.  Text arrives pre-segmented by
  :mod:`indexes.analysis` (jieba search mode, normalised, stopwords removed) and is
  analysed with a ``whitespace`` tokenizer, so ES and the embedded backend see the same
  tokens and the same user dictionary / synonyms.
  *IK alternative*: with the ``analysis-ik`` plugin installed on the cluster one could
  index raw text with ``"analyzer": "ik_max_word", "search_analyzer": "ik_smart"``; we
  don't, because the dictionary, normalisation and synonyms would then live in two
  places (the plugin's config on every node and ``indexes/data``) and drift apart.
* ``vector`` is a ``dense_vector`` (cosine, HNSW-indexed); kNN runs with the same
  filters as BM25.
* Writes go through ``helpers.bulk``.  The index is versioned: documents live in
  ``<prefix>-listings-vNNNN`` behind the alias ``<prefix>-listings``; a full reindex
  fills a new version and swaps the alias in one ``update_aliases`` call (no downtime),
  then drops the old version.

Verified here only with unit tests against a recording fake client (no cluster can
be installed on these machines); see bench/README.md.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from .base import FACET_FIELDS, Browse, Filters, Hit, IndexDoc, SearchBackend

MAPPING_FILE = Path(__file__).resolve().parents[1] / "es_listings.json"
FIELD_BOOSTS = ("title_tok^3", "body_tok", "kw_tok^2")


def load_mapping(dims: int) -> dict:
    body = json.loads(MAPPING_FILE.read_text(encoding="utf-8"))
    body["mappings"]["properties"]["vector"]["dims"] = int(dims)
    return body


def filter_clauses(f: Filters) -> list[dict]:
    out: list[dict] = []
    if f.kind:
        out.append({"term": {"kind": f.kind}})
    st = f.effective_status()
    if st:
        out.append({"terms": {"status": st}})
    rr = f.region_range()
    if rr:
        out.append({"range": {"region": {"gte": f"{rr[0]:06d}", "lte": f"{rr[1]:06d}"}}})
    if f.maturity:
        out.append({"terms": {"maturity": list(f.maturity)}})
    if f.fields:
        out.append({"terms": {"fields": list(f.fields)}})
    if f.modes:
        out.append({"terms": {"modes": list(f.modes)}})
    if f.date_from is not None or f.date_to is not None:
        r: dict[str, Any] = {"format": "epoch_second"}
        if f.date_from is not None:
            r["gte"] = int(f.date_from)
        if f.date_to is not None:
            r["lt"] = int(f.date_to)
        out.append({"range": {"created_at": r}})
    if f.exclude:
        out.append({"bool": {"must_not": [{"ids": {"values": list(f.exclude)}}]}})
    return out


def bm25_query(groups: list[list[str]], f: Filters) -> dict:
    """One ``multi_match`` per term group (alternatives = synonyms, one clause each), OR-ed."""
    should = []
    for g in groups:
        alts = [{"multi_match": {"query": t, "fields": list(FIELD_BOOSTS), "type": "best_fields"}}
                for t in g]
        should.append(alts[0] if len(alts) == 1 else {"dis_max": {"queries": alts}})
    return {"bool": {"should": should, "minimum_should_match": 1, "filter": filter_clauses(f)}}


def knn_query(qvec, f: Filters, k: int) -> dict:
    return {"field": "vector", "query_vector": [float(x) for x in np.asarray(qvec, np.float32)],
            "k": int(k), "num_candidates": int(max(100, 2 * k)), "filter": filter_clauses(f)}


#: terms aggregations for the facets; ``region`` is aggregated by full code and rolled up
#: to provinces in :func:`facets_from_aggs` (a county-level code has 6 digits)
FACET_AGGS = {name: {"terms": {"field": name, "size": size}}
              for name, size in (("kind", 10), ("fields", 200), ("region", 5000), ("maturity", 20),
                                 ("modes", 50), ("status", 20))}


def browse_request(f: Filters, offset: int, limit: int) -> dict:
    """Filters only, newest first (ties by key), exact total, facets over every match."""
    return {"query": {"bool": {"filter": filter_clauses(f)}},
            "sort": [{"created_at": {"order": "desc", "missing": "_last"}}, {"key": {"order": "asc"}}],
            "from_": max(0, int(offset)), "size": max(0, int(limit)), "source": False,
            "track_total_hits": True, "aggs": FACET_AGGS}


def facets_from_aggs(aggs: dict) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for name in FACET_FIELDS:
        buckets = (aggs.get(name) or {}).get("buckets", [])
        counts: dict[str, int] = {}
        for b in buckets:
            key = str(b["key"])
            if name == "region":
                if len(key) < 2:
                    continue
                key = key[:2] + "0000"
            counts[key] = counts.get(key, 0) + int(b["doc_count"])
        out[name] = dict(sorted(counts.items(), key=lambda x: (-x[1], x[0])))
    return out


def to_source(d: IndexDoc) -> dict:
    return {"key": d.key, "kind": d.kind, "id": str(d.id), "title_tok": d.title_tokens,
            "body_tok": d.body_tokens, "kw_tok": d.keyword_tokens, "fields": list(d.fields or []),
            "modes": list(d.modes or []), "region": d.region, "maturity": d.maturity,
            "status": d.status, "created_at": int(d.created_at) if d.created_at else None,
            "content_hash": d.content_hash,
            "vector": None if d.vector is None else [float(x) for x in d.vector],
            "doc": json.loads(json.dumps(d.stored(), ensure_ascii=False, default=str))}


def bulk_actions(index: str, docs: list[IndexDoc]):
    for d in docs:
        yield {"_op_type": "index", "_index": index, "_id": d.key, "_source": to_source(d)}


class ElasticsearchBackend(SearchBackend):
    name = "elasticsearch"

    def __init__(self, client, prefix: str, dim: int, index: str | None = None):
        self.es = client
        self.alias = f"{prefix}-listings"
        self.prefix = prefix
        self.dim = int(dim)
        self._index = index  # pinned version (during a rebuild), else the alias
        self._ensured = False

    @classmethod
    def from_settings(cls, settings, dim: int) -> "ElasticsearchBackend":
        from elasticsearch import Elasticsearch

        if not settings.es_url:
            raise ValueError("settings.es_url is required for the elasticsearch backend")
        kw = {"api_key": settings.es_api_key} if getattr(settings, "es_api_key", None) else {}
        return cls(Elasticsearch(settings.es_url, request_timeout=30, **kw), settings.es_index_prefix, dim)

    # -- versions ------------------------------------------------------------
    def version_name(self, n: int) -> str:
        return f"{self.alias}-v{n:04d}"

    def _versions(self) -> list[str]:
        try:
            names = list(self.es.indices.get(index=f"{self.alias}-v*").keys())
        except Exception:  # noqa: BLE001 - NotFound when none exist
            return []
        return sorted(names)

    def ensure_index(self) -> str:
        if self._index:
            return self._index
        if not self._ensured:  # once per process: one round trip, not one per query
            if not self.es.indices.exists_alias(name=self.alias):
                name = self.version_name(1 + len(self._versions()))
                self.es.indices.create(index=name, **load_mapping(self.dim))
                self.es.indices.put_alias(index=name, name=self.alias)
            self._ensured = True
        return self.alias

    @property
    def target(self) -> str:
        return self._index or self.ensure_index()

    def begin_rebuild(self) -> "ElasticsearchBackend":
        versions = self._versions()
        last = int(versions[-1].rsplit("-v", 1)[1]) if versions else 0
        name = self.version_name(last + 1)
        self.es.indices.create(index=name, **load_mapping(self.dim))
        return ElasticsearchBackend(self.es, self.prefix, self.dim, index=name)

    def commit_rebuild(self, new: "ElasticsearchBackend") -> None:
        new.refresh()
        old = []
        if self.es.indices.exists_alias(name=self.alias):
            old = list(self.es.indices.get_alias(name=self.alias).keys())
        actions = [{"remove": {"index": o, "alias": self.alias}} for o in old]
        actions.append({"add": {"index": new._index, "alias": self.alias}})
        self.es.indices.update_aliases(actions=actions)
        for o in old:
            if o != new._index:
                self.es.indices.delete(index=o)

    # -- writes ----------------------------------------------------------------
    def upsert(self, docs: list[IndexDoc]) -> None:
        from elasticsearch import helpers

        if docs:
            helpers.bulk(self.es, bulk_actions(self.target, docs), raise_on_error=True)

    def delete(self, keys: list[str]) -> None:
        from elasticsearch import helpers

        if keys:
            helpers.bulk(self.es, ({"_op_type": "delete", "_index": self.target, "_id": k} for k in keys),
                         raise_on_error=False, raise_on_exception=False)

    def refresh(self) -> None:
        self.es.indices.refresh(index=self.target)

    # -- reads -----------------------------------------------------------------
    def keyword_search(self, groups, filters, k) -> list[Hit]:
        if not groups or k <= 0:
            return []
        r = self.es.search(index=self.target, query=bm25_query(groups, filters), size=int(k),
                           source=False, track_total_hits=False)
        return [(h["_id"], float(h["_score"])) for h in r["hits"]["hits"]]

    def vector_search(self, qvec, filters, k) -> list[Hit]:
        if k <= 0:
            return []
        r = self.es.search(index=self.target, knn=knn_query(qvec, filters, k), size=int(k), source=False)
        # ES cosine _score = (1 + cos) / 2: convert back to cosine
        return [(h["_id"], 2.0 * float(h["_score"]) - 1.0) for h in r["hits"]["hits"]]

    def browse(self, filters, offset, limit) -> Browse:
        r = self.es.search(index=self.target, **browse_request(filters, offset, limit))
        return Browse(keys=[h["_id"] for h in r["hits"]["hits"]], total=int(r["hits"]["total"]["value"]),
                      facets=facets_from_aggs(r.get("aggregations") or {}))

    def facets(self, keys) -> dict[str, dict[str, int]]:
        """Terms aggregations over the candidates: one request, no documents fetched."""
        if not keys:
            return facets_from_aggs({})
        r = self.es.search(index=self.target, query={"ids": {"values": list(keys)}}, size=0,
                           track_total_hits=False, aggs=FACET_AGGS)
        return facets_from_aggs(r.get("aggregations") or {})

    def _mget(self, keys, fields) -> dict[str, dict]:
        if not keys:
            return {}
        r = self.es.mget(index=self.target, ids=list(keys), source=fields)
        return {d["_id"]: d.get("_source", {}) for d in r["docs"] if d.get("found")}

    def get_docs(self, keys) -> dict[str, dict]:
        return {k: s.get("doc", {}) for k, s in self._mget(keys, ["doc"]).items()}

    def get_vectors(self, keys) -> dict[str, np.ndarray]:
        return {k: np.asarray(s["vector"], np.float32) for k, s in self._mget(keys, ["vector"]).items()
                if s.get("vector")}

    def hashes(self) -> dict[str, str]:
        from elasticsearch import helpers

        out = {}
        for h in helpers.scan(self.es, index=self.target, query={"query": {"match_all": {}}, "_source": ["content_hash"]}):
            out[h["_id"]] = h["_source"].get("content_hash")
        return out

    def count(self) -> int:
        return int(self.es.count(index=self.target)["count"])

    def clear(self) -> None:
        for name in self._versions():
            self.es.indices.delete(index=name)
        self._ensured = False
